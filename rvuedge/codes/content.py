"""Our own editorial content (``rvuedge/content/``): code pages, sections, site pages and the blog.

Everything here is original RVU Edge writing; CMS/AMA text never lives in these files. Markdown is
rendered with ``markdown`` and sanitised with ``nh3``. Files are re-read when they change (mtime check),
so editors see their edits without a restart.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import html
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import markdown
import nh3
import yaml
from django.db import transaction
from django.utils.text import slugify

from .kinds import (  # noqa: F401  (re-exported: the code pages import these from here)
    CODE_RE,
    CONTENT_DIR,
    KINDS,
    SECTIONS_PATH,
    YAML_LOADER,
    ContentError,
    Placement,
    SectionEntry,
    Sections,
    code_kind,
    code_shape,
    group_slug,
    section_slug,
    sections,
)
from .models import CodeContent
from .search import rebuild_index

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



def split_front_matter(text: str, path: Path | str) -> tuple[dict[str, Any], str]:
    if not text.startswith("---"):
        raise ContentError(f"{path}: missing YAML front matter (the file must start with ---)")
    parts = text.split("\n---", 1)
    if len(parts) != 2:
        raise ContentError(f"{path}: the YAML front matter is not closed with ---")
    try:
        meta = yaml.load(parts[0][3:], Loader=YAML_LOADER) or {}
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
    parts = markdown_sections(body)
    return {
        "code": code,
        "title": str(meta.get("title") or "").strip()[:200],
        "synonyms": _str_list(meta, "synonyms", path),
        "specialties": _str_list(meta, "specialties", path),
        "summary": str(meta.get("summary") or "").strip(),
        "plain_language": parts.get("plain language", ""),
        "clinical_context": parts.get("clinical context", ""),
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
