"""`rvuedge content load [--force]`: load our editorial Markdown (content/codes/*.md) into the database."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from rvuedge.codes.content import ContentError, load_code_content
from rvuedge.codes.models import CodeContent


class Command(BaseCommand):
    help = ("Editorial content. `content load` reads rvuedge/content/codes/*.md into the database: idempotent, "
            "atomic, and it keeps rows edited in the admin unless --force. `content status` shows what is loaded.")

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["load", "status"])
        parser.add_argument("--force", action="store_true", help="Overwrite rows edited in the admin")
        parser.add_argument("--dir", help="Folder of <CODE>.md files (default: the bundled content/codes)")

    def handle(self, *args, **opts):
        if opts["action"] == "status":
            total = CodeContent.objects.count()
            edited = CodeContent.objects.filter(edited_in_admin=True).count()
            self.stdout.write(f"{total} codes have content; {edited} edited in the admin.")
            return
        try:
            result = load_code_content(force=opts["force"], directory=Path(opts["dir"]) if opts["dir"] else None)
        except ContentError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(result.message())
