"""Search quality (issue 14): top-1 / top-3 hit rates on bench/search_eval.yaml, the misses, and typeahead latency.

    python bench/search_eval.py [--data-dir DIR] [--database-url postgres://...] [--misses] [--write]

Builds (or reuses) a database with RVU25A, RVU26C (the newest release), the January 2026 HCPCS file and our
content, then runs every query of the evaluation set through :func:`rvuedge.codes.search.search` as the search
page does, twice in the same run:

- **before**: the vocabulary (abbreviations, phrases, E/M levels) and the per-code prior switched off
  (``search.USE_VOCABULARY = False``, ``search.USE_PRIOR = False``): plain words, typo correction, the old weight.
- **after**: everything on.

A query is a top-k hit when one of its acceptable codes is among the first k results. Latency is measured on
the path users take while typing: :func:`rvuedge.codes.search.suggest` (what ``/codes/suggest/`` and the log's
entry box call) for every query and for its prefixes as typed (every third character), p50 and p95; each call
is timed three times and its median kept (the machine may be shared with other jobs).
``--write`` appends the table to docs/benchmarks.md under "Issue 14: search". ``--code-root DIR`` evaluates
another checkout's search instead (e.g. ``--code-root ../main`` for the code before this change; use its own
``--data-dir``, its database schema may differ): one row, measured the same way.
"""

from __future__ import annotations

import argparse
import platform
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from bench._common import append_to_docs, pct, prepare_codes  # noqa: E402

EVAL = ROOT / "bench" / "search_eval.yaml"


def load_eval(path: Path = EVAL) -> list[dict]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    return [{"q": str(item["q"]), "codes": [str(c) for c in item["codes"]], "who": item.get("who", "")}
            for item in data["queries"]]


def evaluate(items: list[dict]) -> dict:
    """Top-1 and top-3 hits of the search page's first results; the misses with what came first."""
    from rvuedge.codes.search import search

    top1 = top3 = 0
    misses = []
    for item in items:
        got = [r["code"] for r in search(item["q"], limit=10, count=False).results]
        ok = set(item["codes"])
        top1 += bool(got[:1]) and got[0] in ok
        hit3 = bool(ok & set(got[:3]))
        top3 += hit3
        if not hit3:
            misses.append((item["q"], item["codes"], got[:3]))
    n = len(items)
    return {"n": n, "top1": top1 / n, "top3": top3 / n, "misses": misses}


def typing(items: list[dict]) -> list[str]:
    """Every query, and its prefixes as typed (every third character from the third)."""
    out = []
    for item in items:
        q = item["q"]
        out += [q[:i] for i in range(3, len(q), 3)] + [q]
    return out


def latency(queries: list[str], repeat: int = 3) -> tuple[float, float]:
    from rvuedge.codes import search as search_mod

    suggest = getattr(search_mod, "suggest", None) or (lambda q: search_mod.search(q, limit=8, count=False))
    for q in queries[:100]:  # warm-up: vocabulary, statement caches
        suggest(q)
    times = []
    for q in queries:  # each call `repeat` times, the median kept: the figure of the call, not of a busy neighbour
        runs = []
        for _ in range(repeat):
            t = time.perf_counter()
            suggest(q)
            runs.append(time.perf_counter() - t)
        times.append(sorted(runs)[len(runs) // 2])
    return pct(times, 0.5), pct(times, 0.95)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data-dir", help="reuse this RVUEDGE_DATA_DIR (default: a new temporary one)")
    ap.add_argument("--database-url", help="PostgreSQL database to use instead of SQLite")
    ap.add_argument("--misses", action="store_true", help="print every miss (default: the first 40)")
    ap.add_argument("--write", action="store_true", help="append the results to docs/benchmarks.md")
    ap.add_argument("--sample", type=int, default=1, help="time every Nth typed call only (default: all)")
    ap.add_argument("--repeat", type=int, default=3, help="times each call is repeated; the median is kept")
    ap.add_argument("--code-root", help="evaluate the search of another checkout (one row)")
    ap.add_argument("--quality-only", action="store_true", help="hit rates after, no latency, no before")
    args = ap.parse_args()
    data_dir = args.data_dir or tempfile.mkdtemp(prefix="rvuedge-search-eval-")
    if args.code_root:
        sys.path.insert(0, str(Path(args.code_root).resolve()))
        for name in [m for m in sys.modules if m == "rvuedge" or m.startswith("rvuedge.")]:
            del sys.modules[name]
    prepare_codes(data_dir, args.database_url, rvu26c=True)

    from django.db import connection

    from rvuedge.codes import search as search_mod

    items = load_eval()
    typed = typing(items)[::max(1, args.sample)]
    search_mod.ensure_index()
    if args.quality_only:
        q = evaluate(items)
        print(f"top-1 {q['top1']:.1%}, top-3 {q['top3']:.1%}")
        for query, want, got in q["misses"]:
            print(f"  {query!r}: want {', '.join(want[:4])}; got {', '.join(got) or '—'}")
        return
    if args.code_root:
        q = evaluate(items)
        p50, p95 = latency(typed, args.repeat)
        import rvuedge

        print(f"{Path(rvuedge.__file__).parent}: {q['n']} queries, top-1 {q['top1']:.1%}, top-3 {q['top3']:.1%}, "
              f"typeahead p50 {p50:.2f} ms, p95 {p95:.2f} ms over {len(typed)} calls")
        return
    results = {}
    for label, on in (("before", False), ("after", True)):
        search_mod.USE_VOCABULARY = on
        search_mod.USE_PRIOR = on
        quality = evaluate(items)
        p50, p95 = latency(typed, args.repeat)
        results[label] = (quality, p50, p95)
    search_mod.USE_VOCABULARY = search_mod.USE_PRIOR = True

    vendor = connection.vendor
    db = "SQLite " + __import__("sqlite3").sqlite_version if vendor == "sqlite" else "PostgreSQL"
    after = results["after"][0]
    lines = [
        f"{after['n']} queries of bench/search_eval.yaml on RVU26C + HCPCS 2026 + our content; {db}; "
        f"Python {platform.python_version()}. Typeahead latency over {len(typed)} calls of `suggest()` (each query "
        f"and its prefixes as typed{f', one call in {args.sample}' if args.sample > 1 else ''}), median of {args.repeat} "
        "runs per call.",
        "",
        "| Search | top-1 | top-3 | typeahead p50 | typeahead p95 |",
        "|---|---|---|---|---|",
    ]
    names = {"before": "before: plain words (vocabulary and prior off)", "after": "after: vocabulary + prior"}
    for label in ("before", "after"):
        q, p50, p95 = results[label]
        lines.append(f"| {names[label]} | {q['top1']:.1%} | {q['top3']:.1%} | {p50:.2f} ms | {p95:.2f} ms |")
    text = "\n".join(lines)
    print(text)
    shown = after["misses"] if args.misses else after["misses"][:40]
    print(f"\nMisses after ({len(after['misses'])}):")
    for q, want, got in shown:
        print(f"  {q!r}: want {', '.join(want[:4])}{'…' if len(want) > 4 else ''}; got {', '.join(got) or '—'}")
    if args.write:
        append_to_docs("## Issue 14: search", f"Search quality and typeahead latency ({db})",
                       "python bench/search_eval.py" + (" --database-url …" if args.database_url else ""), text)


if __name__ == "__main__":
    main()
