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
                    "-subj", "/CN=localhost", "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True)
    # the login process runs as mail_owner and reads the key itself (docs/mail-access.md)
    os.chmod(key, 0o644)
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


def test_plain_login_list_retrieve(pop3sys):
    s = pop3sys()
    s.deliver("hello\r\n.starts with a dot\r\nend\r\n")
    p = s.pop()
    assert p.getwelcome().startswith(b"+OK ")
    p.user(JOHN)
    assert p.pass_(JOHN_PW).startswith(b"+OK Logged in.")
    count, size = p.stat()
    assert count == 1
    resp, lines, octets = p.retr(1)
    assert b".starts with a dot" in lines
    p.quit()
    assert "Login: user=<john@example.org>, method=PLAIN, rip=127.0.0.1, lip=127.0.0.1" in s.log()
