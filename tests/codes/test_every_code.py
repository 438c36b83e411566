"""Every code of RVU25A renders as a page and as JSON, and both totals always equal work + PE + MP.

(The seed product showed Total RVU = Work RVU; this test makes that bug impossible on any page.)

About 16,600 codes x 2 requests through the Django test client. To keep the suite short the codes are split
over forked worker processes (one per CPU, at most 4; ``RVUEDGE_TEST_WORKERS=1`` keeps them in this
process; ``RVUEDGE_CODES_SAMPLE=N`` checks only about N codes, for development). A forked worker reads the
same test database: on SQLite its inherited copy of the in-memory database, on PostgreSQL a connection of
its own (RVU25A, HCPCS and the content are committed by the session fixture).
"""

from __future__ import annotations

import gc
import json
import os
import re
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client

from rvuedge.fees.models import FeeRow, Release
from rvuedge.fees.services import DbLookup

pytestmark = pytest.mark.django_db

CELL = re.compile(r'data-row="([0-9A-Z-]+)" data-k="(work|nfpe|fpe|mp|nftotal|ftotal)">([0-9]+\.[0-9]{2})')


def _totals_ok(values: dict[str, dict[str, Decimal]]) -> str | None:
    for row, v in values.items():
        if v["nftotal"] != v["work"] + v["nfpe"] + v["mp"]:
            return f"{row}: non-facility total {v['nftotal']} != work + PE + MP ({v})"
        if v["ftotal"] != v["work"] + v["fpe"] + v["mp"]:
            return f"{row}: facility total {v['ftotal']} != work + PE + MP ({v})"
    return None


def check_code(client: Client, code: str) -> str | None:
    """None when the page and its JSON twin render and agree, else what is wrong."""
    page = client.get(f"/codes/{code}/?release=RVU25A")
    if page.status_code != 200:
        return f"{code}: page status {page.status_code}"
    cells: dict[str, dict[str, Decimal]] = {}
    for row, key, value in CELL.findall(page.content.decode()):
        cells.setdefault(row, {})[key] = Decimal(value)
    if not cells:
        return f"{code}: the page has no RVU table"
    problem = _totals_ok(cells)
    if problem:
        return f"{code} page: {problem}"
    response = client.get(f"/codes/{code}.json?release=RVU25A")
    if response.status_code != 200:
        return f"{code}: JSON status {response.status_code}"
    data = response.json()
    rows = {r["row"]: {"work": Decimal(r["work_rvu"]), "nfpe": Decimal(r["nonfac_pe_rvu"]),
                       "fpe": Decimal(r["fac_pe_rvu"]), "mp": Decimal(r["mp_rvu"]),
                       "nftotal": Decimal(r["nonfac_total"]), "ftotal": Decimal(r["fac_total"])}
            for r in data["rvus"]}
    problem = _totals_ok(rows)
    if problem:
        return f"{code} JSON: {problem}"
    if rows != cells:
        return f"{code}: the page and its JSON twin disagree"
    if data["code"] != code or data["release"]["name"] != "RVU25A":
        return f"{code}: JSON names {data['code']} / {data['release']['name']}"
    return None


def _check_all(codes: list[str]) -> tuple[int, list[str]]:
    client = Client()
    problems = []
    gc.disable()  # pages are acyclic garbage, freed by reference counting; full GC passes only cost time here
    try:
        for code in codes:
            try:
                problem = check_code(client, code)
            except Exception as exc:  # noqa: BLE001 - report every failing code, not just the first
                problem = f"{code}: {type(exc).__name__}: {exc}"
            if problem:
                problems.append(problem)
    finally:
        gc.enable()
    return len(codes), problems


_KEEP: list[object] = []


def _fork_worker(codes: list[str]) -> tuple[int, int]:
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid:
        os.close(write_fd)
        return pid, read_fd
    # Child: never return into pytest. On PostgreSQL take a new connection and leave the parent's socket
    # untouched (keeping a reference so that nothing closes it before os._exit).
    os.close(read_fd)
    try:
        if connection.vendor != "sqlite":
            _KEEP.append(connection.connection)
            connection.connection = None
        n, problems = _check_all(codes)
        payload = {"n": n, "problems": problems[:50]}
    except BaseException as exc:  # noqa: BLE001
        payload = {"n": 0, "problems": [f"worker crashed: {type(exc).__name__}: {exc}"]}
    os.write(write_fd, json.dumps(payload).encode())
    os.close(write_fd)
    os._exit(0)


def _workers() -> int:
    wanted = os.environ.get("RVUEDGE_TEST_WORKERS")
    if wanted:
        return max(1, int(wanted))
    return max(1, min(4, os.cpu_count() or 1)) if hasattr(os, "fork") else 1


@pytest.mark.slow
def test_every_code_page_and_json():
    release = Release.objects.get(name="RVU25A")
    DbLookup(release).preload()  # the engine's row cache for the release, one query, shared with the workers
    codes = sorted(set(FeeRow.objects.filter(release=release).values_list("hcpcs", flat=True)))
    assert len(codes) > 10_000
    if os.environ.get("RVUEDGE_CODES_SAMPLE"):  # development only: check about N codes spread over the range
        codes = codes[::max(1, len(codes) // int(os.environ["RVUEDGE_CODES_SAMPLE"]))]
    workers = _workers()
    chunks = [codes[i::workers] for i in range(workers)]
    children = [_fork_worker(chunk) for chunk in chunks[1:]]
    checked, problems = _check_all(chunks[0])
    for pid, fd in children:
        with os.fdopen(fd, "rb") as pipe:
            raw = pipe.read()
        os.waitpid(pid, 0)
        result = json.loads(raw or b'{"n": 0, "problems": ["worker sent nothing"]}')
        checked += result["n"]
        problems += result["problems"]
    assert not problems, f"{len(problems)} codes failed, e.g.:\n" + "\n".join(problems[:20])
    assert checked == len(codes)
