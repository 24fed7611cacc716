"""test_pop3.py - POP3 and POP3S end to end: pop3-login, the pop3 dispatcher and its workers.

The HOWTO system (conftest.HowtoSystem) with shared/howto's dovecot.conf (1.x) or dovecot-2x.conf,
re-rooted like main.cf, listening on free ports on 127.0.0.1, with a certificate made here with
openssl. Mail arrives by SMTP; Python's poplib (plain, STLS, POP3S) and raw sockets read it.
"""
import base64
import hashlib
import hmac
import os
import pathlib
import poplib
import re
import socket
import ssl
import subprocess
import time

import pytest

from conftest import HOWTO, ROOT_RUN, VUID, HowtoSystem, free_port, wait_for

JOHN, JOHN_PW = "john@example.org", "john-secret"


def make_cert(d):
    """a self-signed certificate and key for localhost"""
    cert, key = d / "cert.pem", d / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                    "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True)
    # root's alone, as in the HOWTO: the master opens it for the login process (mail_owner)
    os.chmod(key, 0o600)
    return cert, key


class Pop3System(HowtoSystem):
    """HowtoSystem plus dovecot.conf (1.x or 2.x from shared/howto), POP3 on pop3_port and POP3S
    on pop3s_port (on 127.0.0.1 unless listen is given)"""

    def __init__(self, conf="dovecot-2x.conf", extra="", listen="127.0.0.1"):
        super().__init__()
        self.pop3_port, self.pop3s_port = free_port(), free_port()
        self.cert, self.key = make_cert(self.etc)
        text = (HOWTO / conf).read_text()
        text = text.replace("/etc/postfix", str(self.etc)).replace("/var/spool/mail", str(self.spool))
        text = text.replace("/etc/pki/dovecot/certs/dovecot.pem", str(self.cert))
        text = text.replace("/etc/pki/dovecot/private/dovecot.pem", str(self.key))
        if not ROOT_RUN:
            text = text.replace("uid=5000 gid=5000", "uid=%d gid=%d" % (VUID, os.getgid()))
            extra += "\nfirst_valid_uid = %d\n" % min(VUID, 500)
        text = text.replace("port = 110", "port = %d" % self.pop3_port)
        text = text.replace("port = 995", "port = %d" % self.pop3s_port)
        if conf == "dovecot.conf":
            # 1.x has no listener syntax: the 2.x section sets the ports of the 1.x protocols
            text += ("\nservice pop3-login {\n  inet_listener pop3 {\n    port = %d\n  }\n"
                     "  inet_listener pop3s {\n    port = %d\n  }\n}\n" % (self.pop3_port, self.pop3s_port))
        # no IMAP server yet: its listeners must not take the real ports
        text += "\nservice imap-login {\n  inet_listener imap {\n    port = 0\n  }\n" \
                "  inet_listener imaps {\n    port = 0\n  }\n}\n"
        text += "listen = %s\n%s\n" % (listen, extra)
        (self.etc / "dovecot.conf").write_text(text)
        (self.etc / "passwd").write_text((HOWTO / "passwd").read_text())
        self.listen = listen

    def start(self):
        super().start()
        assert wait_for(self._pop3_greets, timeout=30), self.log()[-3000:]
        return self

    def _pop3_greets(self):
        try:
            with socket.create_connection(("127.0.0.1", self.pop3_port), timeout=5) as s:
                s.settimeout(5)
                return s.recv(512).startswith(b"+OK ")
        except OSError:
            return False

    def pop(self, host="127.0.0.1"):
        return poplib.POP3(host, self.pop3_port, timeout=30)

    def pops(self):
        ctx = ssl.create_default_context(cafile=str(self.cert))
        return poplib.POP3_SSL("localhost", self.pop3s_port, context=ctx, timeout=30)

    def tls_context(self):
        return ssl.create_default_context(cafile=str(self.cert))

    def deliver(self, body, rcpt=JOHN, subject="test"):
        msg = "From: a@example.com\r\nTo: %s\r\nSubject: %s\r\n\r\n%s" % (rcpt, subject, body)
        n = len(self.maildir(rcpt.split("@")[1] + "/" + rcpt.split("@")[0]))
        with self.smtp() as s:
            s.sendmail("a@example.com", [rcpt], msg.encode())
        box = rcpt.split("@")[1] + "/" + rcpt.split("@")[0]
        assert wait_for(lambda: len(self.maildir(box)) > n or self._cur(box) > n, timeout=30), self.log()[-2000:]

    def _cur(self, box):
        d = self.spool / box / "cur"
        return len(list(d.iterdir())) if d.is_dir() else 0


@pytest.fixture
def pop3sys():
    systems = []

    def make(**kw):
        s = Pop3System(**kw)
        systems.append(s)
        return s.start()

    yield make
    for s in systems:
        s.cleanup()


def raw_exchange(sock, data, until=b"\r\n"):
    """send data, read until the reply ends with until"""
    if data:
        sock.sendall(data)
    buf = b""
    while not buf.endswith(until):
        chunk = sock.recv(65536)
        if not chunk:
            break
        buf += chunk
    return buf


def expected_retr(data):
    """what RETR must send for a stored message: CRLF line ends, dot-stuffed, then ".\r\n" """
    data = data.replace(b"\r\n", b"\n")
    lines = data.split(b"\n")
    if lines[-1] == b"":
        lines.pop()
    return b"".join((b"." + l if l.startswith(b".") else l) + b"\r\n" for l in lines) + b".\r\n"


def stored(s, box="example.org/john"):
    """the message files of a Maildir (new/ and cur/)"""
    out = []
    for sub in ("new", "cur"):
        d = s.spool / box / sub
        if d.is_dir():
            out += sorted(d.iterdir())
    return out


def login_raw(s, tls=False):
    """a raw socket logged in as john with USER/PASS (POP3S when tls)"""
    sock = socket.create_connection(("127.0.0.1", s.pop3s_port if tls else s.pop3_port), timeout=30)
    if tls:
        sock = s.tls_context().wrap_socket(sock, server_hostname="localhost")
    assert raw_exchange(sock, b"").startswith(b"+OK ")
    assert raw_exchange(sock, b"USER %s\r\n" % JOHN.encode()).startswith(b"+OK")
    assert raw_exchange(sock, b"PASS %s\r\n" % JOHN_PW.encode()) == b"+OK Logged in.\r\n"
    return sock


@pytest.mark.parametrize("conf", ["dovecot.conf", "dovecot-2x.conf"])
def test_plain_login_retrieve_byte_exact(pop3sys, conf):
    """the HOWTO's 1.x and 2.x dovecot.conf: RETR sends the stored message with CRLF line ends
    and dot-stuffing, byte for byte; LIST sizes match what RETR sends before stuffing"""
    s = pop3sys(conf=conf)
    s.deliver("hello\r\n.starts with a dot\r\n..two dots\r\n.\r\nend\r\n")
    [path] = stored(s)
    data = path.read_bytes()  # the session moves it from new/ to cur/
    sock = login_raw(s)
    assert raw_exchange(sock, b"STAT\r\n").startswith(b"+OK 1 ")
    listing = raw_exchange(sock, b"LIST\r\n", b"\r\n.\r\n")
    size = int(listing.split(b"\r\n")[1].split()[1])
    reply = raw_exchange(sock, b"RETR 1\r\n", b"\r\n.\r\n")
    head, body = reply.split(b"\r\n", 1)
    assert head == b"+OK %d octets" % size
    assert body == expected_retr(data)
    assert b"\r\n..starts with a dot\r\n...two dots\r\n..\r\nend\r\n.\r\n" in body
    assert len(data.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")) == size
    assert raw_exchange(sock, b"QUIT\r\n") == b"+OK Logging out.\r\n"
    sock.close()
    log = s.log()
    assert "pop3-login[" in log and "Login: user=<john@example.org>, method=PLAIN, rip=127.0.0.1, " \
        "lip=127.0.0.1, mpid=" in log
    assert wait_for(lambda: "pop3(john@example.org): Disconnected: Logged out top=0/0, retr=1/" in s.log())


def test_dele_quit_removes_dropped_connection_does_not(pop3sys):
    s = pop3sys()
    s.deliver("one\r\n", subject="one")
    s.deliver("two\r\n", subject="two")
    assert len(stored(s)) == 2
    # DELE, then the connection drops: nothing is deleted
    sock = login_raw(s)
    assert raw_exchange(sock, b"DELE 1\r\n").startswith(b"+OK")
    sock.close()
    assert wait_for(lambda: "Disconnected: Connection closed" in s.log(), timeout=10), s.log()[-2000:]
    assert len(stored(s)) == 2
    # DELE + QUIT: gone
    p = s.pop()
    p.user(JOHN)
    p.pass_(JOHN_PW)
    assert p.stat()[0] == 2
    # UIDs follow the Maildir file names, not necessarily the delivery order
    first = [l for l in p.top(1, 0)[1] if l.startswith(b"Subject: ")]
    p.dele(1)
    p.quit()
    assert len(stored(s)) == 1
    p = s.pop()
    p.user(JOHN)
    p.pass_(JOHN_PW)
    assert p.stat()[0] == 1
    left = [l for l in p.retr(1)[1] if l.startswith(b"Subject: ")]
    assert sorted(first + left) == [b"Subject: one", b"Subject: two"]
    p.quit()


def test_uidl_stable_across_sessions_and_restart(pop3sys):
    s = pop3sys()
    s.deliver("a\r\n")
    s.deliver("b\r\n")

    def uidls():
        p = s.pop()
        p.user(JOHN)
        p.pass_(JOHN_PW)
        out = p.uidl()[1]
        p.quit()
        return out

    first = uidls()
    assert len(first) == 2 and all(re.fullmatch(rb"\d+ [0-9a-f]{16}", u) for u in first), first
    assert uidls() == first
    s.stop()
    s.start()
    assert uidls() == first


def test_stls_and_pop3s(pop3sys):
    s = pop3sys()
    s.deliver("over tls\r\n")
    p = s.pop()
    caps = p.capa()
    assert "STLS" in caps and "USER" in caps and "PIPELINING" in caps and "RESP-CODES" in caps
    p.stls(s.tls_context())
    assert "STLS" not in p.capa()
    p.user(JOHN)
    assert p.pass_(JOHN_PW).startswith(b"+OK Logged in.")
    assert b"over tls" in p.retr(1)[1]
    p.quit()
    p = s.pops()
    assert "STLS" not in p.capa()
    p.user(JOHN)
    assert p.pass_(JOHN_PW).startswith(b"+OK Logged in.")
    assert b"over tls" in p.retr(1)[1]
    p.quit()
    assert re.search(r"Login: user=<john@example.org>, method=PLAIN, .*mpid=\d+, TLS", s.log())


def test_pop3s_large_message_through_the_proxy(pop3sys):
    """a 3 MB message over POP3S: the login's TLS proxy and the worker's streaming keep it exact"""
    s = pop3sys()
    line = "x" * 70 + "\r\n"
    s.deliver(line * 45000 + ".dot line\r\n")
    [path] = stored(s)
    data = path.read_bytes()
    sock = login_raw(s, tls=True)
    reply = raw_exchange(sock, b"RETR 1\r\n", b"\r\n.\r\n")
    assert reply.split(b"\r\n", 1)[1] == expected_retr(data)
    assert raw_exchange(sock, b"QUIT\r\n") == b"+OK Logging out.\r\n"
    sock.close()


def test_stls_discards_injected_commands(pop3sys):
    """bytes sent with STLS in the same packet are not run after the handshake (CVE-2011-0411)"""
    s = pop3sys()
    sock = socket.create_connection(("127.0.0.1", s.pop3_port), timeout=30)
    assert raw_exchange(sock, b"").startswith(b"+OK ")
    reply = raw_exchange(sock, b"STLS\r\nUSER " + JOHN.encode() + b"\r\n")
    assert reply == b"+OK Begin TLS negotiation now.\r\n"
    tls = s.tls_context().wrap_socket(sock, server_hostname="localhost")
    # had the injected USER run, PASS would log in
    assert raw_exchange(tls, b"PASS " + JOHN_PW.encode() + b"\r\n") == b"-ERR No username given.\r\n"
    assert raw_exchange(tls, b"QUIT\r\n") == b"+OK Logging out\r\n"
    tls.close()
    assert "STLS: discarded" in s.log()


def test_wrong_password_and_failure_log(pop3sys):
    s = pop3sys()
    sock = socket.create_connection(("127.0.0.1", s.pop3_port), timeout=30)
    raw_exchange(sock, b"")
    raw_exchange(sock, b"USER " + JOHN.encode() + b"\r\n")
    assert raw_exchange(sock, b"PASS wrong\r\n") == b"-ERR [AUTH] Authentication failed.\r\n"
    assert raw_exchange(sock, b"STAT\r\n") == b"-ERR Unknown command.\r\n"
    sock.close()
    assert wait_for(lambda: "Disconnected (auth failed, 1 attempts in " in s.log(), timeout=10), s.log()[-2000:]
    assert "user=<john@example.org>, method=PLAIN" in s.log()
    assert "wrong" not in s.log()


def test_pipelined_login_and_commands(pop3sys):
    """USER, PASS and STAT in one packet: STAT was read by the login and runs in the worker"""
    s = pop3sys()
    s.deliver("piped\r\n")
    sock = socket.create_connection(("127.0.0.1", s.pop3_port), timeout=30)
    raw_exchange(sock, b"")
    sock.sendall(b"USER %s\r\nPASS %s\r\nSTAT\r\nQUIT\r\n" % (JOHN.encode(), JOHN_PW.encode()))
    out = raw_exchange(sock, b"", b"Logging out.\r\n")
    assert out.startswith(b"+OK\r\n+OK Logged in.\r\n+OK 1 "), out
    sock.close()


MECH_CONF = "auth_mechanisms = plain login cram-md5 apop scram-sha-256\n"


def test_apop(pop3sys):
    s = pop3sys(extra=MECH_CONF)
    sock = socket.create_connection(("127.0.0.1", s.pop3_port), timeout=30)
    greeting = raw_exchange(sock, b"")
    ts = re.search(rb"<[^>]+@[^>]+>", greeting).group(0)
    digest = hashlib.md5(ts + JOHN_PW.encode()).hexdigest().encode()
    assert raw_exchange(sock, b"APOP %s %s\r\n" % (JOHN.encode(), digest)) == b"+OK Logged in.\r\n"
    assert raw_exchange(sock, b"QUIT\r\n") == b"+OK Logging out.\r\n"
    sock.close()
    sock = socket.create_connection(("127.0.0.1", s.pop3_port), timeout=30)
    raw_exchange(sock, b"")
    assert raw_exchange(sock, b"APOP %s %s\r\n" % (JOHN.encode(), b"0" * 32)) == \
        b"-ERR [AUTH] Authentication failed.\r\n"
    sock.close()


def test_auth_cram_md5(pop3sys):
    s = pop3sys(extra=MECH_CONF)
    sock = socket.create_connection(("127.0.0.1", s.pop3_port), timeout=30)
    raw_exchange(sock, b"")
    assert b"SASL PLAIN LOGIN CRAM-MD5" in raw_exchange(sock, b"CAPA\r\n", b"\r\n.\r\n")
    ch = raw_exchange(sock, b"AUTH CRAM-MD5\r\n")
    assert ch.startswith(b"+ ")
    challenge = base64.b64decode(ch[2:].strip())
    resp = JOHN.encode() + b" " + hmac.new(JOHN_PW.encode(), challenge, hashlib.md5).hexdigest().encode()
    assert raw_exchange(sock, base64.b64encode(resp) + b"\r\n") == b"+OK Logged in.\r\n"
    assert raw_exchange(sock, b"QUIT\r\n") == b"+OK Logging out.\r\n"
    sock.close()
    # "*" aborts
    sock = socket.create_connection(("127.0.0.1", s.pop3_port), timeout=30)
    raw_exchange(sock, b"")
    assert raw_exchange(sock, b"AUTH CRAM-MD5\r\n").startswith(b"+ ")
    assert raw_exchange(sock, b"*\r\n").startswith(b"-ERR")
    sock.close()


def scram_sha256(sock, user, password):
    """an RFC 5802/7677 client over POP3 AUTH; returns the server's final reply"""
    nonce = base64.b64encode(os.urandom(18)).decode()
    first_bare = "n=%s,r=%s" % (user, nonce)
    msg = base64.b64encode(("n,," + first_bare).encode())
    ch = raw_exchange(sock, b"AUTH SCRAM-SHA-256 " + msg + b"\r\n")
    assert ch.startswith(b"+ "), ch
    server_first = base64.b64decode(ch[2:].strip()).decode()
    attrs = dict(a.split("=", 1) for a in server_first.split(","))
    assert attrs["r"].startswith(nonce)
    salted = hashlib.pbkdf2_hmac("sha256", password.encode(), base64.b64decode(attrs["s"]), int(attrs["i"]))
    client_key = hmac.new(salted, b"Client Key", hashlib.sha256).digest()
    stored_key = hashlib.sha256(client_key).digest()
    final_wo_proof = "c=biws,r=%s" % attrs["r"]
    auth_msg = ",".join((first_bare, server_first, final_wo_proof)).encode()
    sig = hmac.new(stored_key, auth_msg, hashlib.sha256).digest()
    proof = bytes(a ^ b for a, b in zip(client_key, sig))
    final = final_wo_proof + ",p=" + base64.b64encode(proof).decode()
    reply = raw_exchange(sock, base64.b64encode(final.encode()) + b"\r\n")
    if reply.startswith(b"+ "):  # server-final-message with v=..., then an empty response
        reply = raw_exchange(sock, b"\r\n")
    return reply


def test_auth_scram_sha256(pop3sys):
    s = pop3sys(extra=MECH_CONF)
    sock = socket.create_connection(("127.0.0.1", s.pop3_port), timeout=30)
    raw_exchange(sock, b"")
    assert scram_sha256(sock, JOHN, JOHN_PW) == b"+OK Logged in.\r\n"
    sock.close()
    sock = socket.create_connection(("127.0.0.1", s.pop3_port), timeout=30)
    raw_exchange(sock, b"")
    assert scram_sha256(sock, JOHN, "bad") == b"-ERR [AUTH] Authentication failed.\r\n"
    sock.close()


def host_ip():
    """a non-loopback IPv4 address of this host, or None"""
    try:
        out = subprocess.run(["hostname", "-I"], capture_output=True, text=True).stdout.split()
    except OSError:
        return None
    for a in out:
        if re.fullmatch(r"\d+\.\d+\.\d+\.\d+", a) and not a.startswith("127."):
            return a
    return None


@pytest.mark.skipif(host_ip() is None, reason="this host has no non-loopback IPv4 address")
def test_plaintext_refused_from_non_loopback(pop3sys):
    ip = host_ip()
    s = pop3sys(listen="127.0.0.1, " + ip)
    sock = socket.create_connection((ip, s.pop3_port), timeout=30)
    raw_exchange(sock, b"")
    caps = raw_exchange(sock, b"CAPA\r\n", b"\r\n.\r\n")
    assert b"\r\nSTLS\r\n" in caps and b"\r\nUSER\r\n" not in caps and b"PLAIN" not in caps
    refused = b"-ERR [AUTH] Plaintext authentication disallowed on non-secure (SSL/TLS) connections.\r\n"
    assert raw_exchange(sock, b"USER " + JOHN.encode() + b"\r\n") == refused
    assert raw_exchange(sock, b"AUTH PLAIN " + base64.b64encode(b"\0john@example.org\0john-secret") +
                        b"\r\n") == refused
    # after STLS the same login works
    assert raw_exchange(sock, b"STLS\r\n") == b"+OK Begin TLS negotiation now.\r\n"
    tls = s.tls_context().wrap_socket(sock, server_hostname="localhost")
    assert raw_exchange(tls, b"USER " + JOHN.encode() + b"\r\n") == b"+OK\r\n"
    assert raw_exchange(tls, b"PASS " + JOHN_PW.encode() + b"\r\n") == b"+OK Logged in.\r\n"
    tls.close()


def proc_uids(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("Uid:"):
                return [int(x) for x in line.split()[1:]]
    return []


@pytest.mark.skipif(not ROOT_RUN, reason="needs root: the worker switches to the userdb uid")
def test_root_worker_runs_as_5000(pop3sys):
    s = pop3sys()
    s.deliver("as 5000\r\n")
    p = s.pop()
    p.user(JOHN)
    p.pass_(JOHN_PW)
    workers = s.service_pids("pop3-worker")
    assert workers
    for w in workers:
        assert proc_uids(w) == [5000] * 4
    [login] = s.service_pids("pop3-login")
    assert 0 not in proc_uids(login)
    assert proc_uids(s.service_pids("pop3")[0])[0] == 0
    p.quit()
    for f in stored(s):
        assert f.stat().st_uid == 5000
    # the key is root's alone and the login runs as nobody: the master opened it for the login
    assert s.key.stat().st_uid == 0 and s.key.stat().st_mode & 0o077 == 0
    p = s.pops()
    p.user(JOHN)
    assert p.pass_(JOHN_PW).startswith(b"+OK Logged in.")
    p.quit()


@pytest.mark.skipif(not ROOT_RUN, reason="needs root")
def test_root_uid_below_first_valid_uid_refused(pop3sys):
    s = pop3sys(extra="first_valid_uid = 6000\n")
    p = s.pop()
    p.user(JOHN)
    with pytest.raises(poplib.error_proto) as e:
        p.pass_(JOHN_PW)
    assert str(e.value).startswith("b'-ERR [SYS/TEMP]")
    assert "Logins with UID 5000 not permitted" in s.log()
    assert not s.service_pids("pop3-worker")


def test_line_too_long_and_bad_commands(pop3sys):
    s = pop3sys()
    sock = socket.create_connection(("127.0.0.1", s.pop3_port), timeout=30)
    raw_exchange(sock, b"")
    assert raw_exchange(sock, b"FOO\r\n") == b"-ERR Unknown command.\r\n"
    assert raw_exchange(sock, b"X" * 10000 + b"\r\n") == b"-ERR Input line too long.\r\n"
    try:
        assert sock.recv(100) == b""  # closed
    except ConnectionResetError:
        pass  # closed with unread input: a reset
    sock.close()


def test_mail_max_userip_connections(pop3sys):
    s = pop3sys(extra="mail_max_userip_connections = 1\n")
    first = login_raw(s)
    sock = socket.create_connection(("127.0.0.1", s.pop3_port), timeout=30)
    raw_exchange(sock, b"")
    raw_exchange(sock, b"USER " + JOHN.encode() + b"\r\n")
    assert raw_exchange(sock, b"PASS " + JOHN_PW.encode() + b"\r\n") == \
        b"-ERR [IN-USE] Maximum number of connections from user+IP exceeded " \
        b"(mail_max_userip_connections=1)\r\n"
    sock.close()
    assert raw_exchange(first, b"QUIT\r\n") == b"+OK Logging out.\r\n"
    first.close()
    assert wait_for(lambda: "Disconnected: Logged out" in s.log())
    second = login_raw(s)  # the first one is gone: allowed again
    second.close()


def test_ssl_min_protocol(pop3sys):
    """ssl_min_protocol = TLSv1.3 refuses a TLS 1.2 client; the default (TLSv1.2) accepts it"""
    def tls12():
        ctx = s.tls_context()
        ctx.maximum_version = ssl.TLSVersion.TLSv1_2
        return ctx

    s = pop3sys()
    p = poplib.POP3_SSL("localhost", s.pop3s_port, context=tls12(), timeout=30)
    assert p.sock.version() == "TLSv1.2"
    p.quit()
    s = pop3sys(extra="ssl_min_protocol = TLSv1.3\n")
    with pytest.raises(ssl.SSLError):
        poplib.POP3_SSL("localhost", s.pop3s_port, context=tls12(), timeout=30)
    p = s.pops()
    assert p.sock.version() == "TLSv1.3"
    p.quit()
