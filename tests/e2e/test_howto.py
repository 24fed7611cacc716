"""test_howto.py - the HOWTO's own configuration files work as they are (paths re-rooted).

shared/howto/ holds the main.cf and lookup tables of the "Postfix - Dovecot HOWTO". An
administrator who followed it must be able to point Postern at them: postmap builds both tables,
`postern check` reports only what is really wrong with this machine's copy, and `conf` shows the
settings with $mydomain / $myhostname expanded.
"""
import os
import shutil

import pytest

from conftest import HOWTO, Postern

HOWTO_SETTINGS = {
    "myhostname": "mail.example.com",
    "mydomain": "example.com",
    "myorigin": "$mydomain",
    "inet_interfaces": "all",
    "mydestination": "$myhostname localhost.$mydomain localhost $mydomain",
    "mynetworks": "127.0.0.0/8",
    "relay_domains": "",
    "home_mailbox": "Maildir/",
    "virtual_mailbox_domains": "example.org, example.net",
    "virtual_uid_maps": "static:5000",
    "virtual_gid_maps": "static:5000",
}


def reroot(tmp_path):
    """Copy the HOWTO files into tmp_path, rewriting /etc/postfix and /var/spool/mail only."""
    etc = tmp_path / "etc"
    spool = tmp_path / "spool"
    etc.mkdir()
    spool.mkdir(mode=0o750)
    for name in ("main.cf", "virtual_mailbox", "virtual_alias", "passwd", "dovecot.conf",
                 "dovecot-2x.conf"):
        text = (HOWTO / name).read_text()
        text = text.replace("/etc/postfix", str(etc)).replace("/var/spool/mail", str(spool))
        (etc / name).write_text(text)
    (etc / "master.cf").write_text("127.0.0.1:2525 inet n - n - - smtpd\n")
    return etc, spool


@pytest.fixture
def howto(tmp_path):
    etc, spool = reroot(tmp_path)
    return Postern(etc), etc, spool


def test_postmap_builds_both_tables_and_queries(howto):
    pn, etc, _ = howto
    pn.run("postmap", str(etc / "virtual_mailbox"), check=True)
    pn.run("postmap", "hash:" + str(etc / "virtual_alias"), check=True)
    assert (etc / "virtual_mailbox.db").is_file()
    assert (etc / "virtual_alias.db").is_file()
    p = pn.run("postmap", "-q", "team@example.org", "hash:" + str(etc / "virtual_alias"), check=True)
    assert p.stdout == "john@example.org, jane@example.org\n"
    p = pn.run("postmap", "-q", "jane@example.org", "hash:" + str(etc / "virtual_mailbox"), check=True)
    assert p.stdout == "example.org/jane\n"
    p = pn.run("postmap", "-q", "nobody@example.org", "hash:" + str(etc / "virtual_mailbox"))
    assert p.returncode == 1 and p.stdout == ""


def test_conf_n_shows_howto_settings(howto):
    pn, etc, spool = howto
    p = pn.run("conf", "-n", check=True)
    lines = dict(l.split(" = ", 1) if " = " in l else (l.rstrip(" ="), "")
                 for l in p.stdout.splitlines())
    for name, value in HOWTO_SETTINGS.items():
        assert lines.get(name) == value, (name, p.stdout)
    assert lines["virtual_mailbox_base"] == str(spool)
    assert lines["virtual_mailbox_maps"] == "hash:" + str(etc / "virtual_mailbox")
    assert p.stderr == ""


def test_conf_expands_mydomain(howto):
    pn, _, _ = howto
    p = pn.run("conf", "mydestination", "myorigin", check=True)
    assert p.stdout.splitlines() == [
        "mydestination = mail.example.com localhost.example.com localhost example.com",
        "myorigin = example.com",
    ]


def test_check_before_postmap_reports_missing_tables(howto):
    pn, etc, _ = howto
    p = pn.run("check")
    out = p.stdout + p.stderr
    assert p.returncode == 2, out
    for table in ("virtual_mailbox", "virtual_alias"):
        assert str(etc / table) + ".db" in out, out
    assert "postern postmap" in out


def test_check_after_postmap_only_expected_findings(howto):
    pn, etc, spool = howto
    pn.run("postmap", str(etc / "virtual_mailbox"), str(etc / "virtual_alias"), check=True)
    if os.geteuid() == 0:
        os.chown(spool, 5000, 5000)
    p = pn.run("check")
    assert p.returncode == 0, p.stdout + p.stderr
    assert "error" not in (p.stdout + p.stderr), p.stdout + p.stderr


def test_check_flags_stale_table(howto):
    pn, etc, spool = howto
    pn.run("postmap", str(etc / "virtual_mailbox"), str(etc / "virtual_alias"), check=True)
    src = etc / "virtual_alias"
    st = os.stat(etc / "virtual_alias.db")
    os.utime(src, (st.st_atime + 10, st.st_mtime + 10))
    p = pn.run("check")
    out = p.stdout + p.stderr
    assert "virtual_alias" in out and "newer" in out, out
    assert "postern postmap" in out
