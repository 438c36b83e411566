"""Scenarios refuse unknown keys anywhere: a typo must never change a price silently (issue 12)."""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rvuedge.pricing import ScenarioError, run_scenario
from rvuedge.pricing.scenario import _Inputs, _Line

SPEC_DIR = Path(
    os.environ.get("RVUEDGE_SPEC_DIR") or Path(__file__).resolve().parents[2].parent / "shared" / "spec"
)
VECTORS: list[dict[str, Any]] = json.loads((SPEC_DIR / "pfs-vectors.json").read_text(encoding="utf-8"))
BASE = next(v["inputs"] for v in VECTORS if v["inputs"].get("gpci") and v["inputs"].get("rvu_fixture"))


def _with(path: tuple[Any, ...], key: str, value: Any = "x") -> dict[str, Any]:
    inputs = copy.deepcopy(BASE)
    target: Any = inputs
    for part in path:
        target = target[part]
    target[key] = value
    return inputs


@pytest.mark.parametrize(("path", "key", "where"), [
    ((), "dates_of_service", "dates_of_service"),
    ((), "conversionfactor", "conversionfactor"),
    (("lines", 0), "rendering_provider_type", "lines[0].rendering_provider_type"),
    (("lines", 0), "modifier", "lines[0].modifier"),
    (("gpci",), "practice_expense", "gpci.practice_expense"),
    (("rvu_fixture", 0), "work_rvus", "rvu_fixture[0].work_rvus"),
])
def test_unknown_key_is_refused_naming_it_and_the_accepted_ones(path, key, where):
    with pytest.raises(ScenarioError) as info:
        run_scenario(_with(path, key))
    assert info.value.where == where
    assert repr(key) in info.value.message and "accepted:" in info.value.message


def test_the_np_typo_from_the_issue_is_refused():
    inputs = copy.deepcopy(BASE)
    inputs["lines"][0]["rendering_provider_type"] = "NP"
    with pytest.raises(ScenarioError, match="rendering_provider_type.*accepted: .*provider_type"):
        run_scenario(inputs)


def test_wrong_shape_is_refused():
    with pytest.raises(ScenarioError, match="lines"):
        run_scenario({**copy.deepcopy(BASE), "lines": "99213"})
    with pytest.raises(ScenarioError, match="root"):
        run_scenario(["99213"])  # type: ignore[arg-type]


@pytest.mark.parametrize("vector", VECTORS, ids=[v["id"] for v in VECTORS])
def test_every_spec_vector_is_accepted(vector):
    run_scenario(vector["inputs"])


@settings(max_examples=60, deadline=None)
@given(vector=st.sampled_from(VECTORS), key=st.text(alphabet="abcdefghijklmnopqrstuvwxyz_", min_size=3, max_size=20))
def test_any_unknown_top_level_or_line_key_is_refused(vector, key):
    inputs = copy.deepcopy(vector["inputs"])
    known_top, known_line = set(_Inputs.model_fields), set(_Line.model_fields)
    if key not in known_top:
        bad = {**inputs, key: 1}
        with pytest.raises(ScenarioError, match=key):
            run_scenario(bad)
    if key not in known_line:
        bad = copy.deepcopy(inputs)
        bad["lines"][0][key] = 1
        with pytest.raises(ScenarioError, match=key):
            run_scenario(bad)


def test_cli_exits_non_zero_naming_the_key(tmp_path):
    path = tmp_path / "scenario.json"
    inputs = copy.deepcopy(BASE)
    inputs["lines"][0]["rendering_provider_type"] = "NP"
    path.write_text(json.dumps(inputs))
    proc = subprocess.run([sys.executable, "-m", "rvuedge.cli", "price", "--scenario", str(path), "--json"],
                          capture_output=True, text=True, timeout=120,
                          env={**{k: v for k, v in os.environ.items() if k != "DATABASE_URL"},
                               "RVUEDGE_DATA_DIR": str(tmp_path)})
    assert proc.returncode != 0
    assert "rendering_provider_type" in proc.stderr and "accepted:" in proc.stderr
