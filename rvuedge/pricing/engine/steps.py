"""Small shared pieces every stage uses: part arithmetic, explanation steps, scaling and denial, unit runs and
ranks, the tie-break, and finishing a line no rule reduced."""

from __future__ import annotations

import itertools
from decimal import Decimal
from typing import Any

from ..model import LineResult, Part, RvuRow
from ..money import ONE, ZERO, cents, mul_factor, round_wrvu
from ..policy import Policy
from .constants import MODIFIER_KINDS


def _part_amount(p: Part) -> Decimal:
    """Unrounded payment of a part (skipping Decimal multiplications by exactly 1: they are costly)."""
    x: Decimal = p.base if p.pay_factor is ONE else p.base * p.pay_factor
    return x if p.units == 1 else x * p.units


def _part_credit(p: Part) -> Decimal:
    x: Decimal = p.work if p.credit_factor is ONE else p.work * p.credit_factor
    return x if p.units == 1 else x * p.units


def _amount(parts: list[Part]) -> Decimal | None:
    if len(parts) == 1:
        return None if parts[0].by_report else _part_amount(parts[0])
    total = ZERO
    for p in parts:
        if p.by_report:
            return None
        total += _part_amount(p)
    return total


def _credit(parts: list[Part]) -> Decimal:
    if len(parts) == 1:
        return _part_credit(parts[0])
    total = ZERO
    for p in parts:
        total += _part_credit(p)
    return total


def _push(r: LineResult, step: tuple[Any, ...]) -> None:
    if r._steps is None:
        r._steps = [step]
    else:
        r._steps.append(step)


def _wpush(r: LineResult, step: tuple[Any, ...]) -> None:
    if r._wsteps is None:
        r._wsteps = [step]
    else:
        r._wsteps.append(step)


def _step(r: LineResult, rule: str, indicator: str | None, factor: Decimal | None, fmt: Any,
          *args: Any) -> None:
    """Record a payment step; ``fmt`` is a str.format template (list args are joined) or a callable."""
    _push(r, (rule, indicator, factor, None if r._null else _amount(r._parts), fmt, args))


def _wstep(r: LineResult, rule: str, indicator: str | None, factor: Decimal | None, fmt: Any,
           *args: Any) -> None:
    _wpush(r, (rule, indicator, factor, _credit(r._parts), fmt, args))


def _scale(r: LineResult, pay: Decimal | None, credit: Decimal | None) -> None:
    for p in r._parts:
        if pay is not None:
            p.pay_factor = mul_factor(p.pay_factor, pay)
        if credit is not None:
            p.credit_factor = mul_factor(p.credit_factor, credit)


def _deny(r: LineResult, flag: str, rule: str, indicator: str, text: str) -> None:
    """Not payable (and not credited): factor 0, out of ranking."""
    for p in r._parts:
        p.pay_factor = ZERO
        p.credit_factor = ZERO
    r._excluded = True
    r.flags.append(flag)
    _step(r, rule, indicator, ZERO, text)
    _wstep(r, rule, indicator, ZERO, text)


def _incident_to_in_facility(r: LineResult, policy: Policy) -> None:
    """A PC/TC 5 (incident-to) code for a facility patient: Medicare pays 0 (pfs-rules 1.5) and the line leaves
    the ranking; its credit follows the policy's ``incident_to_facility_wrvu`` ("none" or "full")."""
    full = policy.incident_to_facility_wrvu == "full"
    credit = ONE if full else ZERO
    for p in r._parts:
        p.pay_factor = ZERO
        p.credit_factor = credit
    r._excluded = True
    r.flags.append("INCIDENT_TO_CODE_IN_FACILITY")
    _step(r, "PCTC", "PCTC 5", ZERO, "PC/TC 5 incident-to code: not payable for a facility patient (Medicare pays "
          "0 in a facility)")
    _wstep(r, "PCTC", "PCTC 5", credit, "PC/TC 5 incident-to code for a facility patient: {} (policy "
           "incident_to_facility_wrvu: {})", "full work RVU credited" if full else "no wRVU credit",
           policy.incident_to_facility_wrvu)


def _runs(r: LineResult) -> list[Part]:
    """The line's parts as runs of equal units, for ranking units as separate services: a part of n units is
    a run that takes n consecutive ranks, and a rank boundary splits it (:func:`_split`) into at most three
    pieces, never into one part per unit, so the cost does not grow with the units. A line whose units are
    ranked so is merged in :func:`_finish` as a line of several parts is (``_runs``), as it was when each unit
    had its own part."""
    parts = r._parts
    for p in parts:
        if p.units != 1:
            r._runs = True
            break
    return parts


def _split(r: LineResult, p: Part, first: int) -> Part:
    """Split the run ``p`` after its ``first`` units: ``p`` keeps them and a copy placed right after it in the
    line's parts (so the parts stay in unit order) takes the rest; returns the copy."""
    q = p.copy()
    q.units = p.units - first
    p.units = first
    parts = r._parts
    for i, x in enumerate(parts):
        if x is p:  # by identity: another part may hold equal values
            parts.insert(i + 1, q)
            break
    return q


def _unit_amount(p: Part) -> Decimal:
    """Unrounded payment of one unit of a part."""
    return p.base if p.pay_factor is ONE else p.base * p.pay_factor


def _unit_credit(p: Part) -> Decimal:
    return p.work if p.credit_factor is ONE else p.work * p.credit_factor


class _Ranks:
    """A line's ranks, one per ranked unit in the order they were given, kept as runs ``(first, count, step)``:
    ``first, first + step, ...`` (step 1 for the consecutive units of a run, 0 for the units of a collapsed
    endoscopy family, which share its rank). Formats as the comma-separated list of every rank (the
    explanation shows them so) when an explanation is read; ``extras["ranks"]`` lists them when read."""

    __slots__ = ("runs", "count", "low", "high")

    def __init__(self, first: int, count: int, step: int):
        self.runs = [(first, count, step)]
        self.count = count
        self.low = first
        self.high = first + (count - 1) * step

    def add(self, first: int, count: int, step: int) -> None:
        f, c, s = self.runs[-1]
        if s == step and first == f + c * s:
            self.runs[-1] = (f, c + count, s)
        else:
            self.runs.append((first, count, step))
        self.count += count
        if first < self.low:
            self.low = first
        last = first + (count - 1) * step
        if last > self.high:
            self.high = last

    def __len__(self) -> int:
        return self.count

    def to_list(self) -> list[int]:
        out: list[int] = []
        for first, count, step in self.runs:
            out.extend(range(first, first + count) if step else itertools.repeat(first, count))
        return out

    def __str__(self) -> str:
        return ", ".join(map(str, self.to_list()))


def _add_ranks(r: LineResult, first: int, count: int, step: int = 1) -> None:
    ranks = r._ranks
    if ranks is None:
        r._ranks = _Ranks(first, count, step)
    else:
        ranks.add(first, count, step)


def _tiebreak(r: LineResult) -> tuple[Any, ...]:
    """Deterministic, order-independent tie-break between equally valued units: every input that can change
    a line's outcome, so that lines tied on all of them are interchangeable."""
    ln = r.line
    mods = tuple(sorted(m for m in r.modifiers if m in MODIFIER_KINDS))  # payment-neutral ones never count
    return (r.code, r.row.mod if r.row else "", mods, r.units, ln.provider_type,
            ln.session or "", ln.days_furnished or 0, r.setting or "", ln.incident_to, ln.minutes or 0)


def _glob_days(row: RvuRow) -> int | None:
    return int(row.glob_days) if row.glob_days.isdigit() else None


def _late(r: LineResult, item: tuple[Any, ...]) -> None:
    if r._late is None:
        r._late = [item]
    else:
        r._late.append(item)


def _unreduced(r: LineResult, fsa: Decimal, w: Decimal, n: int) -> None:
    """A line no rule reduced: payment = FSA x units (the FSA is already in cents), credit = work x units."""
    r.payment_factor = ONE
    if n == 1:
        r.payment = fsa
        r.wrvu_exact = w
        cache = r.row._cache  # type: ignore[union-attr]
        rounded = cache.get(-1)  # the row's rounded work RVU, kept beside its amounts
        if rounded is None:
            rounded = cache[-1] = round_wrvu(w)
        r.wrvu = rounded
    else:
        r.payment = cents(fsa * n)
        r.wrvu_exact = exact = w * n
        r.wrvu = round_wrvu(exact)


def _extra(r: LineResult, key: str, value: Any) -> None:
    """Set an extra field without reading ``extras`` (which would list ``ranks``, kept as runs until read)."""
    extras = r._extras
    if extras is None:
        r._extras = {key: value}
    else:
        extras[key] = value
