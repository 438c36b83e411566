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
from .context import _State
from .cross_line import _cross_line
from .finish import _finish
from .resolve import _resolve
from .steps import _wpush


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


def _price(enc: Encounter, lookup: RvuLookup, policy: Policy) -> EncounterResult:
    st = _State(enc, lookup, policy)
    res = [_resolve(i, ln, st) for i, ln in enumerate(enc.lines)]
    separate = _claim_rules(res, st, enc)
    for r in res:
        if _needs_finish(r):
            _finish(r, st)
    _flag_addons_without_primary(res)
    return _totals(res, separate, st)


def _claim_rules(res: list[LineResult], st: _State, enc: Encounter) -> str | None:
    """Steps 6-7 across the lines (the units of one line can be ranked too); returns why the lines are separate
    claims, if they are."""
    if len(res) > 1 or (res and res[0].units > 1):
        return _cross_line(res, st, enc)
    return "the lines are separate claims" if enc.separate_claims else None


def _needs_finish(r: LineResult) -> bool:
    """Whether a line still needs :func:`_finish` (see ``LineResult._done``): it was not finished when resolved,
    or a cross-line rule touched it after that (left parts or ranks)."""
    done = r._done
    return not done or (done == 1 and (r._p is not None or r._ranks is not None))


def _flag_addons_without_primary(res: list[LineResult]) -> None:
    """An add-on code (GLOB DAYS ZZZ) priced with no primary procedure on the encounter."""
    addons = [r for r in res if r._kind == "price" and r.row.glob_days == "ZZZ"]  # type: ignore[union-attr]
    if addons and not any(r._kind == "price" and r.row.glob_days != "ZZZ" for r in res):  # type: ignore[union-attr]
        for r in addons:
            r.flags.append("ADDON_WITHOUT_PRIMARY")


def _totals(res: list[LineResult], separate: str | None, st: _State) -> EncounterResult:
    """The encounter's payment (None when the lines are separate claims or a line has no formula payment) and
    wRVUs."""
    total_payment: Decimal | None = ZERO
    total_wrvu = ZERO
    for r in res:
        if total_payment is not None:
            total_payment = None if r.payment is None else total_payment + r.payment
        total_wrvu += r.wrvu_exact
    flags: list[str] = []
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
        priced = _price(replace(enc, policy=current_policy), chain, current_policy)
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
