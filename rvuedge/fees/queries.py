"""Read-side queries over the fee schedule data (shared by pages, JSON and CLI)."""

from __future__ import annotations

from typing import Any

from .models import HcpcsRelease, Release


def release_summary(release: Release) -> dict[str, Any]:
    return {
        "name": release.name,
        "year": release.year,
        "title": release.title,
        "released": release.released.isoformat() if release.released else None,
        "layout": release.layout,
        "conversion_factor": str(release.conv_factor),
        "conversion_factor_qp": str(release.conv_factor_qp) if release.conv_factor_qp is not None else None,
        "anesthesia_national_cf": (
            str(release.anes_national_cf) if release.anes_national_cf is not None else None
        ),
        "source": release.source,
        "files": release.files,
        "counts": release.counts,
        "loaded_at": release.loaded_at.isoformat(),
        "load_seconds": str(release.load_seconds),
    }


def release_summaries() -> list[dict[str, Any]]:
    return [release_summary(r) for r in Release.objects.order_by("-year", "-name")]


def hcpcs_summaries() -> list[dict[str, Any]]:
    return [
        {
            "name": r.name,
            "file": r.file_name,
            "sha256": r.sha256,
            "counts": r.counts,
            "warnings": r.warnings,
            "loaded_at": r.loaded_at.isoformat(),
        }
        for r in HcpcsRelease.objects.all()
    ]
