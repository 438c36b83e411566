"""Read-side queries other apps call (stable API).

* :func:`code_specialty_shares` ``(hcpcs, *, source=None, limit=5) -> list[dict]``: which specialties bill
  a code nationally, from the newest computed source that has the code (for the code pages' "Specialties").
* :func:`code_volume` ``(hcpcs, *, source=None) -> dict | None``: the same with the code's national totals.
* :func:`measured_specialties` ``(code) -> dict | None`` and :func:`volumes_version`: what the code pages show
  and key their cache on (provided to them through :mod:`rvuedge.codes.hooks`).
"""

from __future__ import annotations

import time
from decimal import Decimal
from typing import Any

from django.db.models import Count, Max

from rvuedge.pricing.money import round_places

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
            "percent": f"{round_places(share * 100, 1)}%",
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


# The code pages cache their dicts per data version; the measured shares change with the benchmark sources
# (`rvuedge benchmarks build-medicare`), so the pages also key on this signature, memoised for a couple of seconds.
_VOLUMES_TTL = 2.0
_volumes_memo: dict[str, Any] = {"value": None, "at": 0.0}


def volumes_version() -> str:
    now = time.monotonic()
    if _volumes_memo["value"] is None or now - _volumes_memo["at"] > _VOLUMES_TTL:
        agg = BenchmarkSource.objects.aggregate(n=Count("id"), top=Max("id"), last=Max("updated_at"))
        _volumes_memo["value"] = f"{agg['n']}-{agg['top']}-{agg['last'].isoformat() if agg['last'] else ''}"
        _volumes_memo["at"] = now
    return _volumes_memo["value"]


def forget_volumes_version() -> None:
    _volumes_memo["value"] = None


def measured_specialties(code: str) -> dict[str, Any] | None:
    """Which specialties bill ``code`` nationally (largest share first), with the source and year, from the newest
    benchmark source that has the code; None when none has it (the page then shows the editorial list)."""
    shares = code_specialty_shares(code)
    if not shares:
        return None
    first = shares[0]
    return {
        "source": first["source"], "year": first["year"], "release": first["release"],
        "medicare_only": first["medicare_only"], "total_services": str(first["total_services"]),
        "clinicians": first["clinicians"],
        "items": [{"specialty": s["specialty"], "percent": s["percent"], "share": str(s["share"]),
                   "services": str(s["services"])} for s in shares],
    }
