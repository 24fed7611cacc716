"""test_pw.py - `postern pw`, the HOWTO's dovecotpw / doveadm pw, run as a real command.

Hashes made by real Dovecot (shared/vectors/dovecot-pw.tsv and the HOWTO's passwd-file) must verify
with -t; new hashes must verify; passwords come from -p or, twice, from standard input.
"""
import subprocess

import pytest

from conftest import HOWTO, SHARED, postern_bin


def pw(*args, input=None):
    p = subprocess.run([postern_bin(), "pw", *args], input=input, capture_output=True, text=True, timeout=60)
    assert "AddressSanitizer" not in p.stderr and "runtime error:" not in p.stderr, p.stderr
    return p


def vectors():
    rows = []
    for line in (SHARED / "vectors" / "dovecot-pw.tsv").read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            rows.append(line.split("\t"))
    return rows


def test_list_has_every_dovecot_scheme():
    p = pw("-l")
    assert p.returncode == 0
    listed = set(p.stdout.split())
    for scheme, _, _, _ in vectors():
        assert scheme.split(".")[0] in listed, scheme
    assert len(p.stdout.splitlines()) == 1


@pytest.mark.parametrize("row", vectors()[::7], ids=lambda r: r[0] + "/" + r[2][:3])
def test_dovecot_hashes_verify(row):
    scheme, user, password, stored = row
    p = pw("-u", user, "-p", password, "-t", stored)
    assert p.returncode == 0, p.stderr
    assert p.stdout == stored + " (verified)\n"
    bad = pw("-u", user, "-p", password + "!", "-t", stored)
    assert bad.returncode == 1
    assert "password mismatch" in bad.stderr


def test_howto_passwd_file_hashes():
    secrets = {"john@example.org": "john-secret", "jane@example.org": "jane-secret",
               "sales@example.net": "sales-secret"}
    for line in (HOWTO / "passwd").read_text().splitlines():
        user, stored = line.split(":")[:2]
        assert pw("-u", user, "-p", secrets[user], "-t", stored).returncode == 0, line
        assert pw("-u", user, "-p", "wrong", "-t", stored).returncode == 1, line


def test_default_scheme_is_sha512_crypt_and_verifies():
    p = pw("-p", "s3cret")
    assert p.returncode == 0
    h = p.stdout.strip()
    assert h.startswith("{SHA512-CRYPT}$6$")
    assert pw("-p", "s3cret", "-t", h).returncode == 0
    assert pw("-p", "s3cret!", "-t", h).returncode == 1


def test_scheme_v_and_rounds():
    p = pw("-s", "blf-crypt", "-r", "6", "-p", "x", "-V")
    assert p.returncode == 0, p.stderr
    assert p.stdout.startswith("{BLF-CRYPT}$2y$06$") and p.stdout.endswith(" (verified)\n")


def test_password_from_stdin_twice():
    p = pw("-s", "SSHA256", input="hunter2\nhunter2\n")
    assert p.returncode == 0, p.stderr
    h = p.stdout.strip()
    assert h.startswith("{SSHA256}")
    assert pw("-p", "hunter2", "-t", h).returncode == 0
    # -t reads the password once
    assert pw("-t", h, input="hunter2\n").returncode == 0
    assert pw("-t", h, input="hunter3\n").returncode == 1


def test_stdin_mismatch_and_empty_refused():
    p = pw(input="one\ntwo\n")
    assert p.returncode == 2 and "don't match" in p.stderr and p.stdout == ""
    p = pw(input="\n\n")
    assert p.returncode == 2 and "empty" in p.stderr
    p = pw(input="")
    assert p.returncode == 2 and "no password" in p.stderr


def test_usage_errors():
    p = pw("-s", "ROT13", "-p", "x")
    assert p.returncode == 2 and "unknown scheme" in p.stderr
    p = pw("-s", "DIGEST-MD5", "-p", "x")
    assert p.returncode == 2 and "-u USER" in p.stderr
    p = pw("-r", "ten", "-p", "x")
    assert p.returncode == 2
    p = pw("-p", "x", "-t", "{NOPE}abc")
    assert p.returncode == 2 and "cannot verify" in p.stderr
    p = pw("extra")
    assert p.returncode == 2


def test_digest_md5_uses_the_user():
    a = pw("-s", "DIGEST-MD5", "-u", "john@example.org", "-p", "secret")
    assert a.stdout.strip() == "{DIGEST-MD5}8f241fa631198eb85d1c5e1b4a8ac2ce"
    assert pw("-u", "jane@example.org", "-p", "secret", "-t", a.stdout.strip()).returncode == 1
