"""The search evaluation set (bench/search_eval.yaml): its codes are real, and search meets the target on it."""

from __future__ import annotations

import functools

import pytest

from bench.search_eval import load_eval
from rvuedge.codes.search import search
from rvuedge.fees import parsers
from tests.conftest import CMS_DIR

ITEMS = load_eval()
TARGET_TOP3 = 0.95


@functools.cache
def descriptors() -> dict[str, str]:
    rvu = CMS_DIR / "rvu26c" / "PPRRVU2026_Jul_nonQPP.csv"
    hcpcs = CMS_DIR / "hcpcs2026jan" / "HCPC2026_JAN_ANWEB_01122026.txt"
    out = {r.hcpcs: r.description for r in parsers.PARSERS["pprrvu"](rvu.read_bytes(), rvu.name).rows
           if not r.modifier}
    for c in parsers.PARSERS["hcpcs"](hcpcs.read_bytes(), hcpcs.name).codes:
        out.setdefault(c.code, c.long_description)
    return out


def test_the_set_is_large_varied_and_well_formed():
    assert len(ITEMS) >= 300
    assert len({i["q"].lower() for i in ITEMS}) == len(ITEMS), "a query is listed twice"
    assert {i["who"] for i in ITEMS} == {"student", "resident", "attending", "coder"}
    assert all(i["codes"] and all(len(c) == 5 for c in i["codes"]) for i in ITEMS)


def test_every_acceptable_code_is_in_rvu26c_or_hcpcs_2026():
    known = descriptors()
    missing = sorted({(c, i["q"]) for i in ITEMS for c in i["codes"] if not known.get(c)})
    assert not missing, f"codes not in RVU26C nor in the 2026 HCPCS file: {missing[:20]}"


@pytest.mark.django_db
def test_top3_meets_the_target(rvu26c):
    misses = []
    for item in ITEMS:
        got = [r["code"] for r in search(item["q"], limit=3, count=False).results]
        if not set(got) & set(item["codes"]):
            misses.append((item["q"], got))
    rate = 1 - len(misses) / len(ITEMS)
    assert rate >= TARGET_TOP3, f"top-3 {rate:.1%} < {TARGET_TOP3:.0%}; misses: {misses}"
