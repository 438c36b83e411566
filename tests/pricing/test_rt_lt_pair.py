"""Issue 12, item 6: 64721-RT + 64721-LT (BILAT 1) on two lines are shown as one bilateral procedure, 100% on the
RT line and 50% on the LT line, so a reviewer comparing line by line sees the 150% rule, and the pair pays what
64721-50 pays, to the cent (real RVU25A rows)."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

import pytest

from rvuedge.fees.models import FeeRow
from rvuedge.fees.services import price_lines

pytestmark = pytest.mark.django_db
D = Decimal
CENT = D("0.01")


def _by_side(result):
    return {("RT" if "RT" in ln.modifiers else "LT"): ln for ln in result.lines}


@pytest.mark.parametrize("entry", ["64721-RT 64721-LT", "64721-LT 64721-RT"])
@pytest.mark.parametrize(("locality", "setting"), [("national", "non_facility"), ("13202-01", "facility")])
def test_rt_line_100_lt_line_50_whatever_the_order(entry, locality, setting):
    row = FeeRow.objects.get(release__name="RVU25A", hcpcs="64721", modifier="")
    assert (row.bilat_surg, row.mult_proc) == ("1", "2")
    pair = price_lines(entry, release="RVU25A", locality=locality, setting=setting).result
    fifty = price_lines("64721-50", release="RVU25A", locality=locality, setting=setting).result
    lines = _by_side(pair)
    fsa = lines["RT"].fee_schedule_amount
    assert lines["RT"].payment == fsa
    assert lines["LT"].payment == (fsa * D("0.5")).quantize(CENT, ROUND_HALF_UP)
    assert pair.total_payment == fifty.total_payment  # 150%, to the cent
    assert lines["RT"].wrvu_exact == row.work_rvu and lines["LT"].wrvu_exact == row.work_rvu * D("0.5")
    assert pair.total_wrvu_exact == fifty.total_wrvu_exact
    rt_step = next(s for s in lines["RT"].explanation if s.rule == "BILATERAL")
    lt_step = next(s for s in lines["LT"].explanation if s.rule == "BILATERAL")
    assert rt_step.text == ("RT and LT lines priced as one bilateral procedure (BILAT 1: 150%): 100% on this RT "
                            "line, 50% on the LT line")
    assert lt_step.text == ("RT and LT lines priced as one bilateral procedure (BILAT 1: 150%): 100% on the RT "
                            "line, 50% on this LT line")
    assert all("BILATERAL_RT_LT_PAIR" in ln.flags for ln in pair.lines)
    assert all(ln.explanation[-1].amount == ln.payment for ln in pair.lines)


def test_the_pair_is_ranked_as_one_procedure():
    # 27447 ranks first; the pair (one ranking unit at 150% of 64721) second: each of its lines -50%
    result = price_lines("27447 64721-RT 64721-LT", release="RVU25A", setting="facility").result
    lines = {(ln.code, ln.modifiers): ln for ln in result.lines}
    rt, lt = lines[("64721", ("RT",))], lines[("64721", ("LT",))]
    fsa = rt.fee_schedule_amount
    assert rt.rank == lt.rank == 2
    assert rt.payment == (fsa * D("0.5")).quantize(CENT, ROUND_HALF_UP)
    assert lt.payment == (fsa * D("0.25")).quantize(CENT, ROUND_HALF_UP)
