"""test_local.py - local delivery (`postern service local`) for mydestination, end to end.

The whole system (`postern start`) with a temporary configuration: SMTP in, qmgr, the local agent,
into a real system user's ~/Maildir or the mbox in mail_spool_directory. The tests that create a
user need root (CI runs as root) and are skipped otherwise; the user and its group are removed
afterwards. Also: alias_maps (built with `postern postalias`), refused |command aliases, unknown
users, forwarding (an alias with several targets or another domain's becomes a new message, as in
Postfix's local(8)), a missing alias table and an unwritable home (deferred, delivered after
`postern queue flush`).
"""
import os
import pathlib
import pwd
import random
import shutil
import signal
import smtplib
import socket
import string
import subprocess
import tempfile
import time

import pytest

from conftest import Postern

ROOT_RUN = os.geteuid() == 0
needs_root = pytest.mark.skipif(not ROOT_RUN, reason="creating a system user needs root")


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def wait_for(pred, timeout=15):
    end = time.time() + timeout
    while time.time() < end:
        if pred():
            return True
        time.sleep(0.05)
    return False


@pytest.fixture
def workdir():
    # the services run as mail_owner and the user: the tree must be traversable by them
    d = pathlib.Path(tempfile.mkdtemp(prefix="postern-local-", dir="/var/tmp"))
    os.chmod(d, 0o755)
    yield d
    shutil.rmtree(d, ignore_errors=True)


@pytest.fixture
def user(workdir):
    """A real system user with its home under workdir; removed afterwards."""
    name = "pt" + "".join(random.choice(string.ascii_lowercase) for _ in range(8))
    home = workdir / "home" / name
    (workdir / "home").mkdir(mode=0o755)
    subprocess.run(["useradd", "-m", "-d", str(home), "-s", "/usr/sbin/nologin", name], check=True,
                   capture_output=True)
    try:
        pw = pwd.getpwnam(name)
        os.chmod(home, 0o700)
        yield pw
    finally:
        subprocess.run(["userdel", name], capture_output=True)


class System:
    def __init__(self, workdir, home_mailbox="Maildir/", aliases="", build_aliases=True, spool_mode=0o755,
                 extra=""):
        self.dir = workdir
        self.etc = workdir / "etc"
        self.spool = workdir / "mail"
        self.queue = workdir / "queue"
        self.maillog = workdir / "maillog"
        self.etc.mkdir()
        self.spool.mkdir()
        os.chmod(self.spool, spool_mode)
        self.port = free_port()
        (self.etc / "main.cf").write_text(
            "myhostname = mail.local.test\nmydomain = local.test\nmyorigin = $mydomain\n"
            "mydestination = $myhostname, localhost, $mydomain\ninet_interfaces = loopback-only\n"
            "mynetworks = 127.0.0.0/8\nrecipient_delimiter = +\n"
            f"home_mailbox = {home_mailbox}\nmail_spool_directory = {self.spool}\n"
            + (f"alias_maps = hash:{self.etc}/aliases\nalias_database = hash:{self.etc}/aliases\n"
               if aliases is not None else "") +
            f"queue_directory = {self.queue}\nmaillog_file = {self.maillog}\n"
            + ("mail_owner = nobody\n" if ROOT_RUN else "") + extra)
        (self.etc / "master.cf").write_text(f"127.0.0.1:{self.port} inet n - n - - smtpd\n")
        self.pn = Postern(self.etc)
        if aliases is not None:
            (self.etc / "aliases").write_text(aliases)
        if aliases is not None and build_aliases:
            self.pn.run("newaliases", check=True)
        self.pn.run("start", check=True)

    def stop(self):
        self.pn.run("stop")

    def send(self, sender, rcpts, body="hello\r\n", subject="test"):
        s = smtplib.SMTP("127.0.0.1", self.port, timeout=30)
        try:
            return s.sendmail(sender, rcpts, f"Subject: {subject}\r\n\r\n{body}")
        finally:
            s.quit()

    def log(self):
        return self.maillog.read_text() if self.maillog.exists() else ""

    def queue_empty(self):
        return self.pn.run("queue", check=True).stdout.strip() == "Mail queue is empty"


@pytest.fixture
def make_system(workdir):
    systems = []

    def make(**kw):
        s = System(workdir, **kw)
        systems.append(s)
        return s
    yield make
    for s in systems:
        s.stop()
    for s in systems:
        # the services' stderr is the maillog: a sanitizer report there (leaks at exit) is a failure
        assert wait_for(lambda: s.pn.run("status").returncode != 0)
        time.sleep(0.2)
        log = s.log()
        assert "Sanitizer" not in log and "runtime error:" not in log, log


def forwarded_as(log, alias):
    """the queue id of the message that forwarded alias (from the local agent's log line)"""
    import re
    m = re.search(r"to=<%s>, relay=local, delay=[\d.]+, dsn=\d\.\d\.\d, status=\w+ \(.*?forwarded as (\w+)\)"
                  % re.escape(alias), log)
    assert m, log
    return m.group(1)


def maildir_new(pw):
    d = pathlib.Path(pw.pw_dir) / "Maildir" / "new"
    return sorted(d.iterdir()) if d.is_dir() else []


@needs_root
def test_maildir_in_home(make_system, user):
    s = make_system(aliases=f"team: {user.pw_name}\n")
    me = f"{user.pw_name}@local.test"
    assert s.send("sender@example.net", [me], subject="one") == {}
    assert wait_for(lambda: len(maildir_new(user)) == 1), s.log()
    f = maildir_new(user)[0]
    data = f.read_bytes()
    assert data.startswith(f"Return-Path: <sender@example.net>\nDelivered-To: {me}\nReceived: ".encode())
    st = f.stat()
    assert (st.st_uid, st.st_gid, st.st_mode & 0o777) == (user.pw_uid, user.pw_gid, 0o600)
    md = pathlib.Path(user.pw_dir) / "Maildir"
    assert md.stat().st_uid == user.pw_uid
    # an address extension and upper case reach the same mailbox; Delivered-To keeps the address
    ext = f"{user.pw_name.upper()}+tag@local.test"
    assert s.send("sender@example.net", [ext], subject="two") == {}
    assert wait_for(lambda: len(maildir_new(user)) == 2), s.log()
    assert any(b"Delivered-To: " + f"{user.pw_name}+tag@local.test".encode() in p.read_bytes()
               for p in maildir_new(user))
    # an alias: Delivered-To names the user the alias led to
    assert s.send("sender@example.net", ["team@local.test"], subject="three") == {}
    assert wait_for(lambda: len(maildir_new(user)) == 3), s.log()
    three = [p for p in maildir_new(user) if b"Subject: three" in p.read_bytes()]
    assert len(three) == 1 and f"\nDelivered-To: {me}\n".encode() in three[0].read_bytes()
    assert wait_for(lambda: "status=sent (delivered to maildir)" in s.log() and s.queue_empty())
    log = s.log()
    assert f"postern/local[" in log and f"to=<{me}>, relay=local, delay=" in log
    assert "to=<team@local.test>, relay=local" in log and "dsn=2.0.0" in log
    # the mailbox an alias led to has its own line, as in Postfix
    assert f"to=<{me}>, orig_to=<team@local.test>, relay=local, delay=" in log


@needs_root
def test_spool_mbox(make_system, user):
    # a spool writable by root only: the mbox is created 0600 and given to the user
    s = make_system(home_mailbox="", spool_mode=0o755)
    me = f"{user.pw_name}@local.test"
    assert s.send("sender@example.net", [me], body="From here\r\nbody\r\n") == {}
    box = s.spool / user.pw_name
    assert wait_for(lambda: box.exists() and box.stat().st_size > 0 and s.queue_empty()), s.log()
    st = box.stat()
    assert (st.st_uid, st.st_gid, st.st_mode & 0o777) == (user.pw_uid, user.pw_gid, 0o600)
    data = box.read_bytes()
    assert data.startswith(b"From sender@example.net ")
    assert f"Return-Path: <sender@example.net>\nDelivered-To: {me}\n".encode() in data
    assert b"\n>From here\nbody\n\n" in data
    assert "status=sent (delivered to mailbox)" in s.log()
    assert not (pathlib.Path(user.pw_dir) / "Maildir").exists()


@needs_root
def test_spool_group_writable(make_system, user):
    # Debian's /var/mail (2775 root:mail): the user's uid with the spool's group
    s = make_system(home_mailbox="", spool_mode=0o775)
    os.chown(s.spool, 0, 8)  # group "mail" on Debian
    assert s.send("sender@example.net", [f"{user.pw_name}@local.test"]) == {}
    box = s.spool / user.pw_name
    assert wait_for(lambda: box.exists() and box.stat().st_size > 0 and s.queue_empty()), s.log()
    st = box.stat()
    assert (st.st_uid, st.st_gid, st.st_mode & 0o777) == (user.pw_uid, 8, 0o600)


@needs_root
def test_refused_destinations_and_unknown_users(make_system, user):
    s = make_system(aliases=(f"pipe: \"|/bin/touch {s_marker()}\"\nfile: /tmp/postern-local-file\n"
                             "ghost: nosuchuser-postern\nfwd: someone@remote.test\n"
                             f"both: {user.pw_name}, \"|/bin/true\"\n"))
    me = f"{user.pw_name}@local.test"
    # the sender is the local user: bounces come back into the Maildir
    assert s.send(me, ["pipe@local.test"], subject="to a pipe") == {}
    assert wait_for(lambda: "to=<pipe@local.test>" in s.log() and len(maildir_new(user)) == 1), s.log()
    log = s.log()
    assert "status=bounced (delivery to commands from alias_maps is not allowed" in log
    assert "dsn=5.3.0" in log
    assert not os.path.exists(s_marker())
    bounce = maildir_new(user)[0].read_bytes()
    assert b"From: MAILER-DAEMON" in bounce and b"delivery to commands from alias_maps is not allowed" in bounce

    assert s.send(me, ["file@local.test"]) == {}
    assert wait_for(lambda: "delivery to files from alias_maps is not allowed" in s.log()), s.log()
    assert not os.path.exists("/tmp/postern-local-file")

    # an alias to a user that does not exist: Postfix's text, permanent
    assert s.send(me, ["ghost@local.test"]) == {}
    assert wait_for(lambda: 'status=bounced (unknown user: "nosuchuser-postern")' in s.log()), s.log()
    assert "dsn=5.1.1" in s.log()

    # a user that does not exist at all is refused at RCPT time
    with pytest.raises(smtplib.SMTPRecipientsRefused) as e:
        s.send(me, ["nosuchuser-postern@local.test"])
    code, text = e.value.recipients["nosuchuser-postern@local.test"]
    assert code == 550 and b"User unknown in local recipient table" in text

    # forwarding to another domain: a new message for someone@remote.test, which waits for the
    # outbound SMTP client (deferred, never lost); the alias itself is done
    assert s.send(me, ["fwd@local.test"]) == {}
    assert wait_for(lambda: "to=<fwd@local.test>" in s.log() and "to=<someone@remote.test>" in s.log()), s.log()
    fid = forwarded_as(s.log(), "fwd@local.test")
    assert f"to=<someone@remote.test>, orig_to=<fwd@local.test>, relay=none" in s.log()
    q = s.pn.run("queue", check=True).stdout
    assert fid in q and "someone@remote.test" in q and "fwd@local.test" not in q.split(fid)[0]

    # a mailbox and a command: the mailbox gets its copy, the recipient bounces for the command
    n = len(maildir_new(user))
    assert s.send(me, ["both@local.test"], subject="both") == {}
    assert wait_for(lambda: any(b"Subject: both" in p.read_bytes() for p in maildir_new(user))), s.log()
    assert wait_for(lambda: len(maildir_new(user)) >= n + 2), s.log()  # the copy and the bounce


@pytest.fixture
def user2(workdir):
    """a second system user"""
    name = "pu" + "".join(random.choice(string.ascii_lowercase) for _ in range(8))
    home = workdir / "home" / name
    subprocess.run(["useradd", "-m", "-d", str(home), "-s", "/usr/sbin/nologin", name], check=True,
                   capture_output=True)
    try:
        os.chmod(home, 0o700)
        yield pwd.getpwnam(name)
    finally:
        subprocess.run(["userdel", name], capture_output=True)


def virtual_domain(workdir):
    """main.cf lines for a virtual mailbox domain virt.test (v@virt.test: a Maildir under vmail/) and a
    virtual alias loop@virt.test -> back@local.test"""
    t = workdir / "vtables"
    t.mkdir()
    (t / "vmailbox").write_text("v@virt.test virt.test/v/\n")
    (t / "valias").write_text("loop@virt.test back@local.test\n")
    vm = workdir / "vmail"
    vm.mkdir()
    uid = 5000 if ROOT_RUN else os.getuid()
    if ROOT_RUN:
        os.chown(vm, uid, uid)
    for f in ("vmailbox", "valias"):
        subprocess.run([os.environ.get("POSTERN_BIN") or str(pathlib.Path(__file__).resolve().parents[2] /
                                                               "build" / "postern"),
                        "postmap", str(t / f)], check=True, capture_output=True)
    return (f"virtual_mailbox_domains = virt.test\nvirtual_mailbox_base = {vm}\n"
            f"virtual_mailbox_maps = hash:{t}/vmailbox\nvirtual_alias_maps = hash:{t}/valias\n"
            f"virtual_uid_maps = static:{uid}\nvirtual_gid_maps = static:{uid}\nvirtual_minimum_uid = 100\n"), vm


def vmail_new(vm):
    d = vm / "virt.test" / "v" / "new"
    return sorted(d.iterdir()) if d.is_dir() else []


@needs_root
def test_alias_fanout_with_one_target_deferred(make_system, user, user2, workdir):
    """team: user, user2, v@virt.test. The alias becomes a new message with three recipients; user2's
    home is unwritable, so only user2 is deferred there: user and the virtual mailbox get exactly one
    copy, and user2 its one copy after the fix and a flush."""
    extra, vm = virtual_domain(workdir)
    s = make_system(aliases=f"team: {user.pw_name}, {user2.pw_name}, v@virt.test\n", extra=extra)
    os.chmod(user2.pw_dir, 0o500)
    assert s.send("sender@example.net", ["team@local.test"], subject="fan") == {}
    u2 = f"{user2.pw_name}@local.test"
    assert wait_for(lambda: len(maildir_new(user)) == 1 and len(vmail_new(vm)) == 1 and
                    f"to=<{u2}>, orig_to=<team@local.test>, relay=local" in s.log()), s.log()
    fid = forwarded_as(s.log(), "team@local.test")
    assert "status=sent (forwarded as %s)" % fid in s.log()
    assert f"{fid}: from=<sender@example.net>" in s.log() and "nrcpt=3" in s.log()
    q = s.pn.run("queue", check=True).stdout
    assert fid in q and u2 in q and "team@local.test" not in q.replace(f"(orig {u2})", "")
    # the retry after the failure: nobody else gets a second copy (a flush takes deferred/ only)
    deferred = s.queue / "deferred" / fid
    assert wait_for(deferred.exists), s.log()
    s.pn.run("queue", "flush", check=True)
    assert wait_for(lambda: s.log().count(f"to=<{u2}>, orig_to=<team@local.test>") >= 2 and deferred.exists()), s.log()
    assert len(maildir_new(user)) == 1 and len(vmail_new(vm)) == 1
    os.chmod(user2.pw_dir, 0o700)
    s.pn.run("queue", "flush", check=True)
    assert wait_for(lambda: len(maildir_new(user2)) == 1 and s.queue_empty()), s.log()
    assert len(maildir_new(user)) == 1 and len(vmail_new(vm)) == 1
    for f in maildir_new(user) + maildir_new(user2) + vmail_new(vm):
        data = f.read_bytes()
        assert data.count(b"\nDelivered-To: team@local.test\n") == 1 and b"Subject: fan" in data, data[:400]
    assert maildir_new(user2)[0].read_bytes().startswith(
        f"Return-Path: <sender@example.net>\nDelivered-To: {u2}\n".encode())


@needs_root
def test_local_alias_to_virtual_and_loops(make_system, user, workdir):
    """a local alias to a virtual address is delivered to the virtual mailbox; "me: me, other" keeps
    a copy for me; a forward that comes back to its alias bounces as a loop"""
    extra, vm = virtual_domain(workdir)
    me = user.pw_name
    s = make_system(aliases=f"vfwd: v@virt.test\n{me}: {me}, v@virt.test\nback: loop@virt.test\n", extra=extra)
    assert s.send("sender@example.net", ["vfwd@local.test"], subject="to virtual") == {}
    assert wait_for(lambda: len(vmail_new(vm)) == 1 and s.queue_empty()), s.log()
    data = vmail_new(vm)[0].read_bytes()
    assert data.startswith(b"Return-Path: <sender@example.net>\nDelivered-To: v@virt.test\nDelivered-To: vfwd@local.test\n")
    fid = forwarded_as(s.log(), "vfwd@local.test")
    assert f"{fid}: to=<v@virt.test>, orig_to=<vfwd@local.test>, relay=virtual" in s.log()
    # me: me, v@virt.test - one copy each, the user's own not forwarded again
    assert s.send("sender@example.net", [f"{me}@local.test"], subject="self") == {}
    assert wait_for(lambda: len(vmail_new(vm)) == 2 and len(maildir_new(user)) == 1 and s.queue_empty()), s.log()
    # the sender is the user: the loop's bounce comes back into the Maildir
    assert s.send(f"{me}@local.test", ["back@local.test"], subject="loop") == {}
    assert wait_for(lambda: "mail forwarding loop for back@local.test" in s.log() and s.queue_empty()), s.log()
    assert "dsn=5.4.6" in s.log()
    # the bounce reaches the user through the user's own alias: a copy for v@virt.test as well
    assert wait_for(lambda: len(maildir_new(user)) == 2 and len(vmail_new(vm)) == 3 and s.queue_empty()), s.log()
    assert b"mail forwarding loop for back@local.test" in sorted(maildir_new(user))[-1].read_bytes() or \
        b"mail forwarding loop for back@local.test" in sorted(maildir_new(user))[0].read_bytes()


def service_pids(s, name):
    """pids of this system's `postern ... service NAME` processes"""
    out = []
    for d in os.listdir("/proc"):
        try:
            argv = open("/proc/%s/cmdline" % d, "rb").read().split(b"\0")
        except OSError:
            continue
        if str(s.etc).encode() in argv and b"service" in argv and name.encode() in argv:
            out.append(int(d))
    return out


def kill9(s):
    pids = [int(d) for d in os.listdir("/proc") if d.isdigit() and d != str(os.getpid())]
    for p in pids:
        try:
            if str(s.etc).encode() in open("/proc/%d/cmdline" % p, "rb").read().split(b"\0"):
                os.kill(p, signal.SIGKILL)
        except OSError:
            pass
    assert wait_for(lambda: s.pn.run("status").returncode != 0)


@needs_root
def test_kill9_between_forward_and_mark(make_system, user, user2, workdir):
    """The local agent stages the new message and answers; the queue manager is stopped before it
    can record the answer, and everything is killed. After the restart the staged file (named by no
    mark) is removed, the alias is forwarded again, and each target gets exactly one copy."""
    extra, vm = virtual_domain(workdir)
    s = make_system(aliases=f"team: {user.pw_name}, {user2.pw_name}, v@virt.test\n", extra=extra)
    assert s.send("sender@example.net", [f"{user.pw_name}@local.test"], subject="warm") == {}
    assert wait_for(lambda: len(maildir_new(user)) == 1 and s.queue_empty()), s.log()  # qmgr -> local connected
    agents, qmgrs = service_pids(s, "local"), service_pids(s, "qmgr")
    incoming = s.queue / "incoming"
    try:
        for p in agents:
            os.kill(p, signal.SIGSTOP)
        assert s.send("sender@example.net", ["team@local.test"], subject="fan") == {}
        assert wait_for(lambda: list((s.queue / "active").iterdir())), "not taken"
        time.sleep(0.5)  # the request is in the agent's socket
        for p in qmgrs:
            os.kill(p, signal.SIGSTOP)
        for p in agents:
            os.kill(p, signal.SIGCONT)
        assert wait_for(lambda: any(".fwd." in f.name for f in incoming.iterdir())), s.log()
        time.sleep(0.3)
    finally:
        kill9(s)
    staged = [f.name for f in incoming.iterdir() if ".fwd." in f.name]
    assert len(staged) == 1
    assert len(maildir_new(user)) == 1 and not maildir_new(user2) and not vmail_new(vm)
    s.pn.run("start", check=True)
    assert wait_for(lambda: len(maildir_new(user)) == 2 and len(maildir_new(user2)) == 1 and
                    len(vmail_new(vm)) == 1 and s.queue_empty(), timeout=30), s.log()
    assert "forward %s removed (to be made again) after a restart" % staged[0][:16] in s.log()
    time.sleep(1)
    assert len(maildir_new(user)) == 2 and len(maildir_new(user2)) == 1 and len(vmail_new(vm)) == 1
    assert not [f for f in incoming.iterdir() if ".fwd." in f.name]


def qfile(qid, sender, rcpts, content):
    """a queue file (qfile.h layout); rcpts: [(orig, addr, status letter, dsn, text)]"""
    import struct

    def rec(t, payload):
        return t + struct.pack(">I", len(payload)) + payload

    def st(x):
        x = x.encode()
        return struct.pack(">H", len(x)) + x
    out = b"POSTERN-QUEUE 1\n" + rec(b"T", struct.pack(">Q", int(time.time() * 1e6)))
    out += rec(b"I", qid.encode()) + rec(b"S", sender.encode())
    out += rec(b"C", st("") + st("localhost") + st("") + st("local") + st(""))
    out += rec(b"P", bytes([0, 0, 0]) + st(""))
    for orig, addr, status, dsn, text in rcpts:
        slot = status.encode() + dsn.encode().ljust(12, b"\0") + struct.pack(">H", len(text)) + \
            text.encode().ljust(300, b"\0")
        out += rec(b"R", bytes([0]) + st(orig) + st(addr) + st("") + slot)
    return out + rec(b"M", content) + rec(b"E", struct.pack(">IQ", len(rcpts), len(content)))


@needs_root
def test_staged_forward_recovery(make_system, user, workdir):
    """What a crash between the durable mark "forwarded as X" and the release of X leaves: the
    parent in active/ with its recipient done, X staged. At start X is released and delivered; a
    staged forward that no mark names is removed."""
    extra, vm = virtual_domain(workdir)
    s = make_system(aliases="team: v@virt.test\n", extra=extra)
    for i in range(3):
        assert s.send("sender@example.net", [f"{user.pw_name}@local.test"], subject="id %d" % i) == {}
    assert wait_for(lambda: len(maildir_new(user)) == 3 and s.queue_empty()), s.log()
    import re
    ids = re.findall(r"postern/smtpd\[\d+\]: (\w{16}): client=", s.log())  # removed: free for reuse
    parent, fwd, orphan = ids[:3]
    s.stop()
    assert wait_for(lambda: s.pn.run("status").returncode != 0)
    nobody = pwd.getpwnam("nobody")
    files = {
        s.queue / "active" / parent: qfile(parent, "sender@example.net", [
            ("team@local.test", "team@local.test", "D", "2.0.0", "forwarded as %s" % fwd)], b"Subject: rel\n\nbody\n"),
        s.queue / "incoming" / ("%s.fwd.%s.0" % (fwd, parent)): qfile(fwd, "sender@example.net", [
            ("team@local.test", "v@virt.test", "P", "", "")], b"Delivered-To: team@local.test\nSubject: rel\n\nbody\n"),
        s.queue / "incoming" / ("%s.fwd.%s.0" % (orphan, parent)): qfile(orphan, "sender@example.net", [
            ("team@local.test", "v@virt.test", "P", "", "")], b"Delivered-To: team@local.test\nSubject: orphan\n\n"),
    }
    for path, data in files.items():
        path.write_bytes(data)
        os.chown(path, nobody.pw_uid, nobody.pw_gid)
        os.chmod(path, 0o600)
    s.pn.run("start", check=True)
    assert wait_for(lambda: len(vmail_new(vm)) == 1 and s.queue_empty(), timeout=30), s.log()
    log = s.log()
    assert "%s: forward %s released after a restart" % (parent, fwd) in log
    assert "%s: forward %s removed (to be made again) after a restart" % (parent, orphan) in log
    assert "%s: to=<v@virt.test>, orig_to=<team@local.test>, relay=virtual" % fwd in log
    assert b"Subject: rel" in vmail_new(vm)[0].read_bytes()
    assert "%s: removed" % parent in log
    assert not list((s.queue / "incoming").iterdir())


def s_marker():
    return "/tmp/postern-local-pipe-ran"


@needs_root
def test_unwritable_home_defers_then_delivers(make_system, user):
    s = make_system()
    home = pathlib.Path(user.pw_dir)
    os.chmod(home, 0o500)
    me = f"{user.pw_name}@local.test"
    assert s.send("sender@example.net", [me]) == {}
    assert wait_for(lambda: f"to=<{me}>" in s.log() and "status=deferred" in s.log()), s.log()
    assert "dsn=4.2.0" in s.log() and "Permission denied" in s.log()
    assert me in s.pn.run("queue", check=True).stdout
    # the agent logs before the queue manager records: a flush must come after the move to deferred/
    assert wait_for(lambda: list((s.queue / "deferred").iterdir())), s.log()
    os.chmod(home, 0o700)
    s.pn.run("queue", "flush", check=True)
    assert wait_for(lambda: len(maildir_new(user)) == 1 and s.queue_empty()), s.log()


@needs_root
@pytest.mark.skipif(os.path.exists("/etc/aliases") or os.path.exists("/etc/aliases.db"),
                    reason="this system has /etc/aliases")
def test_default_alias_table_absent(make_system, user):
    # alias_maps left at its default hash:/etc/aliases on a system without one: no aliases
    s = make_system(aliases=None)
    me = f"{user.pw_name}@local.test"
    assert s.send("sender@example.net", [me]) == {}
    assert wait_for(lambda: len(maildir_new(user)) == 1 and s.queue_empty()), s.log()
    # and at RCPT an unknown user is unknown, not a temporary table failure
    with pytest.raises(smtplib.SMTPRecipientsRefused) as e:
        s.send("sender@example.net", ["nosuchuser-postern@local.test"])
    assert e.value.recipients["nosuchuser-postern@local.test"][0] == 550


@needs_root
def test_mailbox_command_defers(make_system, user):
    s = make_system(extra="mailbox_command = /usr/bin/procmail\n")
    me = f"{user.pw_name}@local.test"
    assert s.send("sender@example.net", [me]) == {}
    assert wait_for(lambda: "status=deferred (mailbox_command is not supported yet" in s.log()), s.log()
    assert maildir_new(user) == [] and me in s.pn.run("queue", check=True).stdout


@needs_root
def test_missing_alias_table_defers(make_system, user):
    s = make_system(aliases=f"team: {user.pw_name}\n", build_aliases=False)
    me = f"{user.pw_name}@local.test"
    assert s.send("sender@example.net", [me]) == {}
    assert wait_for(lambda: "status=deferred" in s.log()), s.log()
    log = s.log()
    assert f"hash:{s.etc}/aliases" in log and "postern postalias" in log
    assert maildir_new(user) == []
    s.pn.run("postalias", str(s.etc / "aliases"), check=True)
    assert wait_for(lambda: list((s.queue / "deferred").iterdir())), s.log()
    s.pn.run("queue", "flush", check=True)
    assert wait_for(lambda: len(maildir_new(user)) == 1 and s.queue_empty()), s.log()


def service_uids(master_pid):
    uids = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            status = open(f"/proc/{entry}/status").read()
            cmd = open(f"/proc/{entry}/cmdline", "rb").read().split(b"\0")
        except OSError:
            continue
        if int(status.split("PPid:")[1].split()[0]) == master_pid and b"service" in cmd:
            uids[cmd[cmd.index(b"service") + 1].decode()] = int(status.split("Uid:")[1].split()[0])
    return uids


@needs_root
def test_local_agent_runs_as_root(make_system):
    s = make_system()
    pid = int(s.pn.run("status", check=True).stdout.split("PID:")[1])
    assert wait_for(lambda: {"smtpd", "qmgr", "virtual", "local"} <= set(service_uids(pid))), service_uids(pid)
    uids = service_uids(pid)
    # the local agent stays root and switches per delivery; the queue manager does not
    assert uids["local"] == 0 and uids["qmgr"] == pwd.getpwnam("nobody").pw_uid, uids
    st = os.stat(s.queue / "private" / "local")
    assert oct(st.st_mode & 0o777) == "0o600"


def test_postalias_and_newaliases(tmp_path):
    etc = tmp_path
    (etc / "main.cf").write_text(f"alias_database = hash:{etc}/aliases\n")
    (etc / "aliases").write_text("# comment\nPostmaster: root\nteam: john,\n  jane, \"|/bin/cat\"\n")
    pn = Postern(etc)
    pn.run("newaliases", check=True)
    assert (etc / "aliases.db").exists()
    p = pn.run("postalias", "-q", "postmaster", str(etc / "aliases"))
    assert p.returncode == 0 and p.stdout == "root\n"
    p = pn.run("postalias", "-q", "team", str(etc / "aliases"))
    assert p.stdout == "john,  jane, \"|/bin/cat\"\n"
    assert pn.run("postalias", "-q", "nobody", str(etc / "aliases")).returncode == 1
    # postmap syntax is not alias syntax
    (etc / "bad").write_text("name value\n")
    p = pn.run("postalias", str(etc / "bad"))
    assert p.returncode == 2 and "bad, line 1: expected format: key: value" in p.stderr


def test_check_local_settings(tmp_path):
    etc = tmp_path
    (etc / "main.cf").write_text(f"mydestination = localhost\nalias_maps = hash:{etc}/aliases\n"
                                 "mailbox_command = /usr/bin/procmail\n")
    (etc / "master.cf").write_text("127.0.0.1:2525 inet n - n - - smtpd\n")
    (etc / "aliases").write_text("postmaster: root\n")
    pn = Postern(etc)
    p = pn.run("check")
    out = p.stdout + p.stderr
    # an alias table is built with postalias, and mailbox_command is not supported yet
    assert f"run: postern postalias hash:{etc}/aliases" in out, out
    assert "mailbox_command is not supported yet" in out and "main.cf, line 3" in out, out
    pn.run("postalias", str(etc / "aliases"), check=True)
    p = pn.run("check")
    out = p.stdout + p.stderr
    assert p.returncode == 0 and "postalias" not in out and "mailbox_command" in out, out
