"""`rvuedge serve`: migrate, make sure a release is loaded, then serve with gunicorn.

gunicorn runs the gthread worker class: each worker's main loop keeps reporting to the arbiter while a
thread streams a long export, so ``--timeout`` does not cut a stream short (the sync worker would kill a
request after it). DEBUG is off unless ``--dev`` or ``DEBUG=1``."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from rvuedge.fees import catalog, signals
from rvuedge.fees.importer import LoadError, load_hcpcs, load_release
from rvuedge.fees.migrating import ensure_migrated
from rvuedge.fees.models import HcpcsRelease, Release


class Command(BaseCommand):
    help = "Migrate, load a CMS release if none is loaded, and serve RVU Edge with gunicorn."

    def add_arguments(self, parser):
        parser.add_argument("--data", action="append", default=[],
                            help="A release zip, folder or PPRRVU file to load if its release is not loaded yet, or "
                                 "a local mirror of CMS releases (one sub-folder per release, like "
                                 "../shared/data/cms): then its newest release and the previous year's January "
                                 "release. Repeatable.")
        parser.add_argument("--hcpcs", help="HCPCS Level II file (zip or TXT) to load when none is loaded yet")
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--workers", type=int, default=2, help="gunicorn worker processes (default 2)")
        parser.add_argument("--threads", type=int, default=4,
                            help="Threads per worker (gthread worker class; default 4)")
        parser.add_argument("--timeout", type=int, default=120,
                            help="Seconds before gunicorn restarts a worker that stopped answering, and that a "
                                 "restart waits for running requests such as long exports (default 120)")
        parser.add_argument("--dev", action="store_true",
                            help="Development: DEBUG on (Django's error pages). Off unless --dev or DEBUG=1.")
        parser.add_argument("--no-serve", action="store_true", help="Prepare only (migrate and load), then exit")

    def _sources(self, data: list[str]) -> list[str | Path]:
        """What to load: each --data path whose release is not loaded yet (a mirror folder gives its newest release
        and the previous year's January one); with no --data and nothing loaded, the newest known release from
        cms.gov."""
        loaded = set(Release.objects.values_list("name", flat=True))
        if not data:
            return [] if loaded else [catalog.NEWEST_KNOWN]
        out: list[str | Path] = []
        for item in data:
            mirror = catalog.mirror_releases(item)
            if mirror:
                picks = catalog.releases_to_start_with(mirror)
                self.stdout.write(f"{item}: a mirror of {len(mirror)} CMS releases; starting with {', '.join(picks)}.")
                out += [mirror[name] for name in picks if name not in loaded]
                continue
            name = catalog.name_from_filename(Path(item).name)
            if name in loaded or (name is None and loaded):
                continue
            out.append(item)
        return out

    def handle(self, *args, **opts):
        if opts["dev"] and settings.PRODUCTION:
            raise CommandError("--dev turns DEBUG on, which RVUEDGE_PRODUCTION=1 refuses.")
        for name in ("workers", "threads", "timeout"):
            if opts[name] < 1:
                raise CommandError(f"--{name} must be at least 1 (got {opts[name]}).")
        # The same locked migrate as `rvuedge data load`: a serve racing a first load on an empty database waits
        # for the other process to finish setting the database up instead of migrating beside it.
        ensure_migrated(lambda m: self.stderr.write(m))
        self.stdout.write("Database migrated.")
        for source in self._sources(opts["data"]):
            self.stdout.write(f"Loading {source} …")
            try:
                result = load_release(str(source), report=lambda m: self.stderr.write(m))
            except LoadError as exc:
                raise CommandError(f"{exc}\nStart again with: rvuedge serve --data /path/to/RVU26A.zip") from exc
            self.stdout.write(f"{result.message} {result.counts.get('fee_rows', 0):,} fee rows.")
        loaded = sorted(Release.objects.values_list("name", flat=True))
        self.stdout.write(f"CMS releases loaded: {', '.join(loaded)}.")
        if opts.get("hcpcs") and not HcpcsRelease.objects.exists():
            self.stdout.write(f"No HCPCS Level II file loaded yet; loading {opts['hcpcs']} …")
            try:
                hc = load_hcpcs(opts["hcpcs"], report=lambda m: self.stderr.write(m))
            except LoadError as exc:
                raise CommandError(str(exc)) from exc
            self.stdout.write(f"{hc.message} {hc.counts.get('codes', 0):,} codes.")
        # What the apps ship with the code (the editorial code pages) is loaded once, when none is loaded.
        signals.first_start.send(sender=self.__class__, stdout=self.stdout)
        if settings.PRODUCTION:
            # Hashed, compressed copies under STATIC_ROOT and their manifest: production pages need them.
            try:
                call_command("collectstatic", interactive=False, verbosity=0)
            except Exception as exc:  # noqa: BLE001 - any failure here means pages cannot render
                raise CommandError(f"Collecting the static files into {settings.STATIC_ROOT} failed: {exc}") from exc
            self.stdout.write(f"Static files collected into {settings.STATIC_ROOT}.")
        if opts["no_serve"]:
            return
        # DEBUG is off for the server unless asked for: --dev, or DEBUG=1 in the environment.
        if opts["dev"]:
            os.environ["DEBUG"] = "1"
        elif not os.environ.get("DEBUG"):
            os.environ["DEBUG"] = "0"
        debug = os.environ["DEBUG"].strip().lower() in {"1", "true", "yes", "on"}
        bind = f"{opts['host']}:{opts['port']}"
        self.stdout.write(f"Serving RVU Edge on http://{bind}/ (Ctrl-C to stop); DEBUG {'on' if debug else 'off'}, "
                          f"{opts['workers']} workers x {opts['threads']} threads, timeout {opts['timeout']} s.")
        self.stdout.flush()
        argv = [sys.executable, "-m", "gunicorn", "rvuedge.wsgi:application", "--bind", bind,
                "--workers", str(opts["workers"]), "--worker-class", "gthread", "--threads", str(opts["threads"]),
                "--timeout", str(opts["timeout"]), "--graceful-timeout", str(opts["timeout"]),
                "--access-logfile", "-",
                # gunicorn's control socket defaults to one path per user ($HOME/.gunicorn/gunicorn.ctl), which two
                # servers on one host would fight over; RVU Edge does not use it.
                "--no-control-socket"]
        os.execv(sys.executable, argv)
