"""Read-side queries other apps call (stable API).

* :func:`code_specialty_shares` ``(hcpcs, *, source=None, limit=5) -> list[dict]``: which specialties bill
  a code nationally, from the newest computed source that has the code (for the code pages' "Specialties").
* :func:`code_volume` ``(hcpcs, *, source=None) -> dict | None``: the same with the code's national totals.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from .models import BenchmarkSource, CodeVolume


def _volume(hcpcs: str, source: BenchmarkSource | str | int | None) -> CodeVolume | None:
    qs = CodeVolume.objects.select_related("source").filter(hcpcs=hcpcs.strip().upper()[:5])
    if isinstance(source, BenchmarkSource):
        qs = qs.filter(source=source)
    elif isinstance(source, int):
        qs = qs.filter(source_id=source)
    elif isinstance(source, str) and source:
        qs = qs.filter(source__name=source)
    return qs.order_by("-source__year", "-source__updated_at", "-source_id").first()


def code_volume(hcpcs: str, *, source: BenchmarkSource | str | int | None = None) -> dict[str, Any] | None:
    """National volume of a code and its top specialties, with provenance; None when no source has it."""
    vol = _volume(hcpcs, source)
    if vol is None:
        return None
    src = vol.source
    return {
        "hcpcs": vol.hcpcs,
        "total_services": vol.total_services,
        "clinicians": vol.clinicians,
        "work_rvu": vol.work_rvu,
        "specialties": _shares(vol),
        "source": {"id": src.pk, "name": src.name, "year": src.year, "release": src.release or None,
                   "medicare_only": src.medicare_only, "citation": src.citation},
    }


def _shares(vol: CodeVolume) -> list[dict[str, Any]]:
    src = vol.source
    out = []
    for item in vol.top_specialties:
        share = Decimal(str(item["share"]))
        out.append({
            "specialty": item["specialty"],
            "services": Decimal(str(item["services"])),
            "share": share,
            "percent": f"{(share * 100).quantize(Decimal('0.1'), ROUND_HALF_UP)}%",
            "total_services": vol.total_services,
            "clinicians": vol.clinicians,
            "source": src.name,
            "source_id": src.pk,
            "year": src.year,
            "release": src.release or None,
            "medicare_only": src.medicare_only,
        })
    return out


def code_specialty_shares(hcpcs: str, *, source: BenchmarkSource | str | int | None = None,
                          limit: int = 5) -> list[dict[str, Any]]:
    """Top specialties billing ``hcpcs``, largest share first.

    Each item: ``specialty`` (CMS provider type), ``services`` (Decimal), ``share`` (Decimal 0-1),
    ``percent`` ("41.2%"), the code's ``total_services`` and ``clinicians``, and provenance: ``source``,
    ``source_id``, ``year``, ``release``, ``medicare_only``. Empty when no computed source has the code.
    """
    vol = _volume(hcpcs, source)
    return _shares(vol)[:limit] if vol is not None else []
