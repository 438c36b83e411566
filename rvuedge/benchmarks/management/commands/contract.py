"""`rvuedge contract pay CONTRACT.json --wrvus N [--json]`: what a contract pays for a year of wRVUs."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from rvuedge.benchmarks.contracts import ContractError, compute_pay, fmt_money, fmt_wrvu, load_contract

FORMAT = """\
CONTRACT.json (every key optional except what you need; numbers as JSON numbers or strings):

  {
    "name": "Hospital offer 2026",
    "base_salary": "240000",          annual, stated at 1.0 FTE
    "fte": "1.0",                     scales base salary, threshold, tier bounds and draw
    "threshold": "4500",              annual wRVUs (at 1.0 FTE) before any $/wRVU is earned
    "tiers": [{"up_to": "4500", "rate": "55"},
              {"up_to": "7000", "rate": "65"},
              {"rate": "75"}],        bands on the period's wRVU count; the last is open-ended
    "rate": "60",                     shorthand for a single open tier (instead of "tiers")
    "tier_mode": "accrual",           "accrual" (each band at its rate) | "highest" (all at the top rate reached)
    "tier_reset": "year",             "year" | "quarter" | "month": the count, threshold and bands restart
    "payout_share": "1",              share (0-1) of productivity pay actually paid
    "draw": {"amount": "240000", "true_up": "quarter", "clawback": true, "carry_forward": false},
                                      an annual advance against productivity pay, settled at each true-up;
                                      deficits are clawed back (or forgiven when clawback is false)
    "stipends": [{"name": "Medical directorship", "amount": "20000"}],   annual, not FTE-scaled
    "credit_policy": "cms_mirror",    "cms_mirror" | "no_reductions" | a policy object (see rvuedge price)
    "rvu_release": {"mode": "current"},   or {"mode": "frozen", "release": "RVU24A"} or
                                      {"mode": "blend", "releases": [{"release": "RVU24A", "weight": "0.5"}, ...]}
    "year_start_month": 1             the contract year starts on the 1st of this month
  }

--wrvus takes one annual total (spread evenly over the contract's periods) or one value per period
(4 for a quarterly tier reset or true-up, 12 for monthly); fewer values price the year to date.

Example: tiers 0-4,500 at $55, 4,500-7,000 at $65, above at $75 and 7,500 wRVUs pay $447,500
(accrual) or $562,500 ("tier_mode": "highest").
"""


class Command(BaseCommand):
    help = "Contract pay maths: `rvuedge contract pay CONTRACT.json --wrvus N [--json]`."

    def create_parser(self, prog_name, subcommand, **kwargs):
        parser = super().create_parser(prog_name, subcommand, **kwargs)
        parser.formatter_class = argparse.RawDescriptionHelpFormatter
        parser.epilog = FORMAT
        return parser

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True, metavar="{pay,example}")
        pay = sub.add_parser("pay", help="Compute pay for credited wRVUs, explained line by line",
                             formatter_class=argparse.RawDescriptionHelpFormatter, epilog=FORMAT)
        pay.add_argument("contract", help="contract JSON file ('-' for standard input)")
        pay.add_argument("--wrvus", nargs="+", required=True, metavar="N",
                         help="annual credited wRVUs, or one value per period (7500 | 1500 500 1200 800)")
        pay.add_argument("--json", action="store_true", help="print the computation as JSON")
        sub.add_parser("example", help="Print an example contract JSON")

    def handle(self, *args, **opts):
        if opts["action"] == "example":
            example = {
                "name": "Example: tiered offer", "base_salary": "0", "fte": "1.0", "threshold": "0",
                "tiers": [{"up_to": "4500", "rate": "55"}, {"up_to": "7000", "rate": "65"}, {"rate": "75"}],
                "tier_mode": "accrual", "tier_reset": "year", "payout_share": "1", "stipends": [],
                "credit_policy": "cms_mirror", "rvu_release": {"mode": "current"}, "year_start_month": 1,
            }
            self.stdout.write(json.dumps(example, indent=2))
            return
        src = opts["contract"]
        if src == "-":

            text, name = sys.stdin.read(), "<stdin>"
        else:
            path = Path(src)
            if not path.is_file():
                raise CommandError(f"{src}: no such file")
            text, name = path.read_text(encoding="utf-8"), src
        try:
            terms = load_contract(text)
            values = [v.replace(",", "").replace("_", "") for v in opts["wrvus"]]
            result = compute_pay(terms, values[0] if len(values) == 1 else values)
        except ContractError as exc:
            raise CommandError(f"{name}: {exc}") from None
        if opts["json"]:
            self.stdout.write(json.dumps(result.to_dict(), indent=2))
            return
        t = result.terms
        self.stdout.write(f"{t.name}: {fmt_wrvu(result.wrvus)} credited wRVUs "
                          f"(credit policy {t.describe_policy()}, RVUs {t.describe_release()})")
        for line in result.lines:
            self.stdout.write(f"  {line.text}")
        self.stdout.write(f"Total pay: {fmt_money(result.total)}"
                          + (f" ({fmt_money(result.per_wrvu)} per wRVU)" if result.per_wrvu else ""))
