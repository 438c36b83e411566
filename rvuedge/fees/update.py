"""`rvuedge data update` without Django: where the newest CMS release is, and what changed between two releases.

Where: CMS publishes each quarterly release at ``https://www.cms.gov/files/zip/rvu{yy}{q}.zip`` (a correction
re-issue adds ``r``: ``rvu26ar.zip``). From the newest release known to exist (the newest loaded, or
:data:`catalog.NEWEST_KNOWN` when that is newer) the following quarters are asked for one by one (a bounded GET
of the zip's first 4 bytes) while they exist, then the newest one's re-issue. The first request that cannot
reach the server stops everything (:class:`Unreachable`), so an offline machine fails at once. A local mirror
(one sub-folder per release, like ``../shared/data/cms``) is read instead of asked.

What changed: :func:`diff_releases` over two ``{(code, modifier): Row}`` maps (about 19,000 rows each).
"""

from __future__ import annotations

import http.client
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from rvuedge.pricing.money import round_places

from . import catalog

CMS_ZIP_BASE = "https://www.cms.gov/files/zip/"
EX_TEMPFAIL = 75  # sysexits.h: a temporary failure (cms.gov unreachable, a concurrent load); try again later
ZIP_MAGIC = b"PK\x03\x04"
MAX_STEPS = 8  # quarters walked forward at most in one update (two years)
USER_AGENT = "rvuedge/0.1 (rvuedge data update)"


class Unreachable(Exception):
    """The place releases are looked for could not be reached (network down, DNS, timeout, an HTTP 5xx …)."""


class SourceError(Exception):
    """The ``--source`` given is neither a mirror folder nor an https URL."""


# --------------------------------------------------------------------------- release names

def following(name: str) -> str:
    """The next quarter's release name: RVU26A -> RVU26B, RVU26AR -> RVU26B, RVU26D -> RVU27A."""
    year, quarter = catalog.parse_name(name)
    if quarter == "D":
        return f"RVU{(year + 1) % 100:02d}A"
    return f"RVU{year % 100:02d}{'ABCD'['ABCD'.index(quarter) + 1]}"


def reissue(name: str) -> str | None:
    """A release's correction re-issue (RVU26A -> RVU26AR); None for a re-issue itself."""
    name = catalog.normalise_name(name)
    return None if name[6:] else f"{name}R"


def newest_of(names: list[str] | set[str]) -> str | None:
    return max(names, key=catalog.order_key) if names else None


def zip_url(base: str, name: str) -> str:
    return f"{base.rstrip('/')}/{name.lower()}.zip"


def host_of(url: str) -> str:
    host = urllib.parse.urlsplit(url).netloc or url
    return host.removeprefix("www.")


# --------------------------------------------------------------------------- finding the newest release

def http_exists(url: str, timeout: float = 10) -> bool:
    """Whether ``url`` serves a zip: a GET for its first 4 bytes (a Range request; a server that ignores the
    range still sends no more than is read). 404/410 or anything but a zip (a "not found" page) -> False;
    no answer, or an HTTP error that is not "not found" -> :class:`Unreachable`."""
    request = urllib.request.Request(url, headers={"Range": "bytes=0-3", "User-Agent": USER_AGENT})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 (https only)
            head = response.read(4)
    except urllib.error.HTTPError as exc:
        if exc.code in (404, 410):
            return False
        raise Unreachable(f"{host_of(url)} answered HTTP {exc.code} {exc.reason} for {url}") from exc
    except urllib.error.URLError as exc:
        raise Unreachable(str(exc.reason)) from exc
    except (TimeoutError, OSError, http.client.HTTPException) as exc:
        raise Unreachable(str(exc) or type(exc).__name__) from exc
    return head == ZIP_MAGIC


def newest_online(start: str, start_exists: bool, exists: Callable[[str], bool],
                  steps: int = MAX_STEPS) -> str | None:
    """The newest release at or after ``start``: walk forward quarter by quarter while the next one (or the one
    after it) exists (CMS publishes every quarter, in order), then prefer the newest one's correction re-issue.

    ``start_exists``: ``start`` is known to exist (it is loaded); otherwise it is asked for too. ``exists``
    raises :class:`Unreachable` when it cannot tell. None when not even ``start`` exists.
    """
    newest = start if start_exists or exists(start) else None
    current = start
    for _ in range(steps):
        nxt = following(current)
        if not exists(nxt):
            nxt = following(nxt)  # one quarter missing (never seen so far) does not hide the next one
            if not exists(nxt):
                break
        newest = current = nxt
    again = reissue(newest) if newest else None
    if again and exists(again):
        newest = again
    return newest


@dataclass(frozen=True)
class Found:
    """The newest release a source offers, and what to load it from (a URL, a folder or a zip)."""

    name: str | None
    location: str | None
    source: str  # what was looked at, for messages: 'cms.gov', the mirror folder or the base URL


def mirror_location(folder: Path) -> Path:
    """What to load from a mirror's release folder: the folder (its extracted CSVs), or its zip when the folder
    holds a zip and no PPRRVU file."""
    files = [p for p in folder.iterdir() if p.is_file()]
    if any(p.name.upper().startswith("PPRRVU") for p in files):
        return folder
    zips = sorted(p for p in files if p.suffix.lower() == ".zip")
    return zips[0] if len(zips) == 1 else folder


def find_newest(source: str, loaded: set[str], exists: Callable[[str], bool]) -> Found:
    """The newest release that ``source`` offers: a local mirror folder, or an https base URL laid out like
    cms.gov's ``/files/zip/`` (``rvu26c.zip`` …). ``loaded``: the release names already loaded."""
    if source.startswith("https://"):
        base = source if source.endswith("/") else source + "/"
        label = host_of(base) if base == CMS_ZIP_BASE else base
        newest_loaded = newest_of(loaded)
        start = newest_of({n for n in (newest_loaded, catalog.NEWEST_KNOWN) if n})
        name = newest_online(start, start in loaded, lambda n: exists(zip_url(base, n)))
        return Found(name, zip_url(base, name) if name else None, label)
    if source.startswith("http://"):
        raise SourceError(f"--source {source}: only https URLs are accepted")
    folder = Path(source).expanduser()
    if not folder.is_dir():
        raise SourceError(f"--source {source}: not a folder (a local mirror with one sub-folder per release, "
                          "like rvu25a/ and rvu26c/) nor an https URL")
    releases = catalog.mirror_releases(folder)
    if not releases:
        raise SourceError(f"--source {source}: no release folders in it (expected sub-folders named like "
                          "rvu25a/ or rvu26c/ holding a release's files)")
    name = newest_of(set(releases))
    return Found(name, str(mirror_location(releases[name])), str(folder))


# --------------------------------------------------------------------------- what changed

@dataclass(frozen=True)
class Row:
    """The figures of one PPRRVU row that a diff reports."""

    description: str
    status: str
    work_rvu: Decimal
    nonfac_total: Decimal
    fac_total: Decimal


Key = tuple[str, str]  # (HCPCS code, modifier)


def label(key: Key) -> str:
    return f"{key[0]}-{key[1]}" if key[1] else key[0]


@dataclass(frozen=True)
class Change:
    key: Key
    old: Row
    new: Row

    @property
    def work_change(self) -> Decimal:
        return self.new.work_rvu - self.old.work_rvu

    @property
    def totals(self) -> tuple[Decimal, Decimal]:
        """The old and new total RVUs of the setting whose total changed more (non-facility on a tie)."""
        nonfac = (self.old.nonfac_total, self.new.nonfac_total)
        fac = (self.old.fac_total, self.new.fac_total)
        return nonfac if abs(nonfac[1] - nonfac[0]) >= abs(fac[1] - fac[0]) else fac

    @property
    def total_change(self) -> Decimal:
        """The larger (in size) of the non-facility and facility total changes."""
        old, new = self.totals
        return new - old

    def to_dict(self) -> dict[str, Any]:
        def pct(old: Decimal, new: Decimal) -> str | None:
            return None if not old else str(round_places((new - old) / old * 100, 1))

        return {
            "code": self.key[0], "modifier": self.key[1], "description": self.new.description,
            "status": [self.old.status, self.new.status],
            "work_rvu": [str(self.old.work_rvu), str(self.new.work_rvu)],
            "work_rvu_change": str(self.work_change),
            "work_rvu_change_percent": pct(self.old.work_rvu, self.new.work_rvu),
            "nonfac_total": [str(self.old.nonfac_total), str(self.new.nonfac_total)],
            "fac_total": [str(self.old.fac_total), str(self.new.fac_total)],
            "total_rvu_change": str(self.total_change),
        }


@dataclass(frozen=True)
class Diff:
    """What changed from release ``old`` to release ``new`` (rows keyed by code and modifier)."""

    old: str
    new: str
    rows_before: int
    rows_after: int
    added: list[tuple[Key, Row]]
    deleted: list[tuple[Key, Row]]
    work_changed: list[Change]  # largest change first
    total_changed: list[Change]  # largest change first
    status_changed: int

    def summary(self) -> str:
        return (f"{self.old} -> {self.new}: {len(self.added):,} codes added, {len(self.deleted):,} deleted, "
                f"{len(self.work_changed):,} with a new work RVU, {len(self.total_changed):,} with new total RVUs")

    def to_dict(self, top: int = 10) -> dict[str, Any]:
        return {
            "from": self.old,
            "to": self.new,
            "rows_before": self.rows_before,
            "rows_after": self.rows_after,
            "added": {"count": len(self.added), "codes": [label(k) for k, _ in self.added]},
            "deleted": {"count": len(self.deleted), "codes": [label(k) for k, _ in self.deleted]},
            "work_rvu_changed": {"count": len(self.work_changed),
                                 "top": [c.to_dict() for c in self.work_changed[:top]]},
            "total_rvu_changed": {"count": len(self.total_changed),
                                  "top": [c.to_dict() for c in self.total_changed[:top]]},
            "status_changed": {"count": self.status_changed},
        }


def diff_releases(old_name: str, old: Mapping[Key, Row], new_name: str, new: Mapping[Key, Row]) -> Diff:
    """Codes added and deleted (by code and modifier), and codes whose work RVU or total RVUs (non-facility or
    facility) changed, each list ordered by the size of the change, then by code."""
    added = sorted((k, new[k]) for k in new.keys() - old.keys())
    deleted = sorted((k, old[k]) for k in old.keys() - new.keys())
    both = [Change(k, old[k], new[k]) for k in sorted(old.keys() & new.keys())]
    work = [c for c in both if c.old.work_rvu != c.new.work_rvu]
    total = [c for c in both if (c.old.nonfac_total, c.old.fac_total) != (c.new.nonfac_total, c.new.fac_total)]
    work.sort(key=lambda c: -abs(c.work_change))  # stable: ties stay in code order
    total.sort(key=lambda c: -abs(c.total_change))
    return Diff(old_name, new_name, len(old), len(new), added, deleted, work, total,
                sum(1 for c in both if c.old.status != c.new.status))
