"""`rvuedge price` on real RVU25A data (checked by hand) and through --scenario on every spec vector."""

from __future__ import annotations

import json
import os
from decimal import ROUND_HALF_UP, Decimal
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

pytestmark = pytest.mark.django_db

SPEC = Path(os.environ.get("RVUEDGE_SPEC_DIR") or Path(__file__).resolve().parents[3] / "shared" / "spec")
VECTORS = json.loads((SPEC / "pfs-vectors.json").read_text())
CF = Decimal("32.3465")
CENT = Decimal("0.01")


def price(*args: str) -> dict:
    out = StringIO()
    call_command("price", *args, "--json", stdout=out)
    return json.loads(out.getvalue())


def fsa(work: str, pe: str, mp: str, g=("1", "1", "1")) -> Decimal:
    raw = (Decimal(work) * Decimal(g[0]) + Decimal(pe) * Decimal(g[1]) + Decimal(mp) * Decimal(g[2])) * CF
    return raw.quantize(CENT, ROUND_HALF_UP)


def test_99214_manhattan_non_facility():
    data = price("99214", "--locality", "13202-01", "--setting", "non-facility")
    # (1.92 x 1.065 + 1.80 x 1.166 + 0.15 x 1.656) x 32.3465 = 142.07
    assert data["lines"][0]["payment"] == "142.07"
    assert data["total_payment"] == "142.07" and data["total_wrvu"] == "1.92"
    assert data["release"] == "RVU25A" and data["conversion_factor"] == "32.3465"
    assert data["locality"] == "13202-01" and "Manhattan" in data["locality_label"]
    assert data["source"]["locality"]["gpci"] == {"work": "1.065", "pe": "1.166", "mp": "1.656",
                                                  "work_no_floor": None}
    expl = data["lines"][0]["explanation"]
    assert expl[-1]["amount"] == "142.07"


def test_locality_by_name_fragment_equals_mac_locality():
    assert price("99214", "--locality", "manhattan")["total_payment"] == "142.07"


def test_surgical_encounter_ranks_by_fee_schedule_amount():
    # National, facility. 29881 (MULT PROC 3, endoscopy family of 29870) is collapsed, then ranked
    # against 27447 (MULT PROC 2): 27447 first at 100%, the arthroscopy second at 50%.
    data = price("29881", "27447", "--setting", "facility")
    tka, scope = fsa("19.60", "15.30", "3.98"), fsa("7.03", "8.22", "1.39")
    assert (tka, scope) == (Decimal("1257.63"), Decimal("538.25"))
    by_code = {line["code"]: line for line in data["lines"]}
    assert by_code["27447"]["payment"] == "1257.63"
    assert by_code["29881"]["payment"] == str((scope * Decimal("0.5")).quantize(CENT, ROUND_HALF_UP))  # 269.13
    assert data["total_payment"] == "1526.76"
    assert by_code["29881"]["wrvu_exact"] == "3.515" and data["total_wrvu"] == "23.12"  # 19.60 + 3.515


def test_imaging_encounter_reduces_the_lower_study():
    # National, office. 74177 ranks first; 71260 pays global - 50% of its TC - 5% of its PC.
    data = price("74177", "71260")
    lower = next(line for line in data["lines"] if line["code"] == "71260")
    glob, tc, pc = fsa("1.16", "3.85", "0.07"), fsa("0.00", "3.42", "0.02"), fsa("1.16", "0.43", "0.05")
    expected = (glob - tc * Decimal("0.5") - pc * Decimal("0.05")).quantize(CENT, ROUND_HALF_UP)
    assert lower["payment"] == str(expected) == "106.03"
    assert lower["wrvu_exact"] == "1.102"  # PC work 1.16 x 0.95
    first = next(line for line in data["lines"] if line["code"] == "74177")
    assert first["payment"] == str(fsa("1.82", "7.25", "0.12")) == "297.26"


def test_bilateral_knee_pays_150_percent():
    data = price("27447-50", "--setting", "facility")
    assert data["lines"][0]["payment"] == "1886.45"  # 1257.63 x 1.5 = 1886.445, half-up
    assert data["total_wrvu"] == "29.40"
    assert any("BILAT SURG 1" == step["indicator"] for step in data["lines"][0]["explanation"])


def test_facility_pos_code_selects_facility_pe():
    assert price("99214", "--setting", "22")["lines"][0]["payment"] == price("99214", "--setting", "facility")[
        "lines"][0]["payment"]


def test_contractor_priced_category_iii():
    line = price("0331T")["lines"][0]
    assert line["payment"] is None and line["wrvu"] == "0.00"


def test_no_reductions_policy_credits_full_wrvu():
    data = price("29881", "27447", "--setting", "facility", "--policy", "no_reductions")
    assert data["total_wrvu"] == "26.63"  # 19.60 + 7.03


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["99999"], "unknown code 99999"),
        (["27447-26"], "modifier 26 is not valid"),
        (["99214", "--locality", "nowhere-land"], "No locality matches"),
        (["99214", "--release", "RVU19A"], "RVU19A is not loaded"),
        (["99214x"], "99214x"),
        (["99214", "--date", "2025-13-01"], "YYYY-MM-DD"),
    ],
)
def test_errors_are_clear(args, message):
    with pytest.raises(CommandError, match=message):
        price(*args)


@pytest.mark.parametrize("vector", VECTORS, ids=[v["id"] for v in VECTORS])
def test_scenario_cli_reproduces_every_vector(tmp_path, vector):
    path = tmp_path / f"{vector['id']}.json"
    path.write_text(json.dumps(vector["inputs"]))
    got = price("--scenario", str(path))
    expected = vector["expected"]
    for key, value in expected.items():
        if key == "notes":
            continue
        if key == "lines":
            assert len(got["lines"]) == len(value)
            for g, e in zip(got["lines"], value, strict=True):
                for field, v in e.items():
                    assert g[field] == v, f"{vector['id']} {e['code']} {field}"
        else:
            assert got[key] == value, f"{vector['id']} {key}"
