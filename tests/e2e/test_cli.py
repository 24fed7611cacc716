"""test_cli.py - the `postern` command's dispatch, help and exit codes."""
from conftest import Postern


def test_help_lists_commands(tmp_path):
    p = Postern(tmp_path).run("help", check=True)
    for cmd in ("conf", "check", "postmap"):
        assert cmd in p.stdout


def test_unknown_command_is_usage_error(tmp_path):
    p = Postern(tmp_path).run("frobnicate")
    assert p.returncode == 2
    assert "unknown command" in p.stderr


def test_command_help(tmp_path):
    p = Postern(tmp_path).run("postmap", "--help", check=True)
    assert "postmap" in p.stdout and "-q" in p.stdout


def test_doveconf_is_implemented(tmp_path):
    # doveconf was the last planned command; without a dovecot.conf it says so (exit 2)
    p = Postern(tmp_path).run("doveconf")
    assert p.returncode == 2
    assert "not implemented" not in p.stderr
    assert "dovecot.conf: no such file" in p.stderr
