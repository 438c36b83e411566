"""`rvuedge serve`: migrate, make sure a release is loaded, then serve with gunicorn."""

from __future__ import annotations

import os
import sys

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from rvuedge.fees import catalog
from rvuedge.fees.importer import LoadError, load_hcpcs, load_release
from rvuedge.fees.models import HcpcsRelease, Release


class Command(BaseCommand):
    help = "Migrate, load a CMS release if none is loaded, and serve RVU Edge with gunicorn."

    def add_arguments(self, parser):
        parser.add_argument("--data", help="Release zip or folder to load when no release is loaded yet")
        parser.add_argument("--hcpcs", help="HCPCS Level II file (zip or TXT) to load when none is loaded yet")
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--workers", type=int, default=2)
        parser.add_argument("--no-serve", action="store_true", help="Prepare only (migrate and load), then exit")

    def handle(self, *args, **opts):
        call_command("migrate", interactive=False, verbosity=0)
        self.stdout.write("Database migrated.")
        if not Release.objects.exists():
            source = opts.get("data") or catalog.NEWEST_KNOWN
            self.stdout.write(f"No CMS release loaded yet; loading {source} …")
            try:
                result = load_release(source, report=lambda m: self.stderr.write(m))
            except LoadError as exc:
                raise CommandError(f"{exc}\nStart again with: rvuedge serve --data /path/to/RVU26A.zip") from exc
            self.stdout.write(f"{result.message} {result.counts.get('fee_rows', 0):,} fee rows.")
        if opts.get("hcpcs") and not HcpcsRelease.objects.exists():
            self.stdout.write(f"No HCPCS Level II file loaded yet; loading {opts['hcpcs']} …")
            try:
                hc = load_hcpcs(opts["hcpcs"], report=lambda m: self.stderr.write(m))
            except LoadError as exc:
                raise CommandError(str(exc)) from exc
            self.stdout.write(f"{hc.message} {hc.counts.get('codes', 0):,} codes.")
        # Editorial code content (rvuedge/content/codes): load it once, when none is loaded.
        from rvuedge.codes.models import CodeContent

        if not CodeContent.objects.exists():
            call_command("content", "load", stdout=self.stdout)
        if os.environ.get("RVUEDGE_PRODUCTION"):
            call_command("collectstatic", interactive=False, verbosity=0)
        if opts["no_serve"]:
            return
        bind = f"{opts['host']}:{opts['port']}"
        self.stdout.write(f"Serving RVU Edge on http://{bind}/ (Ctrl-C to stop)")
        self.stdout.flush()
        argv = [sys.executable, "-m", "gunicorn", "rvuedge.wsgi:application", "--bind", bind,
                "--workers", str(opts["workers"]), "--access-logfile", "-"]
        os.execv(sys.executable, argv)
