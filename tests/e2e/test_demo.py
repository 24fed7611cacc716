"""test_demo.py - `make run`'s demo: a generated configuration, and a server that delivers.

scripts/demo writes a demo configuration (domain example.test, user demo@example.test,
loopback ports, self-signed certificate), validates it and runs `postern start -f`.
"""
import os
import pathlib
import shutil
import smtplib
import socket
import stat
import subprocess
import tempfile
import time

import pytest

from conftest import ROOT, Postern, free_port, postern_bin


@pytest.fixture
def demo():
    # readable by the unprivileged services (pytest's tmp_path is under a 0700 directory)
    base = pathlib.Path(tempfile.mkdtemp(prefix="postern-demo-test-", dir="/var/tmp"))
    os.chmod(base, 0o755)
    port = free_port()
    env = dict(os.environ, DEMO_DIR=str(base / "demo"), DEMO_SMTP_PORT=str(port),
               DEMO_POP3_PORT=str(free_port()), DEMO_POP3S_PORT=str(free_port()))
    env.pop("POSTERN_CONFIG", None)
    procs = []

    def start():
        p = subprocess.Popen([str(ROOT / "scripts" / "demo"), postern_bin()], env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        procs.append(p)
        end = time.time() + 30
        while time.time() < end and p.poll() is None:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                return p
            except OSError:
                time.sleep(0.1)
        out, err = p.communicate(timeout=10) if p.poll() is not None else ("", "")
        raise AssertionError(f"demo did not start: {out}\n{err}")

    def stop():
        Postern(base / "demo" / "etc").run("stop")
        p = procs[-1]
        out, err = p.communicate(timeout=30)
        return p.returncode, out, err

    yield base / "demo", port, start, stop
    for p in procs:
        if p.poll() is None:
            Postern(base / "demo" / "etc").run("stop")
            p.wait(timeout=30)
    shutil.rmtree(base, ignore_errors=True)


def test_demo_generates_valid_config(demo):
    d, port, start, stop = demo
    start()
    rc, out, err = stop()
    assert rc == 0, err
    etc = d / "etc"
    for name in ("main.cf", "master.cf", "dovecot.conf", "passwd", "cert.pem", "key.pem",
                 "virtual_mailbox.db", "virtual_alias.db"):
        assert (etc / name).is_file(), name
    assert stat.S_IMODE(os.stat(etc / "key.pem").st_mode) == 0o600
    # postern check found nothing to complain about
    assert "error:" not in err and "warning:" not in err, err
    assert "demo@example.test" in out and f"127.0.0.1:{port}" in out


def test_demo_delivers_mail(demo):
    d, port, start, stop = demo
    start()
    s = smtplib.SMTP("127.0.0.1", port, timeout=30)
    assert s.sendmail("you@example.net", ["demo@example.test"], "Subject: hi\r\n\r\nhello demo\r\n") == {}
    s.quit()
    new = d / "mail" / "example.test" / "demo" / "new"
    end = time.time() + 20
    while time.time() < end and not (new.is_dir() and any(new.iterdir())):
        time.sleep(0.1)
    log = (d / "log" / "postern.log").read_text()
    files = list(new.iterdir()) if new.is_dir() else []
    assert len(files) == 1 and b"hello demo" in files[0].read_bytes(), log
    # never delivered as root
    assert files[0].stat().st_uid != 0
    # the agent logs right after the file is in place: wait for the line, do not race it
    end = time.time() + 20
    while time.time() < end and "status=sent (delivered to maildir)" not in (d / "log" / "postern.log").read_text():
        time.sleep(0.1)
    assert "status=sent (delivered to maildir)" in (d / "log" / "postern.log").read_text()
    rc, out, err = stop()
    assert rc == 0, err


def test_demo_is_idempotent(demo):
    d, port, start, stop = demo
    start()
    stop()
    main_cf = (d / "etc" / "main.cf").read_text()
    start()
    rc, out, err = stop()
    assert rc == 0, err
    assert (d / "etc" / "main.cf").read_text() == main_cf


def test_demo_pop3_and_pop3s(demo):
    """the demo's POP3 (plaintext on loopback, STLS) and POP3S listeners serve demo@example.test"""
    import poplib
    import re
    import ssl
    d, port, start, stop = demo
    start()
    conf = (d / "etc" / "dovecot.conf").read_text()
    ports = [int(p) for p in re.findall(r"port = (\d+)", conf)]
    pop3, pop3s = ports[2], ports[3]  # imap, imaps, pop3, pop3s, as the demo writes them
    s = smtplib.SMTP("127.0.0.1", port, timeout=30)
    s.sendmail("you@example.net", ["demo@example.test"], "Subject: hi\r\n\r\nhello pop3\r\n")
    s.quit()
    new = d / "mail" / "example.test" / "demo" / "new"
    end = time.time() + 20
    while time.time() < end and not (new.is_dir() and any(new.iterdir())):
        time.sleep(0.1)
    ctx = ssl.create_default_context(cafile=str(d / "etc" / "cert.pem"))
    end = time.time() + 20
    while True:
        try:
            p = poplib.POP3("127.0.0.1", pop3, timeout=30)
            break
        except OSError:
            assert time.time() < end
            time.sleep(0.1)
    p.stls(ctx)
    p.user("demo@example.test")
    assert p.pass_("demo").startswith(b"+OK Logged in.")
    assert b"hello pop3" in p.retr(1)[1]
    p.quit()
    p = poplib.POP3_SSL("127.0.0.1", pop3s, context=ctx, timeout=30)
    p.user("demo@example.test")
    p.pass_("demo")
    assert p.stat()[0] == 1
    p.quit()
    rc, out, err = stop()
    assert rc == 0, err
    assert f"pop3://127.0.0.1:{pop3}/1" in out
