"""Shared fixtures: where the real CMS files are, and a test database with RVU25A loaded once."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parents[1]


def _cms_dir() -> Path:
    return Path(os.environ.get("RVUEDGE_CMS_DATA") or PROJECT.parent / "shared" / "data" / "cms")


CMS_DIR = _cms_dir()
RVU25A_ZIP = CMS_DIR / "rvu25a" / "RVU25A.zip"


@pytest.fixture(scope="session")
def cms_dir() -> Path:
    if not RVU25A_ZIP.exists():
        pytest.fail(f"The real CMS files are missing: expected {RVU25A_ZIP} (set RVUEDGE_CMS_DATA)")
    return CMS_DIR


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """Load RVU25A and the 2026 HCPCS file once per test session; each test rolls back on top of it."""
    from rvuedge.fees.importer import load_hcpcs, load_release

    if not RVU25A_ZIP.exists():
        pytest.fail(f"The real CMS files are missing: expected {RVU25A_ZIP} (set RVUEDGE_CMS_DATA)")
    with django_db_blocker.unblock():
        load_release(str(RVU25A_ZIP))
        load_hcpcs(str(CMS_DIR / "hcpcs2026jan" / "HCPC2026_JAN_ANWEB_01122026.txt"))
    yield
