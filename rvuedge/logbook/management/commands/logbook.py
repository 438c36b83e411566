"""`rvuedge logbook load-minimums FILE`, `rvuedge logbook purge [--upload-hours N]` and `rvuedge logbook purge-trash`."""

from __future__ import annotations

import datetime as dt

from django.core.management.base import BaseCommand, CommandError

from rvuedge.logbook.actions import do_purge_trash
from rvuedge.logbook.imports import UPLOAD_KEEP_HOURS, purge_uploads
from rvuedge.logbook.minimums import MinimumsError, load_minimums
from rvuedge.logbook.models import TRASH_DAYS


class Command(BaseCommand):
    help = "Logbook maintenance: load residency case minimums, purge the trash and old uploads."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True, metavar="{load-minimums,purge,purge-trash}")
        lm = sub.add_parser("load-minimums", help="Load case minimums from CSV: specialty,category,minimum[,roles,source,example]")
        lm.add_argument("file")
        lm.add_argument("--no-replace", action="store_true",
                        help="Refuse categories already loaded instead of replacing the file's specialties")
        pg = sub.add_parser("purge", help=f"Run daily (cron): delete encounters in the trash for more than {TRASH_DAYS} "
                                          f"days and uploaded import files older than {UPLOAD_KEEP_HOURS} hours")
        pg.add_argument("--upload-hours", type=int, default=UPLOAD_KEEP_HOURS, metavar="N",
                        help=f"delete import uploads (the file and its check report) older than N hours "
                             f"(default {UPLOAD_KEEP_HOURS}; at least 1)")
        sub.add_parser("purge-trash", help=f"Delete encounters that have been in the trash for more than {TRASH_DAYS} days")

    def handle(self, *args, **opts):
        if opts["action"] == "load-minimums":
            try:
                result = load_minimums(opts["file"], replace=not opts["no_replace"])
            except MinimumsError as exc:
                raise CommandError(str(exc)) from exc
            self.stdout.write(f"Loaded {result.rows} case minimums for {', '.join(result.specialties)}.")
        elif opts["action"] == "purge":
            hours = opts["upload_hours"]
            if hours < 1:
                raise CommandError("--upload-hours must be at least 1 (an upload waiting for its preview is kept)")
            n = do_purge_trash()
            uploads = purge_uploads(older_than=dt.timedelta(hours=hours))
            self.stdout.write(f"Purged {n} encounters from the trash and {uploads} uploaded import files older than "
                              f"{hours} hours.")
        else:
            n = do_purge_trash()
            self.stdout.write(f"Purged {n} encounters from the trash.")
