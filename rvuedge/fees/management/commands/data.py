"""`rvuedge data load|load-hcpcs|list`: manage the CMS reference data."""

from __future__ import annotations

import fcntl
import json
from collections.abc import Iterator
from contextlib import contextmanager

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.executor import MigrationExecutor
from rich import box
from rich.console import Console
from rich.table import Table

from rvuedge.fees.importer import LoadError, load_hcpcs, load_release
from rvuedge.fees.queries import hcpcs_summaries, release_summaries

MIGRATE_LOCK_KEY = 0x7276_6564_6765_0001  # PostgreSQL advisory lock held while this command migrates


def _pending() -> bool:
    executor = MigrationExecutor(connections[DEFAULT_DB_ALIAS])
    return bool(executor.migration_plan(executor.loader.graph.leaf_nodes()))


@contextmanager
def _one_migrator() -> Iterator[None]:
    """Only one process sets the database up at a time (two first `rvuedge data load`s at once).

    PostgreSQL: a session advisory lock. SQLite: an exclusive lock on a file beside the database (its own
    locks cannot span the several transactions of a migrate).
    """
    conn = connections[DEFAULT_DB_ALIAS]
    if conn.vendor == "postgresql":
        with conn.cursor() as cur:
            cur.execute("SELECT pg_advisory_lock(%s)", [MIGRATE_LOCK_KEY])
        try:
            yield
        finally:
            with conn.cursor() as cur:
                cur.execute("SELECT pg_advisory_unlock(%s)", [MIGRATE_LOCK_KEY])
        return
    name = str(conn.settings_dict.get("NAME") or "")
    if conn.vendor != "sqlite" or not name or name == ":memory:" or name.startswith("file:"):
        yield
        return
    with open(f"{name}-migrate.lock", "a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def ensure_migrated(report) -> None:
    """Create or update the database tables first, so that loading data is a valid first command."""
    if not _pending():
        return
    with _one_migrator():
        if _pending():  # not done meanwhile by another process while this one waited
            report("Setting up the database (migrate) …")
            call_command("migrate", interactive=False, verbosity=0)


class Command(BaseCommand):
    help = "Load and list CMS Physician Fee Schedule releases and the HCPCS Level II file."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True, metavar="{load,load-hcpcs,list}")
        load = sub.add_parser("load", help="Load a release: zip, folder, PPRRVU file, https URL or release name")
        load.add_argument("source", help="RVU25A.zip, a folder, PPRRVU2026_Jan_nonQPP.csv, a URL or RVU26A")
        load.add_argument("--release", help="Release name to store it under (e.g. RVU26C); inferred if omitted")
        load.add_argument("--replace", action="store_true", help="Replace a release loaded from other files")
        hc = sub.add_parser("load-hcpcs", help="Load the HCPCS Level II alpha-numeric file (zip or TXT)")
        hc.add_argument("source")
        hc.add_argument("--replace", action="store_true")
        ls = sub.add_parser("list", help="List loaded releases with their provenance")
        ls.add_argument("--json", action="store_true", help="Print JSON")

    def handle(self, *args, **opts):
        console = Console(file=self.stdout, highlight=False, soft_wrap=True)
        err = Console(file=self.stderr, highlight=False, soft_wrap=True)

        def report(msg: str) -> None:
            err.print(f"[dim]{msg}[/dim]")

        action = opts["action"]
        if action in ("load", "load-hcpcs"):
            ensure_migrated(report)
        try:
            if action == "load":
                result = load_release(opts["source"], release_name=opts.get("release"),
                                      replace=opts["replace"], report=report)
                rel = result.release
                console.print(f"[bold green]{result.message}[/bold green]" if result.created else result.message)
                c = result.counts
                console.print(
                    f"{rel.name}: {c.get('fee_rows', 0):,} fee rows, {c.get('gpci', 0)} GPCI localities, "
                    f"{c.get('localities', 0)} LOCCO localities, {c.get('anesthesia_cf', 0)} anesthesia CFs, "
                    f"{c.get('opps_cap', 0):,} OPPS cap rows; CF {rel.conv_factor}"
                    + (f" (QP {rel.conv_factor_qp})" if rel.conv_factor_qp else "")
                    + (f"; released {rel.released:%m/%d/%Y}" if rel.released else "")
                    + (f"; {rel.load_seconds} s" if result.created else "")
                )
            elif action == "load-hcpcs":
                result = load_hcpcs(opts["source"], replace=opts["replace"], report=report)
                console.print(result.message)
                c = result.counts
                console.print(f"{result.release.name}: {c['codes']:,} codes, {c['modifiers']} modifiers, "
                              f"{c['warnings']} malformed lines skipped")
                for w in result.release.warnings[:5]:
                    err.print(f"[yellow]warning:[/yellow] {w}")
            else:
                self._list(console, opts["json"])
        except LoadError as exc:
            raise CommandError(str(exc)) from exc

    def _list(self, console: Console, as_json: bool) -> None:
        releases = release_summaries()
        if as_json:
            self.stdout.write(json.dumps({"releases": releases, "hcpcs": hcpcs_summaries()}, indent=2))
            return
        if not releases:
            console.print("No release loaded. Try: rvuedge data load ../shared/data/cms/rvu25a/RVU25A.zip")
        table = Table(title="CMS releases", box=box.SIMPLE_HEAD, title_justify="left")
        for col, justify in (("Release", "left"), ("CMS released", "left"), ("CF", "right"), ("QP CF", "right"),
                             ("Fee rows", "right"), ("GPCI", "right"), ("OPPS cap", "right")):
            table.add_column(col, justify=justify, no_wrap=True)
        for r in releases:
            table.add_row(
                r["name"], r["released"] or "—", r["conversion_factor"], r["conversion_factor_qp"] or "—",
                f"{r['counts'].get('fee_rows', 0):,}", str(r["counts"].get("gpci", 0)),
                f"{r['counts'].get('opps_cap', 0):,}",
            )
        console.print(table)
        for r in releases:  # provenance below the table, one file a line, so it stays readable at 80 columns
            console.print(f"[bold]{r['name']}[/bold] loaded {r['loaded_at'][:16].replace('T', ' ')} from:")
            for f in r["files"]:
                rows = f" ({f['rows']:,} rows)" if f.get("rows") is not None else ""
                console.print(f"  {f['name']}{rows}  sha256 {f['sha256'][:16]}…", highlight=False)
        for h in hcpcs_summaries():
            console.print(f"HCPCS Level II {h['name']}: {h['counts'].get('codes', 0):,} codes, "
                          f"{h['counts'].get('modifiers', 0)} modifiers ({h['file']}, sha256 {h['sha256'][:12]}…)")
