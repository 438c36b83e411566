"""Our own editorial content (``rvuedge/content/``): code pages, sections, site pages and the blog.

Everything here is original RVU Edge writing; CMS/AMA text never lives in these files. Markdown is
rendered with ``markdown`` and sanitised with ``nh3``. Files are re-read when they change (mtime check),
so editors see their edits without a restart.
"""

from __future__ import annotations

import bisect
import datetime as dt
import hashlib
import html
import re
import threading
import time
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import markdown
import nh3
import yaml
from django.conf import settings
from django.db import transaction
from django.utils.text import slugify

_YamlLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
CONTENT_DIR = Path(getattr(settings, "RVUEDGE_CONTENT_DIR", "") or Path(__file__).resolve().parents[1] / "content")

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


def _shape(code: str) -> str:
    c = code.upper()
    if c.isdigit():
        return "n"
    if c[:4].isdigit():
        return c[4]
    if c[0].isalpha() and c[1:].isdigit():
        return "L"
    return "?"


# --------------------------------------------------------------------------- Markdown

_MD_EXTENSIONS = ["tables", "fenced_code", "sane_lists", "smarty"]
_TAGS = set(nh3.ALLOWED_TAGS) - {"img", "area", "map", "center", "font"}
_ATTRS: dict[str, set[str]] = {k: set(v) for k, v in nh3.ALLOWED_ATTRIBUTES.items() if k in _TAGS}
for _h in ("h1", "h2", "h3", "h4"):
    _ATTRS.setdefault(_h, set()).add("id")
_ATTRS.setdefault("th", set()).add("style")
_ATTRS.setdefault("td", set()).add("style")
RESOURCE_SLUGS = ("how-wrvus-work", "modifiers-guide", "gpci-explainer", "check-your-rvu-report")
_LEGACY_LINK = re.compile(r'href="/(' + "|".join(RESOURCE_SLUGS) + r')/')


def render_markdown(text: str) -> str:
    """Markdown -> sanitised HTML (no scripts, no inline handlers, no images)."""
    raw = markdown.markdown(text or "", extensions=_MD_EXTENSIONS, output_format="html")
    raw = _LEGACY_LINK.sub(r'href="/resources/\1/', raw)
    cleaned = nh3.clean(raw, tags=_TAGS, attributes=_ATTRS, link_rel="noopener", url_schemes={"http", "https", "mailto"},
                        filter_style_properties={"text-align"})
    return _add_heading_ids(cleaned)


def _add_heading_ids(html_text: str) -> str:
    def repl(m: re.Match[str]) -> str:
        level, inner = m.group(1), m.group(2)
        anchor = slugify(re.sub(r"<[^>]+>", "", html.unescape(inner)))[:60]
        return f'<h{level} id="{anchor}">{inner}</h{level}>'

    return re.sub(r"<h([23])>(.*?)</h\1>", repl, html_text)


def markdown_to_text(text: str) -> str:
    """Plain text of a Markdown snippet (for FAQ answers in JSON-LD, meta descriptions)."""
    stripped = re.sub(r"<[^>]+>", "", markdown.markdown(text or ""))
    return re.sub(r"\s+", " ", html.unescape(stripped)).strip()


def fill_placeholders(text: str, values: dict[str, str]) -> str:
    """Replace ``{{ name }}`` with escaped values (Markdown-safe). Unknown names are left visible."""

    def repl(m: re.Match[str]) -> str:
        key = m.group(1)
        return html.escape(str(values[key])) if key in values else m.group(0)

    return re.sub(r"\{\{\s*([a-z_]+)\s*\}\}", repl, text)


# --------------------------------------------------------------------------- front matter files


class ContentError(ValueError):
    """A content file is malformed; the message names the file and the field."""


def split_front_matter(text: str, path: Path | str) -> tuple[dict[str, Any], str]:
    if not text.startswith("---"):
        raise ContentError(f"{path}: missing YAML front matter (the file must start with ---)")
    parts = text.split("\n---", 1)
    if len(parts) != 2:
        raise ContentError(f"{path}: the YAML front matter is not closed with ---")
    try:
        meta = yaml.load(parts[0][3:], Loader=_YamlLoader) or {}
    except yaml.YAMLError as exc:
        raise ContentError(f"{path}: invalid YAML front matter: {exc}") from exc
    if not isinstance(meta, dict):
        raise ContentError(f"{path}: the front matter must be a mapping")
    body = parts[1].split("\n", 1)[1] if "\n" in parts[1] else ""
    return meta, body


def markdown_sections(body: str) -> dict[str, str]:
    """``## Heading`` -> text (lower-cased heading keys)."""
    out: dict[str, str] = {}
    current: str | None = None
    lines: list[str] = []
    for line in body.splitlines():
        if line.startswith("## "):
            if current is not None:
                out[current] = "\n".join(lines).strip()
            current = line[3:].strip().lower()
            lines = []
        elif current is not None:
            lines.append(line)
    if current is not None:
        out[current] = "\n".join(lines).strip()
    return out


def _str_list(meta: dict[str, Any], key: str, path: Path) -> list[str]:
    value = meta.get(key) or []
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str | int | float) for v in value):
        raise ContentError(f"{path}: field {key!r} must be a list of strings")
    return [str(v).strip() for v in value if str(v).strip()]


def parse_code_file(path: Path) -> dict[str, Any]:
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ContentError(f"{path}: not UTF-8 ({exc})") from exc
    meta, body = split_front_matter(text, path)
    code = str(meta.get("code", "")).strip().upper()
    if not CODE_RE.match(code):
        raise ContentError(f"{path}: field 'code' must be a 5-character code, got {meta.get('code')!r}")
    if path.stem.upper() != code:
        raise ContentError(f"{path}: field 'code' is {code} but the file is named {path.name}")
    faq_raw = meta.get("faq") or []
    if not isinstance(faq_raw, list):
        raise ContentError(f"{path}: field 'faq' must be a list of {{q, a}} items")
    faq = []
    for i, item in enumerate(faq_raw, 1):
        if not isinstance(item, dict) or not item.get("q") or not item.get("a"):
            raise ContentError(f"{path}: faq item {i} needs both 'q' and 'a'")
        faq.append({"q": str(item["q"]).strip(), "a": str(item["a"]).strip()})
    sections = markdown_sections(body)
    return {
        "code": code,
        "title": str(meta.get("title") or "").strip()[:200],
        "synonyms": _str_list(meta, "synonyms", path),
        "specialties": _str_list(meta, "specialties", path),
        "summary": str(meta.get("summary") or "").strip(),
        "plain_language": sections.get("plain language", ""),
        "clinical_context": sections.get("clinical context", ""),
        "faq": faq,
        "source_file": f"content/codes/{path.name}",
        "source_sha256": hashlib.sha256(raw).hexdigest(),
    }


@dataclass
class ContentLoadResult:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: int = 0
    kept_admin_edits: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.created or self.updated or self.removed)

    def message(self) -> str:
        parts = [f"{len(self.created)} created", f"{len(self.updated)} updated", f"{self.unchanged} unchanged"]
        if self.removed:
            parts.append(f"{len(self.removed)} removed (file deleted)")
        if self.kept_admin_edits:
            parts.append(f"{len(self.kept_admin_edits)} kept (edited in the admin; use --force to overwrite: "
                         f"{', '.join(self.kept_admin_edits[:10])})")
        return "Code content: " + ", ".join(parts) + "."


CONTENT_FIELDS = ["title", "synonyms", "specialties", "summary", "plain_language", "clinical_context", "faq",
                  "source_file", "source_sha256"]


def load_code_content(*, force: bool = False, directory: Path | None = None) -> ContentLoadResult:
    """Load ``content/codes/*.md`` into :class:`CodeContent`: atomic and idempotent.

    Every file is parsed before anything is written (a bad file changes nothing). Rows edited in the
    admin are kept unless ``force``. The search index is rebuilt in the same transaction.
    """
    from .models import CodeContent
    from .search import rebuild_index

    folder = directory or CONTENT_DIR / "codes"
    parsed = [parse_code_file(p) for p in sorted(folder.glob("*.md"))]
    result = ContentLoadResult()
    with transaction.atomic():
        existing = {c.code: c for c in CodeContent.objects.all()}
        seen = set()
        for data in parsed:
            seen.add(data["code"])
            row = existing.get(data["code"])
            if row is None:
                CodeContent.objects.create(code=data["code"], **{k: data[k] for k in CONTENT_FIELDS})
                result.created.append(data["code"])
                continue
            if row.edited_in_admin and not force:
                result.kept_admin_edits.append(row.code)
                continue
            if row.source_sha256 == data["source_sha256"] and not row.edited_in_admin:
                result.unchanged += 1
                continue
            for k in CONTENT_FIELDS:
                setattr(row, k, data[k])
            row.edited_in_admin = False
            row.save()
            result.updated.append(row.code)
        for code, row in existing.items():
            if code not in seen and row.source_file and (force or not row.edited_in_admin):
                row.delete()
                result.removed.append(code)
        if result.changed or force:
            rebuild_index()
    return result


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
            for shape in {_shape(e.start) for e in entries}:
                chosen = sorted((e for e in entries if e.level == level and _shape(e.start) == shape),
                                key=lambda e: e.start)
                self._by_level[(level, shape)] = ([e.start for e in chosen], chosen)
        self.place = lru_cache(maxsize=65536)(self._place)

    def _find(self, level: int, code: str) -> SectionEntry | None:
        starts, chosen = self._by_level.get((level, _shape(code)), ([], []))
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
                if not any(top.start <= s.start <= top.end and _shape(s.start) == _shape(top.start) for s in subs):
                    subs.append(top)
            subs.sort(key=lambda e: (_shape(e.start) != "n", e.start))
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
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_YamlLoader) if path.exists() else []
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


# --------------------------------------------------------------------------- pages and blog


@dataclass(frozen=True)
class Page:
    slug: str
    title: str
    body: str  # Markdown (placeholders unfilled)
    summary: str = ""
    date: dt.date | None = None
    author: str = ""

    def html(self, values: dict[str, str] | None = None) -> str:
        return render_markdown(fill_placeholders(self.body, values or {}))

    @property
    def h1_in_body(self) -> bool:
        return self.body.lstrip().startswith("# ")


_FILE_CACHE: dict[Path, tuple[float, Any]] = {}


def _cached_file(path: Path, parse: Any) -> Any:
    mtime = path.stat().st_mtime
    hit = _FILE_CACHE.get(path)
    if hit and hit[0] == mtime:
        return hit[1]
    value = parse(path)
    _FILE_CACHE[path] = (mtime, value)
    return value


def _parse_page(path: Path) -> Page:
    meta, body = split_front_matter(path.read_text(encoding="utf-8"), path)
    return Page(slug=str(meta.get("slug") or path.stem), title=str(meta.get("title") or path.stem),
                body=body, summary=str(meta.get("summary") or ""))


def get_page(slug: str) -> Page | None:
    if not re.fullmatch(r"[a-z0-9-]+", slug):
        return None
    path = CONTENT_DIR / "pages" / f"{slug}.md"
    if not path.is_file():
        return None
    return _cached_file(path, _parse_page)


BLOG_NAME = re.compile(r"^(\d{4}-\d{2}-\d{2})-([a-z0-9-]+)\.md$")


def _parse_post(path: Path) -> Page:
    m = BLOG_NAME.match(path.name)
    assert m is not None
    meta, body = split_front_matter(path.read_text(encoding="utf-8"), path)
    try:
        date = dt.date.fromisoformat(str(meta.get("date") or m.group(1)))
    except ValueError as exc:
        raise ContentError(f"{path}: field 'date' must be YYYY-MM-DD") from exc
    return Page(slug=m.group(2), title=str(meta.get("title") or m.group(2)), body=body,
                summary=str(meta.get("summary") or ""), date=date, author=str(meta.get("author") or ""))


def blog_posts() -> list[Page]:
    folder = CONTENT_DIR / "blog"
    if not folder.is_dir():
        return []
    posts = [_cached_file(p, _parse_post) for p in folder.iterdir() if BLOG_NAME.match(p.name)]
    return sorted(posts, key=lambda p: (p.date or dt.date.min, p.slug), reverse=True)


def get_post(slug: str) -> Page | None:
    return next((p for p in blog_posts() if p.slug == slug), None)
