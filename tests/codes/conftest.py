"""Fixtures for the code reference tests.

Derived data is cached per process and keyed by the data signature (releases, HCPCS file, content), which is
memoised for two seconds; every test starts by forgetting that memo so that rows a previous test rolled back
can never leak into it.
"""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

import pytest
from django.utils import timezone

from rvuedge.benchmarks import queries as benchmark_queries
from rvuedge.codes import search


@pytest.fixture(autouse=True)
def _fresh_signature():
    search.forget_version()
    benchmark_queries.forget_volumes_version()
    yield
    search.forget_version()
    benchmark_queries.forget_volumes_version()


@pytest.fixture
def make_release(db):
    """Create a synthetic release whose rows copy RVU25A's for some codes, with changes (our own numbers)."""
    from rvuedge.fees.models import FeeRow, Release

    def make(name: str, year: int, rows: dict[str, dict[str, Decimal] | None], cf: str = "33.4009",
             cf_qp: str | None = None) -> Release:
        base = Release.objects.get(name="RVU25A")
        rel = Release.objects.create(
            name=name, year=year, title=f"Synthetic {name}", released=dt.date(year - 1, 12, 1), layout="32",
            conv_factor=Decimal(cf), conv_factor_qp=Decimal(cf_qp) if cf_qp else None, source="tests", fingerprint=uuid.uuid4().hex, files=[], counts={},
            loaded_at=timezone.now())
        for code, changes in rows.items():
            for row in FeeRow.objects.filter(release=base, hcpcs=code):
                row.pk = None
                row.release = rel
                for k, v in (changes or {}).items():
                    setattr(row, k, v)
                row.nonfac_total = row.work_rvu + row.nonfac_pe_rvu + row.mp_rvu
                row.fac_total = row.work_rvu + row.fac_pe_rvu + row.mp_rvu
                row.conv_factor = Decimal(cf)
                row.save()
        search.forget_version()
        return rel

    return make
