"""Search latency: 1,000 realistic queries against RVU25A + HCPCS Level II, in-process.

    python bench/search.py [--data-dir DIR] [--database-url postgres://...] [--queries 1000] [--write]

Builds (or reuses) a database with RVU25A, the January 2026 HCPCS file and our content, then times
:func:`rvuedge.codes.search.search` for codes, prefixes, ranges, words, partly typed words and typos — as the
typeahead calls it (8 results, no count) and as the search page does (25 results with the total) — beside a
same-run baseline: the bare full-text query (FTS5 MATCH on SQLite, tsvector @@ on PostgreSQL) for the same
words, with no ranking, corrections or result rows. Prints p50 and p95; ``--write`` appends the table to
docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import platform
import random
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from bench._common import append_to_docs, pct, prepare_codes  # noqa: E402


def make_queries(n: int, seed: int = 42) -> list[tuple[str, str]]:
    """(kind, query) pairs drawn from the loaded index: what people type."""
    from rvuedge.codes.models import SearchEntry, SearchTerm

    rng = random.Random(seed)
    codes = list(SearchEntry.objects.values_list("code", flat=True))
    words = [t for t, f in SearchTerm.objects.values_list("term", "freq") if t.isalpha() and len(t) >= 4 and f >= 2]
    long_words = [w for w in words if len(w) >= 7]
    phrases = [t for t in SearchEntry.objects.exclude(title="").values_list("title", flat=True)]
    out: list[tuple[str, str]] = []
    letters = "abcdefghijklmnopqrstuvwxyz"
    while len(out) < n:
        r = rng.random()
        if r < 0.22:
            out.append(("code", rng.choice(codes)))
        elif r < 0.35:
            out.append(("prefix", rng.choice(codes)[: rng.randint(2, 4)]))
        elif r < 0.40:
            c = rng.choice([c for c in codes[:200] + codes[1000:12000:50] if c.isdigit()])
            out.append(("range", f"{c}-{int(c) + rng.randint(3, 40):05d}"))
        elif r < 0.60:
            q = " ".join(rng.sample(words, rng.randint(1, 2)))
            out.append(("words", q))
        elif r < 0.70:
            w = rng.choice(phrases).lower().split()
            out.append(("title", " ".join(w[: rng.randint(1, min(3, len(w)))])))
        elif r < 0.80:
            w = rng.choice(long_words)
            out.append(("typing", w[: rng.randint(3, len(w) - 1)]))
        else:
            w = list(rng.choice(long_words))
            i = rng.randrange(1, len(w) - 1)
            op = rng.choice(["drop", "swap", "sub"])
            if op == "drop":
                del w[i]
            elif op == "swap":
                w[i], w[i + 1] = w[i + 1], w[i]
            else:
                w[i] = rng.choice(letters)
            out.append(("typo", "".join(w)))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data-dir", help="reuse this RVUEDGE_DATA_DIR (default: a new temporary one)")
    ap.add_argument("--database-url", help="PostgreSQL database to use instead of SQLite")
    ap.add_argument("--queries", type=int, default=1000)
    ap.add_argument("--write", action="store_true", help="append the results to docs/benchmarks.md")
    args = ap.parse_args()
    data_dir = args.data_dir or tempfile.mkdtemp(prefix="rvuedge-search-bench-")
    prepare_codes(data_dir, args.database_url)

    from django.db import connection

    from rvuedge.codes.search import STOPWORDS, WORD_RE, search

    def bare_query(text: str, limit: int = 20) -> list[str]:
        """The baseline: one bare full-text query, no ranking tweaks, no corrections."""
        words = [t for t in WORD_RE.findall(text.lower()) if t not in STOPWORDS]
        if not words:
            return []
        with connection.cursor() as cur:
            if connection.vendor == "postgresql":
                cur.execute("SELECT code FROM codes_searchentry WHERE document @@ to_tsquery('simple', %s) LIMIT %s",
                            [" & ".join(f"{w}:*" for w in words), limit])
            else:
                cur.execute("SELECT rowid FROM codes_search_fts WHERE codes_search_fts MATCH %s LIMIT %s",
                            [" AND ".join(f'"{w}"*' for w in words), limit])
            return [str(r[0]) for r in cur.fetchall()]

    queries = make_queries(args.queries)
    for _kind, q in queries[:100]:  # warm-up: vocabulary, statement caches
        search(q, limit=8, count=False)
        bare_query(q)
    timings: dict[str, list[float]] = {"typeahead": [], "page": [], "baseline": []}
    by_kind: dict[str, list[float]] = {}
    empty = 0
    for kind, q in queries:
        t = time.perf_counter()
        res = search(q, limit=8, count=False)
        dt = time.perf_counter() - t
        timings["typeahead"].append(dt)
        by_kind.setdefault(kind, []).append(dt)
        empty += not res.results
        t = time.perf_counter()
        search(q, limit=25)
        timings["page"].append(time.perf_counter() - t)
        t = time.perf_counter()
        bare_query(q)
        timings["baseline"].append(time.perf_counter() - t)

    vendor = connection.vendor
    db = "SQLite " + __import__("sqlite3").sqlite_version if vendor == "sqlite" else "PostgreSQL"
    lines = [
        f"Search, {len(queries)} queries ({', '.join(f'{k} {len(v)}' for k, v in by_kind.items())}); "
        f"{db}; Python {platform.python_version()}; {empty} queries found nothing.",
        "",
        "| Call | p50 | p95 | max |",
        "|---|---|---|---|",
    ]
    labels = {"typeahead": "`search(q, limit=8, count=False)` (typeahead)",
              "page": "`search(q, limit=25)` with total (search page)",
              "baseline": "baseline: bare full-text query, same words"}
    for key in ("typeahead", "page", "baseline"):
        v = timings[key]
        lines.append(f"| {labels[key]} | {pct(v, .5):.2f} ms | {pct(v, .95):.2f} ms | {max(v) * 1000:.1f} ms |")
    lines += ["", "| Typeahead by query kind | p50 | p95 |", "|---|---|---|"]
    for kind, v in by_kind.items():
        lines.append(f"| {kind} ({len(v)}) | {pct(v, .5):.2f} ms | {pct(v, .95):.2f} ms |")
    text = "\n".join(lines)
    print(text)
    if args.write:
        append_to_docs("## Code reference (issue 4)", "Search latency", "python bench/search.py", text)


if __name__ == "__main__":
    main()
