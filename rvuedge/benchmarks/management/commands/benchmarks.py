"""`rvuedge benchmarks import|build-medicare|synth|download|list`: national benchmark data."""

from __future__ import annotations

import argparse
import hashlib
import json
import re
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from rvuedge.benchmarks import importer, medicare, synth
from rvuedge.benchmarks.models import BenchmarkSource
from rvuedge.fees.models import FeeRow
from rvuedge.fees.services import NotFound, get_release

IMPORT_HELP = importer.__doc__.split("\n", 2)[2] if importer.__doc__ else ""


class Command(BaseCommand):
    help = "Benchmark sources: import a CSV, build Medicare-only wRVU percentiles, make a synthetic CMS file."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True,
                                    metavar="{import,build-medicare,synth,download,list}")
        imp = sub.add_parser("import", help="Import percentiles from a benchmark CSV (atomic)",
                             formatter_class=argparse.RawDescriptionHelpFormatter, epilog=IMPORT_HELP)
        imp.add_argument("file")
        imp.add_argument("--source", help="source name (default: the file's '# name:' line)")
        for opt in ("year", "kind", "setting", "fte-basis", "licence", "citation", "notes"):
            imp.add_argument(f"--{opt}", help=f"provenance: overrides the file's '# {opt.replace('-', '_')}:' line")

        bm = sub.add_parser("build-medicare", help="Medicare-only wRVU percentiles and code volumes from the CMS "
                                                   "'by Provider and Service' file (DuckDB)")
        bm.add_argument("file", help="the CMS CSV (columns exactly as CMS publishes them)")
        bm.add_argument("--release", help="RVU release whose work RVUs are used (default: the newest loaded)")
        bm.add_argument("--source", help="source name (default: derived from the year, file and release)")
        bm.add_argument("--year", type=int, help="data year (default: from the file name, else the release year)")
        bm.add_argument("--memory-limit", default="3GB", help="DuckDB memory limit (default 3GB)")
        bm.add_argument("--threads", type=int, default=2, help="DuckDB threads (default 2)")
        bm.add_argument("--min-clinicians", type=int, default=11,
                        help="publish a specialty only with at least this many clinicians (default 11)")
        bm.add_argument("--sha256", action="store_true", help="record the input file's sha256 (reads it twice)")
        bm.add_argument("--json", action="store_true")

        sy = sub.add_parser("synth", help="Write a synthetic CMS-shaped file (placeholder names and NPIs)")
        sy.add_argument("out")
        sy.add_argument("--rows", type=int, default=10_000)
        sy.add_argument("--release-file", required=True, help="PPRRVU CSV (or release zip) to draw codes from")
        sy.add_argument("--seed", type=int, default=2023)

        dl = sub.add_parser("download", help=f"Download the real “{medicare.DATASET_TITLE}” file (needs internet)")
        dl.add_argument("out")
        dl.add_argument("--year", type=int, help="data year (default: the newest)")

        ls = sub.add_parser("list", help="List benchmark sources")
        ls.add_argument("--json", action="store_true")

    def handle(self, *args, **opts):
        action = opts["action"]
        try:
            if action == "import":
                self._import(opts)
            elif action == "build-medicare":
                self._build(opts)
            elif action == "synth":
                counts = synth.generate_file(opts["out"], opts["rows"], opts["release_file"], seed=opts["seed"],
                                             report=lambda m: self.stderr.write(m))
                self.stdout.write(f"Wrote {opts['out']}: {counts['rows']:,} rows, {counts['clinicians']:,} synthetic "
                                  "clinicians (placeholder names, NPIs starting with 9)")
            elif action == "download":
                path, year = medicare.download(opts["out"], year=opts.get("year"),
                                               report=lambda m: self.stderr.write(m))
                self.stdout.write(f"Downloaded {path} ({year or 'latest'})")
            else:
                self._list(opts["json"])
        except (importer.ImportError_, medicare.MedicareError, ValueError) as exc:
            raise CommandError(str(exc)) from None

    def _import(self, opts):
        overrides = {k.replace("-", "_"): opts.get(k.replace("-", "_")) for k in
                     ("year", "kind", "setting", "fte-basis", "licence", "citation", "notes")}
        source, n, replaced = importer.import_file(opts["file"], opts.get("source"), overrides)
        verb = f"replaced {replaced} rows with" if replaced else "imported"
        self.stdout.write(f"{source.name}: {verb} {n} rows ({source.get_kind_display()}, {source.year}, "
                          f"{source.get_setting_display()}, FTE basis: {source.fte_basis})")

    def _build(self, opts):
        try:
            release = get_release(opts.get("release"))
        except NotFound as exc:
            raise CommandError(str(exc)) from None
        path = Path(opts["file"])
        work = dict(FeeRow.objects.filter(release=release, modifier="").values_list("hcpcs", "work_rvu"))
        result = medicare.build(path, work, memory_limit=opts["memory_limit"], threads=opts["threads"],
                                min_clinicians=opts["min_clinicians"], report=lambda m: self.stderr.write(m))
        year = opts.get("year") or _year_from_name(path.name) or release.year
        name = opts.get("source") or f"Medicare-only wRVUs {year} ({path.name[:60]}, {release.name})"
        digest = ""
        if opts["sha256"]:
            h = hashlib.sha256()
            with path.open("rb") as fh:
                while chunk := fh.read(1 << 22):
                    h.update(chunk)
            digest = h.hexdigest()
        source = importer.store_medicare(result, source_name=name, release=release.name, year=year,
                                         input_sha256=digest)
        summary = {
            "source": source.name, "source_id": source.pk, "release": release.name, "year": year,
            "rows": result.rows, "clinicians": result.clinicians, "clinicians_with_wrvu": result.clinicians_with_wrvu,
            "specialties": len(result.specialties), "codes": len(result.codes),
            "skipped_specialties": [{"specialty": s, "clinicians": n} for s, n in result.skipped_specialties],
            "seconds": round(result.seconds, 2), "timings": {k: round(v, 2) for k, v in result.timings.items()},
        }
        if opts["json"]:
            self.stdout.write(json.dumps(summary, indent=2))
            return
        self.stdout.write(f"{source.name}: {result.rows:,} rows, {result.clinicians_with_wrvu:,} clinicians with "
                          f"Medicare-only wRVUs in {len(result.specialties)} specialties, {len(result.codes):,} codes "
                          f"({result.seconds:.1f} s; work RVUs from {release.name})")
        if result.skipped_specialties:
            self.stdout.write(f"  {len(result.skipped_specialties)} specialties with fewer than "
                              f"{opts['min_clinicians']} clinicians not published")

    def _list(self, as_json: bool):
        rows = []
        for s in BenchmarkSource.objects.all():
            rows.append({**s.to_dict(), "stats": s.stats.count(), "code_volumes": s.code_volumes.count()})
        if as_json:
            self.stdout.write(json.dumps({"sources": rows}, indent=2))
            return
        if not rows:
            self.stdout.write("No benchmark sources. Try: rvuedge benchmarks import FILE --source NAME")
        for r in rows:
            self.stdout.write(f"[{r['id']}] {r['name']} — {r['kind']}, {r['year']}, {r['setting']}; "
                              f"{r['stats']} percentile rows, {r['code_volumes']} code volumes; "
                              f"FTE basis: {r['fte_basis']}; licence: {r['licence']}")


def _year_from_name(name: str) -> int | None:
    m = re.search(r"_D(\d\d)_", name) or re.search(r"(?<!\d)(20\d\d)(?!\d)", name)
    if not m:
        return None
    g = m.group(1)
    return 2000 + int(g) if len(g) == 2 else int(g)
