"""Plans: what resolving a line decided, kept per context so that later lines of the same kind are built from it
(see ``encounter._price``)."""

from __future__ import annotations

from typing import Any

from ..model import LineResult
from ..money import round_wrvu
from .constants import _CROSS_LINE_MULT
from .context import _LAST, _STATE_CACHE, _State

_PLAN_UNITS_OK = 6  # index in a plan (see _plan): may a line of more than one unit be built from it
#: Plans kept across all cached contexts (a plan is well under 1 KB). Line kinds are codes x modifier
#: combinations x contexts, so a long-running server stays bounded; past the budget every plan is dropped
#: (they are only a shortcut: lines are resolved afresh until they are planned again).
_MAX_PLANS = 200_000
_plan_count = 0


def _plannable(ln: Any) -> bool:
    """Nothing about the line is line-specific (its own setting or place of service, a non-physician provider,
    days furnished, incident-to), so a plan can stand for it. _price checks the same inline (hot path)."""
    return (ln.setting is None and ln.pos is None and ln.provider_type == "physician" and ln.days_furnished is None
            and not ln.incident_to)


def _remember(st: _State, key: Any, plan: tuple[Any, ...]) -> None:
    global _plan_count
    _plan_count += 1
    if _plan_count > _MAX_PLANS:
        for cached in [*_STATE_CACHE.values(), *(entry[1] for entry in _LAST.values())]:
            cached.plain.clear()
        st.plain.clear()  # also when this context is not cached (cache=False)
        _plan_count = 1
    st.plain[key] = plan


def _plan(r: LineResult, na_note: str | None, units_ok: bool, untouched: bool) -> tuple[Any, ...]:
    """What resolving this line decided, for the next line like it in the same context (see _price): its row,
    amounts and flags; ``cross`` the part such a line can take in cross-line rules: 0 none, 1 the
    multiple-procedure ranking only (MULT PROC 2), 2 anything else (endoscopy, imaging/therapy/
    cardiovascular/ophthalmology families, status T, an RT/LT pair, a component beside its global code,
    split care); ``addon`` whether it is an add-on code; the last item is None for a line nothing changed
    (finished when resolved) or else the working state its rules left (parts, explanation steps, later
    factors, extras, ...), copied for each new line."""
    row = r.row
    assert row is not None
    mp = row.mult_proc
    c = r._mods
    if r.status == "T" or c.comp or r._pair or c.split or (mp != "2" and mp in _CROSS_LINE_MULT):
        cross = 2
    else:
        cross = 1 if mp == "2" else 0
    state = None
    if not untouched:
        state = (None if r._p is None else tuple(tuple(p) for p in r._p), tuple(r._steps or ()),
                 tuple(r._wsteps or ()), None if r._late is None else tuple(r._late),
                 None if r._extras is None else dict(r._extras), r._null, r._excluded, r._pair)
    return (row, r.status, r._fac, r.fee_schedule_amount, tuple(r._flags or ()), na_note, units_ok, row.work_rvu,
            round_wrvu(row.work_rvu), r._mods, cross, row.glob_days == "ZZZ", state)
