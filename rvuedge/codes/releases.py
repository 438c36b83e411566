"""Loaded releases and localities, and each release's code index (sections, groups, work RVUs).

Shared by the code page (:mod:`.codepage`), browse (:mod:`.browse`) and the sitemap; cached per data version
in :data:`.cache.DERIVED`.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from rvuedge.fees.models import FeeRow, HcpcsCode, HcpcsRelease, Release
from rvuedge.fees.services import (
    DbLookup,
    LocalityChoice,
    NotFound,
    localities,
    national,
    release_label,
    release_sort_key,
    resolve_locality,
)

from . import indicators as ind
from .cache import DERIVED
from .content import group_slug, section_slug, sections
from .search import data_version


def releases() -> list[Release]:
    """Loaded releases, oldest first (cached per data version)."""
    return DERIVED.get_or_build(("releases", data_version()),
                                lambda: sorted(Release.objects.all(), key=release_sort_key))


def release_order() -> dict[int, int]:
    return DERIVED.get_or_build(("release-order", data_version()),
                                lambda: {r.pk: i for i, r in enumerate(releases())})


def release_names() -> list[tuple[int, str]]:
    return DERIVED.get_or_build(("release-names", data_version()), lambda: [(r.pk, r.name) for r in releases()])


def pick_release(name: str | None) -> Release:
    rels = releases()
    if not rels:
        raise NotFound("No CMS release is loaded. Run: rvuedge data load PATH-TO-RVU-ZIP")
    if not name:
        return rels[-1]
    wanted = name.strip().upper()
    for r in rels:
        if r.name == wanted:
            return r
    raise NotFound(f"Release {name} is not loaded (loaded: {', '.join(r.name for r in rels)})")


def locality_options(release: Release) -> list[dict[str, str]]:
    return DERIVED.get_or_build(("localities", data_version(), release.pk), lambda: localities(release))


def pick_locality(release: Release, text: str | None) -> LocalityChoice:
    key = (text or "national").strip().lower()
    if key in {"", "national", "nat", "us"}:
        return national(release)
    return DERIVED.get_or_build(("locality", data_version(), release.pk, key),
                                lambda: resolve_locality(release, text))


def hcpcs_release() -> HcpcsRelease | None:
    return DERIVED.get_or_build(("hcpcs", data_version()),
                                lambda: HcpcsRelease.objects.order_by("-name").first() or False) or None


def release_dict(release: Release) -> dict[str, Any]:
    return {
        "name": release.name,
        "label": release_label(release),
        "year": release.year,
        "released": release.released.isoformat() if release.released else None,
        "conversion_factor": str(release.conv_factor),
        "conversion_factor_qp": None if release.conv_factor_qp is None else str(release.conv_factor_qp),
        "anesthesia_cf": None if release.anes_national_cf is None else str(release.anes_national_cf),
    }


# --------------------------------------------------------------------------- per-release derived data


@dataclass
class ReleaseIndex:
    """One release's codes (plus HCPCS Level II codes) grouped by section, for browse/compare/related."""

    release: Release
    info: dict[str, tuple[str, str, Decimal | None]]  # code -> (descriptor, status, work RVU of the global row)
    codes: list[str]
    by_group: dict[str, list[str]]  # "section/group" and "section" -> codes in order
    valued: dict[str, list[Decimal]]  # same keys -> sorted work RVUs of valued (work > 0, payable) codes


def release_index(release: Release) -> ReleaseIndex:
    return DERIVED.get_or_build(("index", data_version(), release.pk), lambda: _build_index(release))


def warm(release: Release) -> None:
    """Per-process preparation for a release's code pages: the engine reads all of its rows in one query
    (about 30 MB, under a second) instead of one query per page, and the section statistics are built."""

    def build() -> bool:
        DbLookup(release).preload()
        return True

    DERIVED.get_or_build(("warm", release.pk, release.fingerprint), build)
    release_index(release)


def _build_index(release: Release) -> ReleaseIndex:
    info: dict[str, tuple[str, str, Decimal | None]] = {}
    for code, mod, desc, status, work in FeeRow.objects.filter(release=release).order_by("hcpcs", "modifier") \
            .values_list("hcpcs", "modifier", "description", "status", "work_rvu").iterator(chunk_size=5000):
        if code not in info:
            info[code] = (desc, status, None if mod else work)
    hrel = hcpcs_release()
    if hrel is not None:
        for code, short in HcpcsCode.objects.filter(release=hrel).values_list("code", "short_description") \
                .iterator(chunk_size=5000):
            info.setdefault(code, (short, "", None))
    secs = sections()
    by_group: dict[str, list[str]] = {}
    valued: dict[str, list[Decimal]] = {}
    codes = sorted(info)
    for code in codes:
        place = secs.place(code)
        if place.section is None:
            keys = ["other"]
        else:
            sec = section_slug(place.section.section)
            keys = [sec]
            grp = secs.group_of(code, place.section.section)
            if grp is not None:
                keys.append(f"{sec}/{group_slug(grp)}")
        desc, status, work = info[code]
        for k in keys:
            by_group.setdefault(k, []).append(code)
            if work is not None and work > 0 and status in ind.PAYABLE:
                valued.setdefault(k, []).append(work)
    for values in valued.values():
        values.sort()
    return ReleaseIndex(release, info, codes, by_group, valued)


def fmt_rvu(v: Decimal | None) -> str | None:
    """An RVU as the pages show it (two decimals), None for none."""
    return None if v is None else f"{v:.2f}"
