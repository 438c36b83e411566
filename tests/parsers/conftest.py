"""Fixtures for the parser tests: where the real CMS files are, and cached parses of them."""

from __future__ import annotations

import functools
import os
from pathlib import Path
from typing import Any

import pytest

from rvuedge.fees import parsers

DATA_DIR = Path(__file__).resolve().parent / "data"


def default_cms_dir() -> Path:
    """``shared/data/cms`` beside the project root (overridable with RVUEDGE_CMS_DATA)."""
    env = os.environ.get("RVUEDGE_CMS_DATA")
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[2].parent / "shared" / "data" / "cms"


@pytest.fixture(scope="session")
def cms_dir() -> Path:
    path = default_cms_dir()
    if not path.is_dir():
        pytest.skip(f"CMS data folder not found: {path} (set RVUEDGE_CMS_DATA)")
    return path


@pytest.fixture(scope="session")
def data_dir() -> Path:
    return DATA_DIR


@functools.cache
def _parse_cached(path: str, kind: str) -> Any:
    return parsers.PARSERS[kind](Path(path).read_bytes(), Path(path).name)


@pytest.fixture(scope="session")
def parse_cms(cms_dir: Path):
    """parse_cms("rvu25a/PPRRVU25_JAN.csv", "pprrvu") -> parsed result, cached for the session."""

    def parse(rel: str, kind: str) -> Any:
        path = cms_dir / rel
        if not path.is_file():
            pytest.skip(f"missing CMS file {path}")
        return _parse_cached(str(path), kind)

    return parse
