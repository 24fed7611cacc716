"""test_smtpd.py - `postern service smtpd` end to end: protocol, policy, queue files, limits, SIGTERM.

The service is started directly, as the master would: a listening socket on fd 3,
POSTERN_LISTEN_FDS=1, POSTERN_SERVICE(_LINE) naming a master.cf line, and the HOWTO's
main.cf re-rooted in a temp directory (virtual domains example.org/example.net).
"""
import os
import pathlib
import re
import signal
import smtplib
import socket
import subprocess
import threading
import time

import pytest

from conftest import HOWTO, postern_bin

ID_RE = re.compile(rb"250 2\.0\.0 Ok: queued as ([0-9A-Za-z]{16})")


class Smtpd:
    def __init__(self, tmp, extra_main="", opts=""):
        self.dir = pathlib.Path(tmp)
        for t in ("virtual_mailbox", "virtual_alias"):
            (self.dir / t).write_text((HOWTO / t).read_text())
        main = (HOWTO / "main.cf").read_text()
        main = main.replace("/etc/postfix/", str(self.dir) + "/").replace("/var/spool/mail", str(self.dir / "mail"))
        main += "\nqueue_directory = %s/queue\nmaillog_file = %s/maillog\n" % (self.dir, self.dir)
        main += extra_main
        (self.dir / "main.cf").write_text(main)
        (self.dir / "mail").mkdir(exist_ok=True)
        self.lsock = socket.socket()
        self.lsock.bind(("127.0.0.1", 0))
        self.lsock.listen(128)
        self.port = self.lsock.getsockname()[1]
        (self.dir / "master.cf").write_text("127.0.0.1:%d inet n - n - - smtpd %s\n" % (self.port, opts))
        for t in ("virtual_mailbox", "virtual_alias"):
            subprocess.run([postern_bin(), "-c", str(self.dir), "postmap", "hash:%s/%s" % (self.dir, t)], check=True)
        env = dict(os.environ, POSTERN_LISTEN_FDS="1", POSTERN_SERVICE="127.0.0.1:%d" % self.port,
                   POSTERN_SERVICE_LINE="1", ASAN_OPTIONS="detect_leaks=1")
        fd = self.lsock.fileno()

        def child():
            os.dup2(fd, 3)

        self.proc = subprocess.Popen([postern_bin(), "-c", str(self.dir), "service", "smtpd"], pass_fds=sorted({fd, 3}),
                                     preexec_fn=child, env=env, stderr=subprocess.PIPE)
        deadline = time.time() + 10
        while time.time() < deadline and "daemon started" not in self.log():
            time.sleep(0.05)
        assert "daemon started" in self.log(), self.proc.stderr.read() if self.proc.poll() is not None else ""

    def log(self):
        p = self.dir / "maillog"
        return p.read_text() if p.exists() else ""

    def smtp(self, **kw):
        return smtplib.SMTP("127.0.0.1", self.port, timeout=20, **kw)

    def raw(self, source=None):
        s = socket.socket()
        if source:
            s.bind((source, 0))
        s.settimeout(10)
        s.connect(("127.0.0.1", self.port))
        return s

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        err = self.proc.stderr.read().decode(errors="replace")
        self.lsock.close()
        assert "ERROR: AddressSanitizer" not in err, err
        assert "runtime error:" not in err, err
        return self.proc.returncode

    def incoming(self):
        return sorted(p.name for p in (self.dir / "queue" / "incoming").iterdir() if not p.name.endswith(".tmp"))

    def qfile(self, qid):
        return (self.dir / "queue" / "incoming" / qid).read_bytes()


def read_replies(s, n, timeout=10):
    """read n complete replies (multi-line aware) from a raw socket"""
    data = b""
    s.settimeout(timeout)
    while True:
        lines = data.split(b"\r\n")
        done = [l for l in lines[:-1] if len(l) >= 4 and l[3:4] == b" "]
        if len(done) >= n:
            return done[:n]
        chunk = s.recv(65536)
        if not chunk:
            return done
        data += chunk


@pytest.fixture
def smtpd(tmp_path):
    servers = []

    def make(extra_main="", opts=""):
        sd = Smtpd(tmp_path / ("s%d" % len(servers)), extra_main, opts)
        servers.append(sd)
        return sd

    (tmp_path / "s0").mkdir()
    yield make
    for sd in servers:
        assert sd.stop() == 0


def test_greeting_and_ehlo(smtpd):
    sd = smtpd()
    s = sd.raw()
    assert read_replies(s, 1)[0] == b"220 mail.example.com ESMTP Postern"
    s.sendall(b"EHLO client.example\r\n")
    data = b""
    while not re.search(rb"250 [^\r\n]*\r\n", data):
        data += s.recv(4096)
    lines = data.decode().split("\r\n")
    assert lines[0] == "250-mail.example.com"
    caps = [l[4:] for l in lines[1:] if l]
    assert caps == ["PIPELINING", "SIZE 10240000", "ENHANCEDSTATUSCODES", "8BITMIME", "SMTPUTF8", "CHUNKING"]
    s.sendall(b"VRFY john\r\nHELP\r\nFOO\r\nNOOP\r\nQUIT\r\n")
    r = read_replies(s, 5)
    assert r[0].startswith(b"252 2.0.0")
    assert r[1].startswith(b"214")
    assert r[2] == b"502 5.5.2 Error: command not recognized"
    assert r[3] == b"250 2.0.0 Ok"
    assert r[4] == b"221 2.0.0 Bye"
    s.close()
    time.sleep(0.2)
    assert re.search(r"postern/smtpd\[\d+\]: connect from unknown\[127\.0\.0\.1\]", sd.log())
    assert re.search(r"disconnect from unknown\[127\.0\.0\.1\] ehlo=1 noop=1 vrfy=1 quit=1 unknown=1/2 commands=5/6",
                     sd.log()), sd.log()


def test_message_queued(smtpd):
    sd = smtpd()
    c = sd.smtp()
    c.ehlo("client.example")
    c.mail("sender@remote.test")
    c.rcpt("johnsmith@example.org")
    code, msg = c.data(b"Subject: hello\r\n\r\nline one\r\n.dot line\r\n")
    assert code == 250
    m = re.match(rb"2\.0\.0 Ok: queued as ([0-9A-Za-z]{16})$", msg)
    assert m, msg
    qid = m.group(1).decode()
    c.quit()
    data = sd.qfile(qid)
    assert b"Subject: hello\nline one\n.dot line\n" in data.replace(b"\n\n", b"\n")
    assert b"Received: from client.example (unknown [127.0.0.1])" in data
    assert b"for <johnsmith@example.org>" in data
    # original and final (alias-resolved) recipient are both recorded
    assert b"johnsmith@example.org" in data and b"john@example.org" in data
    assert b"sender@remote.test" in data
    time.sleep(0.2)
    log = sd.log()
    assert "%s: client=unknown[127.0.0.1]" % qid in log
    # the from=/size=/nrcpt= line is the queue manager's (as in Postfix), not smtpd's
    assert "%s: from=<" % qid not in log
    assert "ehlo=1 mail=1 rcpt=1 data=1 quit=1 commands=5" in log


def test_unknown_user(smtpd):
    sd = smtpd()
    c = sd.smtp()
    c.ehlo("x")
    c.mail("a@remote.test")
    code, msg = c.rcpt("nobody@example.org")
    assert code == 550
    assert msg == b"5.1.1 <nobody@example.org>: Recipient address rejected: User unknown in virtual mailbox table"
    code, msg = c.docmd("DATA")
    assert (code, msg) == (554, b"5.5.1 Error: no valid recipients")
    c.quit()
    assert "NOQUEUE: reject: RCPT from unknown[127.0.0.1]: 550 5.1.1 <nobody@example.org>" in sd.log()
    assert "to=<nobody@example.org> proto=ESMTP helo=<x>" in sd.log()
    assert sd.incoming() == []


def test_relay_denied_outside_mynetworks(smtpd):
    sd = smtpd("mynetworks = 127.0.0.1/32\n")
    s = sd.raw(source="127.0.0.2")
    read_replies(s, 1)
    s.sendall(b"HELO x\r\nMAIL FROM:<a@remote.test>\r\nRCPT TO:<x@elsewhere.test>\r\nRCPT TO:<john@example.org>\r\n")
    r = read_replies(s, 4)
    assert r[2] == b"554 5.7.1 <x@elsewhere.test>: Relay access denied" or r[2].startswith(b"454 4.7.1 <x@elsewhere.test>: Relay access denied")
    assert r[3] == b"250 2.1.5 Ok"
    s.close()
    # from inside mynetworks the same recipient is relayed
    c = sd.smtp()
    c.helo("y")
    c.mail("a@remote.test")
    assert c.rcpt("x@elsewhere.test")[0] == 250
    c.quit()


def test_size_limit(smtpd):
    sd = smtpd("message_size_limit = 2000\n")
    c = sd.smtp()
    c.ehlo("x")
    assert c.docmd("MAIL FROM:<a@remote.test> SIZE=5000")[0] == 552
    c.mail("a@remote.test")
    c.rcpt("john@example.org")
    code, msg = c.data(b"Subject: big\r\n\r\n" + b"x" * 3000 + b"\r\n")
    assert (code, msg) == (552, b"5.3.4 Message size exceeds fixed limit")
    assert c.noop()[0] == 250  # still in sync
    c.quit()
    assert sd.incoming() == []


def test_too_many_recipients(smtpd):
    sd = smtpd("smtpd_recipient_limit = 2\n")
    c = sd.smtp()
    c.ehlo("x")
    c.mail("a@remote.test")
    assert c.rcpt("john@example.org")[0] == 250
    assert c.rcpt("jane@example.org")[0] == 250
    assert c.rcpt("sales@example.net") == (452, b"4.5.3 Error: too many recipients")
    c.quit()


def test_pipelining_in_order(smtpd):
    sd = smtpd()
    s = sd.raw()
    read_replies(s, 1)
    s.sendall(b"EHLO x\r\n")
    read_replies(s, 1)
    s.sendall(b"MAIL FROM:<a@remote.test>\r\nRCPT TO:<john@example.org>\r\nRCPT TO:<nobody@example.org>\r\n"
              b"RCPT TO:<jane@example.org>\r\nDATA\r\n")
    r = read_replies(s, 5)
    assert r[0] == b"250 2.1.0 Ok"
    assert r[1] == b"250 2.1.5 Ok"
    assert r[2].startswith(b"550 5.1.1 <nobody@example.org>")
    assert r[3] == b"250 2.1.5 Ok"
    assert r[4] == b"354 End data with <CR><LF>.<CR><LF>"
    # end of data and the next commands in one packet
    s.sendall(b"Subject: p\r\n\r\nbody\r\n.\r\nMAIL FROM:<b@remote.test>\r\nRCPT TO:<john@example.org>\r\nNOOP\r\nQUIT\r\n")
    r = read_replies(s, 5)
    assert ID_RE.match(r[0]), r
    assert r[1:] == [b"250 2.1.0 Ok", b"250 2.1.5 Ok", b"250 2.0.0 Ok", b"221 2.0.0 Bye"]
    s.close()


def test_bdat(smtpd):
    sd = smtpd()
    s = sd.raw()
    read_replies(s, 1)
    s.sendall(b"EHLO x\r\nMAIL FROM:<a@remote.test>\r\nRCPT TO:<john@example.org>\r\n")
    read_replies(s, 3)
    body1 = b"Subject: chunks\r\n\r\nfirst\r"
    body2 = b"\nsecond\r\n.\r\n"
    s.sendall(b"BDAT %d\r\n" % len(body1) + body1 + b"BDAT %d\r\n" % len(body2) + body2 + b"BDAT 0 LAST\r\nNOOP\r\n")
    r = read_replies(s, 4)
    assert r[0] == b"250 2.0.0 Ok: %d bytes" % (len(body1) - 1) or r[0].startswith(b"250 2.0.0 Ok: ")
    assert r[1].startswith(b"250 2.0.0 Ok: ")
    m = ID_RE.match(r[2])
    assert m, r
    assert r[3] == b"250 2.0.0 Ok"
    data = sd.qfile(m.group(1).decode())
    assert b"first\nsecond\n.\n" in data  # no dot-unstuffing, CR|LF across chunks is one line end
    # BDAT without MAIL: the chunk is skipped, the session stays in sync
    s.sendall(b"BDAT 5 LAST\r\nHELLONOOP\r\n")
    r = read_replies(s, 2)
    assert r[0] == b"503 5.5.1 Error: need MAIL command"
    assert r[1] == b"250 2.0.0 Ok"
    s.close()


def test_smuggling_not_end_of_data(smtpd):
    sd = smtpd()
    s = sd.raw()
    read_replies(s, 1)
    s.sendall(b"HELO x\r\nMAIL FROM:<a@remote.test>\r\nRCPT TO:<john@example.org>\r\nDATA\r\n")
    read_replies(s, 4)
    s.sendall(b"Subject: s\r\n\r\nhead\n.\nMAIL FROM:<evil@remote.test>\r\nRCPT TO:<jane@example.org>\r\nDATA\r\nsmuggled\r\n.\r\n")
    r = read_replies(s, 1)
    m = ID_RE.match(r[0])
    assert m, r
    s.sendall(b"QUIT\r\n")
    assert read_replies(s, 1) == [b"221 2.0.0 Bye"]
    assert sd.incoming() == [m.group(1).decode()]
    assert b"MAIL FROM:<evil@remote.test>" in sd.qfile(m.group(1).decode())


def test_bare_lf_reject(smtpd):
    sd = smtpd("smtpd_forbid_bare_newline = reject\n")
    s = sd.raw()
    read_replies(s, 1)
    s.sendall(b"HELO x\nNOOP\r\n")
    assert read_replies(s, 2) == [b"550 5.5.2 Error: bare <LF> received", b"250 2.0.0 Ok"]
    s.sendall(b"HELO x\r\nMAIL FROM:<a@remote.test>\r\nRCPT TO:<john@example.org>\r\nDATA\r\n")
    read_replies(s, 4)
    s.sendall(b"Subject: s\r\n\r\nbare\nlf\r\n.\r\nNOOP\r\n")
    assert read_replies(s, 2) == [b"550 5.5.2 Error: bare <LF> received", b"250 2.0.0 Ok"]
    s.close()
    assert sd.incoming() == []


def test_bare_lf_normalize_default(smtpd):
    sd = smtpd()
    c = sd.smtp()
    c.helo("x")
    c.mail("a@remote.test")
    c.rcpt("john@example.org")
    code, msg = c.data(b"Subject: s\r\n\r\nbare\nlf\r\n")
    assert code == 250
    qid = msg.split()[-1].decode()
    assert b"bare\nlf\n" in sd.qfile(qid)
    c.quit()


def test_line_too_long(smtpd):
    sd = smtpd()
    s = sd.raw()
    read_replies(s, 1)
    s.sendall(b"NOOP " + b"x" * 3000 + b"\r\nNOOP\r\n")
    assert read_replies(s, 2) == [b"500 5.5.2 Error: line too long", b"250 2.0.0 Ok"]
    s.close()


def test_hard_error_limit(smtpd):
    sd = smtpd("smtpd_hard_error_limit = 3\nsmtpd_soft_error_limit = 10\n")
    s = sd.raw()
    read_replies(s, 1)
    s.sendall(b"FOO\r\nFOO\r\nFOO\r\nNOOP\r\n")
    r = read_replies(s, 4)
    assert r[:2] == [b"502 5.5.2 Error: command not recognized"] * 2
    assert r[3] == b"421 4.7.0 mail.example.com Error: too many errors"
    assert s.recv(100) == b""


def test_timeout(smtpd):
    sd = smtpd(opts="-o smtpd_timeout=2s")
    s = sd.raw()
    read_replies(s, 1)
    s.sendall(b"HELO x\r\n")
    read_replies(s, 1)
    t = time.time()
    r = read_replies(s, 1, timeout=10)
    assert r == [b"421 4.4.2 mail.example.com Error: timeout exceeded"]
    assert 1.5 < time.time() - t < 6
    time.sleep(0.2)
    assert "timeout after HELO from unknown[127.0.0.1]" in sd.log()


def test_client_connection_limit(smtpd):
    sd = smtpd("smtpd_client_connection_count_limit = 2\n")
    a, b = sd.raw(), sd.raw()
    read_replies(a, 1)
    read_replies(b, 1)
    c = sd.raw()
    assert read_replies(c, 1) == [b"421 4.7.0 mail.example.com Error: too many connections from 127.0.0.1"]
    a.close()
    b.close()
    c.close()


def test_parallel_clients(smtpd):
    sd = smtpd()
    errors = []
    ids = []
    lock = threading.Lock()

    def client(n):
        try:
            c = sd.smtp()
            c.ehlo("c%d" % n)
            for i in range(10):
                c.mail("s%d@remote.test" % n)
                c.rcpt("john@example.org")
                code, msg = c.data(b"Subject: %d/%d\r\n\r\n" % (n, i) + b"y" * 4000 + b"\r\n")
                assert code == 250, msg
                with lock:
                    ids.append(msg.split()[-1].decode())
            c.quit()
        except Exception as e:  # noqa: BLE001 - report in the main thread
            errors.append(repr(e))

    th = [threading.Thread(target=client, args=(n,)) for n in range(20)]
    for t in th:
        t.start()
    for t in th:
        t.join()
    assert errors == []
    assert len(set(ids)) == 200
    assert set(ids) <= set(sd.incoming())
    assert len(sd.incoming()) == 200


def test_sigterm_lets_session_finish(smtpd):
    sd = smtpd()
    c = sd.smtp()
    c.ehlo("x")
    c.mail("a@remote.test")
    c.rcpt("john@example.org")
    sd.proc.send_signal(signal.SIGTERM)
    time.sleep(0.3)
    # no new connections are served
    code, msg = c.data(b"Subject: late\r\n\r\nstill accepted\r\n")
    assert code == 250
    c.quit()
    assert sd.proc.wait(timeout=10) == 0
    assert len(sd.incoming()) == 1


def test_qmgr_notified(smtpd):
    sd = smtpd()
    pub = sd.dir / "queue" / "public"
    pub.mkdir(exist_ok=True)
    q = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    q.bind(str(pub / "qmgr"))
    q.settimeout(5)
    c = sd.smtp()
    c.helo("x")
    c.mail("a@remote.test")
    c.rcpt("john@example.org")
    code, msg = c.data(b"Subject: n\r\n\r\nnotify\r\n")
    assert code == 250
    assert q.recv(100) == b"I" + msg.split()[-1]
    c.quit()
    q.close()


def test_sigterm_deadline_closes_idle_sessions(smtpd):
    sd = smtpd()
    s = sd.raw()
    read_replies(s, 1)
    t = time.time()
    sd.proc.send_signal(signal.SIGTERM)
    r = read_replies(s, 1, timeout=20)
    assert r and r[0].startswith(b"421 4.3.2 ")
    assert 8 < time.time() - t < 15
    assert sd.proc.wait(timeout=10) == 0


def test_eof_after_partial_line(smtpd):
    sd = smtpd()
    s = sd.raw()
    read_replies(s, 1)
    s.sendall(b"NOOP\r\nNOOP")
    s.shutdown(socket.SHUT_WR)
    assert read_replies(s, 1) == [b"250 2.0.0 Ok"]
    assert s.recv(100) == b""
    time.sleep(0.2)
    assert "lost connection after NOOP from unknown[127.0.0.1]" in sd.log()
    # the server still answers others (it did not spin or die)
    c = sd.smtp()
    assert c.noop()[0] == 250
    c.quit()
