"""test_auth.py - the auth service (issue 4), driven over its real unix sockets.

The whole system is started with `postern start` on the HOWTO setup (HowtoSystem) plus the
HOWTO's dovecot.conf (2.x or 1.x syntax) and passwd-file, re-rooted; the tests then speak the
auth client protocol (private/auth) and the master protocol (private/auth-master) with raw lines,
as a login process and a dispatcher would (docs/mail-access.md). No timing thresholds: the
failure delay is checked by the ORDER in which replies arrive.
"""
import base64
import hashlib
import hmac
import os
import socket
import time

import pytest

from conftest import HOWTO, ROOT_RUN, HowtoSystem, wait_for

JOHN = ("john@example.org", "john-secret")   # {PLAIN}
JANE = ("jane@example.org", "jane-secret")   # {CRAM-MD5}


def unescape(s):
    out, i = [], 0
    while i < len(s):
        if s[i] == "\\" and i + 1 < len(s):
            out.append({"t": "\t", "n": "\n", "\\": "\\"}[s[i + 1]])
            i += 2
        else:
            out.append(s[i])
            i += 1
    return "".join(out)


def b64(data):
    return base64.b64encode(data).decode()


class Conn:
    """one connection to a unix socket speaking TAB-separated lines"""

    def __init__(self, path):
        self.s = socket.socket(socket.AF_UNIX)
        self.s.settimeout(30)
        self.s.connect(str(path))
        self.f = self.s.makefile("rb")

    def send(self, *fields):
        self.s.sendall(("\t".join(fields) + "\n").encode())

    def read(self):
        line = self.f.readline()
        assert line.endswith(b"\n"), ("connection closed", line)
        return [unescape(x) for x in line.decode().rstrip("\n").split("\t")]

    def close(self):
        self.f.close()
        self.s.close()


class Client(Conn):
    """a login process's connection: handshake done, CPID sent"""

    def __init__(self, path):
        super().__init__(path)
        self.mechs, self.cookie = {}, None
        while True:
            f = self.read()
            if f[0] == "MECH":
                self.mechs[f[1]] = f[2:]
            elif f[0] == "COOKIE":
                self.cookie = f[1]
            elif f[0] == "DONE":
                break
        self.send("VERSION", "1", "2")
        self.send("CPID", str(os.getpid()))

    def auth(self, rid, mech, *params, rip="127.0.0.1", secured=True, resp=None):
        fields = ["AUTH", str(rid), mech, "service=pop3", "lip=127.0.0.1", "rip=" + rip]
        if secured:
            fields.append("secured")
        if resp is not None:
            fields.append("resp=" + resp)
        self.send(*fields, *params)

    def plain(self, rid, user, password, **kw):
        self.auth(rid, "PLAIN", resp=b64(b"\0" + user.encode() + b"\0" + password.encode()), **kw)


class AuthSystem:
    def __init__(self, system):
        self.sys = system
        self.private = system.queue / "private"

    def client(self):
        return Client(self.private / "auth")

    def master(self):
        m = Conn(self.private / "auth-master")
        assert m.read()[0] == "VERSION"
        assert m.read()[0] == "SPID"
        return m

    def log(self):
        return self.sys.log()

    def wait_log(self, text):
        assert wait_for(lambda: text in self.log(), timeout=20), (text, self.log()[-3000:])


def write_dovecot(system, conf="dovecot-2x.conf", mechs="plain login cram-md5 digest-md5 scram-sha-256 apop",
                  extra="auth_failure_delay = 1 s\n", passwd=None):
    text = (HOWTO / conf).read_text()
    text = text.replace("/etc/postfix", str(system.etc)).replace("/var/spool/mail", str(system.spool))
    if mechs is not None:
        text = text.replace("mechanisms = plain login cram-md5", "mechanisms = " + mechs)
    # these tests need no POP3 server: keep the master from binding the real ports 110 and 995
    text += "\nservice pop3-login {\n  inet_listener pop3 {\n    port = 0\n  }\n" \
            "  inet_listener pop3s {\n    port = 0\n  }\n}\n"
    (system.etc / "dovecot.conf").write_text(text + extra)
    (system.etc / "passwd").write_text(passwd if passwd is not None else (HOWTO / "passwd").read_text())


@pytest.fixture(scope="module")
def auth():
    """one running system for the tests below (they only add users to its passwd-file)"""
    s = HowtoSystem()
    try:
        write_dovecot(s)
        s.start()
        a = AuthSystem(s)
        assert wait_for(lambda: (a.private / "auth").exists() and s.service_pids("auth"), timeout=20), s.log()
        yield a
    finally:
        s.cleanup()


def test_plain_ok_then_request_once(auth):
    c = auth.client()
    assert c.mechs["PLAIN"] == ["plaintext"] and "CRAM-MD5" in c.mechs and c.mechs["APOP"] == ["private"]
    assert len(c.cookie) == 32
    c.plain(1, *JOHN)
    assert c.read() == ["OK", "1", "user=john@example.org"]
    m = auth.master()
    # wrong cookie, wrong pid, wrong id: nothing
    m.send("REQUEST", "10", str(os.getpid()), "1", "0" * 32)
    assert m.read() == ["NOTFOUND", "10"]
    m.send("REQUEST", "11", str(os.getpid() + 100000), "1", c.cookie)
    assert m.read() == ["NOTFOUND", "11"]
    m.send("REQUEST", "12", str(os.getpid()), "2", c.cookie)
    assert m.read() == ["NOTFOUND", "12"]
    m.send("REQUEST", "13", str(os.getpid()), "1", c.cookie)
    f = m.read()
    assert f[:3] == ["USER", "13", "john@example.org"], f
    assert "uid=5000" in f and "gid=5000" in f, f
    assert "home=%s/example.org/john" % auth.sys.spool in f, f
    # once only
    m.send("REQUEST", "14", str(os.getpid()), "1", c.cookie)
    assert m.read() == ["NOTFOUND", "14"]


def test_username_format_lowercases(auth):
    c = auth.client()
    c.plain(1, "John@Example.ORG", JOHN[1])
    assert c.read() == ["OK", "1", "user=john@example.org"]


def test_wrong_password_and_unknown_user_fail_and_log(auth):
    c = auth.client()
    c.plain(1, JOHN[0], "Wr0ng-Secret-42")
    assert c.read() == ["FAIL", "1", "user=john@example.org"]
    c.plain(2, "nobody@example.org", "x")
    assert c.read() == ["FAIL", "2", "user=nobody@example.org"]
    auth.wait_log("auth: passwd-file(john@example.org,127.0.0.1): Password mismatch")
    auth.wait_log("auth: passwd-file(nobody@example.org,127.0.0.1): unknown user")
    assert "Wr0ng-Secret-42" not in auth.log()


def test_failures_never_delay_a_good_request(auth):
    c = auth.client()
    for i in range(1, 11):
        c.plain(i, JOHN[0], "bad-%d" % i)
    c.plain(99, *JOHN)
    replies = [c.read() for _ in range(11)]
    assert replies[0] == ["OK", "99", "user=john@example.org"], replies
    assert sorted(int(r[1]) for r in replies[1:]) == list(range(1, 11)), replies
    assert all(r[0] == "FAIL" for r in replies[1:]), replies


def test_login(auth):
    c = auth.client()
    c.auth(1, "LOGIN")
    f = c.read()
    assert f[:2] == ["CONT", "1"] and base64.b64decode(f[2]) == b"Username:"
    c.send("CONT", "1", b64(JOHN[0].encode()))
    f = c.read()
    assert f[:2] == ["CONT", "1"] and base64.b64decode(f[2]) == b"Password:"
    c.send("CONT", "1", b64(JOHN[1].encode()))
    assert c.read() == ["OK", "1", "user=john@example.org"]


@pytest.mark.parametrize("user,password", [JANE, ("sales@example.net", "sales-secret"), JOHN])
def test_cram_md5(auth, user, password):
    c = auth.client()
    c.auth(1, "CRAM-MD5", secured=False, rip="192.0.2.1")  # not plaintext: allowed without TLS
    f = c.read()
    assert f[:2] == ["CONT", "1"]
    challenge = base64.b64decode(f[2])
    digest = hmac.new(password.encode(), challenge, hashlib.md5).hexdigest()
    c.send("CONT", "1", b64(("%s %s" % (user, digest)).encode()))
    assert c.read() == ["OK", "1", "user=" + user]
    c.auth(2, "CRAM-MD5")
    challenge = base64.b64decode(c.read()[2])
    digest = hmac.new(b"not-it", challenge, hashlib.md5).hexdigest()
    c.send("CONT", "2", b64(("%s %s" % (user, digest)).encode()))
    assert c.read()[:2] == ["FAIL", "2"]


@pytest.mark.parametrize("user,realm,password", [("john", "example.org", JOHN[1]),
                                                 ("jane", "example.org", JANE[1])])
def test_digest_md5(auth, user, realm, password):
    """john's {PLAIN} password gives the DIGEST-MD5 secret; jane's {CRAM-MD5} hash cannot (FAIL, logged)"""
    c = auth.client()
    c.auth(1, "DIGEST-MD5", secured=False, rip="192.0.2.1")
    f = c.read()
    assert f[:2] == ["CONT", "1"], f
    ch = dict(kv.split("=", 1) for kv in base64.b64decode(f[2]).decode().split(","))
    nonce, cnonce, uri = ch["nonce"].strip('"'), "OA6MHXh6VqTrRk", "pop3/mail.example.org"
    md5 = lambda b: hashlib.md5(b).digest()
    hexmd5 = lambda b: hashlib.md5(b).hexdigest()
    a1 = md5(("%s:%s:%s" % (user, realm, password)).encode()) + (":%s:%s" % (nonce, cnonce)).encode()
    a2 = ("AUTHENTICATE:" + uri).encode()
    resp = hexmd5(("%s:%s:00000001:%s:auth:%s" % (hexmd5(a1), nonce, cnonce, hexmd5(a2))).encode())
    msg = ('username="%s",realm="%s",nonce="%s",cnonce="%s",nc=00000001,qop=auth,digest-uri="%s",'
           'response=%s,charset=utf-8' % (user, realm, nonce, cnonce, uri, resp))
    c.send("CONT", "1", b64(msg.encode()))
    f = c.read()
    if user == "jane":
        assert f[:2] == ["FAIL", "1"], f
        auth.wait_log("auth: passwd-file(jane@example.org,192.0.2.1): Requested DIGEST-MD5 scheme, "
                      "but we have only CRAM-MD5")
        return
    assert f[:2] == ["CONT", "1"] and base64.b64decode(f[2]).startswith(b"rspauth="), f
    c.send("CONT", "1", "")
    assert c.read() == ["OK", "1", "user=john@example.org"]


def test_scram_sha_256(auth):
    user, password = JOHN
    c = auth.client()
    nonce = "rOprNGfwEbeRWgbNEkqO"
    first_bare = "n=%s,r=%s" % (user, nonce)
    c.auth(1, "SCRAM-SHA-256", resp=b64(("n,," + first_bare).encode()))
    f = c.read()
    assert f[:2] == ["CONT", "1"], f
    server_first = base64.b64decode(f[2]).decode()
    attrs = dict(x.split("=", 1) for x in server_first.split(","))
    assert attrs["r"].startswith(nonce)
    salted = hashlib.pbkdf2_hmac("sha256", password.encode(), base64.b64decode(attrs["s"]), int(attrs["i"]))
    client_key = hmac.new(salted, b"Client Key", hashlib.sha256).digest()
    stored_key = hashlib.sha256(client_key).digest()
    final_wo_proof = "c=biws,r=" + attrs["r"]
    auth_msg = ",".join([first_bare, server_first, final_wo_proof]).encode()
    sig = hmac.new(stored_key, auth_msg, hashlib.sha256).digest()
    proof = bytes(a ^ b for a, b in zip(client_key, sig))
    c.send("CONT", "1", b64((final_wo_proof + ",p=" + b64(proof)).encode()))
    f = c.read()
    assert f[:2] == ["CONT", "1"], f  # the server's signature v=...
    server_key = hmac.new(salted, b"Server Key", hashlib.sha256).digest()
    v = base64.b64decode(f[2]).decode()
    assert v == "v=" + b64(hmac.new(server_key, auth_msg, hashlib.sha256).digest())
    c.send("CONT", "1", "")
    assert c.read() == ["OK", "1", "user=john@example.org"]


def test_apop_with_plain_user(auth):
    user, password = JOHN
    challenge = "<1896.697170952@mail.example.org>"
    digest = hashlib.md5((challenge + password).encode()).hexdigest()
    c = auth.client()
    c.auth(1, "APOP", "apop-challenge=" + challenge, resp=b64(user.encode() + b"\0" + digest.encode()))
    assert c.read() == ["OK", "1", "user=john@example.org"]
    digest = hashlib.md5((challenge + "nope").encode()).hexdigest()
    c.auth(2, "APOP", "apop-challenge=" + challenge, resp=b64(user.encode() + b"\0" + digest.encode()))
    assert c.read()[:2] == ["FAIL", "2"]


def test_plaintext_refused_when_not_secured(auth):
    c = auth.client()
    c.plain(1, *JOHN, rip="192.0.2.1", secured=False)
    f = c.read()
    assert f[:2] == ["FAIL", "1"] and any("Plaintext" in x for x in f), f
    c.plain(2, *JOHN, rip="192.0.2.1", secured=True)
    assert c.read() == ["OK", "2", "user=john@example.org"]
    auth.wait_log("auth: plain(")


def test_passwd_file_reread_when_changed(auth):
    c = auth.client()
    c.plain(1, "new@example.org", "new-secret")
    assert c.read()[:2] == ["FAIL", "1"]
    p = auth.sys.etc / "passwd"
    p.write_text(p.read_text() + "new@example.org:{PLAIN}new-secret::::::userdb_mail=maildir:/x/%u\n")
    c.plain(2, "new@example.org", "new-secret")
    assert c.read() == ["OK", "2", "user=new@example.org"]
    m = auth.master()
    m.send("REQUEST", "1", str(os.getpid()), "2", c.cookie)
    f = m.read()
    assert f[:3] == ["USER", "1", "new@example.org"] and "mail=maildir:/x/%u" in f, f
    m.send("USER", "2", "new@example.org", "service=pop3")
    assert m.read()[:3] == ["USER", "2", "new@example.org"]
    m.send("USER", "3", "ghost@example.org", "service=pop3")
    assert m.read() == ["NOTFOUND", "3"]


def test_passwd_extra_fields(auth):
    p = auth.sys.etc / "passwd"
    p.write_text(p.read_text()
                 + "fast@example.org:{PLAIN}fast-secret::::::nodelay\n"
                 + "open@example.org:::::::nopassword\n"
                 + "lan@example.org:{PLAIN}lan-secret::::::allow_nets=10.0.0.0/8,192.0.2.0/24\n")
    c = auth.client()
    # nodelay: this failure is answered at once, before the good request sent after it
    c.plain(1, "fast@example.org", "bad")
    c.plain(2, *JOHN)
    assert [c.read()[0], c.read()[0]] == ["FAIL", "OK"]
    c.plain(3, "open@example.org", "anything")
    assert c.read() == ["OK", "3", "user=open@example.org"]
    c.plain(4, "lan@example.org", "lan-secret")
    assert c.read()[:2] == ["FAIL", "4"]
    c.plain(5, "lan@example.org", "lan-secret", rip="192.0.2.9")
    assert c.read() == ["OK", "5", "user=lan@example.org"]
    auth.wait_log("auth: passwd-file(lan@example.org,127.0.0.1): allow_nets check failed: IP not in allowed networks")


def test_protocol_abuse_closes_only_that_connection(auth):
    bad = auth.client()
    bad.send("AUTH", "1", "PLAIN", "service=pop3", "x" * 20000)
    assert bad.f.readline() == b""
    bad2 = auth.client()
    bad2.send("BOGUS")
    assert bad2.f.readline() == b""
    c = auth.client()
    c.plain(1, *JOHN)
    assert c.read() == ["OK", "1", "user=john@example.org"]


def test_requests_in_progress_are_bounded(auth):
    c = auth.client()
    for i in range(1, 1025):
        c.auth(i, "LOGIN")  # each waits for the user name
    for i in range(1, 1025):
        assert c.read()[:2] == ["CONT", str(i)]
    c.auth(1025, "LOGIN")
    f = c.read()
    assert f[:2] == ["FAIL", "1025"] and "temp" in f, f
    c.close()
    c = auth.client()  # others are not affected
    c.plain(1, *JOHN)
    assert c.read() == ["OK", "1", "user=john@example.org"]


def test_cli_auth_test_and_user(auth):
    p = auth.sys.pn.run("auth", "test", *JOHN)
    assert p.returncode == 0, p.stdout + p.stderr
    assert "john@example.org auth succeeded" in p.stdout and "uid       : 5000" in p.stdout, p.stdout
    assert "home      : %s/example.org/john" % auth.sys.spool in p.stdout, p.stdout
    p = auth.sys.pn.run("auth", "test", JOHN[0], "wrong")
    assert p.returncode == 1 and "auth failed" in p.stdout, p.stdout + p.stderr
    p = auth.sys.pn.run("user", JANE[0])
    assert p.returncode == 0 and "home      : %s/example.org/jane" % auth.sys.spool in p.stdout, p.stdout
    p = auth.sys.pn.run("user", "ghost@example.org")
    assert p.returncode == 1, p.stdout


def test_auth_restarted_after_crash_and_reload(auth):
    """the master restarts a killed auth process on the same sockets, and reload replaces it"""
    import signal
    old = auth.sys.service_pids("auth")
    assert len(old) == 1
    os.kill(old[0], signal.SIGKILL)
    assert wait_for(lambda: auth.sys.service_pids("auth") not in ([], old), timeout=60), auth.log()[-2000:]
    c = auth.client()
    c.plain(1, *JOHN)
    assert c.read() == ["OK", "1", "user=john@example.org"]
    now = auth.sys.service_pids("auth")
    assert auth.sys.pn.run("reload").returncode == 0
    assert wait_for(lambda: auth.sys.service_pids("auth") and not set(now) & set(auth.sys.service_pids("auth")),
                    timeout=60), auth.log()[-2000:]
    c = auth.client()
    c.plain(1, *JOHN)
    assert c.read() == ["OK", "1", "user=john@example.org"]


@pytest.mark.skipif(not ROOT_RUN, reason="privilege drop needs root")
def test_auth_runs_as_mail_owner(auth):
    import pwd
    nobody = pwd.getpwnam("nobody")
    pid = auth.sys.service_pids("auth")[0]
    status = open("/proc/%d/status" % pid).read()
    uids = [l for l in status.splitlines() if l.startswith("Uid:")][0].split()[1:]
    assert uids == [str(nobody.pw_uid)] * 4, status
    st = os.stat(auth.private / "auth")
    assert st.st_uid == nobody.pw_uid and (st.st_mode & 0o777) == 0o660
    st = os.stat(auth.private / "auth-master")
    assert st.st_uid == 0 and (st.st_mode & 0o777) == 0o600


def test_dovecot_1x_syntax(howto):
    s = howto(start=False)
    write_dovecot(s, conf="dovecot.conf", mechs=None)
    s.start()
    a = AuthSystem(s)
    assert wait_for(lambda: (a.private / "auth").exists(), timeout=20)
    c = a.client()
    assert sorted(c.mechs) == ["CRAM-MD5", "LOGIN", "PLAIN"]
    c.plain(1, *JOHN)
    assert c.read() == ["OK", "1", "user=john@example.org"]


def test_start_refuses_bad_auth_config(howto):
    s = howto(start=False)
    write_dovecot(s, mechs="plain ntlm")
    p = s.pn.run("start")
    assert p.returncode == 2, p.stdout + p.stderr
    assert "ntlm" in (p.stdout + p.stderr).lower(), p.stderr


def test_check_warns_when_hashes_cannot_serve_a_mechanism(howto):
    s = howto(start=False)
    crypt = s.pn.run("pw", "-s", "SHA512-CRYPT", "-p", "x", check=True).stdout.strip()
    write_dovecot(s, passwd="john@example.org:%s\njane@example.org:{PLAIN}y\n" % crypt)
    p = s.pn.run("check")
    out = p.stdout + p.stderr
    lines = (s.etc / "dovecot.conf").read_text().splitlines()
    lineno = next(i + 1 for i, l in enumerate(lines) if l.startswith("auth_mechanisms"))
    assert "dovecot.conf, line %d: auth_mechanisms: CRAM-MD5 needs CRAM-MD5 or PLAIN" % lineno in out, out
    assert "CRAM-MD5" in out and "john@example.org (SHA512-CRYPT)" in out, out
    assert "jane" not in out, out
    assert "fix:" in out, out
