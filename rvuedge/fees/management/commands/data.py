"""`rvuedge data load|load-hcpcs|list|update`: manage the CMS reference data.

`rvuedge data update` exit codes: 0 = a newer release was loaded, or the newest is already loaded; 75
(EX_TEMPFAIL) = cms.gov (or the --source URL) could not be reached, or another process was loading the same
release: nothing changed, try again later; 1 = anything else (a damaged download, a bad --source), nothing
changed."""

from __future__ import annotations

import json
import urllib.error
from functools import partial
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError
from rich import box
from rich.console import Console
from rich.table import Table

from rvuedge.fees import catalog, update
from rvuedge.fees.importer import LoadBusy, LoadError, load_hcpcs, load_release
from rvuedge.fees.migrating import ensure_migrated
from rvuedge.fees.models import FeeRow, Release
from rvuedge.fees.queries import hcpcs_summaries, release_summaries


def release_rows(release: Release) -> dict[update.Key, update.Row]:
    """A loaded release's rows, as :func:`rvuedge.fees.update.diff_releases` takes them."""
    fields = ("hcpcs", "modifier", "description", "status", "work_rvu", "nonfac_total", "fac_total")
    return {(h, m): update.Row(d, st, w, nf, f)
            for h, m, d, st, w, nf, f in FeeRow.objects.filter(release=release).values_list(*fields).iterator(5000)}


class Command(BaseCommand):
    help = "Load and list CMS Physician Fee Schedule releases and the HCPCS Level II file."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True, metavar="{load,load-hcpcs,list,update}")
        load = sub.add_parser("load", help="Load a release: zip, folder, PPRRVU file, https URL or release name")
        load.add_argument("source", help="RVU25A.zip, a folder, PPRRVU2026_Jan_nonQPP.csv, a URL or RVU26A")
        load.add_argument("--release", help="Release name to store it under (e.g. RVU26C); inferred if omitted")
        load.add_argument("--replace", action="store_true", help="Replace a release loaded from other files")
        hc = sub.add_parser("load-hcpcs", help="Load the HCPCS Level II alpha-numeric file (zip or TXT)")
        hc.add_argument("source")
        hc.add_argument("--replace", action="store_true")
        ls = sub.add_parser("list", help="List loaded releases with their provenance")
        ls.add_argument("--json", action="store_true", help="Print JSON")
        up = sub.add_parser(
            "update", help="Load the newest CMS release if it is not loaded yet and tell what changed; safe from cron",
            description="Find the newest CMS release (on cms.gov, or in --source / RVUEDGE_CMS_DATA), load it if it "
                        "is not loaded yet, and list the codes added, deleted and revalued since the newest release "
                        "loaded before. Exit codes: 0 loaded or already up to date; 75 (EX_TEMPFAIL) the source "
                        "could not be reached or another process was loading the release, nothing changed; "
                        "1 any other error, nothing changed.")
        up.add_argument("--source", help="A local mirror folder (one sub-folder per release, like rvu25a/ and "
                                         "rvu26c/) or an https base URL laid out like "
                                         f"{update.CMS_ZIP_BASE} (default: RVUEDGE_CMS_DATA if set, else cms.gov)")
        up.add_argument("--json", action="store_true", help="Print the result as JSON")
        up.add_argument("--quiet", "-q", action="store_true",
                        help="For cron: one summary line when a release was loaded, nothing when up to date; "
                             "errors still go to standard error")
        up.add_argument("--top", type=int, default=10, help="How many of the largest changes to list (default 10)")
        up.add_argument("--timeout", type=float, default=10,
                        help="Seconds to wait for each answer from cms.gov while looking (default 10)")

    def handle(self, *args, **opts):
        console = Console(file=self.stdout, highlight=False, soft_wrap=True)
        err = Console(file=self.stderr, highlight=False, soft_wrap=True)

        def report(msg: str) -> None:
            err.print(f"[dim]{msg}[/dim]")

        action = opts["action"]
        if action == "update":
            self._update(opts, console, err)
            return
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

    # ----------------------------------------------------------------------- update

    def _update(self, opts: dict[str, Any], console: Console, err: Console) -> None:
        """`rvuedge data update`: see the module docstring for the exit codes. Never a traceback: every failure
        is one line on standard error (and, with --json, an object on standard output)."""
        as_json, quiet, top = opts["json"], opts["quiet"], max(opts["top"], 0)
        if opts["timeout"] <= 0:
            raise CommandError(f"--timeout must be more than 0 seconds (got {opts['timeout']}).")

        def report(msg: str) -> None:
            if not (quiet or as_json):
                err.print(f"[dim]{msg}[/dim]")

        result: dict[str, Any] = {"status": None, "source": None, "newest": None, "loaded": None,
                                  "previous": None, "message": "", "changes": None}

        def fail(status: str, message: str, code: int) -> CommandError:
            if as_json:
                result.update(status=status, message=message)
                self.stdout.write(json.dumps(result, indent=2))
            return CommandError(message, returncode=code)

        source = opts.get("source") or settings.RVUEDGE_CMS_DATA or update.CMS_ZIP_BASE
        result["source"] = update.host_of(source) if source == update.CMS_ZIP_BASE else source
        try:
            ensure_migrated(report)
            loaded = {r.name: r for r in Release.objects.all()}
            previous = update.newest_of(set(loaded))
            result["previous"] = previous
            report(f"Looking for the newest CMS release on {result['source']} …")
            try:
                found = update.find_newest(source, set(loaded), partial(update.http_exists, timeout=opts["timeout"]))
            except update.Unreachable as exc:
                raise fail("unreachable", f"could not reach {update.host_of(source)}: {exc}; nothing changed",
                           update.EX_TEMPFAIL) from None
            except update.SourceError as exc:
                raise fail("error", str(exc), 1) from None
            result.update(source=found.source, newest=found.name)
            if found.name is None and previous is None:
                raise fail("error", f"no CMS release found on {found.source}; nothing changed", 1)
            if found.name is None or found.name in loaded or (
                    previous and catalog.order_key(found.name) <= catalog.order_key(previous)):
                # the newest loaded release is as new as anything the source offers
                result.update(status="up_to_date", newest=previous,
                              message=f"{previous} is the newest release; nothing to do")
                if as_json:
                    self.stdout.write(json.dumps(result, indent=2))
                elif not quiet:
                    console.print(result["message"])
                return
            report(f"{found.name} is newer than {previous or 'anything loaded'}; loading it from {found.location}")
            try:
                loaded_now = load_release(found.location, release_name=found.name, report=report)
            except LoadBusy as exc:
                raise fail("busy", str(exc), update.EX_TEMPFAIL) from None
            except LoadError as exc:
                network = isinstance(exc.__cause__, (urllib.error.URLError, TimeoutError, OSError))
                if network and found.location.startswith("https://"):
                    reason = getattr(exc.__cause__, "reason", None) or exc.__cause__
                    raise fail("unreachable", f"could not reach {update.host_of(found.location)}: {reason}; "
                                              "nothing changed", update.EX_TEMPFAIL) from None
                raise fail("error", f"{exc}; nothing changed", 1) from None
            release = loaded_now.release
            result.update(status="loaded", loaded=release.name)
            diff = None
            if previous is not None:
                diff = update.diff_releases(previous, release_rows(loaded[previous]),
                                            release.name, release_rows(release))
                result["changes"] = diff.to_dict(top)
        except DatabaseError as exc:
            raise fail("error", f"database error: {exc}; nothing changed", 1) from None
        year, quarter = catalog.parse_name(release.name)
        label = (f"{release.name} (CY{year} {catalog.QUARTER_MONTH[quarter]} release"
                 f"{' re-issue' if update.reissue(release.name) is None else ''})")
        # created is False only when another process loaded the same files meanwhile (the importer's lock)
        verb = "Loaded" if loaded_now.created else "Found (loaded meanwhile by another process)"
        result["message"] = (f"{verb} {label} from {found.source}: {diff.summary()}" if diff else
                             f"{verb} {label} from {found.source} (no earlier release to compare with)")
        if as_json:
            self.stdout.write(json.dumps(result, indent=2))
        elif quiet:
            self.stdout.write(result["message"])
        else:
            self._print_update(console, result["message"], loaded_now, diff, top)

    def _print_update(self, console: Console, message: str, loaded: Any, diff: update.Diff | None,
                      top: int) -> None:
        rel = loaded.release
        console.print(f"[bold green]{message.split(':', 1)[0]}.[/bold green]" if diff else f"[bold green]{message}."
                      "[/bold green]")
        console.print(f"{rel.name}: {loaded.counts.get('fee_rows', 0):,} fee rows, CF {rel.conv_factor}"
                      + (f"; released {rel.released:%m/%d/%Y}" if rel.released else ""))
        if diff is None:
            return
        counts = Table(title=f"What changed from {diff.old} to {diff.new} (rows by code and modifier)",
                       box=box.SIMPLE_HEAD, title_justify="left")
        counts.add_column("Change", no_wrap=True)
        counts.add_column("Codes", justify="right", no_wrap=True)
        for what, n in (("Added", len(diff.added)), ("Deleted", len(diff.deleted)),
                        ("Work RVU changed", len(diff.work_changed)),
                        ("Total RVUs changed", len(diff.total_changed)), ("Status changed", diff.status_changed)):
            counts.add_row(what, f"{n:,}")
        console.print(counts)
        for title, changes, old_of, new_of, change_of in (
            ("Largest work RVU changes", diff.work_changed, lambda c: c.old.work_rvu, lambda c: c.new.work_rvu,
             lambda c: c.work_change),
            ("Largest total RVU changes (non-facility or facility, the larger)", diff.total_changed,
             lambda c: c.totals[0], lambda c: c.totals[1], lambda c: c.total_change),
        ):
            if not changes or not top:
                continue
            table = Table(title=title, box=box.SIMPLE_HEAD, title_justify="left")
            for col, justify in (("Code", "left"), ("Description", "left"), (diff.old, "right"),
                                 (diff.new, "right"), ("Change", "right"), ("Status", "left")):
                table.add_column(col, justify=justify, no_wrap=col != "Description", overflow="ellipsis")
            for c in changes[:top]:
                status = c.new.status if c.old.status == c.new.status else f"{c.old.status}→{c.new.status}"
                table.add_row(update.label(c.key), c.new.description[:28], str(old_of(c)), str(new_of(c)),
                              f"{change_of(c):+}", status)
            console.print(table)
        for what, rows in (("Added", diff.added), ("Deleted", diff.deleted)):
            if rows:
                shown = ", ".join(update.label(k) for k, _ in rows[:top])
                more = f" … and {len(rows) - top:,} more (--json lists them all)" if len(rows) > top else ""
                console.print(f"{what} ({len(rows):,}): {shown}{more}")
