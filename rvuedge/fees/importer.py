"""Load CMS releases into the database: atomic (all or nothing) and idempotent.

Parsing happens first, entirely in memory and outside any transaction; only a
fully parsed and cross-checked release is written, in one transaction.
"""

from __future__ import annotations

import hashlib
import re
import time
import urllib.error
import urllib.request
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from decimal import Decimal
from operator import attrgetter
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import IntegrityError, OperationalError, connection, transaction
from django.utils import timezone

from . import catalog, signals
from .archives import MAX_TOTAL_BYTES, ArchiveError, SourceFile, read_file, read_stream, read_zip
from .bulk import insert_rows
from .models import (
    AnesthesiaCF,
    FeeRow,
    Gpci,
    HcpcsCode,
    HcpcsModifier,
    HcpcsRelease,
    Locality,
    OppsCap,
    Release,
)
from .parsers import (
    ParseError,
    detect_kind,
    parse_anes,
    parse_gpci,
    parse_hcpcs,
    parse_locco,
    parse_oppscap,
    parse_pprrvu,
)

Report = Callable[[str], None]


class LoadError(Exception):
    """A release could not be loaded; nothing was written."""


class LoadBusy(LoadError):
    """Another process is loading (or has just loaded) the same release; nothing was written by this load.

    A temporary condition: `rvuedge data update` run from cron exits 75 (EX_TEMPFAIL) on it."""


@dataclass
class LoadResult:
    release: Release | HcpcsRelease
    created: bool
    message: str
    counts: dict[str, int] = field(default_factory=dict)


def _quiet(_msg: str) -> None:
    pass


# --------------------------------------------------------------------------- sources

KIND_PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    ("pprrvu", re.compile(r"^PPRRVU.*\.CSV$")),
    ("pprrvu_txt", re.compile(r"^PPRRVU.*\.TXT$")),
    ("gpci", re.compile(r"^GPCI.*\.CSV$")),
    ("locco", re.compile(r"^.*LOCCO.*\.CSV$")),
    ("anes", re.compile(r"^ANES.*\.CSV$")),
    ("oppscap", re.compile(r"^OPPSCAP.*\.CSV$")),
    ("hcpcs", re.compile(r"^HCPC.*ANWEB.*\.TXT$")),
]


def kind_of(name: str) -> str | None:
    base = name.replace("\\", "/").rsplit("/", 1)[-1].upper()
    for kind, pattern in KIND_PATTERNS:
        if pattern.match(base):
            return kind
    return None


def _read_zip(source: Path | bytes, label: str) -> list[SourceFile]:
    """The CMS files in a zip, read within the limits of :mod:`rvuedge.fees.archives`."""
    try:
        return read_zip(source, label, lambda name: kind_of(name) is not None)
    except ArchiveError as exc:
        raise LoadError(str(exc)) from exc
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError) as exc:
        raise LoadError(f"{label}: not a readable zip archive ({exc})") from exc


def _read_files(paths: list[Path]) -> list[SourceFile]:
    """Files from disk, each and all together within the limits of :mod:`rvuedge.fees.archives`."""
    budget = [MAX_TOTAL_BYTES]
    try:
        return [read_file(p, budget) for p in paths]
    except ArchiveError as exc:
        raise LoadError(str(exc)) from exc
    except OSError as exc:
        raise LoadError(f"cannot read {exc.filename or ''}: {exc.strerror or exc}") from exc


def _is_zip(path: Path) -> bool:
    if path.suffix.lower() == ".zip":
        return True
    try:
        with path.open("rb") as fh:
            return fh.read(4) == b"PK\x03\x04"
    except OSError:
        return False  # reading it again reports why


def _download(url: str, report: Report) -> bytes:
    # Imported here: rich is needed only when a release is downloaded, not by every import of the loader.
    from rich.console import Console
    from rich.progress import BarColumn, DownloadColumn, Progress, TransferSpeedColumn

    # The progress bar goes to standard error, and only to a terminal: a download from cron prints nothing.
    console = Console(stderr=True)
    try:
        with urllib.request.urlopen(url, timeout=15) as response:  # noqa: S310 (https URLs only)
            total = int(response.headers.get("Content-Length") or 0) or None
            with Progress(
                "[progress.description]{task.description}", BarColumn(), DownloadColumn(), TransferSpeedColumn(),
                console=console, disable=not console.is_terminal,
            ) as progress:
                task = progress.add_task(f"Downloading {url.rsplit('/', 1)[-1]}", total=total)
                return read_stream(response, url, total, lambda n: progress.update(task, advance=n))
    except ArchiveError as exc:
        raise LoadError(str(exc)) from exc
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        raise LoadError(
            f"Cannot download {url}: {getattr(exc, 'reason', exc)}. This machine looks offline. "
            "Download the release zip from https://www.cms.gov/medicare/payment/fee-schedules/physician/"
            "pfs-relative-value-files on a connected machine, then run "
            "`rvuedge data load /path/to/RVUxxx.zip` (a zip, a folder of extracted files or a single "
            "PPRRVU CSV all work)."
        ) from exc


def resolve_source(source: str, report: Report = _quiet) -> tuple[list[SourceFile], str | None]:
    """Turn SOURCE (zip, folder, file, URL or release name) into files plus a release-name hint."""
    if source.startswith(("https://", "http://")):
        if source.startswith("http://"):
            raise LoadError(f"{source}: only https URLs are accepted")
        data = _download(source, report)
        return _read_zip(data, source), catalog.name_from_filename(source.rsplit("/", 1)[-1])
    path = Path(source).expanduser()
    if path.is_dir():
        files = _read_files([c for c in sorted(path.iterdir()) if c.is_file() and kind_of(c.name)])
        return files, catalog.name_from_filename(path.name)
    if path.is_file():
        if _is_zip(path):
            return _read_zip(path, str(path)), catalog.name_from_filename(path.name)
        return _read_files([path]), catalog.name_from_filename(path.name)
    if catalog.is_release_name(source):
        name = catalog.normalise_name(source)
        mirror = Path(settings.RVUEDGE_CMS_DATA) / name.lower() if settings.RVUEDGE_CMS_DATA else None
        if mirror and mirror.is_dir():
            report(f"Using the local copy of {name} in {mirror}")
            zips = sorted(mirror.glob("*.zip"))
            if zips:
                return _read_zip(zips[0], str(zips[0])), name
            return resolve_source(str(mirror), report)[0], name
        entry = catalog.lookup(name)
        if entry is None:
            raise LoadError(f"{name} is not in the release catalog; pass a zip, folder or https URL instead")
        report(f"{name}: downloading {entry.url}")
        return _read_zip(_download(entry.url, report), entry.url), name
    raise LoadError(f"{source}: no such file or folder, and not an https URL or a known release name (e.g. RVU26A)")


# --------------------------------------------------------------------------- release loading

def _fingerprint(files: list[dict[str, Any]]) -> str:
    text = "\n".join(sorted(f"{f['kind']}:{f['sha256']}" for f in files))
    return hashlib.sha256(text.encode()).hexdigest()


def _is_qpp(name: str) -> bool:
    up = name.upper()
    return "_QPP" in up and "NONQPP" not in up


def _pick(files: list[SourceFile], kind: str) -> list[SourceFile]:
    return [f for f in files if kind_of(f.name) == kind]


def _one(files: list[SourceFile], kind: str, label: str) -> SourceFile | None:
    picked = _pick(files, kind)
    if len(picked) > 1:
        names = ", ".join(f.name for f in picked)
        raise LoadError(f"{label}: more than one {kind.upper()} file ({names}); keep one per release")
    return picked[0] if picked else None


FEE_FIELDS = [
    "hcpcs", "modifier", "description", "status", "not_used_for_medicare", "work_rvu", "nonfac_pe_rvu",
    "nonfac_na", "fac_pe_rvu", "fac_na", "mp_rvu", "nonfac_total", "fac_total", "pctc", "glob_days",
    "pre_op", "intra_op", "post_op", "mult_proc", "bilat_surg", "asst_surg", "co_surg", "team_surg",
    "pric_ind", "endo_base", "conv_factor", "phys_supervision", "calc_flag", "dx_img_family",
    "opps_nonfac_pe", "opps_fac_pe", "opps_mp",
]


def _single_file_kind(f: SourceFile) -> str:
    kind = kind_of(f.name)
    if kind is None:
        try:
            kind = detect_kind(f.name, f.data)
        except ParseError as exc:
            raise LoadError(str(exc)) from exc
    return kind


@dataclass
class _ParsedRelease:
    """Every file of a release, parsed in memory (nothing written yet)."""

    main: SourceFile
    qpp: SourceFile | None
    fee: Any  # PprrvuFile
    fee_qpp: Any  # PprrvuFile | None
    gpci_f: SourceFile | None
    locco_f: SourceFile | None
    anes_f: SourceFile | None
    opps_f: SourceFile | None
    gpcis: list[Any]
    localities: list[Any]
    anes: Any  # AnesFile | None
    opps: list[Any]

    def file_info(self) -> list[dict[str, Any]]:
        """Name, kind, sha256 and row count of each file (provenance; the fingerprint is computed from it)."""
        info: list[dict[str, Any]] = [
            {"name": self.main.name, "kind": "pprrvu", "sha256": self.main.sha256, "rows": len(self.fee.rows)}
        ]
        if self.fee_qpp is not None and self.qpp is not None:
            info.append({"name": self.qpp.name, "kind": "pprrvu_qpp", "sha256": self.qpp.sha256,
                         "rows": len(self.fee_qpp.rows)})
        for f, kind, rows in (
            (self.gpci_f, "gpci", len(self.gpcis)),
            (self.locco_f, "locco", len(self.localities)),
            (self.anes_f, "anes", len(self.anes.rows) if self.anes else 0),
            (self.opps_f, "oppscap", len(self.opps)),
        ):
            if f is not None:
                info.append({"name": f.name, "kind": kind, "sha256": f.sha256, "rows": rows})
        return info

    def counts(self) -> dict[str, int]:
        return {
            "fee_rows": len(self.fee.rows),
            "codes": len({r.hcpcs for r in self.fee.rows}),
            "gpci": len(self.gpcis),
            "localities": len(self.localities),
            "anesthesia_cf": len(self.anes.rows) if self.anes else 0,
            "opps_cap": len(self.opps),
        }


def load_release(
    source: str,
    *,
    release_name: str | None = None,
    replace: bool = False,
    report: Report = _quiet,
) -> LoadResult:
    started = time.perf_counter()
    files, name_hint = resolve_source(source, report)
    main, qpp = _pprrvu_files(files, source)
    parsed = _parse_release(files, main, qpp, source, report)
    _check_release(parsed)
    name, year = _release_name(release_name, name_hint, parsed)
    file_info = parsed.file_info()
    fingerprint = _fingerprint(file_info)
    counts = parsed.counts()

    existing = Release.objects.filter(name=name).first()
    if existing is not None:
        if existing.fingerprint == fingerprint:
            return LoadResult(existing, False, f"{name} is already loaded from these files; nothing changed.",
                              existing.counts)
        if not replace:
            raise LoadError(
                f"{name} is already loaded from different files (loaded {existing.loaded_at:%Y-%m-%d %H:%M}); "
                "pass --replace to replace it"
            )

    report(f"Writing {name} ({counts['fee_rows']:,} fee rows, {counts['opps_cap']:,} OPPS cap rows)")
    with _sole_writer(Release, name, existing, "fingerprint"):
        if existing is not None:
            existing.delete()
        fee = parsed.fee
        release = _create_once(
            Release,
            name=name,
            year=year,
            title=fee.title,
            released=fee.released,
            layout=fee.layout,
            conv_factor=fee.conv_factor,
            conv_factor_qp=parsed.fee_qpp.conv_factor if parsed.fee_qpp else None,
            anes_national_cf=parsed.anes.national_cf if parsed.anes else None,
            source=source[:500],
            fingerprint=fingerprint,
            files=file_info,
            counts=counts,
            loaded_at=timezone.now(),
        )
        _insert_rows(release.pk, parsed)
        # What other apps derive from the fee rows (the code search index) is rebuilt in the same transaction.
        signals.data_loaded.send(sender=Release, release=release)
        release.load_seconds = Decimal(f"{time.perf_counter() - started:.3f}")
        release.save(update_fields=["load_seconds"])
    verb = "Replaced" if existing is not None else "Loaded"
    return LoadResult(release, True, f"{verb} {name}.", counts)


def _pprrvu_files(files: list[SourceFile], label: str) -> tuple[SourceFile, SourceFile | None]:
    """The release's non-QPP PPRRVU file and its QPP twin, if any; a single file must be a PPRRVU file."""
    if not files:
        raise LoadError(f"{label}: no CMS files found (expected PPRRVU, GPCI, LOCCO, ANES and OPPSCAP CSVs)")
    single = Path(label).expanduser().is_file() and not zipfile.is_zipfile(Path(label).expanduser())
    if single and len(files) == 1:
        kind = _single_file_kind(files[0])
        if kind not in ("pprrvu", "pprrvu_txt"):
            raise LoadError(
                f"{files[0].name}: this is a {kind.upper()} file; a release load needs the PPRRVU file "
                "(or the whole release zip or folder)"
            )
    pprrvu_files = _pick(files, "pprrvu")
    if not pprrvu_files and single and len(files) == 1:
        pprrvu_files = files
    if not pprrvu_files:
        found = ", ".join(f.name for f in files)
        raise LoadError(f"{label}: no PPRRVU CSV in it (found: {found})")
    main = [f for f in pprrvu_files if not _is_qpp(f.name)]
    qpp = [f for f in pprrvu_files if _is_qpp(f.name)]
    if len(main) != 1 or len(qpp) > 1:
        names = ", ".join(f.name for f in pprrvu_files)
        if not main:
            raise LoadError(
                f"{label}: only the QPP PPRRVU file ({names}) is here; load the non-QPP file too "
                "(or the whole release zip) so that non-qualifying clinicians can be priced"
            )
        raise LoadError(f"{label}: more than one PPRRVU file ({names}); keep one per release")
    return main[0], qpp[0] if qpp else None


def _parse_release(files: list[SourceFile], main: SourceFile, qpp: SourceFile | None, label: str,
                   report: Report) -> _ParsedRelease:
    """Parse every file in memory; a parse error names the file, line and column."""
    try:
        report(f"Parsing {main.name}")
        fee = parse_pprrvu(main.data, main.name)
        fee_qpp = parse_pprrvu(qpp.data, qpp.name) if qpp else None
        gpci_f = _one(files, "gpci", label)
        locco_f = _one(files, "locco", label)
        anes_f = _one(files, "anes", label)
        opps_f = _one(files, "oppscap", label)
        gpcis = parse_gpci(gpci_f.data, gpci_f.name) if gpci_f else []
        localities = parse_locco(locco_f.data, locco_f.name) if locco_f else []
        anes = parse_anes(anes_f.data, anes_f.name) if anes_f else None
        opps = parse_oppscap(opps_f.data, opps_f.name) if opps_f else []
    except ParseError as exc:
        raise LoadError(str(exc)) from exc
    return _ParsedRelease(main, qpp, fee, fee_qpp, gpci_f, locco_f, anes_f, opps_f, gpcis,
                          _merge_localities(localities), anes, opps)


def _check_release(p: _ParsedRelease) -> None:
    """Cross-file checks: data rows and a CF, values that fit the columns, a QPP file matching its twin."""
    if not p.fee.rows:
        raise LoadError(f"{p.main.name}: the file has a header but no data rows")
    if p.fee.conv_factor is None:
        raise LoadError(f"{p.main.name}: no conversion factor found in the CONV FACTOR column")
    _check_fee_rows(p.fee.rows, p.main.name)
    _check_fits(p.gpcis, p.gpci_f.name if p.gpci_f else "", {"work_gpci": 4, "work_gpci_no_floor": 4,
                                                            "pe_gpci": 4, "mp_gpci": 4}, {"name": 120})
    _check_fits(p.localities, p.locco_f.name if p.locco_f else "", {}, {"state": 40, "area": 120})
    if p.anes and p.anes_f:
        _check_fits(p.anes.rows, p.anes_f.name, {"conv_factor": 5}, {"name": 120})
    _check_fits(p.opps, p.opps_f.name if p.opps_f else "", {"fac_price": 10, "nonfac_price": 10}, {})
    if p.fee_qpp is not None and p.qpp is not None:
        _check_qpp_matches(p.fee, p.fee_qpp, p.qpp.name)


def _release_name(given: str | None, hint: str | None, p: _ParsedRelease) -> tuple[str, int]:
    """The release's name (given, from the source's name, or from the PPRRVU title) and its year."""
    name = catalog.normalise_name(given) if given else None
    name = name or hint or catalog.name_from_title(p.fee.title)
    if not name:
        raise LoadError(f"{p.main.name}: cannot tell which release this is; pass --release NAME (e.g. RVU26A)")
    if not catalog.is_release_name(name):
        raise LoadError(f"--release {name}: release names look like RVU25A, RVU26C or RVU26AR")
    year, _quarter = catalog.parse_name(name)
    return name, year


def _insert_rows(rid: int, p: _ParsedRelease) -> None:
    """Write every parsed row under release ``rid`` (bulk inserts, inside the caller's transaction)."""
    insert_rows(
        FeeRow,
        ["release", *FEE_FIELDS],
        ((rid, *row) for row in map(attrgetter(*FEE_FIELDS), p.fee.rows)),
    )
    insert_rows(
        Gpci,
        ["release", "mac", "locality", "state", "name", "work_gpci", "work_gpci_no_floor", "pe_gpci",
         "mp_gpci"],
        ((rid, g.mac, g.locality, g.state, g.name, g.work_gpci, g.work_gpci_no_floor, g.pe_gpci, g.mp_gpci)
         for g in p.gpcis),
    )
    insert_rows(
        Locality,
        ["release", "mac", "locality", "state", "area", "counties"],
        ((rid, loc.mac, loc.locality, loc.state, loc.area, loc.counties) for loc in p.localities),
    )
    if p.anes:
        insert_rows(
            AnesthesiaCF,
            ["release", "mac", "locality", "name", "conv_factor"],
            ((rid, a.mac, a.locality, a.name, a.conv_factor) for a in p.anes.rows),
        )
    insert_rows(
        OppsCap,
        ["release", "hcpcs", "modifier", "procstat", "mac", "locality", "fac_price", "nonfac_price"],
        ((rid, o.hcpcs, o.modifier, o.procstat, o.mac, o.locality, o.fac_price, o.nonfac_price)
         for o in p.opps),
    )


def lock_key(table: str, name: str) -> int:
    """The PostgreSQL advisory-lock key that a load of ``name`` into ``table`` holds while it writes."""
    return int.from_bytes(hashlib.sha256(f"rvuedge:{table}:{name}".encode()).digest()[:8], "big", signed=True)


def _busy(exc: Exception) -> bool:
    text = str(exc).lower()
    return "database is locked" in text or "database table is locked" in text or "busy" in text


def _state(obj: Any, version: str) -> tuple[int, str] | None:
    return None if obj is None else (obj.pk, getattr(obj, version))


@contextmanager
def _sole_writer(model: Any, name: str, seen: Any, version: str) -> Iterator[None]:
    """One transaction in which this process alone writes ``name``; a concurrent load is refused cleanly.

    PostgreSQL: a transaction-scoped advisory lock on the name, tried without waiting. SQLite: the
    transaction starts with BEGIN IMMEDIATE (settings), so it waits for any other writer (busy_timeout)
    and then holds the database's write lock. Either way the release is read again under the lock: if
    another process loaded or replaced it since this one looked (``seen``), this load writes nothing.
    """
    busy = (f"{name} is being loaded by another process right now; nothing was written by this load. "
            "Run the command again when that load has finished.")
    try:
        with transaction.atomic():
            if connection.vendor == "postgresql":
                with connection.cursor() as cur:
                    cur.execute("SELECT pg_try_advisory_xact_lock(%s)", [lock_key(model._meta.db_table, name)])
                    if not cur.fetchone()[0]:
                        raise LoadBusy(busy)
            current = model.objects.filter(name=name).first()
            if _state(current, version) != _state(seen, version):
                raise LoadBusy(
                    f"{name} was loaded by another process while this one was reading its files; nothing was "
                    "written by this load (`rvuedge data list` shows what is loaded)."
                )
            yield
    except OperationalError as exc:
        if connection.vendor == "sqlite" and _busy(exc):
            raise LoadBusy(
                f"{name} is being loaded by another process, or another process kept the database locked "
                "for the whole wait; nothing was written by this load. Run the command again when the other "
                "one has finished."
            ) from None
        raise


def _create_once(model: Any, **fields: Any) -> Any:
    """Create the release row; a name taken by a concurrent writer that held no lock is a LoadError."""
    try:
        with transaction.atomic():
            return model.objects.create(**fields)
    except IntegrityError:
        raise LoadBusy(
            f"{fields['name']} was loaded by another process at the same time; nothing was written by this load."
        ) from None


def _merge_localities(rows: list[Any]) -> list[Any]:
    """LOCCO files repeat a locality now and then (25LOCCO.csv lists Missouri 05302-99 twice):
    identical repeats are dropped, differing ones have their county lists joined."""
    merged: dict[tuple[str, str], Any] = {}
    for row in rows:
        key = (row.mac, row.locality)
        first = merged.get(key)
        if first is None:
            merged[key] = row
        elif row.counties and row.counties not in first.counties:
            merged[key] = replace(first, counties=f"{first.counties}; {row.counties}")
    return list(merged.values())


FEE_DECIMALS = {
    "work_rvu": 7, "nonfac_pe_rvu": 7, "fac_pe_rvu": 7, "mp_rvu": 7, "nonfac_total": 7, "fac_total": 7,
    "pre_op": 7, "intra_op": 7, "post_op": 7, "conv_factor": 5, "opps_nonfac_pe": 7, "opps_fac_pe": 7,
    "opps_mp": 7,
}
FIELD_LABELS = {
    "work_rvu": "WORK RVU", "nonfac_pe_rvu": "NON-FAC PE RVU", "fac_pe_rvu": "FACILITY PE RVU", "mp_rvu": "MP RVU",
    "nonfac_total": "NON-FACILITY TOTAL", "fac_total": "FACILITY TOTAL", "pre_op": "PRE OP",
    "intra_op": "INTRA OP", "post_op": "POST OP", "conv_factor": "CONV FACTOR", "description": "DESCRIPTION",
}


def _check_fits(rows: list[Any], filename: str, decimals: dict[str, int], strings: dict[str, int]) -> None:
    """Refuse values the database columns cannot hold, before anything is written.

    Column-wise min/max first (fast); only a failing column is walked row by row for the message.
    """
    if not rows:
        return
    for attr, digits in decimals.items():
        limit = Decimal(10) ** digits
        values = [v for v in map(attrgetter(attr), rows) if v is not None]
        if values and (max(values) >= limit or min(values) <= -limit):
            row = next(r for r in rows if getattr(r, attr) is not None and abs(getattr(r, attr)) >= limit)
            raise LoadError(f"{filename}, line {row.line}, column {FIELD_LABELS.get(attr, attr.upper())}: "
                            f"value {getattr(row, attr)} is out of range")
    for attr, length in strings.items():
        if max(map(len, map(attrgetter(attr), rows))) > length:
            row = next(r for r in rows if len(getattr(r, attr)) > length)
            raise LoadError(f"{filename}, line {row.line}, column {FIELD_LABELS.get(attr, attr.upper())}: "
                            f"longer than {length} characters")


def _check_fee_rows(rows: list[Any], filename: str) -> None:
    _check_fits(rows, filename, FEE_DECIMALS, {"description": 100, "endo_base": 5, "not_used_for_medicare": 2,
                                               "phys_supervision": 2, "dx_img_family": 2})
    seen: dict[tuple[str, str], int] = {}
    for r in rows:
        key = (r.hcpcs, r.modifier)
        if key in seen:
            raise LoadError(f"{filename}, line {r.line}, column HCPCS: {r.hcpcs}"
                            f"{'-' + r.modifier if r.modifier else ''} appears more than once "
                            f"(first on line {seen[key]})")
        seen[key] = r.line


def _check_qpp_matches(fee: Any, fee_qpp: Any, qpp_name: str) -> None:
    """The QPP file must differ from the non-QPP one only in the conversion factor."""
    base = {(r.hcpcs, r.modifier): r for r in fee.rows}
    if len(base) != len(fee_qpp.rows):
        raise LoadError(f"{qpp_name}: {len(fee_qpp.rows)} rows, but the non-QPP file has {len(base)}")
    for r in fee_qpp.rows:
        other = base.get((r.hcpcs, r.modifier))
        if other is None or other.work_rvu != r.work_rvu or other.nonfac_pe_rvu != r.nonfac_pe_rvu \
                or other.fac_pe_rvu != r.fac_pe_rvu or other.mp_rvu != r.mp_rvu:
            raise LoadError(
                f"{qpp_name}, line {r.line}: {r.hcpcs}{'-' + r.modifier if r.modifier else ''} differs from "
                "the non-QPP file in more than the conversion factor"
            )


# --------------------------------------------------------------------------- HCPCS Level II

def load_hcpcs(source: str, *, replace: bool = False, report: Report = _quiet) -> LoadResult:
    path = Path(source).expanduser()
    if source.startswith("https://"):
        files = _read_zip(_download(source, report), source)
    elif path.is_dir():
        files = _read_files([p for p in sorted(path.iterdir()) if p.is_file() and kind_of(p.name) == "hcpcs"])
    elif path.is_file():
        files = _read_zip(path, source) if _is_zip(path) else _read_files([path])
    else:
        raise LoadError(f"{source}: no such file or folder, and not an https URL")
    picked = [f for f in files if kind_of(f.name) == "hcpcs"] or (files if len(files) == 1 else [])
    if len(picked) != 1:
        raise LoadError(f"{source}: expected one HCPCS alpha-numeric file (HCPC*_ANWEB_*.txt), found {len(picked)}")
    f = picked[0]
    try:
        parsed = parse_hcpcs(f.data, f.name)
    except ParseError as exc:
        raise LoadError(str(exc)) from exc
    if not parsed.codes:
        raise LoadError(f"{f.name}: no HCPCS code records (record id 3) found")
    m = re.match(r"^(HCPC\d{4}_[A-Z]{3})", f.name.upper())
    name = m.group(1) if m else f.name.rsplit(".", 1)[0][:40]
    counts = {"codes": len(parsed.codes), "modifiers": len(parsed.modifiers), "warnings": len(parsed.warnings)}
    existing = HcpcsRelease.objects.filter(name=name).first()
    if existing is not None:
        if existing.sha256 == f.sha256:
            return LoadResult(existing, False, f"{name} is already loaded from this file; nothing changed.",
                              existing.counts)
        if not replace:
            raise LoadError(f"{name} is already loaded from a different file; pass --replace to replace it")
    with _sole_writer(HcpcsRelease, name, existing, "sha256"):
        if existing is not None:
            existing.delete()
        rel = _create_once(
            HcpcsRelease,
            name=name, file_name=f.name, sha256=f.sha256, source=source[:500], counts=counts,
            warnings=parsed.warnings[:200], loaded_at=timezone.now(),
        )
        insert_rows(
            HcpcsCode,
            ["release", "code", "long_description", "short_description", "pricing_indicators",
             "multiple_pricing", "coverage", "asc_group", "betos", "type_of_service", "anes_base_units",
             "added", "action_effective", "terminated", "action_code"],
            ((rel.pk, c.code, c.long_description, c.short_description, " ".join(c.pricing_indicators),
              c.multiple_pricing, c.coverage, c.asc_group, c.betos, " ".join(c.type_of_service),
              c.anes_base_units, c.added, c.action_effective, c.terminated, c.action_code)
             for c in parsed.codes),
        )
        insert_rows(
            HcpcsModifier,
            ["release", "modifier", "long_description", "short_description", "added", "action_effective",
             "terminated", "action_code"],
            ((rel.pk, m_.modifier, m_.long_description, m_.short_description, m_.added, m_.action_effective,
              m_.terminated, m_.action_code) for m_ in parsed.modifiers),
        )
        # What other apps derive from the HCPCS codes (the code search index) is rebuilt in the same transaction.
        signals.data_loaded.send(sender=HcpcsRelease, release=rel)
    return LoadResult(rel, True, f"Loaded {name}.", counts)
