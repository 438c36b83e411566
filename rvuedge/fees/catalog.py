"""Known CMS RVU release names and where CMS publishes them.

CMS publishes each quarterly PFS relative value file as a zip at
``https://www.cms.gov/files/zip/rvu{yy}{q}.zip`` (A = January, B = April,
C = July, D = October; an ``R`` suffix marks a correction re-issue).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

QUARTER_MONTH = {"A": "January", "B": "April", "C": "July", "D": "October"}
MONTH_QUARTER = {
    "JAN": "A", "JANUARY": "A",
    "APR": "B", "APRIL": "B",
    "JUL": "C", "JULY": "C",
    "OCT": "D", "OCTOBER": "D",
}
NAME_RE = re.compile(r"^RVU(\d{2})([A-D])(R\d?)?$")


@dataclass(frozen=True)
class CatalogEntry:
    name: str
    year: int
    quarter: str
    url: str

    @property
    def label(self) -> str:
        return f"CY{self.year} {QUARTER_MONTH[self.quarter]} release"


def _entries() -> dict[str, CatalogEntry]:
    out: dict[str, CatalogEntry] = {}
    for year in range(2022, 2028):
        yy = year % 100
        for q in "ABCD":
            name = f"RVU{yy:02d}{q}"
            out[name] = CatalogEntry(name, year, q, f"https://www.cms.gov/files/zip/{name.lower()}.zip")
    out["RVU26AR"] = CatalogEntry("RVU26AR", 2026, "A", "https://www.cms.gov/files/zip/rvu26ar.zip")
    return out


CATALOG = _entries()
NEWEST_KNOWN = "RVU26A"


def normalise_name(name: str) -> str:
    return name.strip().upper()


def is_release_name(text: str) -> bool:
    return bool(NAME_RE.match(normalise_name(text)))


def parse_name(name: str) -> tuple[int, str]:
    m = NAME_RE.match(normalise_name(name))
    if not m:
        raise ValueError(f"{name!r} is not a CMS release name such as RVU25A or RVU26C")
    return 2000 + int(m.group(1)), m.group(2)


def lookup(name: str) -> CatalogEntry | None:
    return CATALOG.get(normalise_name(name))


def name_from_title(title: str) -> str | None:
    """'2025 National Physician Fee Schedule Relative Value File January Release' -> 'RVU25A'."""
    m = re.search(r"\b(20\d{2})\b.*?\b(January|April|July|October)\b", title, re.IGNORECASE)
    if not m:
        return None
    return f"RVU{int(m.group(1)) % 100:02d}{MONTH_QUARTER[m.group(2).upper()]}"


def name_from_filename(filename: str) -> str | None:
    """RVU25A.zip / rvu25a / PPRRVU2025_Oct.csv / PPRRVU25_JAN.csv -> a release name, if it says one."""
    base = filename.rsplit("/", 1)[-1].upper()
    m = re.match(r"^RVU(\d{2})([A-D])(R\d?)?\b", base)
    if m:
        return f"RVU{m.group(1)}{m.group(2)}{m.group(3) or ''}"
    m = re.match(r"^PPRRVU(?:20)?(\d{2})_(JAN|APR|JUL|OCT)", base)
    if m:
        return f"RVU{m.group(1)}{MONTH_QUARTER[m.group(2)]}"
    return None


def mirror_releases(folder: str | Path) -> dict[str, Path]:
    """Release name -> its sub-folder, for a local mirror of CMS releases (``rvu25a/``, ``rvu26c/``, …)."""
    root = Path(folder)
    out: dict[str, Path] = {}
    if not root.is_dir():
        return out
    for child in sorted(root.iterdir()):
        name = name_from_filename(child.name) if child.is_dir() else None
        if name and NAME_RE.match(name) and any(child.iterdir()):
            out[name] = child
    return out


def order_key(name: str) -> tuple[int, str, str]:
    """Sorts release names oldest first: RVU25D < RVU26A < RVU26AR (its correction re-issue) < RVU26B."""
    year, quarter = parse_name(name)
    return (year, quarter, normalise_name(name))


_order = order_key


def releases_to_start_with(names: list[str] | set[str]) -> list[str]:
    """From the releases a mirror holds: the newest, and the previous year's January release (its values credit
    every date of that year; the newest of that year when its January release is missing). Newest first.

    >>> releases_to_start_with(["RVU22A", "RVU24A", "RVU25A", "RVU25D", "RVU26C"])
    ['RVU26C', 'RVU25A']
    """
    ordered = sorted(names, key=_order)
    if not ordered:
        return []
    newest = ordered[-1]
    year = parse_name(newest)[0]
    previous = [n for n in ordered if parse_name(n)[0] == year - 1]
    picks = [newest]
    if previous:
        january = [n for n in previous if parse_name(n)[1] == "A"]
        picks.append(january[-1] if january else previous[-1])
    return picks
