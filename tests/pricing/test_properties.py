"""Property tests over random encounters drawn from a synthetic RVU table (made-up codes and values)."""

from __future__ import annotations

import os
import random
from dataclasses import replace
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rvuedge.pricing import (
    NO_REDUCTIONS,
    DictLookup,
    Encounter,
    EncounterLine,
    EncounterResult,
    Gpci,
    RvuRow,
    price_encounter,
)

D = Decimal
CF = D("33.4009")
# RVUEDGE_HYPOTHESIS_EXAMPLES=2000 for a deeper run.
SETTINGS = settings(max_examples=int(os.environ.get("RVUEDGE_HYPOTHESIS_EXAMPLES", "100")), deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _money(rng: random.Random, low: float, high: float) -> Decimal:
    return D(f"{rng.uniform(low, high):.2f}")


def _synthetic_rows() -> list[RvuRow]:
    rng = random.Random(20260315)
    rows: list[RvuRow] = []

    def add(code: str, **kw: object) -> None:
        kw.setdefault("work_rvu", _money(rng, 0.1, 4))
        kw.setdefault("pe_nonfac", _money(rng, 0.1, 4))
        kw.setdefault("pe_fac", _money(rng, 0.1, 2))
        kw.setdefault("mp_rvu", _money(rng, 0.01, 0.5))
        rows.append(RvuRow(code=code, **kw))  # type: ignore[arg-type]

    for i in range(4):  # E/M-like
        add(f"9000{i}", pctc="0", mult_proc="0", bilat="9")
    for i in range(8):  # surgery, MULT 2, every indicator combination drawn at random
        add(f"9100{i}", pctc="0", glob_days=rng.choice(["000", "010", "090"]), pre_op=D("0.10"), intra_op=D("0.70"),
            post_op=D("0.20"), mult_proc="2", bilat=rng.choice("01239"), asst=rng.choice("0129"),
            co_surg=rng.choice("0129"), team=rng.choice("0129"), nonfac_na=rng.random() < 0.3,
            work_rvu=_money(rng, 2, 25), pe_nonfac=_money(rng, 2, 15), pe_fac=_money(rng, 2, 12))
    for i in range(2):  # add-ons
        add(f"9110{i}", pctc="0", glob_days="ZZZ", mult_proc="0", bilat="0", asst="2", co_surg="1", team="0")
    for base, members in (("92000", ("92001", "92002")), ("92100", ("92101",))):  # endoscopy families
        add(base, pctc="0", glob_days="000", mult_proc="3", endo_base=base, bilat="9", work_rvu=D("2.00"),
            pe_nonfac=D("4.00"), pe_fac=D("1.00"), mp_rvu=D("0.20"))
        for code in members:
            add(code, pctc="0", glob_days="000", mult_proc="3", endo_base=base, bilat="9",
                work_rvu=_money(rng, 2.1, 5), pe_nonfac=_money(rng, 4.1, 8), pe_fac=_money(rng, 1.1, 2))
    triples = [(f"9300{i}", "4") for i in range(4)] + [("93101", "6"), ("93102", "6"), ("93201", "7"),
                                                       ("93202", "7"), ("96001", "0")]
    for code, mult in triples:  # diagnostic tests with PC and TC rows; global = PC + TC
        work, pe_pc, mp_pc = _money(rng, 0.2, 2), _money(rng, 0.1, 1), _money(rng, 0.01, 0.1)
        pe_tc, mp_tc = _money(rng, 0.5, 7), _money(rng, 0.01, 0.05)
        common = dict(pctc="1", mult_proc=mult, bilat="3", dx_img_family="88" if mult == "4" else "99")
        add(code, work_rvu=work, pe_nonfac=pe_pc + pe_tc, pe_fac=pe_pc + pe_tc, mp_rvu=mp_pc + mp_tc, **common)
        add(code, mod="26", work_rvu=work, pe_nonfac=pe_pc, pe_fac=pe_pc, mp_rvu=mp_pc, **common)
        add(code, mod="TC", work_rvu=ZERO, pe_nonfac=pe_tc, pe_fac=pe_tc, mp_rvu=mp_tc, **common)
    for i in range(3):  # therapy
        add(f"9400{i}", pctc="7", mult_proc="5", bilat="9")
    for i, status in enumerate("BNCMTI"):
        add(f"9500{i}", status=status, pctc="0", mult_proc="0", bilat="9", not_used_for_medicare=status in "NI")
    return rows


ZERO = D("0")
ROWS = _synthetic_rows()
LOOKUP = DictLookup(ROWS, release="SYNTH")
GLOBAL_ROWS = [row for row in ROWS if row.mod == ""]
CAPS = DictLookup(ROWS, release="SYNTH", opps_caps={"93001-TC": "40.00", "93002": "60.00"})
GPCIS = [
    Gpci(D("1.000"), D("1.000"), D("1.000"), locality="NATIONAL"),
    Gpci(D("1.020"), D("1.080"), D("0.950"), locality="LOC_A"),
    Gpci(D("1.000"), D("0.880"), D("0.600"), work_no_floor=D("0.962"), locality="LOC_FLOOR"),
]
NEUTRAL = ["25", "57", "24", "GC", "GP", "79", "58", "76", "77", "51"]


@st.composite
def lines(draw: st.DrawFn, provider: str = "physician") -> EncounterLine:
    row = draw(st.sampled_from(GLOBAL_ROWS))
    mods: list[str] = []
    if row.pctc == "1":
        comp = draw(st.sampled_from(["", "", "26", "TC"]))
        if comp:
            mods.append(comp)
    surgical = row.glob_days in ("000", "010", "090") and row.mult_proc == "2"
    if surgical:
        role = draw(st.sampled_from([None, None, None, "62", "80", "AS", "66"]))
        if role:
            mods.append(role)
        split = draw(st.sampled_from([None, None, None, "54", "55", "56", "78"]))
        if split:
            mods.append(split)
    if row.bilat in "0123" and row.status == "A" and draw(st.integers(0, 4)) == 0:
        mods.append("50")
    if surgical and draw(st.integers(0, 6)) == 0:
        mods.append("52")
    mods.extend(draw(st.lists(st.sampled_from(NEUTRAL), max_size=2, unique=True)))
    if row.mult_proc == "4" and draw(st.integers(0, 3)) == 0:
        mods.append("59")
    units = draw(st.integers(1, 3))
    return EncounterLine(row.code, tuple(mods), units=units, provider_type=provider)


@st.composite
def encounters(draw: st.DrawFn) -> Encounter:
    provider = draw(st.sampled_from(["physician", "physician", "np", "pa"]))
    items = draw(st.lists(lines(provider), min_size=1, max_size=6))
    return Encounter(
        lines=tuple(items),
        setting=draw(st.sampled_from(["facility", "non_facility"])),
        gpci=draw(st.sampled_from(GPCIS)),
        conversion_factor=CF,
        qp=draw(st.booleans()),
    )


def _price(enc: Encounter, lookup: DictLookup = LOOKUP) -> EncounterResult:
    return price_encounter(enc, lookup)


@SETTINGS
@given(encounters())
def test_payment_and_credit_are_never_negative(enc: Encounter) -> None:
    result = _price(enc, CAPS)
    for line in result.lines:
        assert line.payment is None or line.payment >= 0
        assert line.wrvu_exact >= 0 and line.wrvu >= 0
        assert line.fee_schedule_amount is None or line.fee_schedule_amount >= 0
    assert result.total_payment is None or result.total_payment >= 0
    assert result.total_wrvu_exact == sum((line.wrvu_exact for line in result.lines), ZERO)


@SETTINGS
@given(encounters(), st.randoms(use_true_random=False))
def test_line_order_never_changes_totals(enc: Encounter, rnd: random.Random) -> None:
    shuffled = list(enc.lines)
    rnd.shuffle(shuffled)
    a = _price(enc)
    b = _price(replace(enc, lines=tuple(shuffled)))
    assert a.total_payment == b.total_payment
    assert a.total_wrvu_exact == b.total_wrvu_exact


@SETTINGS
@given(encounters())
def test_no_reductions_credits_at_least_cms_mirror(enc: Encounter) -> None:
    mirror = _price(enc)
    full = _price(replace(enc, policy=NO_REDUCTIONS))
    assert full.total_wrvu_exact >= mirror.total_wrvu_exact
    for a, b in zip(mirror.lines, full.lines, strict=True):
        assert b.wrvu_exact >= a.wrvu_exact, (a, b)
        assert a.payment == b.payment  # a credit policy never changes Medicare's payment


@SETTINGS
@given(encounters(), st.data())
def test_a_payment_neutral_modifier_changes_no_amount(enc: Encounter, data: st.DataObject) -> None:
    index = data.draw(st.integers(0, len(enc.lines) - 1))
    line = enc.lines[index]
    extra = data.draw(st.sampled_from([m for m in NEUTRAL if m not in line.modifiers]))
    changed = list(enc.lines)
    changed[index] = replace(line, modifiers=(*line.modifiers, extra))
    a = _price(enc)
    b = _price(replace(enc, lines=tuple(changed)))
    assert a.total_payment == b.total_payment and a.total_wrvu_exact == b.total_wrvu_exact
    for x, y in zip(a.lines, b.lines, strict=True):
        assert (x.payment, x.wrvu_exact, x.fee_schedule_amount) == (y.payment, y.wrvu_exact, y.fee_schedule_amount)


UNREDUCED = [row for row in GLOBAL_ROWS if row.mult_proc in ("0", "9") and row.bilat == "9" and row.status == "A"
             and row.pctc != "1"]


@SETTINGS
@given(st.sampled_from(UNREDUCED), st.integers(1, 50), st.sampled_from(GPCIS),
       st.sampled_from(["facility", "non_facility"]))
def test_units_scale_linearly_where_nothing_is_reduced(row: RvuRow, units: int, gpci: Gpci, setting: str) -> None:
    def run(n: int) -> EncounterResult:
        return _price(Encounter(lines=(EncounterLine(row.code, units=n),), setting=setting, gpci=gpci,
                                conversion_factor=CF))

    one, many = run(1), run(units)
    assert many.total_payment == one.total_payment * units  # type: ignore[operator]
    assert many.total_wrvu_exact == one.total_wrvu_exact * units


@SETTINGS
@given(encounters())
def test_explanations_end_on_the_line_results(enc: Encounter) -> None:
    for policy in (None, NO_REDUCTIONS):
        result = _price(replace(enc, policy=policy), CAPS)
        for line in result.lines:
            assert line.explanation[-1].amount == line.payment, line.explanation
            assert line.wrvu_steps[-1].amount == line.wrvu_exact, line.wrvu_steps
            assert line.wrvu == line.wrvu_exact.quantize(D("0.01"), rounding="ROUND_HALF_UP")
        result.to_dict()
