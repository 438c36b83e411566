"""`rvuedge logbook load-minimums FILE` and `rvuedge logbook purge-trash`."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from rvuedge.logbook.actions import do_purge_trash
from rvuedge.logbook.minimums import MinimumsError, load_minimums


class Command(BaseCommand):
    help = "Logbook maintenance: load residency case minimums, purge the trash."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True, metavar="{load-minimums,purge-trash}")
        lm = sub.add_parser("load-minimums", help="Load case minimums from CSV: specialty,category,minimum[,roles,source,example]")
        lm.add_argument("file")
        lm.add_argument("--no-replace", action="store_true",
                        help="Refuse categories already loaded instead of replacing the file's specialties")
        sub.add_parser("purge-trash", help="Delete encounters that have been in the trash for more than 30 days")

    def handle(self, *args, **opts):
        if opts["action"] == "load-minimums":
            try:
                result = load_minimums(opts["file"], replace=not opts["no_replace"])
            except MinimumsError as exc:
                raise CommandError(str(exc)) from exc
            self.stdout.write(f"Loaded {result.rows} case minimums for {', '.join(result.specialties)}.")
        else:
            n = do_purge_trash()
            self.stdout.write(f"Purged {n} encounters from the trash.")
