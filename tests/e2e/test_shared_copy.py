"""test_shared_copy.py - tests/shared must stay an exact copy of ../shared (when that exists).

The tests read the reference data from ../shared when it sits beside the checkout and from the
copy in tests/shared otherwise (conftest.SHARED): both must hold the same bytes.
"""
import filecmp
import pathlib

import pytest

from conftest import ROOT

OUTSIDE = ROOT.parent / "shared"
COPY = ROOT / "tests" / "shared"


def files(base):
    return sorted(p.relative_to(base) for p in base.rglob("*") if p.is_file())


@pytest.mark.skipif(not (OUTSIDE / "howto").is_dir(), reason="no ../shared beside this checkout")
@pytest.mark.parametrize("part", ["howto", "vectors"])
def test_copy_matches(part):
    a, b = OUTSIDE / part, COPY / part
    fa, fb = files(a), files(b)
    assert fa == fb, "tests/shared/%s lists other files than ../shared/%s" % (part, part)
    for rel in fa:
        assert filecmp.cmp(a / rel, b / rel, shallow=False), "tests/shared/%s/%s differs" % (part, rel)
