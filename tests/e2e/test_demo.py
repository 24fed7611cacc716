"""test_demo.py - the configuration `make run` generates is valid and self-consistent.

scripts/demo writes a demo configuration (domain example.test, user demo@example.test,
loopback ports, self-signed certificate) and validates it with the real binary.
"""
import os
import stat
import subprocess

from conftest import ROOT, Postern, postern_bin


def run_demo(tmp_path):
    env = dict(os.environ, DEMO_DIR=str(tmp_path / "demo"))
    env.pop("POSTERN_CONFIG", None)
    return subprocess.run([str(ROOT / "scripts" / "demo"), postern_bin()], env=env,
                          capture_output=True, text=True, timeout=120)


def test_demo_generates_valid_config(tmp_path):
    p = run_demo(tmp_path)
    assert p.returncode == 0, p.stdout + p.stderr
    etc = tmp_path / "demo" / "etc"
    for name in ("main.cf", "master.cf", "dovecot.conf", "passwd", "cert.pem", "key.pem",
                 "virtual_mailbox.db", "virtual_alias.db"):
        assert (etc / name).is_file(), name
    # the private key is not readable by others
    assert stat.S_IMODE(os.stat(etc / "key.pem").st_mode) == 0o600
    # postern check found nothing to complain about
    assert "error" not in p.stderr and "warning" not in p.stderr, p.stderr
    assert "demo@example.test" in p.stdout and "127.0.0.1:2525" in p.stdout


def test_demo_tables_answer(tmp_path):
    assert run_demo(tmp_path).returncode == 0
    etc = tmp_path / "demo" / "etc"
    pn = Postern(etc)
    q = pn.run("postmap", "-q", "demo@example.test", "hash:" + str(etc / "virtual_mailbox"), check=True)
    assert q.stdout == "example.test/demo/\n"
    q = pn.run("conf", "virtual_mailbox_domains", "inet_interfaces", check=True)
    assert q.stdout == "virtual_mailbox_domains = example.test\ninet_interfaces = loopback-only\n"


def test_demo_is_idempotent(tmp_path):
    assert run_demo(tmp_path).returncode == 0
    main_cf = (tmp_path / "demo" / "etc" / "main.cf").read_text()
    p = run_demo(tmp_path)
    assert p.returncode == 0, p.stderr
    assert (tmp_path / "demo" / "etc" / "main.cf").read_text() == main_cf
