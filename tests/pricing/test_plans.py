"""The engine's per-context plans (a line like one resolved before is built from what resolving it decided)
must give exactly what resolving it afresh gives."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import pytest
from hypothesis import given

from rvuedge.pricing import Encounter, EncounterLine, engine
from rvuedge.pricing.engine import context, encounter, plans

from .test_properties import CAPS, LOOKUP, ROWS, SETTINGS, encounters


class _Forgetful(dict):  # type: ignore[type-arg]
    """A plan store that never remembers: every line is resolved from scratch."""

    def __setitem__(self, key: Any, value: Any) -> None:
        pass


def _dump(result: Any) -> str:
    return json.dumps(result.to_dict(True), sort_keys=True, default=str)


def _fresh(enc: Encounter, lookup: Any) -> str:
    original = encounter._state_for

    def no_plans(enc: Encounter, lookup: Any, policy: Any, cache: bool) -> Any:
        st = context._State(enc, lookup, policy, context._ctx_for(enc))
        st.plain = _Forgetful()
        return st

    encounter._state_for = no_plans  # type: ignore[assignment]
    try:
        return _dump(engine.price_encounter(enc, lookup))
    finally:
        encounter._state_for = original  # type: ignore[assignment]


@SETTINGS
@given(encounters())
def test_lines_built_from_plans_equal_lines_resolved_afresh(enc: Encounter) -> None:
    for lookup in (LOOKUP, CAPS):
        engine.price_encounter(enc, lookup)  # leaves plans for every plannable line of this context
        assert _dump(engine.price_encounter(enc, lookup)) == _fresh(enc, lookup)


@pytest.mark.parametrize("units", [1, 2, 3])
def test_a_repeated_line_in_one_encounter_uses_the_plan_only_where_it_may(units: int) -> None:
    # a two-unit line of a bilateral code is priced as bilateral: it must not reuse the one-unit line's plan
    bilateral = next(r for r in ROWS if r.bilat == "1" and r.status == "A" and r.mod == "" and r.mult_proc == "2")
    for mods in ((), ("59",)):
        enc = Encounter(lines=(EncounterLine(bilateral.code, mods), EncounterLine(bilateral.code, mods, units=units)),
                        setting="facility", conversion_factor=engine.CF_TABLE[2026][0])
        engine.price_encounter(enc, LOOKUP)
        assert _dump(engine.price_encounter(enc, LOOKUP)) == _fresh(enc, LOOKUP)


def test_plans_stay_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(plans, "_MAX_PLANS", 3)
    monkeypatch.setattr(plans, "_plan_count", 0)
    rows = [r for r in ROWS if r.status == "A" and r.mod == ""][:6]
    enc = Encounter(lines=tuple(EncounterLine(r.code) for r in rows), setting="facility",
                    conversion_factor=engine.CF_TABLE[2026][0])
    first = _dump(engine.price_encounter(enc, LOOKUP))
    other = replace(enc, setting="non_facility")
    engine.price_encounter(other, LOOKUP)
    total = sum(len(st.plain) for st in context._STATE_CACHE.values())
    assert total <= 3
    assert _dump(engine.price_encounter(enc, LOOKUP)) == first == _fresh(enc, LOOKUP)
