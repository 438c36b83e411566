"""Golden vectors: every field of every vector's ``expected`` (except the free-text notes) must match."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from rvuedge.pricing import price_encounter, run_scenario
from rvuedge.pricing.scenario import build_encounter, build_lookup

SPEC_DIR = Path(
    os.environ.get("RVUEDGE_SPEC_DIR") or Path(__file__).resolve().parents[2].parent / "shared" / "spec"
)
VECTORS: list[dict[str, Any]] = json.loads((SPEC_DIR / "pfs-vectors.json").read_text(encoding="utf-8"))


def test_vector_file_has_all_vectors() -> None:
    assert len(VECTORS) >= 24
    assert len({v["id"] for v in VECTORS}) == len(VECTORS)


@pytest.mark.parametrize("vector", VECTORS, ids=[v["id"] for v in VECTORS])
def test_vector(vector: dict[str, Any]) -> None:
    out = run_scenario(vector["inputs"])
    expected = vector["expected"]
    for key, value in expected.items():
        if key in ("notes", "lines"):
            continue
        assert out[key] == value, f"{vector['id']} {key}"
    assert len(out["lines"]) == len(expected["lines"])
    for i, (got, want) in enumerate(zip(out["lines"], expected["lines"], strict=True)):
        for key, value in want.items():
            assert key in got, f"{vector['id']} line {i}: missing {key}"
            assert got[key] == value, f"{vector['id']} line {i} {key}: got {got[key]!r}, want {value!r}"


@pytest.mark.parametrize("vector", VECTORS, ids=[v["id"] for v in VECTORS])
def test_vector_explanations_end_on_the_results(vector: dict[str, Any]) -> None:
    result = price_encounter(build_encounter(vector["inputs"]), build_lookup(vector["inputs"]))
    for line in result.lines:
        assert line.explanation, line
        assert line.explanation[-1].amount == line.payment
        assert line.wrvu_steps[-1].amount == line.wrvu_exact
        assert all(step.text for step in line.explanation + line.wrvu_steps)
    json.dumps(result.to_dict())  # JSON-ready
