"""The log read in keyset pages: encounters by (date, id) with their lines, in bounded memory.

Shared by exports, backups and re-crediting (:func:`rvuedge.logbook.credit.recredit`), so none of them imports
another to read the log.
"""

from __future__ import annotations

from collections.abc import Iterator

from django.db.models import Q

from .models import Encounter
from .models import EncounterLine as LineModel


def _lines_by_encounter(encounters: list[Encounter]) -> dict[int, list[LineModel]]:
    out: dict[int, list[LineModel]] = {}
    ids = [e.pk for e in encounters]
    for i in range(0, len(ids), 900):
        for ln in LineModel.objects.filter(encounter_id__in=ids[i:i + 900]).order_by("encounter_id", "position"):
            out.setdefault(ln.encounter_id, []).append(ln)
    return out


def iter_with_lines(qs, chunk: int = 2000) -> Iterator[tuple[Encounter, list[LineModel]]]:
    """Encounters with their lines, by (date, id), in keyset-paged chunks (bounded memory for big exports)."""
    qs = qs.order_by("date", "id")
    page = list(qs[:chunk])
    while page:
        lines = _lines_by_encounter(page)
        for enc in page:
            yield enc, lines.get(enc.pk, [])
        last = page[-1]
        # date >= last.date keeps the query an index range scan; the OR only trims the boundary day.
        page = list(qs.filter(date__gte=last.date).filter(Q(date__gt=last.date) | Q(date=last.date, id__gt=last.pk))
                    [:chunk])
