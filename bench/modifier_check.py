"""What the modifier check (issue 19) adds to pricing: check_lines beside price_encounter on the same encounters.

    python bench/modifier_check.py [--lines 200000] [--repeat 3] [--zip PATH]

Every path that prices (``price_lines``, the log's import and entry, scenarios) now runs
``rvuedge.pricing.modifiers.check_lines`` first: each modifier looked up among the known ones, and each line with
modifiers checked against its code's indicators. The baseline, measured in the same run on the same encounters
(RVU25A rows, Manhattan, a realistic mix with 26/TC, 50, 80, RT/LT, 25, 59), is the engine's
``price_encounter``; the figure is the check's time and its share of check + price. Best of --repeat runs.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from bench._common import RVU25A_ZIP, fee_rows, procedure_modifiers  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--lines", type=int, default=200_000)
    ap.add_argument("--zip", type=Path, default=RVU25A_ZIP)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()

    release, lookup, loc = fee_rows((args.zip, None))
    from rvuedge.fees.services import known_modifiers  # Django is set up only now
    from rvuedge.pricing import CMS_MIRROR, Encounter, EncounterLine, price_encounter
    from rvuedge.pricing.modifiers import check_lines

    check = known_modifiers()

    rng = random.Random(19)
    visits, procs, imaging = [], [], []
    for code in sorted(lookup.codes()):
        row = lookup.get(code, "")
        if row is None or row.status != "A" or row.work_rvu <= 0:
            continue
        if code.startswith("99"):
            visits.append(row)
        elif row.pctc == "1" and lookup.get(code, "26") is not None:
            imaging.append(row)
        elif row.mult_proc == "2":
            procs.append(row)

    def draw_line() -> EncounterLine:
        kind = rng.random()
        if kind < 0.45:
            return EncounterLine(rng.choice(visits).code, ("25",) if rng.random() < 0.2 else ())
        if kind < 0.8:
            row = rng.choice(procs)
            mods = procedure_modifiers(rng, row)
            if not mods and rng.random() < 0.3:
                mods = (rng.choice(["RT", "LT"]), "59")
            return EncounterLine(row.code, mods)
        return EncounterLine(rng.choice(imaging).code, (rng.choice(["26", "TC"]),))

    encounters = []
    n = 0
    while n < args.lines:
        size = min(rng.randint(1, 6), args.lines - n)
        encounters.append(Encounter(lines=tuple(draw_line() for _ in range(size)),
                                    setting=rng.choice(["facility", "non_facility"]), gpci=loc.gpci,
                                    conversion_factor=release.conv_factor, policy=CMS_MIRROR, locality=loc.key))
        n += size
    with_mods = sum(1 for e in encounters for ln in e.lines if ln.modifiers)

    def run(fn) -> float:  # noqa: ANN001 - the timed callable
        t = time.perf_counter()
        for enc in encounters:
            fn(enc)
        return time.perf_counter() - t

    def price(enc) -> None:  # noqa: ANN001
        price_encounter(enc, lookup)

    def check_only(enc) -> None:  # noqa: ANN001
        check_lines(enc.lines, check, lookup)

    prices, checks = [], []
    for _ in range(args.repeat):
        prices.append(run(price))
        checks.append(run(check_only))
    p, c = min(prices), min(checks)
    print(f"lines: {n:,} in {len(encounters):,} encounters, {with_mods:,} lines with modifiers "
          f"(RVU25A, Manhattan 13202-01)")
    print(f"baseline price_encounter, best run: {p:.2f} s = {n / p:,.0f} lines/s")
    print(f"check_lines, best run:              {c:.3f} s = {n / c:,.0f} lines/s "
          f"({c / (p + c):.1%} of check + price; {c / p * 100:.1f}% on top of pricing)")
    print("runs (price s, check s): " + "; ".join(f"{a:.2f}, {b:.3f}" for a, b in zip(prices, checks, strict=True)))


if __name__ == "__main__":
    main()
