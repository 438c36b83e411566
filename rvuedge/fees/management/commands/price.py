"""`rvuedge price LINE...`: price one encounter against a loaded release and explain every step."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from rich.console import Console
from rich.table import Table

from rvuedge.fees.services import NotFound, price_lines
from rvuedge.pricing import LineSyntaxError, PolicyError, PricingError, parse_entry, run_scenario


class Command(BaseCommand):
    help = (
        "Price an encounter: Medicare payment and wRVU credit per line, with the explanation. "
        "Lines are CODE[-MOD...][xUNITS], e.g. 27447-50 11045x3 97110-GPx2; all lines form one encounter."
    )

    def add_arguments(self, parser):
        parser.add_argument("lines", nargs="*", help="e.g. 99214 20610-RT 27447-50")
        parser.add_argument("--release", help="RVU release (default: the newest loaded)")
        parser.add_argument("--locality", default="national",
                            help="MAC-LOCALITY (13202-01), a unique name fragment (manhattan) or national")
        parser.add_argument("--setting", default="non-facility",
                            help="facility, non-facility or a 2-digit CMS place-of-service code")
        parser.add_argument("--qp", action="store_true", help="Qualifying APM participant (QP conversion factor)")
        parser.add_argument("--policy", help="Credit policy: a JSON file, or cms_mirror / no_reductions")
        parser.add_argument("--date", help="Date of service YYYY-MM-DD (default: the release's first day)")
        parser.add_argument("--scenario", help="A pfs-vectors.json 'inputs' object (self-contained what-if)")
        parser.add_argument("--json", action="store_true", help="Print JSON")

    def handle(self, *args, **opts):
        try:
            if opts["scenario"]:
                self._scenario(opts)
                return
            if not opts["lines"]:
                raise CommandError("Give at least one line, e.g. rvuedge price 99214 20610-RT")
            self._price(opts)
        except (PricingError, LineSyntaxError, PolicyError, NotFound, ValueError) as exc:
            raise CommandError(str(exc)) from exc

    def _scenario(self, opts):
        path = Path(opts["scenario"])
        try:
            inputs = json.loads(path.read_text())
        except (OSError, json.JSONDecodeError) as exc:
            raise CommandError(f"{path}: {exc}") from exc
        if isinstance(inputs, dict) and "inputs" in inputs and "lines" not in inputs:
            inputs = inputs["inputs"]  # a whole vector was given; use its inputs
        result = run_scenario(inputs)
        if opts["json"]:
            self.stdout.write(json.dumps(result, indent=2))
        else:
            for line in result["lines"]:
                self.stdout.write(f"{line['code']} {'-'.join(line['modifiers'])}: payment {line['payment']}, "
                                  f"wRVU {line['wrvu']}")
            self.stdout.write(f"Total payment {result['total_payment']}, total wRVU {result['total_wrvu']}")

    def _price(self, opts):
        policy = None
        if opts["policy"]:
            p = Path(opts["policy"])
            policy = p.read_text() if p.exists() else opts["policy"]
        date = None
        if opts["date"]:
            try:
                date = dt.date.fromisoformat(opts["date"])
            except ValueError as exc:
                raise CommandError(f"--date {opts['date']}: use YYYY-MM-DD") from exc
        entry = parse_entry(" ".join(opts["lines"]))
        priced = price_lines(list(entry.lines), release=opts["release"], locality=opts["locality"],
                             setting=opts["setting"].replace("-", "_") if not opts["setting"].isdigit()
                             else opts["setting"], qp=opts["qp"], policy=policy,
                             date_of_service=date or entry.date_of_service)
        data = priced.to_dict()
        if opts["json"]:
            self.stdout.write(json.dumps(data, indent=2))
            return
        console = Console(file=self.stdout, highlight=False, soft_wrap=True, width=120)
        src = data["source"]
        console.print(f"[bold]{src['release_label']}[/bold] · {src['locality']['label']} · "
                      f"{src['setting'].replace('_', '-')} · CF ${src['conversion_factor']} "
                      f"({src['conversion_factor_kind']}) · policy {src['policy']} · DOS {src['date_of_service']}")
        table = Table(show_lines=False)
        for col, just in (("Line", "left"), ("FSA", "right"), ("Factor", "right"), ("Payment", "right"),
                          ("wRVU", "right"), ("Flags", "left")):
            table.add_column(col, justify=just)
        for line in data["lines"]:
            label = line["code"] + "".join(f"-{m}" for m in line["modifiers"])
            if line["units"] != 1:
                label += f" x{line['units']}"
            table.add_row(label, line["fee_schedule_amount"] or "—", line["payment_factor"] or "—",
                          line["payment"] if line["payment"] is not None else "n/a", line["wrvu"],
                          ", ".join(line["flags"]))
        table.add_row("[bold]Total[/bold]", "", "", f"[bold]{data['total_payment'] or 'n/a'}[/bold]",
                      f"[bold]{data['total_wrvu']}[/bold]", "")
        console.print(table)
        for line in data["lines"]:
            label = line["code"] + "".join(f"-{m}" for m in line["modifiers"])
            console.print(f"[bold]{label}[/bold]")
            for step in line["explanation"]:
                console.print(f"  payment: {step['text']}")
            for step in line["wrvu_steps"]:
                console.print(f"  wRVU:    {step['text']}")
