"""conftest.py - shared fixtures for Postern's end-to-end tests (pytest, Python stdlib only).

The binary under test is $POSTERN_BIN (make check passes the ASan/UBSan build), else build/postern.
Run: /usr/bin/python3 -m pytest tests/e2e
"""
import os
import pathlib
import shutil
import subprocess

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
# the project's reference data: ../shared beside the checkout, else the copy in tests/shared
SHARED = ROOT.parent / "shared"
if not (SHARED / "howto").is_dir():
    SHARED = ROOT / "tests" / "shared"
HOWTO = SHARED / "howto"


def postern_bin():
    return os.environ.get("POSTERN_BIN") or str(ROOT / "build" / "postern")


class Postern:
    """Runs `postern` with a given configuration directory."""

    def __init__(self, config_dir):
        self.config_dir = pathlib.Path(config_dir)

    def run(self, *args, input=None, check=False, env=None):
        e = dict(os.environ)
        e.pop("POSTERN_CONFIG", None)
        e.setdefault("ASAN_OPTIONS", "detect_leaks=1")
        if env:
            e.update(env)
        p = subprocess.run([postern_bin(), "-c", str(self.config_dir), *args], input=input,
                           capture_output=True, text=True, env=e, timeout=120)
        # a sanitizer report is always a failure, whatever the exit code
        assert "ERROR: AddressSanitizer" not in p.stderr, p.stderr
        assert "runtime error:" not in p.stderr, p.stderr
        if check:
            assert p.returncode == 0, p.stderr
        return p


@pytest.fixture
def postern(tmp_path):
    return Postern(tmp_path)
