"""Helpers shared by the benchmark scripts: throw-away PostgreSQL databases and appending results to the docs."""

from __future__ import annotations

import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs" / "benchmarks.md"


def pg_fresh(admin_url: str, name: str) -> str:
    """Create (or re-create) database ``name`` on the server of ``admin_url``; return its URL."""
    import psycopg

    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {name}")
    return admin_url.rsplit("/", 1)[0] + "/" + name


def pg_drop(admin_url: str, name: str) -> None:
    import psycopg

    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def append_to_docs(heading: str, title: str, command: str, text: str, path: Path = DOCS) -> None:
    """Append ``### title (date, `command`)`` and ``text`` to docs/benchmarks.md, under ``heading`` (added if
    the file lacks it)."""
    existing = path.read_text() if path.exists() else ""
    block = f"\n### {title} ({time.strftime('%Y-%m-%d')}, `{command}`)\n\n{text}\n"
    at = existing.find(heading)
    if at < 0:
        existing = existing.rstrip("\n") + f"\n\n{heading}\n"
        at = existing.find(heading)
    end = existing.find("\n## ", at + len(heading))  # the end of that section
    end = len(existing) if end < 0 else end
    path.write_text(existing[:end].rstrip("\n") + "\n" + block + existing[end:])
    print(f"appended to {path} under {heading!r}")
