"""Set the database up (migrate) from the commands that may be the first one run on an empty database:
`rvuedge serve`, `rvuedge data load|load-hcpcs|update`. One process migrates while any other waits.

PostgreSQL: a session advisory lock (``MIGRATE_LOCK_KEY``). SQLite: an exclusive lock on a file beside the
database (``<database>-migrate.lock``; SQLite's own locks cannot span the several transactions of a migrate).
"""

from __future__ import annotations

import fcntl
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from django.core.management import call_command
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.executor import MigrationExecutor

MIGRATE_LOCK_KEY = 0x7276_6564_6765_0001  # PostgreSQL advisory lock held while a command migrates
WAITING = "Waiting for another process to finish setting up the database …"


def pending() -> bool:
    """True when the database lacks some of RVU Edge's tables or columns (migrations not applied)."""
    executor = MigrationExecutor(connections[DEFAULT_DB_ALIAS])
    return bool(executor.migration_plan(executor.loader.graph.leaf_nodes()))


def lock_file(name: str) -> str | None:
    """The lock file beside a SQLite database file (None for an in-memory database)."""
    if not name or name == ":memory:" or name.startswith("file:"):
        return None
    return f"{name}-migrate.lock"


@contextmanager
def one_migrator(report: Callable[[str], None]) -> Iterator[None]:
    """Only one process sets the database up at a time; another one says it waits, then waits."""
    conn = connections[DEFAULT_DB_ALIAS]
    if conn.vendor == "postgresql":
        with conn.cursor() as cur:
            cur.execute("SELECT pg_try_advisory_lock(%s)", [MIGRATE_LOCK_KEY])
            if not cur.fetchone()[0]:
                report(WAITING)
                cur.execute("SELECT pg_advisory_lock(%s)", [MIGRATE_LOCK_KEY])
        try:
            yield
        finally:
            with conn.cursor() as cur:
                cur.execute("SELECT pg_advisory_unlock(%s)", [MIGRATE_LOCK_KEY])
        return
    path = lock_file(str(conn.settings_dict.get("NAME") or "")) if conn.vendor == "sqlite" else None
    if path is None:
        yield
        return
    with open(path, "a") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            report(WAITING)
            fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def ensure_migrated(report: Callable[[str], None]) -> bool:
    """Create or update the database tables first, so that loading data (or serving) is a valid first command.

    Returns whether this process migrated."""
    if not pending():
        return False
    with one_migrator(report):
        if pending():  # not done meanwhile by another process while this one waited
            report("Setting up the database (migrate) …")
            call_command("migrate", interactive=False, verbosity=0)
            return True
    return False
