"""RVU rows for the hand-checked rule tests: pfs-rules.md table 6.2 (illustrative values, not RVU26A)
plus a few synthetic rows (marked) for rules the spec table does not cover.

The unit-test fee set (tests/synthetic.py) is a selection of these rows, written as CMS files for the database
tests: change a row here and those tests' worked figures change with it."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from rvuedge.pricing import DictLookup, Encounter, Gpci, RvuRow, parse_entry

# code mod status work pe_nonfac pe_fac mp pctc glob pre/intra/post mult bilat asst co team extra
TABLE = """
99213 -  A 1.30 1.20 0.52 0.10 0 XXX - 0 9 9 9 9
99214 -  A 1.92 1.62 0.76 0.14 0 XXX - 0 9 9 9 9
99024 -  B 0.00 0.00 0.00 0.00 0 XXX - 0 9 9 9 9
99397 -  N 1.71 1.45 0.68 0.12 0 XXX - 0 9 9 9 9 notused
99243 -  I 1.72 1.30 0.70 0.15 0 XXX - 0 9 9 9 9 notused
0100T -  C 0.00 0.00 0.00 0.00 0 YYY - 0 9 9 9 9
3074F -  M 0.00 0.00 0.00 0.00 9 XXX - 0 9 9 9 9
71046 -  A 0.22 0.74 0.74 0.02 1 XXX - 0 9 9 9 9
71046 26 A 0.22 0.08 0.08 0.01 1 XXX - 0 9 9 9 9
71046 TC A 0.00 0.66 0.66 0.01 1 XXX - 0 9 9 9 9
74177 26 A 1.78 0.63 0.63 0.10 1 XXX - 4 3 9 9 9 img88
74177 TC A 0.00 6.20 6.20 0.03 1 XXX - 4 3 9 9 9 img88
74177 -  A 1.78 6.83 6.83 0.13 1 XXX - 4 3 9 9 9 img88
71260 26 A 1.20 0.43 0.43 0.07 1 XXX - 4 3 9 9 9 img88
71260 TC A 0.00 3.55 3.55 0.02 1 XXX - 4 3 9 9 9 img88
71260 -  A 1.20 3.98 3.98 0.09 1 XXX - 4 3 9 9 9 img88
70450 26 A 0.83 0.30 0.30 0.05 1 XXX - 4 3 9 9 9 img88
70450 TC A 0.00 2.40 2.40 0.02 1 XXX - 4 3 9 9 9 img88
70450 -  A 0.83 2.70 2.70 0.07 1 XXX - 4 3 9 9 9 img88
93306 26 A 1.46 0.55 0.55 0.07 1 XXX - 6 3 9 9 9
93306 TC A 0.00 3.55 3.55 0.01 1 XXX - 6 3 9 9 9
93306 -  A 1.46 4.10 4.10 0.08 1 XXX - 6 3 9 9 9
93880 26 A 0.80 0.30 0.30 0.05 1 XXX - 6 3 9 9 9
93880 TC A 0.00 4.20 4.20 0.02 1 XXX - 6 3 9 9 9
93880 -  A 0.80 4.50 4.50 0.07 1 XXX - 6 3 9 9 9
73562 -  A 0.18 0.95 0.95 0.02 1 XXX - 0 3 9 9 9
92250 -  A 0.40 1.10 1.10 0.02 1 XXX - 0 2 9 9 9
27447 -  A 19.11 10.40 10.40 3.80 0 090 0.10/0.70/0.20 2 1 2 1 0 nfna
29881 -  A 6.85 5.05 5.05 1.25 0 090 0.10/0.70/0.20 2 1 1 0 0 nfna
20610 -  A 0.77 0.88 0.37 0.08 0 000 0.10/0.80/0.10 2 1 1 0 0
47562 -  A 10.21 5.60 5.60 2.35 0 090 0.09/0.81/0.10 2 0 2 1 0 nfna
44970 -  A 9.26 5.10 5.10 2.10 0 090 0.09/0.81/0.10 2 0 2 1 0 nfna
49505 -  A 7.60 4.70 4.70 1.60 0 090 0.09/0.84/0.07 2 1 0 0 0 nfna
27310 -  A 9.05 6.00 6.00 1.90 0 090 0.09/0.75/0.16 2 1 2 0 0 nfna
22551 -  A 24.02 14.10 14.10 7.20 0 090 0.09/0.84/0.07 2 0 2 2 0 nfna
22552 -  A 6.16 2.45 2.45 1.75 0 ZZZ - 0 0 2 2 0 nfna
11042 -  A 1.01 2.35 0.62 0.12 0 000 - 2 0 1 9 9
11045 -  A 0.50 0.72 0.21 0.06 0 ZZZ - 0 0 1 9 9
11402 -  A 1.25 2.30 0.95 0.15 0 010 0.10/0.80/0.10 2 0 1 9 9
45378 -  A 3.18 6.50 1.40 0.25 0 000 - 3 9 9 9 9 endo45378
45378 53 A 1.55 3.30 0.72 0.12 0 000 - 3 9 9 9 9 endo45378
45380 -  A 3.47 7.10 1.52 0.27 0 000 - 3 9 9 9 9 endo45378
45385 -  A 4.46 7.90 1.88 0.35 0 000 - 3 9 9 9 9 endo45378
43235 -  A 2.19 5.00 1.05 0.17 0 000 - 3 9 9 9 9 endo43235
43239 -  A 2.43 7.20 1.12 0.18 0 000 - 3 9 9 9 9 endo43235
97110 -  A 0.45 0.42 0.17 0.02 7 XXX - 5 9 9 9 9
97140 -  A 0.43 0.36 0.15 0.02 7 XXX - 5 9 9 9 9
92083 -  A 0.50 1.00 1.00 0.02 1 XXX - 7 3 9 9 9
92083 26 A 0.50 0.20 0.20 0.01 1 XXX - 7 3 9 9 9
92083 TC A 0.00 0.80 0.80 0.01 1 XXX - 7 3 9 9 9
92133 -  A 0.35 0.90 0.90 0.02 1 XXX - 7 3 9 9 9
92133 26 A 0.35 0.15 0.15 0.01 1 XXX - 7 3 9 9 9
92133 TC A 0.00 0.75 0.75 0.01 1 XXX - 7 3 9 9 9
99091 -  T 1.10 0.60 0.60 0.06 0 XXX - 0 9 9 9 9
12345 -  A 1.00 1.00 0.50 0.10 0 000 - 2 0 9 9 9 fna
23456 -  A 8.00 4.00 4.00 1.00 0 090 0.10/0.80/0.10 2 1 2 2 2 nfna
99001 -  D 1.00 1.00 1.00 0.10 0 XXX - 0 9 9 9 9
"""
# Synthetic rows (not in table 6.2): 92083/92133 (ophthalmology MULT 7), 99091 (status T), 12345 (facility NA),
# 23456 (team surgery allowed), 99001 (deleted, status D).

ANESTHESIA_BASE = {"01402": "7", "00400": "3"}

NATIONAL = Gpci(Decimal("1.000"), Decimal("1.000"), Decimal("1.000"), locality="NATIONAL")
LOC_A = Gpci(Decimal("1.020"), Decimal("1.080"), Decimal("0.950"), locality="LOC_A")
CF = Decimal("33.4009")
DOS = dt.date(2026, 3, 15)


def parse_table(text: str = TABLE) -> list[RvuRow]:
    rows = []
    for line in text.strip().splitlines():
        f = line.split()
        code, mod, status, work, pen, pef, mp, pctc, glob, shares, mult, bilat, asst, co, team = f[:15]
        extra = f[15] if len(f) > 15 else ""
        pre = intra = post = "0"
        if shares != "-":
            pre, intra, post = shares.split("/")
        rows.append(
            RvuRow(
                code=code, mod="" if mod == "-" else mod, status=status, work_rvu=Decimal(work),
                pe_nonfac=Decimal(pen), pe_fac=Decimal(pef), mp_rvu=Decimal(mp), pctc=pctc, glob_days=glob,
                pre_op=Decimal(pre), intra_op=Decimal(intra), post_op=Decimal(post), mult_proc=mult, bilat=bilat,
                asst=asst, co_surg=co, team=team, nonfac_na=extra == "nfna", fac_na=extra == "fna",
                not_used_for_medicare=extra == "notused", dx_img_family="88" if extra == "img88" else "99",
                endo_base=extra[4:] if extra.startswith("endo") else "", release="RVU26A",
            )
        )
    return rows


def make_lookup(**kwargs: object) -> DictLookup:
    lookup = DictLookup.from_fixture([], anesthesia_base_units=ANESTHESIA_BASE, release="RVU26A", **kwargs)  # type: ignore[arg-type]
    for row in parse_table():
        lookup.add(row)
    return lookup


LOOKUP = make_lookup()


def encounter(entry: str, setting: str = "non_facility", gpci: Gpci = NATIONAL, **kwargs: object) -> Encounter:
    parsed = parse_entry(entry)
    lines = kwargs.pop("lines", parsed.lines)
    return Encounter(lines=lines, setting=setting, gpci=gpci, conversion_factor=CF,  # type: ignore[arg-type]
                     date_of_service=parsed.date_of_service or DOS, **kwargs)  # type: ignore[arg-type]
