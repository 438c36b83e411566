"""`rvuedge code CODE [--release R] [--locality L] [--json]`: the code page as text or its JSON twin."""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand, CommandError
from rich.console import Console
from rich.table import Table

from rvuedge.codes.queries import code_page
from rvuedge.fees.services import NotFound


class Command(BaseCommand):
    help = "Everything about one code (the same object as /codes/CODE.json and /api/codes/CODE)."

    def add_arguments(self, parser):
        parser.add_argument("code")
        parser.add_argument("--release", help="RVU release (default: the newest loaded)")
        parser.add_argument("--locality", default=None,
                            help="MAC-LOCALITY (13202-01), a unique name fragment (manhattan) or national")
        parser.add_argument("--json", action="store_true", help="Print the JSON twin")

    def handle(self, *args, **opts):
        try:
            page = code_page(opts["code"], release=opts["release"], locality=opts["locality"])
        except NotFound as exc:
            raise CommandError(str(exc)) from exc
        if opts["json"]:
            self.stdout.write(json.dumps(page, indent=2, ensure_ascii=False))
            return
        c = Console(file=self.stdout, highlight=False, soft_wrap=True, width=110)
        c.print(f"[bold]{page['code']}[/bold]  {page['descriptor']}  ·  {page['category_long']}"
                + (f"  ·  status {page['status']} ({page['status_label']})" if page["status"] else ""))
        c.print(f"[bold]{page['title']}[/bold]")
        if page["also_known_as"]:
            c.print("Also known as: " + ", ".join(page["also_known_as"]))
        c.print(page["long_description"])
        if page["no_rvu_reason"]:
            c.print(f"[yellow]{page['no_rvu_reason']}[/yellow]")
        if page["rvus"]:
            t = Table(title=f"RVUs ({page['release']['name']})")
            t.add_column("Row")
            for col in ("Work", "PE non-fac", "PE fac", "MP", "Total non-fac", "Total fac", "Global"):
                t.add_column(col, justify="right")
            for r in page["rvus"]:
                t.add_row(r["row"], r["work_rvu"], r["nonfac_pe_rvu"] + (" NA" if r["nonfac_na"] else ""),
                          r["fac_pe_rvu"] + (" NA" if r["fac_na"] else ""), r["mp_rvu"], r["nonfac_total"],
                          r["fac_total"], r["global_days"])
            c.print(t)
        pay = page["payment"]
        if pay:
            t = Table(title=f"Medicare payment · {pay['locality_label']} · CF ${pay['conversion_factor']}")
            t.add_column("Row")
            t.add_column("Non-facility", justify="right")
            t.add_column("Facility", justify="right")
            where = "national" if pay["locality"] == "national" else "locality"
            for r in pay["rows"]:
                t.add_row(r["row"], r["non_facility"][where]["text"], r["facility"][where]["text"])
            c.print(t)
            if pay["headline"]:
                c.print(pay["headline"])
        for n in page["billing"]:
            c.print(f"• [bold]{n['title']}[/bold]. {n['text']}")
        hist = page["history"]["entries"]
        if len(hist) > 1:
            c.print("History: " + "; ".join(
                f"{e['release']} " + ("deleted" if e["deleted"] else f"work {e['work_rvu']}"
                                      + (" (new)" if e["new"] else "") + (" *" if e["changed"] else ""))
                for e in hist))
        for g in page["compare"]["groups"][:1]:
            if g["percentile"] is not None:
                c.print(f"Work RVU higher than {g['percentile']}% of {g['valued_codes']} valued codes in {g['label']}.")
        measured = page["specialty_shares"]
        if measured:
            c.print("Specialties (share of national services, " + f"{measured['source']}, {measured['year']}): "
                    + ", ".join(f"{s['specialty']} {s['percent']}" for s in measured["items"]))
        else:
            c.print(f"Specialties: {', '.join(page['specialties']) or '—'}")
        c.print(f"[dim]{page['source']}[/dim]")
