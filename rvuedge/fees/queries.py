"""Read-side queries over the fee schedule data (shared by pages, JSON and CLI)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from . import catalog
from .models import HcpcsRelease, Release
from .services import effective_date, gpci_release_for, release_label, release_sort_key


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


def data_status(today: dt.date) -> dict[str, Any]:
    """What the /data/ page and /data.json show: the loaded releases by year, the one in force today, and
    what to run when a year (today's, or the one after the newest release) has no release of its own."""
    releases = sorted(Release.objects.all(), key=release_sort_key)
    rows = []
    for r in reversed(releases):
        gpci = gpci_release_for(r)
        rows.append({
            **release_summary(r),
            "label": release_label(r),
            "in_force_from": effective_date(r).isoformat(),
            "gpci_release": gpci.name if gpci else None,
            "own_gpci": bool(gpci and gpci.pk == r.pk),
        })
    years = sorted({r.year for r in releases})
    in_force = [r for r in releases if effective_date(r) <= today]
    current = in_force[-1].name if in_force else None
    problems: list[str] = []
    yy = today.year % 100
    if not releases:
        problems.append("No CMS release is loaded, so nothing can be priced or credited.")
    elif today.year not in years:
        problems.append(f"No {today.year} release is loaded: {today.year} encounters are credited with "
                        f"{releases[-1].name} ({releases[-1].year} values), and each one says so.")
    elif not in_force or in_force[-1].year != today.year:
        first = next(r for r in releases if r.year == today.year)
        problems.append(f"The {today.year} release in force today is not loaded: {today.year} encounters are "
                        f"credited with {first.name}, the earliest {today.year} release loaded.")
    fix = []
    if problems:
        fix = ["rvuedge data update   # online: downloads and loads the newest CMS release",
               f"rvuedge data load /path/to/RVU{yy:02d}A.zip   # offline: a release zip copied from cms.gov"]
    return {
        "today": today.isoformat(),
        "releases": rows,
        "years": years,
        "in_force_today": current,
        "newest_known": catalog.NEWEST_KNOWN,
        "problems": problems,
        "fix": fix,
        "hcpcs": hcpcs_summaries(),
    }
