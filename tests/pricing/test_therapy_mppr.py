"""Issue 12, item 4: a therapy unit after the highest-PE unit (MULT PROC 5) is priced from its own RVUs with the
PE halved - (work x GPCIw + 0.5 x PE x GPCIpe + MP x GPCImp) x CF, rounded once - on the real RVU25A rows, not as
"rounded FSA minus half the rounded PE amount" (which drifts a cent in most localities)."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

import pytest

from rvuedge.fees.models import FeeRow
from rvuedge.fees.services import get_release, localities, price_lines, resolve_locality

pytestmark = pytest.mark.django_db
D = Decimal
CENT = D("0.01")
INDIANA = "08102-00"  # RVU25A GPCIs: work 1.000, PE 0.922, MP 0.485; CF 32.3465


def _line(result, code):
    return next(ln for ln in result.lines if ln.code == code)


def test_rvu25a_rows_as_the_hand_computations_use_them():
    rows = {r.hcpcs: (r.work_rvu, r.nonfac_pe_rvu, r.mp_rvu, r.mult_proc) for r in FeeRow.objects.filter(
        release__name="RVU25A", hcpcs__in=["97110", "97140", "97530"], modifier="")}
    assert rows == {"97110": (D("0.45"), D("0.43"), D("0.01"), "5"), "97140": (D("0.43"), D("0.40"), D("0.01"), "5"),
                    "97530": (D("0.44"), D("0.62"), D("0.01"), "5")}
    g = resolve_locality(get_release("RVU25A"), INDIANA).gpci
    assert (g.work, g.pe, g.mp) == (D("1.000"), D("0.922"), D("0.485"))


def test_three_therapy_codes_in_indiana_non_facility():
    # 97530 has the highest PE (0.62): paid in full, (0.44 + 0.62 x 0.922 + 0.01 x 0.485) x 32.3465
    #   = 1.01649 x 32.3465 = 32.8799... -> 32.88
    # 97110 reduced: (0.45 + 0.5 x 0.43 x 0.922 + 0.01 x 0.485) x 32.3465 = 0.65308 x 32.3465 = 21.1247 -> 21.12
    #   (the old way: FSA 27.54 - 0.5 x PE amount 12.82 = 27.54 - 6.41 = 21.13, a cent high)
    # 97140 reduced: (0.43 + 0.5 x 0.40 x 0.922 + 0.01 x 0.485) x 32.3465 = 0.61925 x 32.3465 = 20.0306 -> 20.03
    #   (the old way: 26.00 - 0.5 x 11.93 = 20.035 -> 20.04)
    result = price_lines("97530-GP 97110-GP 97140-GP", release="RVU25A", locality=INDIANA,
                         setting="non_facility").result
    assert _line(result, "97530").payment == D("32.88")
    assert _line(result, "97110").payment == D("21.12")
    assert _line(result, "97140").payment == D("20.03")
    assert result.total_payment == D("74.03")
    assert result.total_wrvu_exact == D("1.32")  # work never cut
    t110 = _line(result, "97110")
    assert t110.extras["formula"] == "(work + 0.50*PE + MP) x GPCIs x CF"
    assert any("half the PE" in s.text and s.text.endswith("= 21.12") for s in t110.explanation)
    assert t110.explanation[-1].amount == D("21.12")


def test_units_of_one_code_after_its_first():
    # 97110 x3 in Indiana: first unit (0.45 + 0.43 x 0.922 + 0.00485) x 32.3465 = 0.85131 x 32.3465 = 27.5369
    # -> 27.54; the two others 21.12 each (above): 27.54 + 42.24 = 69.78 (old: 27.54 + 2 x 21.13 = 69.80)
    result = price_lines("97110-GPx3", release="RVU25A", locality=INDIANA, setting="non_facility").result
    assert result.total_payment == D("69.78")


def test_rest_of_maryland_facility():
    # 12302-99 (work GPCI 1.012): the facility PE of 97140 (0.40), halved, one rounding
    release = get_release("RVU25A")
    loc = resolve_locality(release, "12302-99")
    g = loc.gpci
    cf = release.conv_factor
    result = price_lines("97530-GP 97140-GP", release=release, locality=loc, setting="facility").result
    reduced = ((D("0.43") * g.work + D("0.5") * D("0.40") * g.pe + D("0.01") * g.mp) * cf).quantize(CENT, ROUND_HALF_UP)
    assert _line(result, "97140").payment == reduced


def test_every_locality_reduced_unit_is_the_formula():
    release = get_release("RVU25A")
    cf = release.conv_factor
    drifted = 0
    for item in localities(release):
        loc = resolve_locality(release, item["key"])
        g = loc.gpci
        gw = max(g.work, D("1.000"))
        result = price_lines("97530-GP 97110-GP", release=release, locality=loc, setting="non_facility").result
        expected = ((D("0.45") * gw + D("0.5") * D("0.43") * g.pe + D("0.01") * g.mp) * cf).quantize(
            CENT, ROUND_HALF_UP)
        assert _line(result, "97110").payment == expected, item["key"]
        fsa = ((D("0.45") * gw + D("0.43") * g.pe + D("0.01") * g.mp) * cf).quantize(CENT, ROUND_HALF_UP)
        old = (fsa - D("0.5") * (D("0.43") * g.pe * cf).quantize(CENT, ROUND_HALF_UP)).quantize(CENT, ROUND_HALF_UP)
        drifted += old != expected
    assert drifted > 10  # the old arithmetic was a cent off in many localities
