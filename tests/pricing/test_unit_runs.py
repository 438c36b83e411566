"""Units are ranked as runs of equal units (issue 11): the engine's cost does not grow with a line's units.

The oracle is the engine as it was before the rewrite (tests/pricing/reference_engine_f9d6ca5.py, commit
f9d6ca5, which split a line into one part per unit): for random encounters with multi-unit lines - MULT PROC
2/3/4/5/6/7 codes, endoscopy families, bilateral and RT/LT lines, add-ons, components, roles, splits and
payment-neutral modifiers, under several credit policies - both must give the same ``to_dict()``: payments,
wRVUs, flags, extras and every explanation and wRVU step, text included. Then 999-unit lines of each kind are
priced within a small, fixed memory ceiling, keeping at most three parts per line.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tracemalloc
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from rvuedge.pricing import (
    MAX_UNITS,
    NO_REDUCTIONS,
    DictLookup,
    Encounter,
    EncounterLine,
    Policy,
    PricingError,
    RvuRow,
    parse_entry,
    price_encounter,
)

from . import reference_engine_f9d6ca5 as reference
from .fixture_rows import ANESTHESIA_BASE, parse_table
from .test_properties import CF, GPCIS, SETTINGS, _synthetic_rows

D = Decimal


def _pair(build: Any) -> tuple[Any, Any]:
    """The same table twice, as distinct RvuRow objects: a row caches its amounts per pricing context under
    ids each engine numbers on its own, so the two engines must never share a row."""
    return build(), build()


def _synthetic(caps: bool) -> DictLookup:
    extra: dict[str, Any] = {"opps_caps": {"93001-TC": "40.00", "93002": "60.00"}} if caps else {}
    return DictLookup(_synthetic_rows(), release="SYNTH", **extra)


def _spec_table() -> DictLookup:
    lookup = DictLookup.from_fixture([], anesthesia_base_units=ANESTHESIA_BASE, release="RVU26A",
                                     opps_caps={"74177-TC": "150.00"})
    for row in parse_table():
        lookup.add(row)
    return lookup


TABLES = [_pair(lambda: _synthetic(False)), _pair(lambda: _synthetic(True)), _pair(_spec_table)]
POLICIES = [
    None,
    NO_REDUCTIONS,
    Policy(name="custom", multiple_procedure_wrvu_factor=D("0.6"), by_report_unit_wrvu_factor=D("0.25"),
           bilateral=False, imaging_pc_mppr_applies_to_wrvu=False, npp_wrvu_factor=D("0.9"),
           increased_service_wrvu_factor=D("1.2"), split_shared_wrvu_factor=D("0.5")),
    Policy(name="no_mppr_credit", multiple_procedure=False, bilateral_wrvu_factor=D("1.75")),
]
NEUTRAL = ["51", "59", "XS", "XU", "25", "GC", "GP", "79", "22", "FS", "76"]


def _globals(rows: list[RvuRow]) -> tuple[list[RvuRow], list[RvuRow], frozenset[str]]:
    """Rows a line can name, those some cross-line rule ranks, and the codes with 26/TC rows."""
    usable = [row for row in rows if row.mod == "" and row.status != "D"]
    return usable, [row for row in usable if row.mult_proc in "234567"], frozenset(r.code for r in rows if r.mod)


ROWS = [_globals(_synthetic_rows()), _globals(_synthetic_rows()), _globals(parse_table())]


@st.composite
def unit_lines(draw: st.DrawFn, rows: tuple[list[RvuRow], list[RvuRow], frozenset[str]],
               provider: str) -> EncounterLine:
    usable, ranked, components = rows
    row = draw(st.one_of(st.sampled_from(ranked), st.sampled_from(ranked), st.sampled_from(usable)))
    mods: list[str] = []
    if row.pctc == "1" and row.code in components:
        comp = draw(st.sampled_from(["", "", "26", "TC"]))
        if comp:
            mods.append(comp)
    surgical = row.glob_days in ("000", "010", "090") and row.mult_proc in ("2", "3")
    if surgical:
        role = draw(st.sampled_from([None, None, None, None, "62", "80", "AS", "66"]))
        if role:
            mods.append(role)
        split = draw(st.sampled_from([None, None, None, None, None, "54", "55", "56", "78"]))
        if split and (row.pre_op or row.intra_op or row.post_op):
            mods.append(split)
        if draw(st.integers(0, 8)) == 0:
            mods.append(draw(st.sampled_from(["52", "53"])))
    if row.bilat in "0123" and row.status == "A":
        side = draw(st.sampled_from(["", "", "", "50", "RT", "LT", "RT+LT"]))
        mods.extend(m for m in side.split("+") if m)
    mods.extend(m for m in draw(st.lists(st.sampled_from(NEUTRAL), max_size=2, unique=True)) if m not in mods)
    units = draw(st.one_of(st.integers(1, 3), st.integers(1, 60)))
    session = draw(st.sampled_from([None, None, None, "a", "b"])) if row.mult_proc == "4" else None
    pos = draw(st.sampled_from([None, None, None, None, None, None, "11", "22"]))
    return EncounterLine(row.code, tuple(mods), units=units, provider_type=provider, session=session, pos=pos)


@st.composite
def unit_encounters(draw: st.DrawFn) -> tuple[int, Encounter]:
    table = draw(st.integers(0, len(TABLES) - 1))
    provider = draw(st.sampled_from(["physician", "physician", "physician", "np"]))
    items = draw(st.lists(unit_lines(ROWS[table], provider), min_size=1, max_size=7))
    enc = Encounter(lines=tuple(items), setting=draw(st.sampled_from(["facility", "non_facility"])),
                    gpci=draw(st.sampled_from(GPCIS)), conversion_factor=CF, qp=draw(st.booleans()),
                    policy=draw(st.sampled_from(POLICIES)))
    return table, enc


def _outcome(price: Any, enc: Encounter, lookup: DictLookup) -> str:
    try:
        result = price(enc, lookup)
    except PricingError as exc:
        return f"PricingError: {exc}"
    return json.dumps(result.to_dict(), sort_keys=False, default=str)


def _spec(entry: str, setting: str = "facility", policy: Policy | None = None) -> tuple[int, Encounter]:
    """An encounter on the spec table (pfs-rules 6.2 rows) from rapid-entry text."""
    return 2, Encounter(lines=parse_entry(entry).lines, setting=setting, gpci=GPCIS[0], conversion_factor=CF,
                        policy=policy)


@SETTINGS
@given(unit_encounters())
@example(_spec("27447x8 29881x3 20610x2"))  # a run across ranks 1 / 2-5 / 6+
@example(_spec("45378 45385x4 45380x2"))  # endoscopy family: the top member's run is split
@example(_spec("45378x2 45385x3 43239x2 43235 20610x2"))  # two families ranked with a MULT PROC 2 run
@example(_spec("97110x5 97140x3", "non_facility"))  # therapy: the highest-PE unit's run is split
@example(_spec("74177x3 71260-26x2 70450-TCx2", "non_facility"))  # imaging TC and PC rankings
@example(_spec("93306x3 93880-TCx2 92083x2 92133-26x2", "non_facility"))  # cardiovascular, ophthalmology
@example(_spec("27447-50x3 29881-RTx2 20610x4 11045x2", "facility", NO_REDUCTIONS))
@example(_spec("22551-62x4 22552-62x3 47562-80x7 44970-ASx2 23456-66x2"))  # roles rank per claim
def test_run_based_engine_equals_the_per_unit_engine(case: tuple[int, Encounter]) -> None:
    table, enc = case
    new, ref = TABLES[table]
    assert _outcome(price_encounter, enc, new) == _outcome(reference.price_encounter, enc, ref)


# ------------------------------------------------------------------------------------------ 999 units
LOOKUP, _UNUSED = TABLES[2]
#: Lines of MAX_UNITS units of each kind the issue names, with the other lines that make the rule apply.
KINDS = {
    "MULT PROC 2": "27447xN 29881 20610",
    "endoscopy family member": "45378 45385xN 45380 20610",
    "therapy 97110 (MULT PROC 5)": "97110xN 97140",
    "bilateral (modifier 50)": "27447-50xN 20610",
    "imaging (MULT PROC 4)": "74177xN 71260",
    "cardiovascular TC (MULT PROC 6)": "93306xN 93880-TC",
}
#: The most memory pricing one such encounter may take at its peak, caches warm: the engine's working state
#: does not grow with the units (3-7 KB at 999 units, as at 1 unit: the runs, their ranks and the
#: explanation are kept compact and listed only when read); each unit as its own part, as before issue 11,
#: took 280-600 KB.
PRICING_CEILING = 16 * 1024
#: The same with the result turned into the API's JSON (``to_dict``), which lists every unit's rank and
#: names them in the explanation, so it grows with the units by design (about 120 KB at 999 units).
JSON_CEILING = 256 * 1024


def _encounter(entry: str, units: int) -> Encounter:
    _t, enc = _spec(entry.replace("xN", f"x{units}"), "non_facility")
    return enc


def _peak(enc: Encounter, price: Any = price_encounter, lookup: DictLookup = LOOKUP,
          explain: bool = False) -> tuple[int, Any]:
    price(enc, lookup)  # caches (row amounts) warm, as in a running server
    tracemalloc.start()
    try:
        result = price(enc, lookup)
        if explain:
            result.to_dict()
        _size, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak, result


@pytest.mark.parametrize("kind", list(KINDS))
def test_a_line_of_999_units_prices_in_little_memory(kind: str) -> None:
    enc = _encounter(KINDS[kind], MAX_UNITS)
    peak, result = _peak(enc)
    assert peak < PRICING_CEILING, f"{kind}: peak {peak:,} bytes"
    json_peak, _result = _peak(enc, explain=True)
    assert json_peak < JSON_CEILING, f"{kind}: peak with to_dict {json_peak:,} bytes"
    line = next(line for line in result.lines if line.units == MAX_UNITS)
    assert line.wrvu_exact > 0 and line.explanation[-1].amount == line.payment
    assert line._p is not None and len(line._p) <= 3  # runs split at rank boundaries, never per unit


@pytest.mark.parametrize("kind", list(KINDS))
def test_the_memory_ceiling_catches_one_part_per_unit(kind: str) -> None:
    """The ceiling is not loose: the per-unit engine it replaces goes past it on the same encounter."""
    _t, ref = TABLES[2]
    peak, _result = _peak(_encounter(KINDS[kind], MAX_UNITS), reference.price_encounter, ref)
    assert peak > PRICING_CEILING, f"{kind}: peak {peak:,} bytes"


def test_999_units_give_the_figures_of_the_per_unit_engine() -> None:
    _t, ref = TABLES[2]
    for kind, entry in KINDS.items():
        enc = _encounter(entry, MAX_UNITS)
        assert _outcome(price_encounter, enc, LOOKUP) == _outcome(reference.price_encounter, enc, ref), kind


def test_a_run_across_the_rank_boundaries_keeps_its_explanation() -> None:
    # 27447 x8 ranks 1-8 (100%, 50% x4, by report x3) against 29881 (9th): three pieces, the same text as before
    enc = _encounter("27447xN 29881", 8)
    result = price_encounter(enc, LOOKUP)
    tka = result.lines[0]
    assert type(tka.extras["ranks"]) is list and tka.extras["ranks"] == [1, 2, 3, 4, 5, 6, 7, 8]
    assert tka.payment is None
    assert "MULTIPLE_PROCEDURE_BY_REPORT" in tka.flags
    steps = [s.text for s in tka.explanation if s.rule == "MULTIPLE_PROCEDURE"]
    assert steps == ["6th and later procedures: priced by report (contractor), rank 1, 2, 3, 4, 5, 6, 7, 8 of 9"]
    assert [p.units for p in tka._p] == [1, 4, 3]
    # 4 units: the first at 100%, the later ones at 50%
    two = price_encounter(_encounter("27447xN", 4), LOOKUP).lines[0]
    assert [s.text for s in two.explanation if s.rule == "MULTIPLE_PROCEDURE"] == [
        "first unit 100%, later units -50%, rank 1, 2, 3, 4 of 4"]
    assert two.extras["unit_factors"] == ["1", "0.5 x3"]


# ------------------------------------------------------------------------------------------ the bound, CLI
def _cli(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env["RVUEDGE_DATA_DIR"] = str(tmp_path)
    return subprocess.run([sys.executable, "-m", "rvuedge.cli", "price", *args], capture_output=True, text=True,
                          timeout=120, env=env)


def _scenario(tmp_path: Path, units: int) -> Path:
    path = tmp_path / f"units{units}.json"
    path.write_text(json.dumps({
        "lines": [{"code": "27447", "units": units}], "setting": "facility", "conversion_factor": "33.4009",
        "gpci": {"work": "1.000", "pe": "1.000", "mp": "1.000"},
        "rvu_fixture": [{"code": "27447", "work_rvu": "19.11", "pe_nonfac": "10.40", "pe_fac": "10.40",
                         "mp_rvu": "3.80", "mult_proc": "2", "glob_days": "090", "bilat": "1"}],
    }))
    return path


def test_rvuedge_price_refuses_1000_units(tmp_path: Path) -> None:
    proc = _cli(tmp_path, "27447x1000")
    assert proc.returncode != 0
    assert f"units must be 1..{MAX_UNITS}, got 1000" in proc.stderr and "Traceback" not in proc.stderr


def test_a_scenario_of_1000_units_is_refused_and_one_of_999_is_priced(tmp_path: Path) -> None:
    proc = _cli(tmp_path, "--scenario", str(_scenario(tmp_path, MAX_UNITS + 1)), "--json")
    assert proc.returncode != 0
    assert f"27447: units must be a whole number from 1 to {MAX_UNITS}, got 1000" in proc.stderr
    assert "Traceback" not in proc.stderr
    proc = _cli(tmp_path, "--scenario", str(_scenario(tmp_path, MAX_UNITS)), "--json")
    assert proc.returncode == 0, proc.stderr
    line = json.loads(proc.stdout)["lines"][0]
    # 1 x 19.11 + 4 x 9.555 (50%) + 994 x 9.555 (by report, credit x0.5): the units are ranked as procedures
    assert line["units"] == MAX_UNITS and line["wrvu_exact"] == "9555" and line["payment"] is None
    assert line["ranks"] == list(range(1, MAX_UNITS + 1)) and line["flags"] == ["MULTIPLE_PROCEDURE_BY_REPORT"]


def test_units_past_the_bound_are_refused() -> None:
    with pytest.raises(PricingError, match=f"units must be a whole number from 1 to {MAX_UNITS}"):
        EncounterLine("27447", units=MAX_UNITS + 1)
