"""`rvuedge search QUERY [--json]`: the same search as /codes/?q= and /api/codes/search."""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand
from django.db import transaction

from rvuedge.codes.search import DEFAULT_LIMIT, rebuild_index, search


class Command(BaseCommand):
    help = "Search codes by code, prefix (2744), range (27440-27447), words or synonyms; typo-tolerant."

    def add_arguments(self, parser):
        parser.add_argument("query", nargs="*", help="e.g. knee arthroplasty")
        parser.add_argument("--limit", type=int, default=DEFAULT_LIMIT)
        parser.add_argument("--json", action="store_true", help="Print JSON")
        parser.add_argument("--rebuild", action="store_true", help="Rebuild the search index first")

    def handle(self, *args, **opts):
        if opts["rebuild"]:

            with transaction.atomic():
                state = rebuild_index()
            self.stderr.write(f"Rebuilt the search index: {state.entries:,} codes in {state.seconds} s.")
        result = search(" ".join(opts["query"]), limit=opts["limit"])
        if opts["json"]:
            self.stdout.write(json.dumps(result.to_dict(), indent=2))
            return
        if result.corrected:
            self.stdout.write(f"(showing results for: {result.corrected})")
        for r in result.results:
            name = r["title"] or r["descriptor"]
            extra = f"{r['work_rvu']} wRVU" if r["work_rvu"] and r["work_rvu"] != "0.00" else (
                f"status {r['status']}" if r["status"] else r["category"])
            self.stdout.write(f"{r['code']}  {name[:60]:60}  {extra}")
        self.stdout.write(f"{result.total} result(s)")
