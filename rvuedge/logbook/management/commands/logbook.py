"""`rvuedge logbook load-minimums FILE`, `rvuedge logbook purge [--upload-hours N]`, `rvuedge logbook purge-trash` and
`rvuedge logbook restore USERNAME BACKUP.json` (an operator restoring a backup larger than the web upload's cap)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from rvuedge.accounts.services import get_profile_for_user
from rvuedge.logbook.actions import do_purge_trash, do_purge_uploads, do_restore_backup
from rvuedge.logbook.backup import RestoreError, parse_backup
from rvuedge.logbook.imports import UPLOAD_KEEP_HOURS
from rvuedge.logbook.minimums import MinimumsError, load_minimums
from rvuedge.logbook.models import TRASH_DAYS


class Command(BaseCommand):
    help = "Logbook maintenance: load residency case minimums, purge the trash and old uploads."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True, metavar="{load-minimums,purge,purge-trash,restore}")
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
        rs = sub.add_parser("restore", help="Restore a user's JSON log backup of any size (the web upload is capped by "
                                            "RVUEDGE_RESTORE_MAX_BYTES): all or nothing, checked like the web restore")
        rs.add_argument("username")
        rs.add_argument("file")

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
            uploads = do_purge_uploads(older_than=dt.timedelta(hours=hours))
            self.stdout.write(f"Purged {n} encounters from the trash and {uploads} uploaded import files older than "
                              f"{hours} hours.")
        elif opts["action"] == "restore":
            user = get_user_model().objects.filter(username=opts["username"]).first()
            if user is None:
                raise CommandError(f"No user {opts['username']!r}.")
            path = Path(opts["file"])
            try:
                data = parse_backup(path.read_bytes(), capped=False)
                result = do_restore_backup(user, get_profile_for_user(user), data)
            except OSError as exc:
                raise CommandError(f"{path}: {exc.strerror or exc}") from exc
            except RestoreError as exc:
                raise CommandError(f"{path}: nothing was restored. {exc}") from exc
            self.stdout.write(f"Restored into {user.username}'s log: "
                              + ", ".join(f"{v:,} {k.replace('_', ' ')}" for k, v in result.items()) + ".")
        else:
            n = do_purge_trash()
            self.stdout.write(f"Purged {n} encounters from the trash.")
