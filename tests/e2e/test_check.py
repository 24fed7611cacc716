"""test_check.py - `postern check`: each kind of finding, with file:line and a fix."""
import os

import pytest

from conftest import Postern


def write_conf(tmp_path, main_cf, master_cf="127.0.0.1:2525 inet n - n - - smtpd\n"):
    etc = tmp_path / "etc"
    etc.mkdir(exist_ok=True)
    (etc / "main.cf").write_text(main_cf)
    (etc / "master.cf").write_text(master_cf)
    return Postern(etc), etc


def base_dir(tmp_path, mode=0o750):
    d = tmp_path / "mail"
    d.mkdir(exist_ok=True)
    os.chmod(d, mode)
    return d


def test_clean_config_passes(tmp_path):
    d = base_dir(tmp_path)
    pn, _ = write_conf(tmp_path, f"mydestination = localhost\nvirtual_mailbox_base = {d}\n"
                                 f"virtual_uid_maps = static:{os.getuid()}\n")
    p = pn.run("check")
    assert p.returncode == 0, p.stdout + p.stderr
    assert p.stdout + p.stderr == ""


def test_domain_in_mydestination_and_virtual(tmp_path):
    pn, etc = write_conf(tmp_path, "mydestination = localhost, example.org\n"
                                   "virtual_mailbox_domains = example.org example.net\n")
    p = pn.run("check")
    out = p.stdout + p.stderr
    assert p.returncode == 2, out
    assert "example.org" in out and "mydestination" in out and "virtual_mailbox_domains" in out
    assert f"{etc}/main.cf, line 2" in out, out
    assert "example.net" not in out.split("example.org", 1)[1].split("\n")[0]


def test_open_relay_mynetworks(tmp_path):
    pn, etc = write_conf(tmp_path, "# trust everyone?\nmynetworks = 127.0.0.0/8, 0.0.0.0/0\n")
    p = pn.run("check")
    out = p.stdout + p.stderr
    assert p.returncode == 2, out
    assert "open relay" in out and "0.0.0.0/0" in out
    assert f"{etc}/main.cf, line 2" in out


def test_open_relay_ipv6(tmp_path):
    pn, _ = write_conf(tmp_path, "mynetworks = [::]/0\n")
    p = pn.run("check")
    assert p.returncode == 2 and "open relay" in p.stdout + p.stderr


def test_mynetworks_file_entry(tmp_path):
    nets = tmp_path / "nets"
    nets.write_text("# trusted\n192.168.0.0/16\n0.0.0.0/0\n")
    pn, _ = write_conf(tmp_path, f"mynetworks = 127.0.0.0/8 {nets}\n")
    p = pn.run("check")
    out = p.stdout + p.stderr
    assert p.returncode == 2 and "open relay" in out and str(nets) in out, out


def test_unknown_parameter_is_warning_with_line(tmp_path):
    pn, etc = write_conf(tmp_path, "mydestination = localhost\n\nfrobnicate_level = 3\n")
    p = pn.run("check")
    out = p.stdout + p.stderr
    assert p.returncode == 0, out
    assert f"{etc}/main.cf, line 3" in out and "frobnicate_level" in out and "warning" in out


def test_bad_value_is_error_with_line(tmp_path):
    pn, etc = write_conf(tmp_path, "message_size_limit = ten\n")
    p = pn.run("check")
    out = p.stdout + p.stderr
    assert p.returncode == 2
    assert f"{etc}/main.cf, line 1" in out and "message_size_limit" in out


def test_unreadable_table(tmp_path):
    pn, etc = write_conf(tmp_path, f"virtual_alias_maps = hash:{tmp_path}/nope\n")
    p = pn.run("check")
    out = p.stdout + p.stderr
    assert p.returncode == 2
    assert f"{tmp_path}/nope" in out and "line 1" in out


def test_bad_cidr_table_line(tmp_path):
    t = tmp_path / "access.cidr"
    t.write_text("10.0.0.0/8 OK\n10.1.2.3/8 REJECT\n")
    pn, _ = write_conf(tmp_path, f"mynetworks = cidr:{t}\n")
    p = pn.run("check")
    out = p.stdout + p.stderr
    assert p.returncode == 2 and f"{t}, line 2" in out, out


def test_world_writable_mailbox_base(tmp_path):
    d = base_dir(tmp_path, 0o777)
    pn, _ = write_conf(tmp_path, f"virtual_mailbox_base = {d}\n")
    p = pn.run("check")
    out = p.stdout + p.stderr
    assert p.returncode == 2 and "world-writable" in out and "chmod" in out, out


def test_missing_mailbox_base(tmp_path):
    pn, _ = write_conf(tmp_path, f"virtual_mailbox_base = {tmp_path}/nowhere\n")
    p = pn.run("check")
    out = p.stdout + p.stderr
    assert p.returncode == 2 and "nowhere" in out and "mkdir" in out, out


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to create a directory owned by someone else")
def test_mailbox_base_wrong_owner(tmp_path):
    d = base_dir(tmp_path)
    os.chown(d, 0, 0)
    pn, _ = write_conf(tmp_path, f"virtual_mailbox_base = {d}\nvirtual_uid_maps = static:5000\n")
    p = pn.run("check")
    out = p.stdout + p.stderr
    assert "5000" in out and "chown" in out, out


def test_bad_master_cf(tmp_path):
    pn, etc = write_conf(tmp_path, "mydestination = localhost\n",
                         "# services\nsmtp inet n - n - - smtpd\n127.0.0.1:2525 inetz n - n - - smtpd\n")
    p = pn.run("check")
    out = p.stdout + p.stderr
    assert p.returncode == 2 and f"{etc}/master.cf, line 3" in out, out


def test_missing_main_cf(tmp_path):
    pn = Postern(tmp_path / "absent")
    p = pn.run("check")
    assert p.returncode == 2 and "main.cf" in p.stderr


def test_unknown_restriction_with_line(tmp_path):
    pn, etc = write_conf(tmp_path, "mydestination = localhost\n"
                                   "smtpd_recipient_restrictions = permit_mynetworks,\n"
                                   "    reject_unath_destination\n")
    p = pn.run("check")
    out = p.stdout + p.stderr
    assert p.returncode == 2, out
    assert f"{etc}/main.cf, line 2" in out, out
    assert 'unknown restriction "reject_unath_destination"' in out, out
    assert "smtpd_recipient_restrictions" in out


def test_restrictions_without_relay_guard(tmp_path):
    pn, etc = write_conf(tmp_path, "mydestination = localhost\nsmtpd_relay_restrictions = permit_mynetworks\n")
    p = pn.run("check")
    out = p.stdout + p.stderr
    assert p.returncode == 2, out
    assert f"{etc}/main.cf, line 2" in out and "open relay" in out, out
