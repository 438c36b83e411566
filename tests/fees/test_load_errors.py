"""Bad input: one clear message naming file, line and field; a non-zero exit; an unchanged database."""

from __future__ import annotations

import os
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rvuedge.fees.importer import LoadError, load_release
from rvuedge.fees.models import FeeRow, Gpci, OppsCap, Release
from tests.synthetic import GPCI, PREAMBLE_31, ROWS_31, gpci_csv, pprrvu_csv, release_zip

pytestmark = pytest.mark.django_db


def snapshot():
    return (
        list(Release.objects.order_by("pk").values_list("pk", "name", "fingerprint")),
        FeeRow.objects.count(),
        Gpci.objects.count(),
        OppsCap.objects.count(),
    )


def write(tmp_path: Path, name: str, data: bytes) -> str:
    p = tmp_path / name
    p.write_bytes(data)
    return str(p)


def replace_cell(row: str, index: int, value: str) -> str:
    cells = row.split(",")
    cells[index] = value
    return ",".join(cells)


def drop_column(lines: list[str], index: int) -> list[str]:
    out = []
    for line in lines:
        cells = line.split(",")
        if len(cells) > index:
            del cells[index]
        out.append(",".join(cells))
    return out


CASES = {
    "truncated file": (
        "PPRRVU25_JAN.csv",
        lambda: pprrvu_csv()[: len(pprrvu_csv()) - 90],
        r"PPRRVU25_JAN\.csv, line \d+",
    ),
    "missing column": (
        "PPRRVU25_JAN.csv",
        lambda: ("\r\n".join(drop_column(PREAMBLE_31 + ROWS_31, 5)) + "\r\n").encode(),
        r"PPRRVU25_JAN\.csv.*WORK RVU",
    ),
    "non-numeric RVU": (
        "PPRRVU25_JAN.csv",
        lambda: pprrvu_csv([replace_cell(ROWS_31[0], 5, "1.3O")] + ROWS_31[1:]),
        r"PPRRVU25_JAN\.csv, line 11, column WORK RVU",
    ),
    "unknown layout": (
        "PPRRVU25_JAN.csv",
        lambda: ("\r\n".join(["HCPCS,MOD,SOMETHING,ELSE", "99213,,x,y"]) + "\r\n").encode(),
        r"PPRRVU25_JAN\.csv, line 1",
    ),
    "wrong file kind": ("GPCI2025.csv", gpci_csv, r"GPCI2025\.csv: this is a GPCI file"),
    "empty file": ("PPRRVU25_JAN.csv", lambda: b"", r"PPRRVU25_JAN\.csv"),
    "zip without PPRRVU": (
        "RVU25B.zip",
        lambda: release_zip({"GPCI2025.csv": gpci_csv()}),
        r"no PPRRVU CSV",
    ),
    "bad encoding": (
        "PPRRVU25_JAN.csv",
        lambda: pprrvu_csv().replace(b"Synthetic visit", "Synthetic visit".encode("utf-16-le")),
        r"PPRRVU25_JAN\.csv, line 11",
    ),
    "not a zip": ("RVU25B.zip", lambda: b"PK\x03\x04 this is not really a zip archive", r"not a readable zip"),
    "header but no rows": ("PPRRVU25_JAN.csv", lambda: pprrvu_csv([]), r"PPRRVU25_JAN\.csv"),
    "bad status code": (
        "PPRRVU25_JAN.csv",
        lambda: pprrvu_csv([replace_cell(ROWS_31[0], 3, "Q")] + ROWS_31[1:]),
        r"PPRRVU25_JAN\.csv, line 11, column STATUS CODE",
    ),
    "bad code shape": (
        "PPRRVU25_JAN.csv",
        lambda: pprrvu_csv([replace_cell(ROWS_31[0], 0, "99X1")] + ROWS_31[1:]),
        r"PPRRVU25_JAN\.csv, line 11, column HCPCS",
    ),
    "duplicate code row": (
        "PPRRVU25_JAN.csv",
        lambda: pprrvu_csv(ROWS_31 + [ROWS_31[0]]),
        r"PPRRVU25_JAN\.csv, line 17, column HCPCS: .*99213.*(more than once|first on line 11)",
    ),
    "bad GPCI inside a release zip": (
        "RVU25B.zip",
        lambda: release_zip({
            "PPRRVU25_APR.csv": pprrvu_csv(),
            "GPCI2025.csv": ("\r\n".join(GPCI[:3] + ["10112,AL,00,ALABAMA,one,0.869,0.575"]) + "\r\n").encode(),
        }),
        r"GPCI2025\.csv, line 4",
    ),
    "QPP file alone": (
        "PPRRVU2026_Jan_QPP.csv",
        pprrvu_csv,
        r"only the QPP PPRRVU file",
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_malformed_input_is_refused_cleanly(tmp_path, case):
    name, make, pattern = CASES[case]
    before = snapshot()
    path = write(tmp_path, name, make())
    with pytest.raises(CommandError, match=pattern) as exc:
        call_command("data", "load", path, stdout=StringIO(), stderr=StringIO())
    assert "\n" not in str(exc.value).strip(), "one clear message, not a traceback"
    assert snapshot() == before


def test_bad_release_name_refused(tmp_path):
    before = snapshot()
    path = write(tmp_path, "PPRRVU25_JAN.csv", pprrvu_csv())
    with pytest.raises(CommandError, match="release names look like"):
        call_command("data", "load", path, "--release", "JAN2025", stdout=StringIO(), stderr=StringIO())
    assert snapshot() == before


def test_synthetic_release_loads(tmp_path):
    path = write(tmp_path, "RVU25B.zip", release_zip({"PPRRVU25_APR.csv": pprrvu_csv(), "GPCI2025.csv": gpci_csv()}))
    result = load_release(path)
    assert result.release.name == "RVU25B"
    assert result.counts["fee_rows"] == len(ROWS_31) and result.counts["gpci"] == 2


def test_cli_exit_status_is_non_zero(tmp_path):
    bad = write(tmp_path, "PPRRVU25_JAN.csv", pprrvu_csv([replace_cell(ROWS_31[0], 5, "x")]))
    env = dict(os.environ, RVUEDGE_DATA_DIR=str(tmp_path / "var"))
    env.pop("DATABASE_URL", None)
    proc = subprocess.run(
        [sys.executable, "-m", "rvuedge.cli", "data", "load", bad], capture_output=True, text=True, env=env,
        timeout=120,
    )
    assert proc.returncode != 0
    assert "PPRRVU25_JAN.csv, line 11, column WORK RVU" in proc.stderr
    assert "Traceback" not in proc.stderr


# Random corruption never leaves a partial import or an unhandled traceback.
BASE = pprrvu_csv()


@st.composite
def corrupted(draw):
    data = bytearray(BASE)
    for _ in range(draw(st.integers(1, 4))):
        op = draw(st.sampled_from(["flip", "truncate", "delete_line", "insert"]))
        if not data:
            break
        pos = draw(st.integers(0, len(data) - 1))
        if op == "flip":
            data[pos] = draw(st.integers(0, 255))
        elif op == "truncate":
            del data[pos:]
        elif op == "insert":
            data[pos:pos] = draw(st.sampled_from([b",", b"\r\n", b"NA", b"-1", b"\x1a", b'"', b"9999999999"]))
        else:
            lines = bytes(data).split(b"\r\n")
            idx = draw(st.integers(0, len(lines) - 1))
            del lines[idx]
            data = bytearray(b"\r\n".join(lines))
    return bytes(data)


@pytest.mark.slow
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=corrupted())
def test_random_corruption_is_all_or_nothing(tmp_path, data):
    path = write(tmp_path, "PPRRVU25_APR.csv", data)
    try:
        load_release(path, release_name="RVU25B", replace=True)
    except LoadError as exc:
        assert str(exc)
    for rel in Release.objects.all():
        assert FeeRow.objects.filter(release=rel).count() == rel.counts["fee_rows"]
    assert FeeRow.objects.filter(release__name="RVU25A").count() == 18865
