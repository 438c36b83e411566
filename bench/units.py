"""Is the pricing engine's cost independent of a line's units? (issue 11)

    python bench/units.py [--zip PATH] [--seconds 0.2] [--repeat 5] [--append]

For each kind of line the issue names (a MULT PROC 2 procedure, an endoscopy family member, therapy 97110
under MULT PROC 5, a bilateral procedure, imaging and cardiovascular studies), one encounter is priced with
that line at 1 unit (the baseline, same run) and at 999 units (MAX_UNITS), on RVU25A, Manhattan, non-facility.
Each figure is the best of --repeat runs of about --seconds each (at most --number pricings), the caches
warm as in a running server.

Printed per kind: microseconds per encounter at 1, 10 and 999 units and the ratios (target ~1x), for
``price_encounter`` alone and with ``to_dict()`` (the API's JSON, which lists every unit's rank, so it
grows with the units by design), and the same for the engine before issue 11 (commit f9d6ca5, kept as the
test oracle in tests/pricing/reference_engine_f9d6ca5.py), which split a line into one part per unit.
A single unit often takes a shorter path than any multi-unit line (the one-unit ranking), and a run of 6+
ranked units has one more piece (by report) than a shorter one, so "999 vs 10" is the cost of the units
themselves and "999 vs 1" what the issue asks.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from bench._common import RVU25A_ZIP, append_to_docs, fee_rows  # noqa: E402

#: The line whose units vary is written xN; the other lines make the rule apply.
KINDS = {
    "MULT PROC 2 (27447)": "27447xN 27486 20610",
    # Two family members without their base: the base billed with its family pays 0 since bb6ccc1 (a deliberate
    # change the engine before issue 11, the oracle here, does not know), so the base stays out of the comparison.
    "endoscopy family member (45385)": "45380 45385xN 45384 20610",
    "therapy 97110 (MULT PROC 5)": "97110xN 97140 97530",
    "bilateral 27447-50": "27447-50xN 20610",
    "imaging 74177 (MULT PROC 4)": "74177xN 71260",
    "cardiovascular 93306 (MULT PROC 6)": "93306xN 93880",
}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--zip", type=Path, default=RVU25A_ZIP)
    ap.add_argument("--number", type=int, default=5000, help="most pricings per timed run")
    ap.add_argument("--seconds", type=float, default=0.2, help="about how long one timed run takes")
    ap.add_argument("--repeat", type=int, default=5, help="timed runs; the best counts")
    ap.add_argument("--append", action="store_true", help="append the table to docs/benchmarks.md")
    args = ap.parse_args()

    release, lookup, loc = fee_rows((args.zip, None))
    from rvuedge.pricing import CMS_MIRROR, MAX_UNITS, Encounter, parse_entry, price_encounter  # after Django
    from tests.pricing import reference_engine_f9d6ca5 as reference

    class OwnRows:
        """The same rows as distinct objects for the engine before: a row caches its amounts per pricing
        context under ids each engine numbers on its own, so the two engines must not share rows."""

        def __init__(self, inner: Any):
            self.inner, self.release, self.rows = inner, inner.release, {}

        def get(self, code: str, mod: str = "") -> Any:
            key = (code, mod)
            if key not in self.rows:
                row = self.inner.get(code, mod)
                self.rows[key] = None if row is None else dataclasses.replace(row)
            return self.rows[key]

        def rows_for(self, code: str) -> list[Any]:
            return [self.get(code, row.mod) for row in self.inner.rows_for(code)]

        def near(self, code: str) -> list[str]:
            return self.inner.near(code)  # type: ignore[no-any-return]

        def opps_cap(self, code: str, mod: str, locality: str | None = None) -> Any:
            return self.inner.opps_cap(code, mod, locality)

    before_lookup = OwnRows(lookup)

    def encounter(entry: str, units: int) -> Encounter:
        return Encounter(lines=parse_entry(entry.replace("xN", f"x{units}")).lines, setting="non_facility",
                         gpci=loc.gpci, conversion_factor=release.conv_factor, policy=CMS_MIRROR, locality=loc.key)

    def best(price: Any, enc: Encounter, explain: bool) -> float:
        rows = lookup if price is price_encounter else before_lookup

        def run(number: int) -> float:
            t = time.perf_counter()
            if explain:
                for _i in range(number):
                    price(enc, rows).to_dict()
            else:
                for _i in range(number):
                    price(enc, rows)
            return (time.perf_counter() - t) / number

        number = max(5, min(args.number, int(args.seconds / run(3))))  # warm (caches) and calibrate
        return min(run(number) for _ in range(args.repeat))

    engines = (("now", price_encounter), ("before (f9d6ca5)", reference.price_encounter))
    head = ("| Line kind (encounter) | engine | call | 1 unit | 10 units | 999 units | 999 vs 1 | 999 vs 10 |\n"
            "|---|---|---|---|---|---|---|---|")
    lines = [head]
    for kind, entry in KINDS.items():
        encs = [encounter(entry, n) for n in (1, 10, MAX_UNITS)]
        before = reference.price_encounter(encs[2], before_lookup).to_dict()
        if before != price_encounter(encs[2], lookup).to_dict():
            raise SystemExit(f"{kind}: the engine and the per-unit engine disagree")
        for name, price in engines:
            for explain in (False, True):
                one, ten, many = (best(price, enc, explain) for enc in encs)
                lines.append(f"| {kind}: `{entry.replace('xN', 'x999')}` | {name} | "
                             f"{'price + to_dict' if explain else 'price'} | {one * 1e6:.1f} µs | {ten * 1e6:.1f} µs | "
                             f"{many * 1e6:.1f} µs | **{many / one:.2f}×** | **{many / ten:.2f}×** |")
            print(lines[-2], lines[-1], sep="\n", flush=True)
    table = "\n".join(lines)
    print(f"RVU25A, Manhattan 13202-01, non-facility, policy cms_mirror; best of {args.repeat} runs of about "
          f"{args.seconds} s each")
    print(table)
    if args.append:
        append_to_docs("## Issue 11: units", "A line of 999 units against the same line of 1 unit",
                       "python bench/units.py", table)


if __name__ == "__main__":
    main()
