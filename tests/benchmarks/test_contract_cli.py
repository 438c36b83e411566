"""`rvuedge contract pay CONTRACT.json --wrvus N [--json]`: the same figures as the engine."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

PROJECT = Path(__file__).resolve().parents[2]
TIERS = [{"up_to": "4500", "rate": "55"}, {"up_to": "7000", "rate": "65"}, {"rate": "75"}]


def run(tmp_path, contract, *wrvus, as_json=False):
    path = tmp_path / "contract.json"
    path.write_text(json.dumps(contract))
    out = io.StringIO()
    args = ["pay", str(path), "--wrvus", *wrvus] + (["--json"] if as_json else [])
    call_command("contract", *args, stdout=out)
    return json.loads(out.getvalue()) if as_json else out.getvalue()


def test_it_prints_the_accrual_example(tmp_path):
    text = run(tmp_path, {"name": "Tiered", "tiers": TIERS}, "7500")
    assert "4,500 wRVU × $55 = $247,500 (tier 1)" in text
    assert "2,500 wRVU × $65 = $162,500 (tier 2)" in text
    assert "Total pay: $447,500" in text


def test_it_prints_the_all_at_highest_example_as_json(tmp_path):
    data = run(tmp_path, {"tiers": TIERS, "tier_mode": "highest"}, "7,500", as_json=True)
    assert data["total"] == "562500.00"
    assert data["explanation"][0] == "7,500 wRVU × $75 = $562,500 (all at tier 3)"


def test_threshold_payout_share_fte_draw_and_quarterly_reset(tmp_path):
    share = run(tmp_path, {"base_salary": 240000, "threshold": 4500, "rate": 60, "payout_share": 0.5}, "5500",
                as_json=True)
    assert share["total"] == "270000.00"
    fte = run(tmp_path, {"base_salary": 300000, "fte": 0.8, "threshold": 5000, "rate": 50}, "5000", as_json=True)
    assert fte["total"] == "290000.00"
    draw = run(tmp_path, {"rate": 50, "draw": {"amount": 240000, "true_up": "quarter", "clawback": True}},
               "1400", "1000", "1300", "1100", as_json=True)
    assert (draw["total"], draw["true_up_paid"], draw["clawback"]) == ("240000.00", "15000.00", "15000.00")
    quarterly = run(tmp_path, {"tiers": [{"up_to": 4000, "rate": 50}, {"rate": 60}], "tier_reset": "quarter"},
                    "1500", "500", "1200", "800", as_json=True)
    assert quarterly["total"] == "207000.00"


def test_errors_name_the_file_and_field(tmp_path):
    with pytest.raises(CommandError, match=r"contract.json: contract field 'tiers\[1\].rate'"):
        run(tmp_path, {"tiers": [{"up_to": 1, "rate": 1}, {"rate": "lots"}]}, "10")
    with pytest.raises(CommandError, match="no such file"):
        call_command("contract", "pay", str(tmp_path / "missing.json"), "--wrvus", "1")


def test_the_rvuedge_entry_point_and_help_document_the_format(tmp_path):
    path = tmp_path / "c.json"
    path.write_text(json.dumps({"tiers": TIERS}))
    done = subprocess.run([sys.executable, "-m", "rvuedge.cli", "contract", "pay", str(path), "--wrvus", "7500"],
                          capture_output=True, text=True, cwd=PROJECT, check=True)
    assert "Total pay: $447,500" in done.stdout
    helped = subprocess.run([sys.executable, "-m", "rvuedge.cli", "contract", "pay", "--help"],
                            capture_output=True, text=True, cwd=PROJECT, check=True)
    for key in ("base_salary", "tier_mode", "tier_reset", "payout_share", "clawback", "stipends", "rvu_release"):
        assert key in helped.stdout
