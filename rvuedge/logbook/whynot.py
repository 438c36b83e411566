"""The Django side of :mod:`rvuedge.logbook.rules`: fee-row facts of a release and the user's own log around a date.

Rapid entry, the API ``check`` endpoint and the import preview call :func:`entry_findings` (warnings for the lines
being typed, with the user's logged encounters as context); reconciliation calls :func:`log_findings` (every
finding of the log over a report's dates). Nothing here writes.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any

from rvuedge.fees.models import Release
from rvuedge.fees.services import DbLookup

from .models import ASSISTED, FIRST_ASSIST, OBSERVED, EncounterLine
from .rules import Fact, Finding, Line, check

#: Roles whose procedures start no global period of the clinician's own (the surgeon's package).
ASSISTING = frozenset({ASSISTED, FIRST_ASSIST})
#: How far around a date the log is read: a 090 global reaches 90 days back, and the day before a 090 one forward.
BEFORE, AFTER = dt.timedelta(days=91), dt.timedelta(days=1)


def facts_for(release: Release, codes: Iterable[str]) -> dict[str, Fact]:
    """code -> the rules' facts of its global row (or its first row) in ``release``; unknown codes are left out."""
    lookup = DbLookup(release)
    out: dict[str, Fact] = {}
    for code in set(codes):
        row = lookup.get(code, "")
        if row is None:
            rows = lookup.rows_for(code)
            row = rows[0] if rows else None
        if row is None:
            continue
        out[code] = Fact(code=code, release=release.name, status=row.status, glob_days=row.glob_days,
                         pre_op=row.pre_op, intra_op=row.intra_op, post_op=row.post_op, mult_proc=row.mult_proc,
                         bilat=row.bilat, endo_base=row.endo_base or "", work_rvu=row.work_rvu,
                         description=row.description)
    return out


def _logged(user, start: dt.date, end: dt.date, *, exclude_encounter: int | None = None) -> list[Line]:
    qs = (EncounterLine.objects.filter(user=user, date__gte=start, date__lte=end, encounter__deleted_at__isnull=True)
          .exclude(encounter__role=OBSERVED)  # an observed case is nobody's global period
          .values_list("date", "code", "modifiers", "units", "encounter_id", "encounter__role")
          .order_by("date", "encounter_id", "position"))
    if exclude_encounter is not None:
        qs = qs.exclude(encounter_id=exclude_encounter)
    return [Line(d, code, tuple(m for m in mods.split("-") if m), units, enc, surgeon=role not in ASSISTING)
            for d, code, mods, units, enc, role in qs]


def entry_findings(user, lines: Sequence[Any], dos: dt.date, release: Release, *, credit_non_medicare: bool = True,
                   exclude_encounter: int | None = None, context: Sequence[Line] = ()) -> list[Finding]:
    """Warnings for ``lines`` (rvuedge.pricing.EncounterLine: code, modifiers, units) about to be logged on ``dos``,
    with the user's own log around that date as context (and ``context``: other lines of the same import). A
    finding's ``line.ref`` is the index of its line in ``lines``."""
    new = [Line(dos, ln.code, tuple(ln.modifiers), ln.units, i, True) for i, ln in enumerate(lines)]
    logged = _logged(user, dos - BEFORE, dos + AFTER, exclude_encounter=exclude_encounter) if user else []
    every = logged + list(context) + new
    return check(every, facts_for(release, {ln.code for ln in every}), credit_non_medicare=credit_non_medicare)


def log_findings(user, start: dt.date, end: dt.date, release: Release, *,
                 credit_non_medicare: bool = True) -> list[Finding]:
    """Every finding on the log's lines dated ``start``..``end`` (their global periods read from before ``start``)."""
    lines = _logged(user, start - BEFORE, end + AFTER)
    found = check(lines, facts_for(release, {ln.code for ln in lines}), credit_non_medicare=credit_non_medicare,
                  only_new=False)
    return [f for f in found if start <= f.line.date <= end]


def import_findings(user, lines: Sequence[Line], release: Release, *, credit_non_medicare: bool = True) -> list[Finding]:
    """Findings on an import's ``lines`` (marked new; ``ref`` = the file's row), with the user's log as context."""
    start, end = min(ln.date for ln in lines), max(ln.date for ln in lines)
    every = _logged(user, start - BEFORE, end + AFTER) + list(lines)
    return check(every, facts_for(release, {ln.code for ln in every}), credit_non_medicare=credit_non_medicare)
