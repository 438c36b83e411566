"""A newcomer's first commands on an empty database: a clear hint instead of a traceback, and `data load`
sets the database up itself."""

from __future__ import annotations

import os
import subprocess
import sys

from tests.synthetic import gpci_csv, pprrvu_csv, release_zip


def rvuedge(tmp_path, *args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, RVUEDGE_DATA_DIR=str(tmp_path / "var"))
    env.pop("DATABASE_URL", None)
    return subprocess.run([sys.executable, "-m", "rvuedge.cli", *args], capture_output=True, text=True, env=env,
                          timeout=120)


def test_a_command_on_an_empty_database_says_how_to_set_it_up(tmp_path):
    proc = rvuedge(tmp_path, "data", "list")
    assert proc.returncode == 1
    assert "rvuedge migrate" in proc.stderr and "Traceback" not in proc.stderr


def test_data_load_is_a_valid_first_command_and_list_fits_80_columns(tmp_path):
    zip_path = tmp_path / "RVU25A.zip"
    zip_path.write_bytes(release_zip({"PPRRVU25_JAN.csv": pprrvu_csv(), "GPCI2025.csv": gpci_csv()}))
    proc = rvuedge(tmp_path, "data", "load", str(zip_path))
    assert proc.returncode == 0, proc.stderr
    assert "Setting up the database" in proc.stderr and "Loaded RVU25A" in proc.stdout
    listing = rvuedge(tmp_path, "data", "list")
    assert listing.returncode == 0, listing.stderr
    assert "RVU25A loaded" in listing.stdout and "sha256" in listing.stdout
    assert max(len(line) for line in listing.stdout.splitlines()) <= 80


def test_serve_prepares_a_release_and_the_hcpcs_file(tmp_path):
    from pathlib import Path

    zip_path = tmp_path / "RVU25A.zip"
    zip_path.write_bytes(release_zip({"PPRRVU25_JAN.csv": pprrvu_csv(), "GPCI2025.csv": gpci_csv()}))
    hcpcs = Path(__file__).resolve().parents[1] / "parsers" / "data" / "synthetic_hcpcs.txt"
    proc = rvuedge(tmp_path, "serve", "--data", str(zip_path), "--hcpcs", str(hcpcs), "--no-serve")
    assert proc.returncode == 0, proc.stderr
    assert "Loaded RVU25A" in proc.stdout and "No HCPCS Level II file loaded yet" in proc.stdout
    again = rvuedge(tmp_path, "serve", "--data", str(zip_path), "--hcpcs", str(hcpcs), "--no-serve")
    assert again.returncode == 0 and "loading" not in again.stdout  # loaded once, never again
    listing = rvuedge(tmp_path, "data", "list")
    assert "HCPCS Level II" in listing.stdout
