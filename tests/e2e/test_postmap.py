"""test_postmap.py - `postern postmap`: building hash:/cdb: tables from the HOWTO files, querying
(-q KEY, -q -), key folding, errors with file:line, atomic rebuilds, and the CDB file format."""
import os
import shutil
import stat
import subprocess
import threading
import time

import pytest

from conftest import HOWTO

TEAM = "john@example.org, jane@example.org"


@pytest.fixture
def howto(tmp_path):
    """The HOWTO's virtual_mailbox and virtual_alias, writable, in a temp dir."""
    for name in ("virtual_mailbox", "virtual_alias"):
        shutil.copy(HOWTO / name, tmp_path / name)
        os.chmod(tmp_path / name, 0o644)
    return tmp_path


def one_line(stderr):
    lines = stderr.splitlines()
    assert len(lines) == 1, stderr
    return lines[0]


def test_build_both_tables(postern, howto):
    p = postern.run("postmap", str(howto / "virtual_mailbox"), check=True)
    assert p.stdout == "" and p.stderr == ""
    p = postern.run("postmap", "hash:" + str(howto / "virtual_alias"), check=True)
    assert p.stdout == "" and p.stderr == ""
    assert (howto / "virtual_mailbox.db").is_file()
    assert (howto / "virtual_alias.db").is_file()
    # no temporary files are left behind
    assert sorted(os.listdir(howto)) == ["virtual_alias", "virtual_alias.db", "virtual_mailbox",
                                         "virtual_mailbox.db"]


def test_build_several_files_and_cdb(postern, howto):
    postern.run("postmap", str(howto / "virtual_alias"), "cdb:" + str(howto / "virtual_mailbox"),
                check=True)
    assert (howto / "virtual_alias.db").is_file()
    assert (howto / "virtual_mailbox.cdb").is_file()
    assert not (howto / "virtual_mailbox.db").exists()
    p = postern.run("postmap", "-q", "john@example.org", "cdb:" + str(howto / "virtual_mailbox"),
                    check=True)
    assert p.stdout == "example.org/john/\n"


def test_query(postern, howto):
    postern.run("postmap", "hash:" + str(howto / "virtual_alias"), check=True)
    p = postern.run("postmap", "-q", "team@example.org", "hash:" + str(howto / "virtual_alias"))
    assert p.returncode == 0, p.stderr
    assert p.stdout == TEAM + "\n"
    assert p.stderr == ""
    # keys are case-insensitive; a bare file name means hash:
    p = postern.run("postmap", "-q", "TEAM@Example.ORG", str(howto / "virtual_alias"), check=True)
    assert p.stdout == TEAM + "\n"


def test_query_not_found(postern, howto):
    postern.run("postmap", str(howto / "virtual_alias"), check=True)
    p = postern.run("postmap", "-q", "nobody@x", "hash:" + str(howto / "virtual_alias"))
    assert p.returncode == 1
    assert p.stdout == "" and p.stderr == ""


def test_query_stdin(postern, howto):
    postern.run("postmap", str(howto / "virtual_alias"), str(howto / "virtual_mailbox"), check=True)
    keys = "team@example.org\nnobody@x\nPostmaster@Example.org\n\njane@example.org"
    p = postern.run("postmap", "-q", "-", "hash:" + str(howto / "virtual_alias"), input=keys)
    assert p.returncode == 0, p.stderr
    assert p.stdout == ("team@example.org\t" + TEAM + "\n"
                        "Postmaster@Example.org\tjohn@example.org\n")
    # several tables: the first that has the key answers
    p = postern.run("postmap", "-q", "-", "hash:" + str(howto / "virtual_alias"),
                    "hash:" + str(howto / "virtual_mailbox"), input=keys)
    assert p.returncode == 0, p.stderr
    assert p.stdout.splitlines()[-1] == "jane@example.org\texample.org/jane"
    # nothing found at all: exit 1, no output
    p = postern.run("postmap", "-q", "-", "hash:" + str(howto / "virtual_alias"), input="x\ny\n")
    assert p.returncode == 1 and p.stdout == ""


def test_query_stdin_many_keys(postern, tmp_path):
    src = tmp_path / "big"
    src.write_text("".join(f"key{i} value{i}\n" for i in range(5000)))
    postern.run("postmap", str(src), check=True)
    keys = "".join(f"KEY{i}\n" for i in range(0, 10000, 3))
    p = postern.run("postmap", "-q", "-", "hash:" + str(src), input=keys, check=True)
    want = "".join(f"KEY{i}\tvalue{i}\n" for i in range(0, 5000, 3))
    assert p.stdout == want


def test_db_is_valid_cdb(postern, howto):
    cdb = shutil.which("cdb")
    if cdb is None:
        pytest.skip("the tinycdb `cdb` tool is not installed")
    postern.run("postmap", str(howto / "virtual_alias"), check=True)
    p = subprocess.run([cdb, "-q", str(howto / "virtual_alias.db"), "team@example.org"],
                       capture_output=True, text=True)
    assert p.returncode == 0 and p.stdout == TEAM
    p = subprocess.run([cdb, "-d", str(howto / "virtual_alias.db")], capture_output=True, text=True)
    assert p.returncode == 0
    assert "+16,34:team@example.org->" + TEAM in p.stdout
    # keys are stored folded, without a trailing NUL (as Postfix's cdb:)
    assert p.stdout.count("\n") == 4


def test_missing_source(postern, tmp_path):
    p = postern.run("postmap", str(tmp_path / "x" / "y"))
    assert p.returncode == 2
    line = one_line(p.stderr)
    assert "fatal: open " + str(tmp_path / "x" / "y") + ": No such file or directory" in line
    p = postern.run("postmap", "-q", "k", "hash:" + str(tmp_path / "nothere"))
    assert p.returncode == 2 and p.stdout == ""
    assert "nothere.db: No such file or directory" in one_line(p.stderr)


def test_malformed_line(postern, howto):
    src = howto / "virtual_alias"
    src.write_text(src.read_text() + "lonely-key\n")
    postern.run("postmap", "-q", "x", "texthash:" + str(src))  # must not crash
    p = postern.run("postmap", str(src))
    assert p.returncode == 2
    line = one_line(p.stderr)
    assert f"{src}, line 5: expected format: key whitespace value" in line
    assert not (howto / "virtual_alias.db").exists()
    p = postern.run("postmap", "-q", "x", "texthash:" + str(src))
    assert p.returncode == 2
    assert f"{src}, line 5: expected format" in one_line(p.stderr)


def test_duplicates_warned_first_kept(postern, tmp_path):
    src = tmp_path / "dups"
    src.write_text("a first\nb x\nA second\n")
    p = postern.run("postmap", str(src), check=True)
    assert one_line(p.stderr) == f'postern/postmap: warning: {src}, line 3: duplicate entry: "a"'
    p = postern.run("postmap", "-q", "a", str(src), check=True)
    assert p.stdout == "first\n"


def test_duplicates_exact_on_a_large_table(postern, tmp_path):
    # a duplicate among many keys makes the builder redo the table with its exact key set:
    # the result must hold each key once with its first value, and each warning once
    src = tmp_path / "big"
    lines = ["  indented line without a key"]
    lines += [f"user{i:05d}@example.org v{i}" for i in range(20000)]
    lines.insert(15000, "USER00042@example.org second-value")
    src.write_text("\n".join(lines) + "\n")
    p = postern.run("postmap", str(src), check=True)
    assert p.stderr.count("must not start with whitespace") == 1, p.stderr
    assert p.stderr.count("duplicate entry") == 1, p.stderr
    assert "line 15001" in p.stderr
    q = postern.run("postmap", "-q", "user00042@example.org", f"hash:{src}", check=True)
    assert q.stdout == "v42\n"
    dump = subprocess.run(["cdb", "-d", str(src) + ".db"], capture_output=True, check=True).stdout
    assert dump.count(b"\n") == 20000 + 1  # one record a key, then cdb -d's final empty line


def test_continuation_and_comments(postern, tmp_path):
    src = tmp_path / "t"
    src.write_text("# comment\nkey value one,\n    value two\n\n  # indented comment\nk2 v2 # kept\n")
    postern.run("postmap", str(src), check=True)
    p = postern.run("postmap", "-q", "-", str(src), input="key\nk2\n", check=True)
    assert p.stdout == "key\tvalue one,    value two\nk2\tv2 # kept\n"


def test_other_types_query(postern, tmp_path):
    src = tmp_path / "t"
    src.write_text("Alpha 1\n")
    p = postern.run("postmap", "-q", "ALPHA", "texthash:" + str(src), check=True)
    assert p.stdout == "1\n"
    p = postern.run("postmap", "-q", "anything", "static:5000", check=True)
    assert p.stdout == "5000\n"
    p = postern.run("postmap", "-q", "b", "inline:{ a=1, {b = 2, 3} }", check=True)
    assert p.stdout == "2, 3\n"
    cidr = tmp_path / "access.cidr"
    cidr.write_text("10.0.0.0/8 inner\n[::1]/128 v6\n0.0.0.0/0 rest\n")
    p = postern.run("postmap", "-q", "10.9.9.9", "cidr:" + str(cidr), check=True)
    assert p.stdout == "inner\n"
    p = postern.run("postmap", "-q", "::1", "cidr:" + str(cidr), check=True)
    assert p.stdout == "v6\n"
    p = postern.run("postmap", "-q", "-", "cidr:" + str(cidr), input="192.0.2.1\n::2\n", check=True)
    assert p.stdout == "192.0.2.1\trest\n"
    cidr.write_text("10.0.0.0/8 inner\n10.1.2.3/16 bad\n")
    p = postern.run("postmap", "-q", "10.9.9.9", "cidr:" + str(cidr))
    assert p.returncode == 2
    assert f"{cidr}, line 2: non-null host address bits" in one_line(p.stderr)
    p = postern.run("postmap", "cidr:" + str(cidr))
    assert p.returncode == 2 and "nothing to build" in one_line(p.stderr)


def test_usage_errors(postern, tmp_path):
    p = postern.run("postmap")
    assert p.returncode == 2 and "missing table name" in p.stderr
    p = postern.run("postmap", "-q", "k", "nosuch:" + str(tmp_path / "x"))
    assert p.returncode == 2
    assert "unsupported dictionary type: nosuch" in one_line(p.stderr)


def test_postfix_berkeley_db_refused(postern, tmp_path):
    src = tmp_path / "virtual"
    src.write_text("a b\n")
    # the first page of a Berkeley DB hash file: magic 0x061561 at offset 12, version 9
    page = bytearray(4096)
    page[12:16] = (0x061561).to_bytes(4, "little")
    page[16:20] = (9).to_bytes(4, "little")
    (tmp_path / "virtual.db").write_bytes(bytes(page))
    p = postern.run("postmap", "-q", "a", "hash:" + str(src))
    assert p.returncode == 2
    line = one_line(p.stderr)
    assert "Berkeley DB" in line and "postern postmap" in line


def test_output_mode_follows_source(postern, tmp_path):
    for mode, want in ((0o600, 0o600), (0o640, 0o640), (0o666, 0o644)):
        src = tmp_path / f"t{mode:o}"
        src.write_text("a b\n")
        os.chmod(src, mode)
        postern.run("postmap", str(src), check=True)
        assert stat.S_IMODE(os.stat(str(src) + ".db").st_mode) == want


def test_rebuild_is_atomic(postern, tmp_path):
    """Readers never see a missing or partial table while another process rebuilds it."""
    src = tmp_path / "big"
    bodies = ["".join(f"key{i} {tag}{i}\n" for i in range(20000)) + f"probe {tag}\n"
              for tag in ("one", "two")]
    src.write_text(bodies[0])
    postern.run("postmap", str(src), check=True)
    stop = time.monotonic() + 3
    errors = []

    def rebuild():
        n = 0
        while time.monotonic() < stop:
            src.write_text(bodies[n % 2])
            p = postern.run("postmap", str(src))
            if p.returncode != 0:
                errors.append("rebuild: " + p.stderr)
            n += 1

    t = threading.Thread(target=rebuild)
    t.start()
    reads = 0
    try:
        while time.monotonic() < stop:
            p = postern.run("postmap", "-q", "-", "hash:" + str(src), input="probe\nkey19999\n")
            reads += 1
            if p.returncode != 0 or p.stdout not in ("probe\tone\nkey19999\tone19999\n",
                                                    "probe\ttwo\nkey19999\ttwo19999\n"):
                errors.append(f"read: rc={p.returncode} out={p.stdout!r} err={p.stderr!r}")
    finally:
        t.join()
    assert reads > 5
    assert errors == []
    assert [f for f in os.listdir(tmp_path) if ".tmp." in f] == []
