"""Two processes loading one release: one loads it, the other says why not, exits non-zero, writes nothing.

Each test runs real `rvuedge data load` processes against a database of their own (a fresh SQLite file,
or a fresh PostgreSQL database when DATABASE_URL names PostgreSQL), migrated once for the module. The
other process is either a second load or this test holding what a load holds while it writes (the
release's advisory lock on PostgreSQL, the write lock on SQLite). Marked slow: real processes, a fresh
migrated database, and on SQLite a wait of its busy timeout.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from rvuedge.fees.importer import lock_key
from tests.conftest import RVU25A_ZIP
from tests.synthetic import gpci_csv, pprrvu_csv, release_zip

PROJECT = Path(__file__).resolve().parents[2]
PG = os.environ.get("DATABASE_URL", "").startswith("postgres")
pytestmark = pytest.mark.slow
LOSER = re.compile(r"(is being loaded by another process|was loaded by another process)")


class Db:
    """A plain connection to the module's database (sqlite3 or psycopg), in autocommit mode."""

    def __init__(self, env: dict[str, str]):
        if PG:
            import psycopg

            self.conn = psycopg.connect(env["DATABASE_URL"], autocommit=True)
        else:
            self.conn = sqlite3.connect(Path(env["RVUEDGE_DATA_DIR"]) / "rvuedge.sqlite3", isolation_level=None,
                                        timeout=30)

    def execute(self, sql: str, params: tuple = ()):
        if not PG:
            sql = sql.replace("%s", "?")
        return self.conn.execute(sql, params)

    def one(self, sql: str, params: tuple = ()):
        return self.execute(sql, params).fetchone()

    def close(self):
        self.conn.close()


@contextmanager
def fresh_database(base: Path, suffix: str) -> Iterator[dict[str, str]]:
    """The environment of `rvuedge` commands using a new, empty database (not migrated)."""
    environ = dict(os.environ, RVUEDGE_DATA_DIR=str(base / "var"))
    admin = name = None
    if PG:
        import psycopg

        admin = os.environ["DATABASE_URL"].rsplit("/", 1)[0] + "/postgres"
        name = f"rvu_f_{suffix}_{os.getpid()}"
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
            conn.execute(f"CREATE DATABASE {name}")
        environ["DATABASE_URL"] = admin.rsplit("/", 1)[0] + "/" + name
    else:
        environ.pop("DATABASE_URL", None)
    try:
        yield environ
    finally:
        if PG:
            import psycopg

            with psycopg.connect(admin, autocommit=True) as conn:
                conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    with fresh_database(tmp_path_factory.mktemp("concurrent"), "concurrent") as environ:
        subprocess.run([sys.executable, "-m", "rvuedge.cli", "migrate", "-v", "0"], env=environ, cwd=PROJECT,
                       check=True, timeout=300)
        yield environ


def rvuedge(env, *args: str, **kw) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "rvuedge.cli", *args], env=env, cwd=PROJECT, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, **kw)


def finish(proc: subprocess.Popen, stderr_so_far: str = "") -> tuple[int, str, str]:
    out, err = proc.communicate(timeout=300)
    return proc.returncode, out, stderr_so_far + err


def synthetic_zip(tmp_path: Path, name: str) -> Path:
    path = tmp_path / f"{name}.zip"
    path.write_bytes(release_zip({f"PPRRVU{name[3:5]}_APR.csv": pprrvu_csv(), "GPCI2025.csv": gpci_csv()}))
    return path


def insert_release(db: Db, name: str) -> None:
    db.execute(
        "INSERT INTO fees_release (name, year, title, layout, conv_factor, source, fingerprint, files, counts, "
        "loaded_at, load_seconds) VALUES (%s, %s, '', '31', 32.3465, 'another process', 'theirs', '[]', '{}', "
        "%s, 0)",
        (name, 2000 + int(name[3:5]), dt.datetime.now(dt.UTC).isoformat()),
    )


def fee_rows(db: Db, name: str) -> int:
    return db.one("SELECT count(*) FROM fees_feerow f JOIN fees_release r ON r.id = f.release_id "
                  "WHERE r.name = %s", (name,))[0]


def test_sequential_loads_of_one_release(env, tmp_path):
    path = synthetic_zip(tmp_path, "RVU22B")
    rc, out, err = finish(rvuedge(env, "data", "load", str(path)))
    assert rc == 0 and "Loaded RVU22B." in out, err
    rc, out, err = finish(rvuedge(env, "data", "load", str(path)))
    assert rc == 0 and "RVU22B is already loaded from these files; nothing changed." in out, err
    other = tmp_path / "other" / "PPRRVU22_APR.csv"
    other.parent.mkdir()
    other.write_bytes(pprrvu_csv().replace(b"Synthetic visit", b"Synthetic visits"))
    rc, out, err = finish(rvuedge(env, "data", "load", str(other), "--release", "RVU22B"))
    assert rc != 0 and "RVU22B is already loaded from different files" in err and "--replace" in err
    assert "Traceback" not in err
    db = Db(env)
    try:
        assert fee_rows(db, "RVU22B") == 6
        assert db.one("SELECT count(*) FROM fees_release WHERE name = 'RVU22B'") == (1,)
    finally:
        db.close()


def hold_release(db: Db, name: str) -> None:
    """Take what a load of ``name`` takes before it writes."""
    if PG:
        db.execute("SELECT pg_advisory_lock(%s)", (lock_key("fees_release", name),))
    else:
        db.execute("BEGIN IMMEDIATE")


def release_hold(db: Db, name: str) -> None:
    if PG:
        db.execute("SELECT pg_advisory_unlock(%s)", (lock_key("fees_release", name),))
    else:
        db.execute("COMMIT")


def test_load_refused_while_another_process_writes_the_release(env, tmp_path):
    path = synthetic_zip(tmp_path, "RVU23B")
    db = Db(env)
    try:
        hold_release(db, "RVU23B")
        rc, out, err = finish(rvuedge(env, "data", "load", str(path)))
        release_hold(db, "RVU23B")
        assert rc != 0, out
        assert "RVU23B is being loaded by another process" in err and "nothing was written by this load" in err
        assert "Traceback" not in err and "IntegrityError" not in err
        assert db.one("SELECT count(*) FROM fees_release WHERE name = 'RVU23B'") == (0,)
        # Once the other process is done, the same command loads it.
        rc, out, err = finish(rvuedge(env, "data", "load", str(path)))
        assert rc == 0 and "Loaded RVU23B." in out, err
    finally:
        db.close()


def test_release_loaded_meanwhile_is_left_alone(env, tmp_path):
    """Another process loads the release while this one parses: this one writes nothing and says so.

    SQLite: the other process holds the write lock and commits its release once this load is about to
    write, so this load waits, reads the release again under the lock and finds it. PostgreSQL: the other
    process holds the table and commits its release while this load's insert waits, which the unique name
    refuses.
    """
    path = synthetic_zip(tmp_path, "RVU24B")
    db = Db(env)
    try:
        if PG:
            db.execute("BEGIN")
            db.execute("LOCK TABLE fees_release IN EXCLUSIVE MODE")
        else:
            db.execute("BEGIN IMMEDIATE")
        insert_release(db, "RVU24B")  # not committed yet: the load's first look finds nothing
        proc = rvuedge(env, "data", "load", str(path))
        seen = []
        for line in proc.stderr:  # the load has parsed its files and is about to write
            seen.append(line)
            if line.startswith("Writing RVU24B"):
                break
        db.execute("COMMIT")  # whether the load is already waiting or not, it now finds the release
        rc, out, err = finish(proc, "".join(seen))
        assert rc != 0, out
        assert "RVU24B was loaded by another process" in err and "nothing was written by this load" in err, err
        assert "Traceback" not in err and "IntegrityError" not in err
        assert db.one("SELECT fingerprint FROM fees_release WHERE name = 'RVU24B'") == ("theirs",)
        assert fee_rows(db, "RVU24B") == 0
    finally:
        db.close()


def test_two_loads_of_one_release_at_once(env):
    procs = [rvuedge(env, "data", "load", str(RVU25A_ZIP)) for _ in range(2)]
    results = [finish(p) for p in procs]
    winners = [r for r in results if r[0] == 0 and "Loaded RVU25A." in r[1]]
    assert len(winners) == 1, results
    (rc, out, err), = [r for r in results if r is not winners[0]]
    assert "Traceback" not in err and "IntegrityError" not in err
    # The loser either met the winner (non-zero, a clear message) or started after it had finished.
    assert (rc != 0 and LOSER.search(err) and "nothing was written by this load" in err) or (
        rc == 0 and "already loaded from these files" in out), (rc, out, err)
    db = Db(env)
    try:
        assert db.one("SELECT count(*) FROM fees_release WHERE name = 'RVU25A'") == (1,)
        assert fee_rows(db, "RVU25A") == 18865
    finally:
        db.close()


def test_two_first_loads_into_an_empty_database(tmp_path):
    """Both set the database up first: one migrates while the other waits, then one loads the release."""
    path = synthetic_zip(tmp_path, "RVU25B")
    with fresh_database(tmp_path, "empty") as environ:
        procs = [rvuedge(environ, "data", "load", str(path)) for _ in range(2)]
        results = [finish(p) for p in procs]
        for _rc, _out, err in results:
            assert "Traceback" not in err and "already exists" not in err, err
        winners = [r for r in results if r[0] == 0 and "Loaded RVU25B." in r[1]]
        assert len(winners) == 1, results
        (rc, out, err), = [r for r in results if r is not winners[0]]
        assert (rc != 0 and LOSER.search(err) and "nothing was written by this load" in err) or (
            rc == 0 and "already loaded from these files" in out), (rc, out, err)
        db = Db(environ)
        try:
            assert fee_rows(db, "RVU25B") == 6
        finally:
            db.close()
