"""Benchmark CSV import: parse (pure) and store (one transaction).

The CSV format (UTF-8; ``#`` lines before the header carry the provenance)::

    # year: 2026
    # kind: approximate                 (survey | computed | approximate)
    # setting: all                      (all | academic | private | mixed | unknown)
    # fte_basis: not stated (read as 1.0 FTE)
    # licence: Approximate public figures; not survey data
    # citation: Publisher, title, URL
    # notes: free text
    specialty,metric,p25,p50,p75,p90,n
    Family Medicine,wrvu,,5200,,,
    Orthopedic Surgery,comp,"$520,000",...

* ``specialty`` is required; ``metric`` is ``wrvu`` (default), ``comp`` or ``comp_per_wrvu``.
* At least one of ``p25 p50 p75 p90`` per row; blanks are unknown. Numbers may carry ``$`` and
  thousands separators. Percentiles must not decrease. ``n`` (clinicians) is optional.
* Provenance may also come from the command's options, which win over the ``#`` lines.
"""

from __future__ import annotations

import csv
import hashlib
import io
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from django.db import transaction
from django.utils import timezone

from rvuedge.accounts import specialties
from rvuedge.pricing.money import cents

from .models import BenchmarkSource, BenchmarkStat, CodeVolume

META_KEYS = ("name", "year", "kind", "setting", "fte_basis", "licence", "citation", "notes")
REQUIRED_META = ("year", "kind", "fte_basis", "licence")
KINDS = ("survey", "computed", "approximate")
SETTINGS = ("all", "academic", "private", "mixed", "unknown")
METRICS = ("wrvu", "comp", "comp_per_wrvu")
PCTS = ("p25", "p50", "p75", "p90")


class ImportError_(ValueError):
    """Bad benchmark input; the message names the file, line and field."""


@dataclass
class ParsedRow:
    line: int
    specialty: str
    metric: str
    values: dict[str, Decimal | None]
    n: int | None


@dataclass
class ParsedCsv:
    file: str
    sha256: str
    meta: dict[str, str] = field(default_factory=dict)
    rows: list[ParsedRow] = field(default_factory=list)


def _num(text: str, where: str) -> Decimal | None:
    text = text.strip().replace(",", "").replace("$", "")
    if not text:
        return None
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise ImportError_(f"{where}: {text!r} is not a number") from None
    if not value.is_finite() or value < 0:
        raise ImportError_(f"{where}: {text!r} must be a non-negative number")
    return value


def parse_csv(data: bytes, name: str) -> ParsedCsv:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ImportError_(f"{name}: not UTF-8 text (byte {exc.start})") from None
    out = ParsedCsv(file=name, sha256=hashlib.sha256(data).hexdigest())
    lines = text.splitlines()
    first = 0
    for i, line in enumerate(lines):
        stripped = line.strip()
        if not stripped:
            continue
        if not stripped.startswith("#"):
            first = i
            break
        body = stripped.lstrip("#").strip()
        if ":" in body:
            k, v = body.split(":", 1)
            k = k.strip().lower().replace(" ", "_").replace("license", "licence")
            if k in META_KEYS:
                out.meta[k] = v.strip()
    else:
        raise ImportError_(f"{name}: no header row (expected: specialty,metric,p25,p50,p75,p90,n)")
    reader = csv.reader(io.StringIO("\n".join(lines[first:])))
    header = [h.strip().lower() for h in next(reader)]
    header_line = first + 1
    if "specialty" not in header:
        raise ImportError_(f"{name} line {header_line}: the header has no 'specialty' column "
                           "(expected: specialty,metric,p25,p50,p75,p90,n)")
    unknown = [h for h in header if h and h not in ("specialty", "metric", *PCTS, "n")]
    if unknown:
        raise ImportError_(f"{name} line {header_line}, field {unknown[0]}: unknown column")
    if not any(p in header for p in PCTS):
        raise ImportError_(f"{name} line {header_line}: no percentile column (p25, p50, p75, p90)")
    col = {h: i for i, h in enumerate(header)}
    seen: dict[tuple[str, str], int] = {}
    for offset, row in enumerate(reader):
        line = header_line + 1 + offset
        if not any(c.strip() for c in row) or row[0].lstrip().startswith("#"):
            continue
        if len(row) > len(header):
            raise ImportError_(f"{name} line {line}: {len(row)} fields, the header has {len(header)}")
        row = row + [""] * (len(header) - len(row))

        def cell(h: str, row: list[str] = row) -> str:
            return row[col[h]].strip() if h in col else ""

        spec = cell("specialty")
        if not spec:
            raise ImportError_(f"{name} line {line}, field specialty: empty")
        metric = (cell("metric") or "wrvu").lower()
        if metric not in METRICS:
            raise ImportError_(f"{name} line {line}, field metric: {metric!r} is not one of {', '.join(METRICS)}")
        values = {p: _num(cell(p), f"{name} line {line}, field {p}") for p in PCTS}
        known = [(p, v) for p, v in values.items() if v is not None]
        if not known:
            raise ImportError_(f"{name} line {line}, field p50: no percentile given")
        for (p1, v1), (p2, v2) in zip(known, known[1:], strict=False):
            if v2 < v1:
                raise ImportError_(f"{name} line {line}, field {p2}: {v2} is below {p1} {v1}")
        n_val = _num(cell("n"), f"{name} line {line}, field n")
        if n_val is not None and n_val != n_val.to_integral_value():
            raise ImportError_(f"{name} line {line}, field n: {n_val} is not a whole number")
        k = (specialties.key(spec), metric)
        if k in seen:
            raise ImportError_(f"{name} line {line}, field specialty: {spec!r} {metric} repeats line {seen[k]}")
        seen[k] = line
        out.rows.append(ParsedRow(line, specialties.canonical(spec), metric, values,
                                  None if n_val is None else int(n_val)))
    if not out.rows:
        raise ImportError_(f"{name}: no data rows")
    return out


def check_meta(meta: dict[str, str], name: str) -> dict[str, Any]:
    """Validate provenance; return model field values."""
    for k in REQUIRED_META:
        if not meta.get(k):
            raise ImportError_(f"{name}, field {k}: required (a '# {k}: ...' line or the --{k.replace('_', '-')} "
                               "option)")
    try:
        year = int(meta["year"])
    except ValueError:
        raise ImportError_(f"{name}, field year: {meta['year']!r} is not a year") from None
    if not 1990 <= year <= 2100:
        raise ImportError_(f"{name}, field year: {year} is out of range")
    kind = meta["kind"].lower()
    if kind not in KINDS:
        raise ImportError_(f"{name}, field kind: {kind!r} is not one of {', '.join(KINDS)}")
    setting = (meta.get("setting") or "all").lower()
    if setting not in SETTINGS:
        raise ImportError_(f"{name}, field setting: {setting!r} is not one of {', '.join(SETTINGS)}")
    return {"year": year, "kind": kind, "setting": setting, "fte_basis": meta["fte_basis"][:200],
            "licence": meta["licence"][:300], "citation": meta.get("citation", "")[:500],
            "notes": meta.get("notes", "")}


def import_file(path: str | Path, source_name: str | None = None, overrides: dict[str, str] | None = None):
    """Parse and store a benchmark CSV atomically; return (source, rows stored, replaced)."""


    p = Path(path)
    if not p.is_file():
        raise ImportError_(f"{path}: no such file")
    parsed = parse_csv(p.read_bytes(), str(path))
    meta = {**parsed.meta, **{k: v for k, v in (overrides or {}).items() if v}}
    name = (source_name or meta.get("name") or "").strip()
    if not name:
        raise ImportError_(f"{path}, field name: give --source NAME (or a '# name: ...' line)")
    fields = check_meta(meta, str(path))
    with transaction.atomic():
        source, created = BenchmarkSource.objects.select_for_update().get_or_create(
            name=name[:120], defaults={**fields, "updated_at": timezone.now()})
        if not created:
            for k, v in fields.items():
                setattr(source, k, v)
            source.medicare_only = False
        source.input_file = p.name[:300]
        source.input_sha256 = parsed.sha256
        source.rows_read = len(parsed.rows)
        source.updated_at = timezone.now()
        source.save()
        replaced = source.stats.count()
        source.stats.all().delete()
        BenchmarkStat.objects.bulk_create([
            BenchmarkStat(source=source, specialty=r.specialty, specialty_key=specialties.key(r.specialty),
                          metric=r.metric, n=r.n, **r.values)
            for r in parsed.rows
        ])
    return source, len(parsed.rows), replaced


def store_medicare(result, *, source_name: str, release: str, year: int, input_sha256: str = "",
                   notes: str = "") -> Any:
    """Replace (or create) a computed source with a :class:`~rvuedge.benchmarks.medicare.BuildResult`."""


    fields = {
        "year": year,
        "kind": BenchmarkSource.COMPUTED,
        "setting": "all",
        "fte_basis": "not FTE-adjusted: each clinician's Medicare fee-for-service services in the year, whatever "
                     "their clinical time",
        "licence": "Computed from the CMS public use file (a U.S. Government work, no copyright); work RVUs "
                   f"from the CMS PFS release {release}",
        "citation": "CMS, Medicare Physician & Other Practitioners - by Provider and Service (data.cms.gov)",
        "notes": notes or ("Medicare-only wRVUs: Tot_Srvcs x the release's work RVU (global row), summed per "
                           "rendering NPI; clinicians with no wRVU-bearing service are left out. Medicare is only "
                           "part of most clinicians' work, so these sit well below all-payer survey figures."),
        "medicare_only": True,
        "release": release,
        "input_file": result.file.rsplit("/", 1)[-1][:300],
        "input_sha256": input_sha256,
        "rows_read": result.rows,
        "clinicians": result.clinicians_with_wrvu,
        "build_seconds": Decimal(str(round(result.seconds, 2))),
        "updated_at": timezone.now(),
    }
    with transaction.atomic():
        source, created = BenchmarkSource.objects.select_for_update().get_or_create(
            name=source_name[:120], defaults=fields)
        if not created:
            for k, v in fields.items():
                setattr(source, k, v)
            source.save()
            source.stats.all().delete()
            source.code_volumes.all().delete()
        BenchmarkStat.objects.bulk_create([
            BenchmarkStat(source=source, specialty=s.specialty[:80], specialty_key=specialties.key(s.specialty),
                          metric=BenchmarkStat.WRVU, n=s.clinicians,
                          **{f"p{p}": v for p, v in s.percentiles.items()})
            for s in result.specialties
        ], batch_size=1000)
        CodeVolume.objects.bulk_create([
            CodeVolume(source=source, hcpcs=c.hcpcs[:5], total_services=cents(c.services),
                       clinicians=c.clinicians, work_rvu=c.work_rvu,
                       top_specialties=[{"specialty": spec, "services": str(cents(s)),
                                         "share": str(share)} for spec, s, share in c.top])
            for c in result.codes if len(c.hcpcs) <= 5
        ], batch_size=2000)
    return source

