"""The entry point: ``price_encounter`` prices every line of an encounter through the stages, totals it, and
re-credits the wRVUs from other RVU releases when the credit policy freezes or blends them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from decimal import Decimal

from ..lookup import ChainLookup, RvuLookup
from ..model import Encounter, EncounterResult, LineResult, PricingError
from ..money import ONE, ZERO, fmt_exact, round_wrvu
from ..policy import CMS_MIRROR, Policy
from .constants import _NONE
from .context import _state_for
from .cross_line import _cross_line
from .finish import _finish
from .plans import _PLAN_UNITS_OK
from .ranking import _rank_simple, _rank_surgery
from .resolve import _resolve
from .steps import _unreduced, _wpush


def price_encounter(
    encounter: Encounter,
    lookup: RvuLookup,
    *,
    release_lookups: Mapping[str, RvuLookup] | None = None,
) -> EncounterResult:
    """Price every line of one encounter and credit its wRVUs.

    Raises :class:`PricingError` for an unknown code (with near matches), a deleted code or an invalid
    modifier combination. ``release_lookups`` supplies the RVU releases named by a frozen/blended credit policy
    (otherwise ``lookup.for_release(name)`` is asked).
    """
    policy = encounter.policy or CMS_MIRROR
    result = _price(encounter, lookup, policy)
    if policy.rvu_release.mode != "current":
        _release_credit(result, encounter, lookup, policy, release_lookups)
    return result


def _price(enc: Encounter, lookup: RvuLookup, policy: Policy, *, cache: bool = True) -> EncounterResult:
    st = _state_for(enc, lookup, policy, cache)
    plain = st.plain
    res = []
    scan = False  # some line needs _cross_line (resolved now, or more than the ranking can apply to it)
    addons = False  # some line may be an add-on code (GLOB DAYS ZZZ)
    ranked: list[LineResult] = []  # planned MULT PROC 2 lines
    n_rank = 0
    for i, ln in enumerate(enc.lines):
        plan = None
        if ln.setting is None and ln.pos is None:
            mods = ln.modifiers
            plan = plain.get((ln.code, mods) if mods else ln.code)
        if (plan is not None and ln.provider_type == "physician" and ln.days_furnished is None
                and not ln.incident_to and (ln.units == 1 or plan[_PLAN_UNITS_OK])):
            # A line like one resolved before in this context (same code and modifiers, nothing line-specific:
            # _plannable): the decisions _resolve took for it, from the plan it left; finished now unless its
            # rules left working state for _finish.
            r = LineResult(i, ln)
            row, r.status, r._fac, fsa, flags, na_note, _units_ok, w, rounded, r._mods, cross, addon, state = plan
            r.setting = st.setting
            r.row = row
            if flags:
                r._flags = list(flags)
            r.fee_schedule_amount = fsa
            r._kind = "price"
            r._ctx = st.ctx
            if na_note is not None:
                r._na_note = na_note
            r._session = ln.session or ""
            if state is not None:  # rules changed the line: their working state, for _finish
                parts, steps, wsteps, late, extras, r._null, r._excluded, r._pair = state
                if parts is not None:
                    r._p = [list(p) for p in parts]
                if steps:
                    r._steps = list(steps)
                if wsteps:
                    r._wsteps = list(wsteps)
                if late is not None:
                    r._late = list(late)
                if extras is not None:
                    r._extras = dict(extras)
            elif r.units == 1:
                r._done = 1
                r.payment_factor = ONE
                r.payment = fsa
                r.wrvu_exact = w
                r.wrvu = rounded
            else:
                r._done = 1
                _unreduced(r, fsa, w, r.units)
            if cross == 1:
                if not r._excluded:
                    ranked.append(r)
                    n_rank += r.units
            elif cross:
                scan = True
            if addon:
                addons = True
        else:
            r = _resolve(i, ln, st)
            scan = addons = True
        res.append(r)
    if len(res) > 1 or (res and res[0].units > 1):  # units of one line can be ranked too
        if scan or enc.separate_claims is not None:
            separate = _cross_line(res, st, enc)
        else:
            # Planned lines with at most MULT PROC 2 between them: no other cross-line rule applies, and they
            # cannot be separate claims (no component beside its global code, no split care, no anaesthesia,
            # no per-line setting), so _cross_line would only rank them.
            separate = None
            if n_rank > 1 and not _rank_simple(ranked, st):
                _rank_surgery(res, st, _NONE, _NONE)
    else:
        separate = "the lines are separate claims" if enc.separate_claims else None
    flags: list[str] = []
    total_payment: Decimal | None = ZERO
    total_wrvu = ZERO
    has_primary = None
    if len(res) == 1:  # the common single-line case: totals are the line's values
        r = res[0]
        done = r._done  # see LineResult._done
        if not done or (done == 1 and (r._p is not None or r._ranks is not None)):
            _finish(r, st)
        if addons and r._kind == "price" and r.row.glob_days == "ZZZ":  # type: ignore[union-attr]
            r.flags.append("ADDON_WITHOUT_PRIMARY")
        if separate is not None:
            return EncounterResult(res, None, r.wrvu, r.wrvu_exact, separate, ["SEPARATE_CLAIMS"], st.source_fn)
        note = "a line is contractor priced or priced by report" if r.payment is None else None
        return EncounterResult(res, r.payment, r.wrvu, r.wrvu_exact, note, [], st.source_fn)
    for r in res:
        done = r._done  # see LineResult._done
        if not done or (done == 1 and (r._p is not None or r._ranks is not None)):
            _finish(r, st)
        if addons and r._kind == "price" and r.row.glob_days == "ZZZ":  # type: ignore[union-attr]
            if has_primary is None:
                has_primary = any(x._kind == "price" and x.row.glob_days != "ZZZ" for x in res)  # type: ignore[union-attr]
            if not has_primary:
                r.flags.append("ADDON_WITHOUT_PRIMARY")
        if total_payment is not None:
            total_payment = None if r.payment is None else total_payment + r.payment
        total_wrvu += r.wrvu_exact
    note = None
    if separate is not None:
        total_payment = None
        note = separate
        flags.append("SEPARATE_CLAIMS")
    elif total_payment is None:
        note = "a line is contractor priced or priced by report"
    return EncounterResult(res, total_payment, round_wrvu(total_wrvu), total_wrvu, note, flags, st.source_fn)


def _release_credit(result: EncounterResult, enc: Encounter, lookup: RvuLookup, policy: Policy,
                    release_lookups: Mapping[str, RvuLookup] | None) -> None:
    spec = policy.rvu_release
    weights = [(spec.release, ONE)] if spec.mode == "frozen" else [(w.release, w.weight) for w in spec.releases]
    current_policy = replace(policy, rvu_release=CMS_MIRROR.rvu_release)
    per_release: list[tuple[str, Decimal, list[LineResult], set[str]]] = []
    for name, weight in weights:
        assert name is not None
        other = (release_lookups or {}).get(name)
        if other is None:
            finder = getattr(lookup, "for_release", None)
            other = finder(name) if finder else None
        if other is None:
            raise PricingError(f"the credit policy needs RVU release {name}, which is not loaded")
        chain = ChainLookup(other, lookup)
        priced = _price(replace(enc, policy=current_policy), chain, current_policy, cache=False)
        per_release.append((name, weight, priced.lines, chain.fell_back))
    total = ZERO
    for i, line in enumerate(result.lines):
        exact = ZERO
        parts = []
        for name, weight, lines, fell_back in per_release:
            value = lines[i].wrvu_exact
            exact += weight * value
            parts.append(f"{weight} x {name} {fmt_exact(value)}")
            if line.code in fell_back:
                line.flags.append(f"WRVU_RELEASE_FALLBACK_{name}")
        line.extras["release_wrvus"] = {name: fmt_exact(lines[i].wrvu_exact) for name, _w, lines, _f in per_release}
        line.wrvu_exact = exact
        line.wrvu = round_wrvu(exact)
        _wpush(line, ("RVU_RELEASE", spec.mode.upper(), None, exact, "credit from {}: {} = {}",
                      (spec.describe(), " + ".join(parts), fmt_exact(exact))))
        line._wexplanation = None
        total += exact
    result.total_wrvu_exact = total
    result.total_wrvu = round_wrvu(total)
