"""Code kinds and the code-range map: what a code is from its shape, and where it sits in sections.yaml.

Shared by the editorial content (:mod:`.content`), search (:mod:`.search`) and the code pages, so that none of
them needs another for these (no import circle: content and search both import this module, never each other
for it).
"""

from __future__ import annotations

import bisect
import re
import threading
import time
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from django.conf import settings
from django.utils.text import slugify

YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
CONTENT_DIR = Path(getattr(settings, "RVUEDGE_CONTENT_DIR", "") or Path(__file__).resolve().parents[1] / "content")


class ContentError(ValueError):
    """A content file is malformed; the message names the file and the field."""

# --------------------------------------------------------------------------- code shapes

CODE_RE = re.compile(r"^[0-9A-Z]{5}$")
KINDS: dict[str, tuple[str, str]] = {
    # kind: (category label, short label)
    "cat1": ("CPT Category I", "Category I"),
    "pla": ("CPT Category I — Proprietary Laboratory Analyses (PLA)", "Category I (PLA)"),
    "maaa": ("CPT Category I — Multianalyte Assay with Algorithmic Analyses (MAAA)", "Category I (MAAA)"),
    "cat2": ("CPT Category II", "Category II"),
    "cat3": ("CPT Category III", "Category III"),
    "level2": ("HCPCS Level II", "HCPCS Level II"),
    "other": ("Other code", "Other"),
}


def code_kind(code: str) -> str:
    """The category of a code from its shape alone (5 digits, 4 digits + F/T/U/M, letter + 4 digits)."""
    c = code.upper()
    if len(c) != 5:
        return "other"
    if c.isdigit():
        return "cat1"
    if c[:4].isdigit():
        return {"F": "cat2", "T": "cat3", "U": "pla", "M": "maaa"}.get(c[4], "other")
    if c[0].isalpha() and c[1:].isdigit():
        return "level2"
    return "other"


def code_shape(code: str) -> str:
    """The shape family of a code: "n" (5 digits), the suffix letter of 4 digits + letter, "L" (letter + 4 digits)."""
    c = code.upper()
    if c.isdigit():
        return "n"
    if c[:4].isdigit():
        return c[4]
    if c[0].isalpha() and c[1:].isdigit():
        return "L"
    return "?"



# --------------------------------------------------------------------------- sections.yaml


@dataclass(frozen=True)
class SectionEntry:
    start: str
    end: str
    level: int
    section: str
    subsection: str
    specialties: tuple[str, ...]

    @property
    def family(self) -> str:
        """'Integumentary — debridement' -> 'Integumentary' (body system, for grouping)."""
        return self.subsection.split(" — ")[0]

    @property
    def range_label(self) -> str:
        return self.start if self.start == self.end else f"{self.start}–{self.end}"


@dataclass(frozen=True)
class Placement:
    section: SectionEntry | None
    subsection: SectionEntry | None

    @property
    def specialties(self) -> list[str]:
        entry = self.subsection or self.section
        return list(entry.specialties) if entry else []

    def to_dict(self) -> dict[str, Any]:
        return {
            "section": self.section.section if self.section else None,
            "section_slug": section_slug(self.section.section) if self.section else None,
            "subsection": self.subsection.subsection if self.subsection else None,
            "group_slug": group_slug(self.subsection) if self.subsection else None,
            "range": (self.subsection or self.section).range_label if (self.subsection or self.section) else None,
        }


@lru_cache(maxsize=1024)
def section_slug(name: str) -> str:
    return slugify(name)


@lru_cache(maxsize=4096)
def group_slug(entry: SectionEntry) -> str:
    if entry.section == "HCPCS Level II" and entry.level == 1:
        return entry.start[0].lower()
    return slugify(entry.subsection)[:80]


class Sections:
    """The code-range map from sections.yaml, with fast lookups (bisect per code shape)."""

    ORDER = ["Evaluation and Management", "Anesthesia", "Surgery", "Radiology", "Pathology and Laboratory",
             "Medicine", "Category II", "Category III", "Proprietary Laboratory Analyses", "HCPCS Level II"]

    def __init__(self, entries: list[SectionEntry]):
        self.entries = entries
        self._by_level: dict[tuple[int, str], tuple[list[str], list[SectionEntry]]] = {}
        for level in (1, 2):
            for shape in {code_shape(e.start) for e in entries}:
                chosen = sorted((e for e in entries if e.level == level and code_shape(e.start) == shape),
                                key=lambda e: e.start)
                self._by_level[(level, shape)] = ([e.start for e in chosen], chosen)
        self.place = lru_cache(maxsize=65536)(self._place)

    def _find(self, level: int, code: str) -> SectionEntry | None:
        starts, chosen = self._by_level.get((level, code_shape(code)), ([], []))
        i = bisect.bisect_right(starts, code) - 1
        if i >= 0 and chosen[i].start <= code <= chosen[i].end:
            return chosen[i]
        return None

    def _place(self, code: str) -> Placement:
        code = code.upper()
        return Placement(self._find(1, code), self._find(2, code))

    def section_names(self) -> list[str]:
        names = {e.section for e in self.entries if e.level == 1}
        return [n for n in self.ORDER if n in names] + sorted(names - set(self.ORDER))

    def level1(self, section: str) -> list[SectionEntry]:
        return sorted((e for e in self.entries if e.level == 1 and e.section == section), key=lambda e: e.start)

    def groups(self, section: str) -> list[SectionEntry]:
        """Browse groups of a section: HCPCS letters, else its subsections (plus uncovered level-1 ranges)."""
        tops = self.level1(section)
        if section == "HCPCS Level II":
            return tops
        subs = sorted((e for e in self.entries if e.level == 2 and e.section == section), key=lambda e: e.start)
        if len(tops) > 1:
            for top in tops:
                if not any(top.start <= s.start <= top.end and code_shape(s.start) == code_shape(top.start) for s in subs):
                    subs.append(top)
            subs.sort(key=lambda e: (code_shape(e.start) != "n", e.start))
        return subs

    def group_of(self, code: str, section: str) -> SectionEntry | None:
        p = self.place(code)
        if section == "HCPCS Level II":
            return p.section
        if p.subsection is not None:
            return p.subsection
        if len(self.level1(section)) > 1:
            return p.section
        return None


_SECTIONS_LOCK = threading.Lock()
_SECTIONS: tuple[float, Sections] | None = None


_SECTIONS_CHECKED = [0.0]
SECTIONS_PATH = CONTENT_DIR / "sections.yaml"


def sections() -> Sections:
    """The parsed sections.yaml; re-read when the file changes (checked at most once a second)."""
    global _SECTIONS
    cached = _SECTIONS
    now = time.monotonic()
    if cached is not None and now - _SECTIONS_CHECKED[0] < 1.0:
        return cached[1]
    path = SECTIONS_PATH
    mtime = path.stat().st_mtime if path.exists() else 0.0
    _SECTIONS_CHECKED[0] = now
    if cached is not None and cached[0] == mtime:
        return cached[1]
    with _SECTIONS_LOCK:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=YAML_LOADER) if path.exists() else []
        entries = []
        for i, item in enumerate(data or [], 1):
            try:
                entries.append(SectionEntry(
                    start=str(item["start"]).upper(), end=str(item["end"]).upper(), level=int(item["level"]),
                    section=str(item["section"]), subsection=str(item.get("subsection") or item["section"]),
                    specialties=tuple(str(s) for s in item.get("specialties") or ()),
                ))
            except (KeyError, TypeError, ValueError) as exc:
                raise ContentError(f"{path}: entry {i}: missing or invalid field ({exc})") from exc
        _SECTIONS = (mtime, Sections(entries))
        return _SECTIONS[1]
