"""Medicare-only wRVU benchmarks computed from the CMS "Medicare Physician & Other Practitioners — by
Provider and Service" public use file, streamed through DuckDB (no Django in this module).

One pass reads the four columns that matter (NPI, provider type, HCPCS, services) into a compact DuckDB
table; everything else is aggregation over it:

* per clinician: sum of ``Tot_Srvcs x work RVU`` of the release's global row (modifier ``''``). The
  work RVU does not depend on facility/non-facility, so ``Place_Of_Srvc`` rows simply add up;
* per specialty (``Rndrng_Prvdr_Type``): p25/p50/p75/p90 of clinicians with wRVUs > 0, linear
  interpolation between order statistics (position ``(n - 1) x p``), computed in ``Decimal`` here from the
  two neighbouring values DuckDB returns, so the figures are exact;
* per HCPCS: total services, distinct clinicians, and the specialties billing most of it.

DuckDB is limited to ``memory_limit`` and ``threads`` and spills to a temporary directory beyond that.
"""

from __future__ import annotations

import csv
import json
import re
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from rvuedge.pricing.money import cents, round_places

CMS_COLUMNS: tuple[str, ...] = (
    "Rndrng_NPI", "Rndrng_Prvdr_Last_Org_Name", "Rndrng_Prvdr_First_Name", "Rndrng_Prvdr_MI",
    "Rndrng_Prvdr_Crdntls", "Rndrng_Prvdr_Ent_Cd", "Rndrng_Prvdr_St1", "Rndrng_Prvdr_St2", "Rndrng_Prvdr_City",
    "Rndrng_Prvdr_State_Abrvtn", "Rndrng_Prvdr_State_FIPS", "Rndrng_Prvdr_Zip5", "Rndrng_Prvdr_RUCA",
    "Rndrng_Prvdr_RUCA_Desc", "Rndrng_Prvdr_Cntry", "Rndrng_Prvdr_Type", "Rndrng_Prvdr_Mdcr_Prtcptg_Ind",
    "HCPCS_Cd", "HCPCS_Desc", "HCPCS_Drug_Ind", "Place_Of_Srvc", "Tot_Benes", "Tot_Srvcs", "Tot_Bene_Day_Srvcs",
    "Avg_Sbmtd_Chrg", "Avg_Mdcr_Alowd_Amt", "Avg_Mdcr_Pymt_Amt", "Avg_Mdcr_Stdzd_Amt",
)  # fmt: skip
# The DuckDB types of the columns this build reads; every other column is read as text and dropped.
USED_TYPES = {
    "Rndrng_NPI": "BIGINT",
    "Rndrng_Prvdr_Type": "VARCHAR",
    "HCPCS_Cd": "VARCHAR",
    "Tot_Srvcs": "DECIMAL(15,3)",
}
PERCENTILES = (25, 50, 75, 90)
DATASET_TITLE = "Medicare Physician & Other Practitioners - by Provider and Service"


class MedicareError(ValueError):
    """Bad input file; the message names the file, the line and the column where known."""


@dataclass
class SpecialtyStats:
    specialty: str
    clinicians: int  # with Medicare wRVUs > 0
    percentiles: dict[int, Decimal]  # 25 -> p25 ...


@dataclass
class CodeStats:
    hcpcs: str
    services: Decimal
    clinicians: int
    work_rvu: Decimal | None
    top: list[tuple[str, Decimal, Decimal]]  # (specialty, services, share 0-1)


@dataclass
class BuildResult:
    file: str
    rows: int
    clinicians: int  # distinct NPIs in the file
    clinicians_with_wrvu: int
    specialties: list[SpecialtyStats]
    skipped_specialties: list[tuple[str, int]]  # fewer clinicians than min_clinicians
    codes: list[CodeStats]
    unmatched_services: Decimal  # services on codes without a work RVU in the release
    seconds: float
    timings: dict[str, float] = field(default_factory=dict)


def read_header(path: Path) -> list[str]:
    try:
        with path.open("r", encoding="utf-8-sig", newline="") as fh:
            first = fh.readline()
    except FileNotFoundError:
        raise MedicareError(f"{path}: no such file") from None
    except UnicodeDecodeError:
        raise MedicareError(f"{path} line 1: not UTF-8 text") from None
    if not first.strip():
        raise MedicareError(f"{path} line 1: empty file (expected the CMS header row)")
    header = next(csv.reader([first]))
    missing = [c for c in USED_TYPES if c not in header]
    if missing:
        raise MedicareError(f"{path} line 1, field {missing[0]}: column missing; expected the CMS columns "
                            f"{', '.join(CMS_COLUMNS[:3])}, ... ({len(CMS_COLUMNS)} in all)")
    dup = [c for c in header if header.count(c) > 1]
    if dup:
        raise MedicareError(f"{path} line 1, field {dup[0]}: column repeated")
    return header


def _sql_str(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def connect(memory_limit: str = "3GB", threads: int = 2, temp_dir: str | None = None):
    # Loaded on first use: importing duckdb costs ~130 ms, and only build-medicare needs it.
    import duckdb

    con = duckdb.connect(":memory:")
    con.execute(f"SET memory_limit={_sql_str(memory_limit)}")
    con.execute(f"SET threads={int(threads)}")
    con.execute("SET preserve_insertion_order=false")
    if temp_dir:
        con.execute(f"SET temp_directory={_sql_str(temp_dir)}")
    return con


def read_csv_sql(path: Path, header: list[str]) -> str:
    cols = ", ".join(f"{_sql_str(c)}: {_sql_str(USED_TYPES.get(c, 'VARCHAR'))}" for c in header)
    return (f"read_csv({_sql_str(str(path))}, header=true, auto_detect=false, delim=',', quote='\"', "
            f"escape='\"', columns={{{cols}}})")


def _interpolate(lo: Decimal, hi: Decimal, n: int, pct: int) -> Decimal:
    pos_num = (n - 1) * pct  # position x 100
    frac = Decimal(pos_num % 100) / 100
    return cents(lo + (hi - lo) * frac)


def build(
    path: str | Path,
    work_rvus: dict[str, Decimal],
    *,
    memory_limit: str = "3GB",
    threads: int = 2,
    top_n: int = 5,
    min_clinicians: int = 11,
    report: Callable[[str], None] | None = None,
) -> BuildResult:
    """Aggregate the file; ``work_rvus`` maps HCPCS -> work RVU of the release's global row."""
    path = Path(path)
    say = report or (lambda _m: None)
    header = read_header(path)
    t0 = time.perf_counter()
    timings: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="rvuedge-duckdb-") as tmp:
        con = connect(memory_limit, threads, tmp)
        try:
            _load_work_rvus(con, work_rvus, Path(tmp) / "rvu.csv")
            say(f"reading {path.name} with DuckDB ({threads} threads, memory limit {memory_limit})")
            _scan(con, path, header)
            timings["scan"] = time.perf_counter() - t0
            rows = _checked_rows(con, path)
            t = time.perf_counter()
            clinicians, with_wrvu, counts, picked = _per_clinician(con)
            timings["per_clinician"] = time.perf_counter() - t
            specialties, skipped = _specialties(counts, picked, min_clinicians)
            t = time.perf_counter()
            code_rows, top_rows, unmatched = _per_code(con, top_n)
            timings["per_code"] = time.perf_counter() - t
        finally:
            con.close()
    codes = _codes(code_rows, top_rows, work_rvus)
    seconds = time.perf_counter() - t0
    say(f"{rows:,} rows, {clinicians:,} clinicians ({with_wrvu:,} with wRVUs), {len(specialties)} specialties, "
        f"{len(codes):,} codes in {seconds:.1f} s")
    return BuildResult(
        file=str(path), rows=int(rows), clinicians=int(clinicians), clinicians_with_wrvu=int(with_wrvu),
        specialties=specialties, skipped_specialties=skipped, codes=codes,
        unmatched_services=Decimal(unmatched), seconds=seconds, timings=timings,
    )


def _load_work_rvus(con, work_rvus: dict[str, Decimal], rvu_csv: Path) -> None:
    """Table ``rvu`` (hcpcs, work): the release's work RVUs, through a CSV in the build's temporary folder."""
    with rvu_csv.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["hcpcs", "work"])
        w.writerows((code, str(v)) for code, v in work_rvus.items())
    con.execute(
        f"CREATE TABLE rvu AS SELECT * FROM read_csv({_sql_str(str(rvu_csv))}, header=true, "
        "auto_detect=false, columns={'hcpcs': 'VARCHAR', 'work': 'DECIMAL(9,2)'})"
    )


def _scan(con, path: Path, header: list[str]) -> None:
    """Table ``svc`` (npi, spec, hcpcs, srv): the four columns used, read from the file in one pass."""
    try:
        con.execute(
            "CREATE TABLE svc AS SELECT Rndrng_NPI AS npi, Rndrng_Prvdr_Type AS spec, "
            f"upper(trim(HCPCS_Cd)) AS hcpcs, Tot_Srvcs AS srv FROM {read_csv_sql(path, header)}"
        )
    except Exception as exc:  # duckdb raises its own error classes; keep its line/column detail
        raise MedicareError(f"{path}: {str(exc).strip()}") from None


def _checked_rows(con, path: Path) -> int:
    """The file's row count; MedicareError when a row lacks the NPI, the code or the services."""
    rows, bad = con.execute(
        "SELECT count(*), count(*) FILTER (WHERE npi IS NULL OR hcpcs IS NULL OR srv IS NULL) FROM svc"
    ).fetchone()
    if bad:
        raise MedicareError(f"{path}: {bad} rows lack Rndrng_NPI, HCPCS_Cd or Tot_Srvcs")
    return rows


def _per_clinician(con) -> tuple[int, int, list[tuple[str, int]], list[tuple[str, int, int, Decimal]]]:
    """Table ``per_npi`` (npi, spec, wrvu); (clinicians, those with wRVUs, (specialty, clinicians with wRVUs)
    rows, and the (spec, n, i, wrvu) order statistics each percentile interpolates between)."""
    con.execute(
        "CREATE TABLE per_npi AS SELECT npi, min(spec) AS spec, "
        "sum(srv * coalesce(r.work, 0)) AS wrvu FROM svc LEFT JOIN rvu r USING (hcpcs) GROUP BY npi"
    )
    clinicians, with_wrvu = con.execute(
        "SELECT count(*), count(*) FILTER (WHERE wrvu > 0) FROM per_npi").fetchone()
    counts = con.execute(
        "SELECT spec, count(*) FROM per_npi WHERE wrvu > 0 GROUP BY spec ORDER BY spec").fetchall()
    ranks = " OR ".join(
        f"i = ((n - 1) * {p}) // 100 OR i = ((n - 1) * {p} + 99) // 100" for p in PERCENTILES
    )
    picked = con.execute(
        "WITH ranked AS (SELECT spec, wrvu, row_number() OVER (PARTITION BY spec ORDER BY wrvu) - 1 AS i, "
        "count(*) OVER (PARTITION BY spec) AS n FROM per_npi WHERE wrvu > 0) "
        f"SELECT spec, n, i, wrvu FROM ranked WHERE {ranks}"
    ).fetchall()
    return clinicians, with_wrvu, counts, picked


def _specialties(counts: list[tuple[str, int]], picked: list[tuple[str, int, int, Decimal]], min_clinicians: int,
                 ) -> tuple[list[SpecialtyStats], list[tuple[str, int]]]:
    """(each specialty's percentiles, the specialties skipped for having fewer than ``min_clinicians``)."""
    by_spec: dict[str, dict[int, Decimal]] = {}
    for spec, _n, i, wrvu in picked:
        by_spec.setdefault(spec, {})[i] = Decimal(wrvu)
    specialties: list[SpecialtyStats] = []
    skipped: list[tuple[str, int]] = []
    for spec, n in counts:
        if n < min_clinicians:
            skipped.append((spec, n))
            continue
        vals = by_spec[spec]
        pcts = {}
        for p in PERCENTILES:
            i = (n - 1) * p // 100
            j = -(-(n - 1) * p // 100)
            pcts[p] = _interpolate(vals[i], vals[j], n, p)
        specialties.append(SpecialtyStats(spec, n, pcts))
    return specialties, skipped


def _per_code(con, top_n: int) -> tuple[list[tuple[str, Decimal, int]], list[tuple[str, str, Decimal]], Decimal]:
    """(per code: services and clinicians; per code its top ``top_n`` specialties by services; the services on
    codes without a work RVU)."""
    code_rows = con.execute(
        "SELECT hcpcs, sum(srv) AS services, count(DISTINCT npi) AS clinicians FROM svc GROUP BY hcpcs"
    ).fetchall()
    top_rows = con.execute(
        "WITH s AS (SELECT hcpcs, spec, sum(srv) AS services FROM svc GROUP BY hcpcs, spec), "
        "r AS (SELECT *, row_number() OVER (PARTITION BY hcpcs ORDER BY services DESC, spec) AS k FROM s) "
        f"SELECT hcpcs, spec, services FROM r WHERE k <= {int(top_n)} ORDER BY hcpcs, k"
    ).fetchall()
    unmatched = con.execute(
        "SELECT coalesce(sum(srv), 0) FROM svc LEFT JOIN rvu r USING (hcpcs) "
        "WHERE r.work IS NULL OR r.work = 0"
    ).fetchone()[0]
    return code_rows, top_rows, unmatched


def _codes(code_rows: list[tuple[str, Decimal, int]], top_rows: list[tuple[str, str, Decimal]],
           work_rvus: dict[str, Decimal]) -> list[CodeStats]:
    """Each code's figures, in code order, with its top specialties' share of its services."""
    tops: dict[str, list[tuple[str, Decimal]]] = {}
    for hcpcs, spec, services in top_rows:
        tops.setdefault(hcpcs, []).append((spec, Decimal(services)))
    codes: list[CodeStats] = []
    for hcpcs, services, n in sorted(code_rows):
        services = Decimal(services)
        top = [(spec, s, round_places(s / services, 4) if services else Decimal(0))
               for spec, s in tops.get(hcpcs, [])]
        codes.append(CodeStats(hcpcs, services, int(n), work_rvus.get(hcpcs), top))
    return codes


# --------------------------------------------------------------------------- the real file, when online

CATALOG_URL = "https://data.cms.gov/data.json"
LANDING_URL = ("https://data.cms.gov/provider-summary-by-type-of-service/medicare-physician-other-practitioners/"
               "medicare-physician-other-practitioners-by-provider-and-service")


def _norm_title(text: str) -> str:
    return " ".join(text.replace("\u2014", "-").replace("\u2013", "-").replace("&amp;", "&").lower().split())


def find_download(catalog: dict, year: int | None = None) -> tuple[str, int | None]:
    """(CSV download URL, data year) of the dataset named DATASET_TITLE in a data.cms.gov DCAT catalog."""

    want = _norm_title(DATASET_TITLE)
    datasets = [d for d in catalog.get("dataset", []) if _norm_title(str(d.get("title", ""))) == want]
    if not datasets:
        raise MedicareError(f"The CMS catalog has no dataset named “{DATASET_TITLE}”")
    found: list[tuple[int | None, str]] = []
    for d in datasets:
        for dist in d.get("distribution", []):
            url = str(dist.get("downloadURL") or "")
            if not url or not (dist.get("mediaType") == "text/csv" or url.lower().endswith(".csv")):
                continue
            text = f"{dist.get('temporal', '')} {dist.get('title', '')} {url}"
            m = re.search(r"(20\d\d)-12-31", text) or re.search(r"_D(\d\d)_", url) or re.search(r"(20\d\d)", text)
            y = None
            if m:
                y = int(m.group(1)) if len(m.group(1)) == 4 else 2000 + int(m.group(1))
            found.append((y, url))
    if year is not None:
        found = [f for f in found if f[0] == year]
    if not found:
        raise MedicareError(f"No CSV download of “{DATASET_TITLE}”" + (f" for {year}" if year else ""))
    y, url = max(found, key=lambda f: (f[0] or 0))
    return url, y


def download(out: str | Path, *, year: int | None = None, opener: Callable | None = None,
             report: Callable[[str], None] | None = None) -> tuple[Path, int | None]:
    """Download the real file by its CMS name (data.cms.gov catalog); a clear error when offline."""

    open_url = opener or urllib.request.urlopen
    say = report or (lambda _m: None)
    offline = (f"Could not reach data.cms.gov ({{reason}}). This machine looks offline. On a connected machine "
               f"download “{DATASET_TITLE}” (CSV) from {LANDING_URL}, copy it here and run "
               "`rvuedge benchmarks build-medicare FILE`; or make a synthetic file with `rvuedge benchmarks synth`.")
    try:
        with open_url(CATALOG_URL, timeout=30) as resp:
            catalog = json.loads(resp.read().decode("utf-8"))
        url, y = find_download(catalog, year)
        say(f"downloading {DATASET_TITLE} ({y or 'latest'}) from {url}")
        target = Path(out)
        tmp = target.with_name(target.name + ".partial")
        with open_url(url, timeout=60) as resp, tmp.open("wb") as fh:
            total = 0
            while chunk := resp.read(1 << 20):
                fh.write(chunk)
                total += len(chunk)
                if total % (256 << 20) < (1 << 20):
                    say(f"{total >> 20:,} MB")
        tmp.replace(target)
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        reason = getattr(exc, "reason", None) or exc
        raise MedicareError(offline.format(reason=reason)) from None
    return target, y
