"""Issue 12, item 1: an endoscopy base billed with a member of its own family is not paid (real RVU25A files).

In the CMS files the bases carry MULT PROC 2 and no ENDO BASE (43235, 45378, 29870); only the members carry
MULT PROC 3 with ENDO BASE naming the base. The engine identifies a base as a code some MULT PROC 3 row names
as its ENDO BASE, whatever its own indicator.
"""

from __future__ import annotations

import json
from decimal import ROUND_HALF_UP, Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rvuedge.fees.models import FeeRow
from rvuedge.fees.services import get_release, price_lines

pytestmark = pytest.mark.django_db
CF = Decimal("32.3465")
CENT = Decimal("0.01")


def _fsa(code: str, fac: bool = True) -> Decimal:
    row = FeeRow.objects.get(release__name="RVU25A", hcpcs=code, modifier="")
    pe = row.fac_pe_rvu if fac else row.nonfac_pe_rvu
    return ((row.work_rvu + pe + row.mp_rvu) * CF).quantize(CENT, ROUND_HALF_UP)


@pytest.mark.parametrize("base", ["43235", "45378", "29870"])
def test_the_real_bases_carry_mult_proc_2_and_no_endo_base(base):
    row = FeeRow.objects.get(release__name="RVU25A", hcpcs=base, modifier="")
    assert (row.mult_proc, row.endo_base) == ("2", "")
    assert FeeRow.objects.filter(release__name="RVU25A", mult_proc="3", endo_base=base).exists()


@pytest.mark.parametrize(("member", "base"), [("43239", "43235"), ("45385", "45378"), ("29881", "29870")])
def test_base_billed_with_its_family_member_pays_and_credits_zero(member, base):
    priced = price_lines(f"{member} {base}", release="RVU25A", locality="national", setting="facility")
    lines = {ln.code: ln for ln in priced.result.lines}
    b, m = lines[base], lines[member]
    assert b.payment == Decimal("0.00") and b.wrvu_exact == 0
    assert "BASE_ENDOSCOPY_BUNDLED" in b.flags
    assert any("base endoscopy" in s.text and "no separate payment" in s.text for s in b.explanation)
    assert any("bundled into the family" in s.text for s in b.wrvu_steps)
    assert b.explanation[-1].amount == Decimal("0.00")
    # the member alone pays its full FSA and credits its full work RVU
    assert m.payment == _fsa(member)
    work = FeeRow.objects.get(release__name="RVU25A", hcpcs=member, modifier="").work_rvu
    assert m.wrvu_exact == work
    assert priced.result.total_payment == _fsa(member)


def test_43239_43235_national_facility_figures():
    priced = price_lines("43239 43235", release="RVU25A", locality="national", setting="facility")
    by = {ln.code: ln for ln in priced.result.lines}
    assert by["43235"].payment == Decimal("0.00")  # was $59.03 / 1.045 wRVU at 50%
    assert by["43235"].wrvu == Decimal("0.00")
    assert priced.result.total_payment == by["43239"].payment


def test_cli_45385_45378_pays_and_credits_the_base_zero():
    out = StringIO()
    call_command("price", "45385", "45378", "--release", "RVU25A", "--locality", "national", "--setting",
                 "facility", "--json", stdout=out)
    data = json.loads(out.getvalue())
    base = next(ln for ln in data["lines"] if ln["code"] == "45378")
    assert base["payment"] == "0.00"  # was $88.63 / 1.63 wRVU
    assert Decimal(base["wrvu_exact"]) == 0
    texts = " ".join(s["text"] for s in base["explanation"])
    assert "base endoscopy 45378 billed with its family members: no separate payment" in texts
    assert data["total_payment"] == str(_fsa("45385"))


def test_base_alone_or_with_an_unrelated_code_is_paid():
    alone = price_lines("45378", release="RVU25A", setting="facility").result
    assert alone.total_payment == _fsa("45378")
    other = price_lines("43239 45378", release="RVU25A", setting="facility").result  # 43239 is of 43235's family
    assert {ln.code: ln for ln in other.lines}["45378"].payment > 0


def test_two_members_and_the_base():
    priced = price_lines("45385 45380 45378", release="RVU25A", setting="facility").result
    by = {ln.code: ln for ln in priced.lines}
    assert by["45378"].payment == Decimal("0.00")
    top, second = sorted(("45385", "45380"), key=_fsa, reverse=True)
    assert by[top].payment == _fsa(top)
    assert by[second].payment == _fsa(second) - _fsa("45378")


def _families() -> list[tuple[str, list[str]]]:
    fams: dict[str, list[str]] = {}
    for code, base in FeeRow.objects.filter(release__name="RVU25A", mult_proc="3", modifier="", status="A") \
            .exclude(endo_base="").values_list("hcpcs", "endo_base"):
        if code != base:
            fams.setdefault(base, []).append(code)
    payable = set(FeeRow.objects.filter(release__name="RVU25A", hcpcs__in=list(fams), modifier="", status="A")
                  .values_list("hcpcs", flat=True))
    return sorted((b, sorted(m)) for b, m in fams.items() if b in payable)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                  HealthCheck.too_slow])
@given(data=st.data())
def test_adding_a_family_base_never_raises_the_total(data):
    families = _families()
    assert len(families) > 20
    base, members = data.draw(st.sampled_from(families))
    chosen = data.draw(st.lists(st.sampled_from(members), min_size=1, max_size=3, unique=True))
    others = data.draw(st.lists(st.sampled_from(["27447", "20610", "99214", "11042"]), max_size=2, unique=True))
    setting = data.draw(st.sampled_from(["facility", "non_facility"]))
    locality = data.draw(st.sampled_from(["national", "13202-01", "01112-65"]))
    release = get_release("RVU25A")
    codes = " ".join(chosen + others)
    without = price_lines(codes, release=release, locality=locality, setting=setting).result
    with_base = price_lines(f"{codes} {base}", release=release, locality=locality, setting=setting).result
    assert with_base.total_payment is not None and without.total_payment is not None
    assert with_base.total_payment <= without.total_payment
    assert with_base.total_wrvu_exact <= without.total_wrvu_exact
    assert {ln.code: ln for ln in with_base.lines}[base].payment == Decimal("0.00")


@pytest.mark.parametrize(("member", "base"), [("43239", "43235"), ("45385", "45378")])
def test_rvu26c_base_with_its_member_pays_zero(rvu26c, member, base):
    row = FeeRow.objects.get(release__name="RVU26C", hcpcs=base, modifier="")
    assert (row.mult_proc, row.endo_base) == ("2", "")
    result = price_lines(f"{member} {base}", release="RVU26C", locality="13202-01", setting="facility").result
    lines = {ln.code: ln for ln in result.lines}
    assert lines[base].payment == Decimal("0.00") and lines[base].wrvu_exact == 0
    assert result.total_payment == lines[member].payment == lines[member].fee_schedule_amount
