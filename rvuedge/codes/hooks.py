"""What apps above the code site add to its pages, without the code site importing them.

The benchmarks app knows which specialties bill a code nationally (``rvuedge benchmarks build-medicare``): it
provides :func:`specialty_shares` (the page's "Specialties" section; None → the editorial list) and a version
string that changes whenever its sources change (the code pages' cache key), in ``AppConfig.ready()``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

_shares: Callable[[str], dict[str, Any] | None] | None = None
_version: Callable[[], str] | None = None


def provide_specialty_shares(shares: Callable[[str], dict[str, Any] | None], version: Callable[[], str]) -> None:
    global _shares, _version
    _shares, _version = shares, version


def specialty_shares(code: str) -> dict[str, Any] | None:
    """Measured specialty shares of ``code`` with their source and year, or None."""
    return _shares(code) if _shares is not None else None


def shares_version() -> str:
    return _version() if _version is not None else ""
