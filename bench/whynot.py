"""Issue 16 benchmark: the billing rules (rvuedge.logbook.rules.check) on a busy clinician's log. Pure Python.

    python bench/whynot.py [--zip RVU25A.zip] [--years 1] [--per-day 40] [--append docs/benchmarks.md]

Facts come from the real RVU25A PPRRVU file (parsed by the project's parser, no database). The log is a busy
clinician's: ``--per-day`` lines a working day from a realistic mix (visits, injections, arthroplasty with its
090 global, endoscopy families, add-ons). Measured in one run:

* the import preview / reconciliation case: every finding over the whole log, beside a bare pass that groups
  the same lines by date and looks up each line's fee row (the least any rule check must do);
* the typing case (``POST /api/log/check``, every keystroke): one new line against the 92 days of log that
  can reach it, beside the same bare pass over those lines.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import statistics
import sys
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from bench._common import RVU25A_ZIP, append_to_docs  # noqa: E402
from rvuedge.fees.parsers.pprrvu import parse_pprrvu  # noqa: E402
from rvuedge.logbook.rules import Fact, Line, check  # noqa: E402

MIX = [("99213", 14), ("99214", 14), ("99215", 4), ("99212", 3), ("99204", 2), ("99232", 6), ("20610-RT", 4),
       ("20610-LT", 2), ("27447", 1), ("29881", 1), ("43239", 2), ("43235", 1), ("45385", 2), ("45378", 1),
       ("11042", 1), ("11045", 1), ("10060", 1), ("99397", 1), ("G0117", 1), ("71046-26", 2), ("99024", 1)]


def facts_from(zip_path: Path) -> dict[str, Fact]:
    with zipfile.ZipFile(zip_path) as zf:
        name = next(n for n in zf.namelist() if n.upper().startswith("PPRRVU") and n.lower().endswith(".csv"))
        parsed = parse_pprrvu(zf.read(name), name)
    out: dict[str, Fact] = {}
    for r in parsed.rows:
        if r.modifier == "" or r.hcpcs not in out:
            out[r.hcpcs] = Fact(r.hcpcs, "RVU25A", r.status, r.glob_days, r.pre_op, r.intra_op, r.post_op, r.mult_proc,
                                r.bilat_surg, r.endo_base, r.work_rvu, r.description)
    return out


def make_log(years: int, per_day: int, seed: int = 7) -> list[Line]:
    rng = random.Random(seed)
    codes, weights = zip(*MIX, strict=True)
    start = dt.date(2025, 1, 1)
    lines = []
    for n in range(365 * years):
        day = start + dt.timedelta(days=n)
        if day.weekday() >= 5:
            continue
        for _ in range(per_day):
            code, *mods = rng.choices(codes, weights)[0].split("-")
            lines.append(Line(day, code, tuple(mods), 1, n))
    return lines


def bare(lines: list[Line], facts: dict[str, Fact]) -> int:
    by_day: dict[dt.date, list[tuple[Line, Fact | None]]] = {}
    for ln in lines:
        by_day.setdefault(ln.date, []).append((ln, facts.get(ln.code)))
    return len(by_day)


def timed(fn, repeat: int) -> list[float]:
    out = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t)
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--zip", type=Path, default=RVU25A_ZIP)
    ap.add_argument("--years", type=int, default=1)
    ap.add_argument("--per-day", type=int, default=40)
    ap.add_argument("--append", type=Path)
    args = ap.parse_args()
    facts = facts_from(args.zip)
    log = make_log(args.years, args.per_day)
    found = check(log, facts, only_new=False)
    whole = timed(lambda: check(log, facts, only_new=False), 5)
    whole_base = timed(lambda: bare(log, facts), 5)

    day = log[len(log) // 2].date
    window = [ln for ln in log if day - dt.timedelta(days=91) <= ln.date <= day + dt.timedelta(days=1)]
    typed = [*window, Line(day, "99213", (), 1, None, True)]
    one = timed(lambda: check(typed, facts), 50)
    one_base = timed(lambda: bare(typed, facts), 50)
    counts: dict[str, int] = {}
    for f in found:
        counts[f.rule] = counts.get(f.rule, 0) + 1

    def ms(xs: list[float]) -> str:
        return f"{statistics.median(xs) * 1000:.1f} ms"

    text = "\n".join([
        f"Python {sys.version.split()[0]}, RVU25A facts ({len(facts):,} codes), {len(log):,} lines "
        f"({args.per_day} a working day, {args.years} year(s)).",
        "",
        "| Case | rules.check (median) | bare pass, same lines (median) |",
        "|---|---|---|",
        f"| Whole log ({len(log):,} lines: import preview, reconciliation), {len(found):,} findings "
        f"| {ms(whole)} | {ms(whole_base)} |",
        f"| One typed line against the 92 days that can reach it ({len(typed):,} lines: the check as you type) "
        f"| {ms(one)} | {ms(one_base)} |",
        "",
        "Findings by rule on the synthetic log: " + ", ".join(f"{k} {v:,}" for k, v in sorted(counts.items())) + ".",
    ])
    print(text)
    if args.append:
        append_to_docs("## Issue 16: why wasn't it credited", "The billing rules on a busy log",
                       "python bench/whynot.py", text, args.append)


if __name__ == "__main__":
    main()
