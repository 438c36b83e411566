"""Load residency case minimums from CSV: specialty,category,minimum[,roles][,source][,example][,codes].

``specialty`` names the minimums set; ``codes`` are the category's code rules (:mod:`.caserules`).
The example set ships loaded (migration 0005); an administrator loads others with
``rvuedge logbook load-minimums FILE``.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

from django.db import transaction

from .caserules import RuleError, parse_rule
from .models import ROLES, CaseMinimum

REQUIRED = ("specialty", "category", "minimum")
ROLE_KEYS = {k for k, _ in ROLES}


class MinimumsError(ValueError):
    pass


@dataclass
class LoadResult:
    specialties: list[str]
    rows: int


def _truthy(text: str) -> bool:
    return text.strip().lower() in {"1", "true", "yes", "y", "example"}


EXAMPLE_FILE = Path(__file__).resolve().parent / "data" / "example_minimums.csv"


def parse_minimums(path: str | Path) -> list[dict]:
    """The rows of a minimums file as dicts (CaseMinimum fields); a bad row names the file, line and column."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise MinimumsError(f"{path}: cannot read ({exc.strerror})") from None
    return parse_minimums_bytes(data, path.name)


MAX_BYTES = 200_000


def parse_minimums_bytes(data: bytes, name: str) -> list[dict]:
    """:func:`parse_minimums` for an uploaded file's bytes."""
    if len(data) > MAX_BYTES:
        raise MinimumsError(f"{name}: larger than {MAX_BYTES // 1000} kB; a minimums file is a few lines")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise MinimumsError(f"{name}: not UTF-8 text") from None
    lines = [ln for ln in text.splitlines() if not ln.lstrip().startswith("#")]
    reader = csv.DictReader(io.StringIO("\n".join(lines)))
    headers = [h.strip().lower() for h in (reader.fieldnames or [])]
    missing = [h for h in REQUIRED if h not in headers]
    if missing:
        raise MinimumsError(f"{name}, line 1: missing column(s) {', '.join(missing)} (need {', '.join(REQUIRED)})")
    reader.fieldnames = headers
    rows: list[dict] = []
    seen: set[tuple[str, str]] = set()
    # Line numbers count the comment lines we skipped, so messages match what an editor shows.
    physical = [i + 1 for i, ln in enumerate(text.splitlines()) if not ln.lstrip().startswith("#")]
    for n, row in enumerate(reader, start=2):
        line_no = physical[n - 1] if n - 1 < len(physical) else n
        specialty = (row.get("specialty") or "").strip()
        category = (row.get("category") or "").strip()
        if not specialty and not category and not (row.get("minimum") or "").strip():
            continue
        for col, value in (("specialty", specialty), ("category", category)):
            if not value:
                raise MinimumsError(f"{name}, line {line_no}, column {col}: empty")
            if len(value) > 80:
                raise MinimumsError(f"{name}, line {line_no}, column {col}: longer than 80 characters")
        raw = (row.get("minimum") or "").strip()
        if not raw.isdigit():
            raise MinimumsError(f"{name}, line {line_no}, column minimum: {raw!r} is not a whole number")
        roles = [r.strip() for r in (row.get("roles") or "").replace(";", ",").split(",") if r.strip()]
        bad = [r for r in roles if r not in ROLE_KEYS]
        if bad:
            raise MinimumsError(f"{name}, line {line_no}, column roles: unknown role {bad[0]!r} "
                                f"(use {', '.join(sorted(ROLE_KEYS))})")
        try:
            codes = parse_rule(row.get("codes") or "").text()
        except RuleError as exc:
            raise MinimumsError(f"{name}, line {line_no}, column codes: {exc}") from None
        if len(codes) > 500:
            raise MinimumsError(f"{name}, line {line_no}, column codes: longer than 500 characters")
        key = (specialty.lower(), category.lower())
        if key in seen:
            raise MinimumsError(f"{name}, line {line_no}: {specialty} / {category} is listed twice")
        seen.add(key)
        rows.append({"specialty": specialty, "category": category, "minimum": int(raw), "roles": ",".join(roles),
                     "source": (row.get("source") or "").strip()[:200], "codes": codes,
                     "is_example": _truthy(row.get("example") or "")})
    if not rows:
        raise MinimumsError(f"{name}: no rows")
    return rows


def load_minimums(path: str | Path, *, replace: bool = True, owner=None) -> LoadResult:
    """Load the file atomically; a bad row names the file, line and column and loads nothing."""
    return store_minimums(parse_minimums(path), Path(path).name, replace=replace, owner=owner)


def store_minimums(parsed: list[dict], name: str, *, replace: bool = True, owner=None) -> LoadResult:
    """Store parsed rows as shared sets (``owner`` None) or as ``owner``'s own; replaces sets of the same name
    (of the same owner) unless ``replace`` is False."""
    rows = [CaseMinimum(**r, owner=owner) for r in parsed]
    specialties = sorted({r.specialty for r in rows})
    mine = CaseMinimum.objects.filter(owner=owner) if owner is not None else CaseMinimum.objects.filter(
        owner__isnull=True)
    with transaction.atomic():
        if replace:
            for s in specialties:
                mine.filter(specialty__iexact=s).delete()
        else:
            clash = [r for r in rows if mine.filter(specialty__iexact=r.specialty,
                                                    category__iexact=r.category).exists()]
            if clash:
                raise MinimumsError(f"{name}: {clash[0].specialty} / {clash[0].category} is already loaded "
                                    "(load with --replace to replace that specialty)")
        CaseMinimum.objects.bulk_create(rows)
    return LoadResult(specialties, len(rows))
