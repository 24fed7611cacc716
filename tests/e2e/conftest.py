"""conftest.py - shared fixtures and helpers for Postern's end-to-end tests (pytest, Python stdlib only).

The binary under test is $POSTERN_BIN (make check passes the ASan/UBSan build), else build/postern.
Helpers: free_port(), wait_for(), greets(), and HowtoSystem / the `howto` fixture: the whole system
(`postern start`) on shared/howto's main.cf and tables re-rooted in a temp dir, with accessors for
the mailboxes (Maildir files, mbox messages), the queue and the log.
Run: /usr/bin/python3 -m pytest tests/e2e
"""
import os
import pathlib
import shutil
import signal
import smtplib
import socket
import subprocess
import tempfile
import time

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
# the project's reference data: ../shared beside the checkout, else the copy in tests/shared
SHARED = ROOT.parent / "shared"
if not (SHARED / "howto").is_dir():
    SHARED = ROOT / "tests" / "shared"
HOWTO = SHARED / "howto"


def postern_bin():
    return os.environ.get("POSTERN_BIN") or str(ROOT / "build" / "postern")


class Postern:
    """Runs `postern` with a given configuration directory."""

    def __init__(self, config_dir):
        self.config_dir = pathlib.Path(config_dir)

    def run(self, *args, input=None, check=False, env=None):
        e = dict(os.environ)
        e.pop("POSTERN_CONFIG", None)
        e.setdefault("ASAN_OPTIONS", "detect_leaks=1")
        if env:
            e.update(env)
        p = subprocess.run([postern_bin(), "-c", str(self.config_dir), *args], input=input,
                           capture_output=True, text=True, env=e, timeout=120)
        # a sanitizer report is always a failure, whatever the exit code
        assert "ERROR: AddressSanitizer" not in p.stderr, p.stderr
        assert "runtime error:" not in p.stderr, p.stderr
        if check:
            assert p.returncode == 0, p.stderr
        return p


@pytest.fixture
def postern(tmp_path):
    return Postern(tmp_path)


def free_port():
    """an unused TCP port on 127.0.0.1"""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def wait_for(pred, timeout=10, interval=0.05):
    """poll pred() until it is true (True) or timeout seconds pass (False)"""
    end = time.time() + timeout
    while time.time() < end:
        if pred():
            return True
        time.sleep(interval)
    return bool(pred())


def greets(port, prefix, host="127.0.0.1"):
    """whether a server on port answers a new connection with a greeting starting with prefix
    (then QUIT: SMTP and POP3 both know it)"""
    try:
        with socket.create_connection((host, port), timeout=5) as s:
            s.settimeout(5)
            ok = s.recv(512).startswith(prefix)
            s.sendall(b"QUIT\r\n")
            return ok
    except OSError:
        return False


ROOT_RUN = os.geteuid() == 0
# the HOWTO's virtual uid/gid; as non-root the services cannot change ids, so the tests map the
# virtual users to the caller's own ids
VUID = 5000 if ROOT_RUN else os.getuid()
VGID = 5000 if ROOT_RUN else os.getgid()

# the header fields Postern prepends to a delivered message, in this order
ADDED_HEADERS = (b"Return-Path", b"Delivered-To", b"Received")


def strip_added_headers(data):
    """Remove exactly the header fields Postern adds (Return-Path, Delivered-To, Received, each
    once, at the top, with continuation lines); returns (added_fields, rest)."""
    added = []
    for name in ADDED_HEADERS:
        prefix = name + b": "
        assert data.startswith(prefix), (name, data[:300])
        end = data.index(b"\n") + 1
        while data[end:end + 1] in (b" ", b"\t"):
            end = data.index(b"\n", end) + 1
        added.append(data[:end])
        data = data[end:]
    return added, data


def mbox_quote(data):
    """mboxo quoting as Postfix and Postern write it: "From " at a line start gets a '>'"""
    out = (b">" if data.startswith(b"From ") else b"") + data
    return out.replace(b"\nFrom ", b"\n>From ")


def mbox_messages(data):
    """Split an mbox file into [(from_line, quoted_message)]. Quoting leaves "From " at a line
    start only on From_ lines; each message is followed by one empty line, not part of it."""
    if not data:
        return []
    assert data.startswith(b"From ") and data.endswith(b"\n\n"), (data[:100], data[-100:])
    out = []
    for part in (b"\n" + data[:-1]).split(b"\nFrom ")[1:]:
        nl = part.index(b"\n")
        # the split consumed the empty line before the next From_; the message keeps its own \n
        assert part.endswith(b"\n"), part[-100:]
        out.append((b"From " + part[:nl + 1], part[nl + 1:]))
    return out


class HowtoSystem:
    """The whole mail system, started with `postern start`, on shared/howto's main.cf,
    virtual_mailbox and virtual_alias with /etc/postfix and /var/spool/mail re-rooted in a temp
    dir under /var/tmp (the services run as mail_owner and must read the configuration, which
    pytest's 0700 tmp_path is not). SMTP listens on 127.0.0.1:port (its own master.cf)."""

    def __init__(self, extra_main=""):
        self.top = pathlib.Path(tempfile.mkdtemp(prefix="postern-system-", dir="/var/tmp"))
        os.chmod(self.top, 0o755)
        self.etc, self.spool, self.queue = self.top / "etc", self.top / "spool", self.top / "queue"
        self.maillog = self.top / "maillog"
        self.etc.mkdir()
        self.spool.mkdir(mode=0o750)
        for name in ("main.cf", "virtual_mailbox", "virtual_alias"):
            text = (HOWTO / name).read_text()
            text = text.replace("/etc/postfix", str(self.etc)).replace("/var/spool/mail", str(self.spool))
            if not ROOT_RUN:
                text = text.replace("virtual_uid_maps = static:5000", "virtual_uid_maps = static:%d" % VUID)
                text = text.replace("virtual_gid_maps = static:5000", "virtual_gid_maps = static:%d" % VGID)
            (self.etc / name).write_text(text)
        self.port = free_port()
        with open(self.etc / "main.cf", "a") as f:
            f.write("queue_directory = %s\nmaillog_file = %s\n" % (self.queue, self.maillog))
            if ROOT_RUN:
                f.write("mail_owner = nobody\n")
            f.write(extra_main)
        (self.etc / "master.cf").write_text("127.0.0.1:%d inet n - n - - smtpd\n" % self.port)
        if ROOT_RUN:
            os.chown(self.spool, VUID, VGID)
        self.pn = Postern(self.etc)
        self.pn.run("postmap", str(self.etc / "virtual_mailbox"), str(self.etc / "virtual_alias"), check=True)
        self.running = False

    # --- life cycle ---------------------------------------------------------------------------
    def start(self):
        p = self.pn.run("start")
        assert p.returncode == 0, ("postern start failed", p.returncode, p.stderr, self.log()[-2000:])
        self.running = True
        # ready when smtpd answers with its greeting
        assert wait_for(self._greets, timeout=30), self.log()
        return self

    def _greets(self):
        return greets(self.port, b"220 ")

    def stop(self):
        if self.running:
            self.pn.run("stop")
            self.running = False

    def cleanup(self):
        try:
            self.stop()
        finally:
            self.kill9()  # nothing of this system may outlive the test
            shutil.rmtree(self.top, ignore_errors=True)

    def master_pid(self):
        try:
            return int((self.queue / "pid" / "master.pid").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return None

    def processes(self):
        """pids of every process of this system: postern processes whose command line names this
        configuration directory (the master and the services it started)"""
        out = []
        want = str(self.etc).encode()
        for d in os.listdir("/proc"):
            if not d.isdigit() or int(d) == os.getpid():
                continue
            try:
                with open("/proc/%s/cmdline" % d, "rb") as f:
                    argv = f.read().split(b"\0")
                with open("/proc/%s/stat" % d) as f:
                    state = f.read().rsplit(")", 1)[1].split()[0]
            except OSError:
                continue
            if want in argv and state != "Z" and any(a.endswith(b"postern") for a in argv[:1]):
                out.append(int(d))
        return out

    def service_pids(self, name):
        """pids of this system's `postern ... service NAME` processes"""
        out = []
        for p in self.processes():
            try:
                with open("/proc/%d/cmdline" % p, "rb") as f:
                    argv = f.read().split(b"\0")
            except OSError:
                continue
            if b"service" in argv and argv.index(b"service") + 1 < len(argv) and \
                    argv[argv.index(b"service") + 1] == name.encode():
                out.append(p)
        return out

    def kill9(self):
        """SIGKILL the master and all its children at once (their process group, which the
        daemonized master and its services share), then any straggler found in /proc"""
        pid = self.master_pid()
        if pid:
            try:
                pgid = os.getpgid(pid)
                if pgid != os.getpgrp():
                    os.killpg(pgid, signal.SIGKILL)
            except OSError:
                pass
        for p in self.processes():
            try:
                os.kill(p, signal.SIGKILL)
            except OSError:
                pass
        assert wait_for(lambda: not self.processes(), timeout=20), self.processes()
        self.running = False

    # --- clients ------------------------------------------------------------------------------
    def smtp(self, source=None, timeout=60):
        return smtplib.SMTP("127.0.0.1", self.port, timeout=timeout,
                            source_address=(source, 0) if source else None)

    def raw(self, source=None, timeout=20):
        s = socket.socket()
        if source:
            s.bind((source, 0))
        s.settimeout(timeout)
        s.connect(("127.0.0.1", self.port))
        return s

    def swaks(self, *args, data=None, timeout=120):
        """run Debian's swaks against this system; returns the CompletedProcess (text).
        data (bytes, CRLF line ends) is the exact message: swaks ends DATA with "\\r\\n." after
        the content, so the content's own final CRLF is left out of the file it reads."""
        cmd = ["swaks", "--server", "127.0.0.1", "--port", str(self.port), "--helo", "swaks.example",
               "--timeout", "60", *args]
        if data is not None:
            path = self.top / ("swaks-data-%d" % time.monotonic_ns())
            path.write_bytes(data[:-2] if data.endswith(b"\r\n") else data)
            cmd += ["--data", "@%s" % path]
        return subprocess.run(cmd, capture_output=True, text=True, errors="replace", timeout=timeout)

    # --- what arrived -------------------------------------------------------------------------
    def maildir(self, box="example.org/john"):
        """the files in a Maildir's new/, sorted by name"""
        d = self.spool / box / "new"
        return sorted(d.iterdir()) if d.is_dir() else []

    def mbox(self, box="example.org/jane"):
        """[(from_line, quoted_message)] of an mbox file"""
        p = self.spool / box
        return mbox_messages(p.read_bytes()) if p.is_file() else []

    def queue_text(self):
        return self.pn.run("queue", check=True).stdout

    def queue_empty(self):
        return self.queue_text().strip() == "Mail queue is empty"

    def log(self):
        return self.maillog.read_text(errors="replace") if self.maillog.exists() else ""


@pytest.fixture
def howto():
    """factory: howto(extra_main="") -> a started HowtoSystem; all are stopped at the end"""
    systems = []

    def make(extra_main="", start=True):
        s = HowtoSystem(extra_main)
        systems.append(s)
        return s.start() if start else s

    yield make
    for s in systems:
        s.cleanup()
