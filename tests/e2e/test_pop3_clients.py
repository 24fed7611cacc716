"""test_pop3_clients.py - Debian's real POP3 clients (fetchmail, getmail6, curl) retrieve, byte-exact,
the mail that Postern's SMTP delivered, on the HOWTO's setup (issue 4, acceptance).

Setup: shared/howto's main.cf, tables and passwd-file re-rooted in a temp dir (HowtoSystem), plus
the HOWTO's dovecot.conf in both syntaxes (parametrized: the 1.x file and dovecot-2x.conf), with
/etc/postfix, /var/spool/mail and /etc/pki/dovecot re-rooted, a self-signed certificate made here
for 127.0.0.1 (the key mode 0600 in a 0700 directory, both owned by mail_owner, which runs the
login processes; a last test owns them by root), and the listeners moved to free loopback ports: in the 2.x file by editing its `port =` lines, in the
1.x file (whose listeners are implied by `protocols = ... pop3 pop3s`) by appending the 2.x
`service pop3-login { inet_listener ... }` blocks, which Postern reads in either file. As root
the mail is owned by uid 5000 (the HOWTO's userdb); otherwise by the caller.

Mail: three messages sent to john@example.org (Maildir) over SMTP, chosen to break a careless
POP3 server: dot-leading lines and a lone "." line (dot-stuffing), a "From " line, 8-bit UTF-8,
trailing blanks, a 998-octet line, a MIME multipart with a base64 attachment, and a ~300 KiB
message that spans many socket buffers. Each client's result is compared with the bytes in the
Maildir (LF line ends on disk, so CRLF on the wire; a client that writes LF gets LF back):
- fetchmail (plain POP3, STLS, POP3S with the CA file and certificate checks) through an MDA that
  writes each message to a file; fetchmail inserts exactly one Received: field naming itself
  (after Return-Path and Delivered-To), which is removed before comparing; nothing else may
  differ. Its `auth password` picks CRAM-MD5, which the HOWTO offers.
- getmail6 into a Maildir destination (delivered_to and received off); getmail always writes its
  own Return-Path: field, so Return-Path is compared apart (Postern's is the envelope sender).
- curl: pop3:// LIST (message sizes, counted with CRLF line ends as RFC 1939 asks), pop3:// RETR by
  number (each as long as LIST said), pop3s:// RETR with --cacert (implicit TLS, certificate for
  127.0.0.1 verified; without the CA curl must refuse it), and pop3:// with --ssl-reqd (STLS).
  The virtual agent delivers the three messages concurrently, so their POP3 order is not known:
  the retrieved set is compared with the stored set.
- a POP3S login with the key readable by root only (mode 0600), as Dovecot installs it.
Nothing here deletes mail, so the clients share one system per configuration file.
Run: POSTERN_BIN=$PWD/build/san/postern /usr/bin/python3 -m pytest -q tests/e2e/test_pop3_clients.py
"""
import base64
import os
import pwd
import re
import shutil
import subprocess

import pytest

from conftest import HOWTO, ROOT_RUN, VGID, VUID, HowtoSystem, free_port, greets, wait_for

USER, PASSWORD = "john@example.org", "john-secret"


# --- the messages ------------------------------------------------------------------------------
def messages():
    """three messages (CRLF line ends, as sent over SMTP)"""
    m1 = "\r\n".join([
        "From: Alice <alice@example.com>",
        "To: John <john@example.org>",
        "Subject: dots, From and 8-bit text",
        "Message-ID: <m1.pop3clients@example.com>",
        "MIME-Version: 1.0",
        "Content-Type: text/plain; charset=utf-8",
        "Content-Transfer-Encoding: 8bit",
        "",
        "First line.",
        ".a line that starts with a dot",
        "..two dots",
        ".",
        "a line after a lone dot",
        "From the start of a line",
        "trailing blanks   ",
        "\u00e9t\u00e9 \u00e0 Z\u00fcrich \u2014 \u65e5\u672c",
        "x" * 998,
        "",
        "last line",
        "",
    ]).encode()
    att = bytes(range(256)) * 12
    b64 = base64.encodebytes(att).decode().replace("\n", "\r\n")
    m2 = ("From: Bob <bob@example.com>\r\n"
          "To: john@example.org\r\n"
          "Subject: an attachment\r\n"
          "Message-ID: <m2.pop3clients@example.com>\r\n"
          "MIME-Version: 1.0\r\n"
          "Content-Type: multipart/mixed; boundary=\"=-b0und4ry\"\r\n"
          "\r\n"
          "preamble\r\n"
          "--=-b0und4ry\r\n"
          "Content-Type: text/plain\r\n"
          "\r\n"
          "See the attachment.\r\n"
          ".\r\n"
          "--=-b0und4ry\r\n"
          "Content-Type: application/octet-stream; name=\"bytes.bin\"\r\n"
          "Content-Transfer-Encoding: base64\r\n"
          "Content-Disposition: attachment; filename=\"bytes.bin\"\r\n"
          "\r\n" + b64 +
          "--=-b0und4ry--\r\n").encode()
    lines = ["From: Carol <carol@example.com>", "To: john@example.org", "Subject: a large message",
             "Message-ID: <m3.pop3clients@example.com>", ""]
    for i in range(6000):
        lines.append(("." if i % 7 == 0 else "") + "line %05d of a large message, padded to about fifty" % i)
    m3 = ("\r\n".join(lines) + "\r\n").encode()
    return [m1, m2, m3]


# --- the system --------------------------------------------------------------------------------
def make_cert(pki, key_owner):
    """a self-signed certificate for 127.0.0.1 at the HOWTO's paths under pki; the key and its
    directory are mode 0600/0700, owned by key_owner (a uid)"""
    (pki / "certs").mkdir(parents=True)
    (pki / "private").mkdir(mode=0o700)
    cert, key = pki / "certs" / "dovecot.pem", pki / "private" / "dovecot.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                    "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
                    "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True)
    os.chmod(key, 0o600)
    os.chown(key, key_owner, -1)
    os.chown(key.parent, key_owner, -1)
    return cert


def write_dovecot_conf(s, name, ports):
    """the HOWTO's dovecot.conf `name`, re-rooted into HowtoSystem s, listeners on `ports`"""
    text = (HOWTO / name).read_text()
    text = text.replace("/etc/postfix", str(s.etc)).replace("/var/spool/mail", str(s.spool))
    text = text.replace("/etc/pki/dovecot", str(s.top / "pki"))
    if not ROOT_RUN:
        text = text.replace("uid=5000 gid=5000", "uid=%d gid=%d" % (VUID, VGID))
    if name == "dovecot-2x.conf":
        for std, port in (("143", ports["imap"]), ("993", ports["imaps"]), ("110", ports["pop3"]),
                          ("995", ports["pop3s"])):
            text, n = re.subn(r"(?m)^(\s*port = )%s$" % std, r"\g<1>%d" % port, text)
            assert n == 1, (std, text)
        text += "\n# test: loopback only\nlisten = 127.0.0.1\n"
    else:
        text += """
# test: loopback only, the 1.x implied listeners moved to free ports
listen = 127.0.0.1
service imap-login {
  inet_listener imap {
    port = %(imap)d
  }
  inet_listener imaps {
    port = %(imaps)d
  }
}
service pop3-login {
  inet_listener pop3 {
    port = %(pop3)d
  }
  inet_listener pop3s {
    port = %(pop3s)d
  }
}
""" % ports
    (s.etc / "dovecot.conf").write_text(text)


MAIL_OWNER = "nobody" if ROOT_RUN else pwd.getpwuid(os.getuid()).pw_name


class Pop3System:
    def __init__(self, conf_name, key_owner=None):
        self.s = HowtoSystem()
        try:
            self.setup(conf_name, pwd.getpwnam(MAIL_OWNER).pw_uid if key_owner is None else key_owner)
        except BaseException:
            self.s.cleanup()
            raise

    def setup(self, conf_name, key_owner):
        s = self.s
        shutil.copy(HOWTO / "passwd", s.etc / "passwd")
        self.cafile = make_cert(s.top / "pki", key_owner)
        self.ports = {k: free_port() for k in ("imap", "imaps", "pop3", "pop3s")}
        write_dovecot_conf(s, conf_name, self.ports)
        self.conf_name = conf_name
        self.client_dir = s.top / "clients"
        self.client_dir.mkdir()
        s.start()
        assert wait_for(lambda: greets(self.ports["pop3"], b"+OK"), timeout=30), \
            ("no POP3 greeting on %d" % self.ports["pop3"], s.log()[-3000:])
        # deliver the messages and keep what is on disk: that is what the clients must get back
        with s.smtp() as c:
            for m in messages():
                c.sendmail("sender@example.com", [USER], m)
        assert wait_for(lambda: len(s.maildir()) == 3, timeout=60), s.log()[-3000:]
        self.stored = sorted(p.read_bytes() for p in s.maildir())
        assert all(b"\r" not in m for m in self.stored)

    def crlf(self):
        return [m.replace(b"\n", b"\r\n") for m in self.stored]


@pytest.fixture(scope="module", params=["dovecot.conf", "dovecot-2x.conf"])
def system(request):
    sy = Pop3System(request.param)
    yield sy
    sy.s.cleanup()


def run(cmd, env=None, cwd=None, timeout=120):
    e = dict(os.environ)
    if env:
        e.update(env)
    return subprocess.run(cmd, capture_output=True, env=e, cwd=cwd, timeout=timeout)


# --- fetchmail -------------------------------------------------------------------------------
def header_fields(data):
    """(the header fields, each with its continuation lines, the rest from the empty line on)"""
    fields, pos = [], 0
    while data[pos:pos + 1] != b"\n":
        end = data.index(b"\n", pos) + 1
        while data[end:end + 1] in (b" ", b"\t"):
            end = data.index(b"\n", end) + 1
        fields.append(data[pos:end])
        pos = end
    return fields, data[pos:]


def strip_fetchmail_received(data):
    """remove fetchmail's own trace field (it puts it after Return-Path and Delivered-To), which
    must be there exactly once"""
    fields, rest = header_fields(data)
    mine = [f for f in fields if f.startswith(b"Received: from 127.0.0.1") and b"(fetchmail-" in f]
    assert len(mine) == 1, fields
    return b"".join(f for f in fields if f is not mine[0]) + rest


def fetchmail(system, name, tls):
    d = system.client_dir / ("fetchmail-" + name)
    out = d / "out"
    out.mkdir(parents=True)
    mda = d / "mda"
    mda.write_text('#!/bin/sh\nexec cat > "$(mktemp %s/msg.XXXXXX)"\n' % out)
    mda.chmod(0o755)
    port = system.ports["pop3s" if tls == "ssl" else "pop3"]
    tls_opts = {
        "plain": 'sslproto ""',
        # fetchmail matches DNS names only, not IP addresses: the certificate also names localhost
        "stls": 'sslproto TLS1.2+ sslcertck sslcertfile "%s" sslcommonname localhost' % system.cafile,
        "ssl": 'ssl sslcertck sslcertfile "%s" sslcommonname localhost' % system.cafile,
    }[tls]
    rc = d / "fetchmailrc"
    rc.write_text('set no syslog\nset no bouncemail\n'
                  'poll 127.0.0.1 service %d protocol POP3 auth password timeout 60\n'
                  '  user "%s" there with password "%s" is "%s" here\n'
                  '  keep fetchall no rewrite stripcr %s\n'
                  '  mda "%s"\n' % (port, USER, PASSWORD, pwd.getpwuid(os.getuid()).pw_name, tls_opts, mda))
    rc.chmod(0o600)
    p = run(["fetchmail", "-v", "--nosyslog", "-f", str(rc)], env={"FETCHMAILHOME": str(d), "HOME": str(d)})
    assert p.returncode == 0, (p.returncode, p.stdout[-3000:], p.stderr[-3000:], system.s.log()[-2000:])
    got = sorted(strip_fetchmail_received(f.read_bytes()) for f in out.iterdir())
    return got, p


@pytest.mark.parametrize("tls", ["plain", "stls", "ssl"])
def test_fetchmail_retrieves_byte_exact(system, tls):
    got, p = fetchmail(system, tls, tls)
    assert len(got) == 3, p.stderr[-2000:]
    assert got == system.stored
    # fetchmail -v logs each command it sends: STLS exactly when asked for
    text = (p.stdout + p.stderr).decode(errors="replace")
    assert ("POP3> STLS" in text) == (tls == "stls"), text[-3000:]
    # keep: nothing was deleted
    assert len(system.s.maildir()) + len(list((system.s.spool / "example.org/john/cur").iterdir())) == 3


# --- getmail6 ----------------------------------------------------------------------------------
def split_return_path(data):
    """(the Return-Path field values, the message without them)"""
    rps = re.findall(rb"(?m)^Return-Path: ([^\n]*)\n", data.split(b"\n\n", 1)[0] + b"\n")
    head, body = data.split(b"\n\n", 1)
    head = re.sub(rb"(?m)^Return-Path: [^\n]*\n", b"", head + b"\n")[:-1]
    return rps, head + b"\n\n" + body


@pytest.mark.parametrize("ssl", [False, True])
def test_getmail_retrieves_byte_exact(system, ssl):
    d = system.client_dir / ("getmail-%s" % ("ssl" if ssl else "plain"))
    md = d / "Maildir"
    for sub in ("cur", "new", "tmp"):
        (md / sub).mkdir(parents=True)
    retriever = "SimplePOP3SSLRetriever" if ssl else "SimplePOP3Retriever"
    extra = "ca_certs = %s\n" % system.cafile if ssl else ""
    dest_user = ""
    if ROOT_RUN:
        # getmail refuses to deliver as root: its Maildir delivery runs as `user`
        dest_user = "user = nobody\n"
        nobody = pwd.getpwnam("nobody")
        for x in (md, md / "cur", md / "new", md / "tmp"):
            os.chown(x, nobody.pw_uid, nobody.pw_gid)
    (d / "getmailrc").write_text(
        "[retriever]\ntype = %s\nserver = 127.0.0.1\nport = %d\nusername = %s\npassword = %s\n%s\n"
        "[destination]\ntype = Maildir\npath = %s/\n%s\n"
        "[options]\nread_all = true\ndelete = false\ndelivered_to = false\nreceived = false\n"
        "verbose = 2\nmessage_log_syslog = false\n"
        % (retriever, system.ports["pop3s" if ssl else "pop3"], USER, PASSWORD, extra, md, dest_user))
    p = run(["getmail", "--getmaildir", str(d), "--rcfile", "getmailrc"])
    assert p.returncode == 0, (p.stdout[-3000:], p.stderr[-3000:], system.s.log()[-2000:])
    files = list((md / "new").iterdir())
    assert len(files) == 3, (p.stdout[-2000:], p.stderr[-2000:])
    got = [split_return_path(f.read_bytes()) for f in files]
    want = [split_return_path(m) for m in system.stored]
    # Postern's Return-Path: is the envelope sender; getmail writes its own, once
    assert all(rps == [b"<sender@example.com>"] for rps, _ in want)
    assert all(len(rps) == 1 for rps, _ in got), [rps for rps, _ in got]
    assert sorted(m for _, m in got) == sorted(m for _, m in want)


# --- curl --------------------------------------------------------------------------------------
def curl(system, url, *opts):
    p = run(["curl", "--silent", "--show-error", "--max-time", "60", "--user", "%s:%s" % (USER, PASSWORD),
             *opts, url])
    assert p.returncode == 0, (url, p.returncode, p.stderr, system.s.log()[-2000:])
    return p.stdout


def curl_list(system):
    """{number: size} from curl's LIST"""
    out = curl(system, "pop3://127.0.0.1:%d/" % system.ports["pop3"])
    assert out.endswith(b"\r\n"), out
    return {int(n): int(sz) for n, sz in (line.split(b" ") for line in out.split(b"\r\n")[:-1])}


def test_curl_list(system):
    # the order of messages delivered concurrently is not known; sizes count CRLF line ends
    listing = curl_list(system)
    assert sorted(listing) == [1, 2, 3]
    assert sorted(listing.values()) == sorted(len(m) for m in system.crlf())


def test_curl_retr_each(system):
    listing = curl_list(system)
    got = []
    for n in sorted(listing):
        out = curl(system, "pop3://127.0.0.1:%d/%d" % (system.ports["pop3"], n))
        assert len(out) == listing[n], n
        got.append(out)
    assert sorted(got) == sorted(system.crlf())


def test_curl_pop3s_verified(system):
    out = curl(system, "pop3s://127.0.0.1:%d/1" % system.ports["pop3s"], "--cacert", str(system.cafile))
    assert out in system.crlf()
    # the certificate is the configured one: without the CA, verification must fail
    p = run(["curl", "--silent", "--max-time", "60", "--user", "%s:%s" % (USER, PASSWORD),
             "pop3s://127.0.0.1:%d/1" % system.ports["pop3s"]])
    assert p.returncode == 60, (p.returncode, p.stderr)


def test_curl_stls(system):
    got = [curl(system, "pop3://127.0.0.1:%d/%d" % (system.ports["pop3"], n), "--ssl-reqd",
                "--cacert", str(system.cafile)) for n in (1, 2, 3)]
    assert sorted(got) == sorted(system.crlf())


def test_pop3s_with_a_key_only_root_can_read():
    """The HOWTO's key, like Debian's /etc/dovecot/private/dovecot.key, is mode 0600 and owned by
    root. Dovecot reads it as root before any process gives up its privileges, so POP3S works with
    it; so must Postern (here: key owned by the user running the test, which is root in CI, while
    the login processes run as mail_owner)."""
    sy = Pop3System("dovecot-2x.conf", key_owner=os.getuid())
    try:
        out = curl(sy, "pop3s://127.0.0.1:%d/1" % sy.ports["pop3s"], "--cacert", str(sy.cafile))
        assert out in sy.crlf()
    finally:
        sy.s.cleanup()
