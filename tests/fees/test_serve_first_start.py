"""The README's first command, on a fresh data directory: RVU26C and RVU25A from the mirror, and a 2026
encounter credited with RVU26C."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parents[2]

LOG_2026 = """
import datetime as dt
from django.contrib.auth import get_user_model
from rvuedge.logbook.actions import EncounterInput, do_log_encounter
user = get_user_model().objects.create_user("newcomer", password="x-long-password-1")
for day in ("2026-03-10", "2026-11-20", "2025-05-05"):
    enc, _ = do_log_encounter(user, EncounterInput(entry="27447", date=dt.date.fromisoformat(day), role="primary"))
    print(day, enc.release, enc.total_wrvu, enc.source.get("release_note", "-"))
"""


def _run(env, *args):
    return subprocess.run([sys.executable, "-m", "rvuedge.cli", *args], env=env, cwd=PROJECT,
                          capture_output=True, text=True, timeout=300)


@pytest.mark.slow
def test_readme_first_command_loads_the_newest_and_last_years_release(tmp_path, cms_dir):
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env["RVUEDGE_DATA_DIR"] = str(tmp_path)
    first = _run(env, "serve", "--no-serve", "--data", str(cms_dir),
                 "--hcpcs", str(cms_dir / "hcpcs2026jan" / "january-2026-alpha-numeric-hcpcs-file.zip"))
    assert first.returncode == 0, first.stderr
    assert "starting with RVU26C, RVU25A" in first.stdout
    assert "CMS releases loaded: RVU25A, RVU26C." in first.stdout
    again = _run(env, "serve", "--no-serve", "--data", str(cms_dir))
    assert again.returncode == 0 and "Loading" not in again.stdout  # nothing loaded twice
    out = _run(env, "shell", "-c", LOG_2026)
    assert out.returncode == 0, out.stderr
    lines = dict(line.split(" ", 1) for line in out.stdout.strip().splitlines()[-3:])
    assert lines["2026-11-20"] == "RVU26C 19.11 -"
    assert lines["2026-03-10"].startswith("RVU26C 19.11 The 2026 release in force on this date is not loaded")
    assert lines["2025-05-05"] == "RVU25A 19.60 -"
