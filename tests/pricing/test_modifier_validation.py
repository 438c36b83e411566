"""An unknown modifier is an error on every path (CLI, scenario, code pricing, the log's entry, API and import),
with near matches; a modifier the code's indicators refuse names what they allow; real modifiers still price."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from rvuedge.fees.models import HcpcsModifier, HcpcsRelease
from rvuedge.fees.services import known_modifiers, price_lines
from rvuedge.pricing import EncounterLine, PricingError, RvuRow, run_scenario
from rvuedge.pricing.lookup import DictLookup
from rvuedge.pricing.modifiers import (
    ModifierCheck,
    allowed_modifiers,
    check_lines,
    hcpcs_level2_modifiers,
    indicator_problem,
)

# --------------------------------------------------------------------------- the pure check


def test_the_shipped_level_ii_list_is_the_cms_files():
    mods = hcpcs_level2_modifiers()
    assert len(mods) == 383  # every modifier record of HCPC2026_JAN_ANWEB_01122026.txt (PROVENANCE.md)
    assert mods["RR"] == "" and mods["GC"] == "" and mods["XS"] == ""
    assert mods["ZA"] == "2018-03-31"  # terminated, still known (logs reach back years)


@pytest.mark.parametrize(("typed", "near"), [
    ("5O", ["50"]), ("2S", ["25"]), ("S9", ["59"]), ("05", ["50", "25", "55"]), ("9I", ["91"]),
])
def test_near_matches_put_the_likeliest_typo_first(typed, near):
    check = ModifierCheck()
    assert check.problem(typed) is not None
    assert check.near(typed) == near


def test_zz_is_unknown_and_terminated_modifiers_are_never_suggested():
    check = ModifierCheck()
    assert check.problem("ZZ") == "unknown modifier ZZ: not a CPT or HCPCS Level II modifier"
    assert not {"ZA", "ZB", "ZC"} & set(check.near("ZZ"))  # terminated 2018


@pytest.mark.parametrize("mod", ["RT", "LT", "59", "XS", "GC", "RR", "25", "26", "TC", "80", "AS", "Q5", "KX"])
def test_real_modifiers_are_known(mod):
    assert ModifierCheck().problem(mod) is None


def test_a_loaded_hcpcs_file_adds_modifiers():
    assert ModifierCheck(["Y1"]).problem("Y1") is None and ModifierCheck().problem("Y1") is not None


def test_check_lines_names_the_line_and_suggests_code_modifier_pairs():
    with pytest.raises(PricingError) as exc:
        check_lines([EncounterLine("99214"), EncounterLine("27447", ("RT", "5O"))])
    assert exc.value.line == 1 and exc.value.near == ("27447-50",)
    assert str(exc.value) == ("line 2: 27447-5O: unknown modifier 5O: not a CPT or HCPCS Level II modifier "
                              "(did you mean 27447-50?)")


def _row(**kw) -> RvuRow:
    base = {"code": "99213", "status": "A", "pctc": "0", "bilat": "9", "asst": "9", "co_surg": "9", "team": "9"}
    return RvuRow(**{**base, **kw})


def test_allowed_modifiers_follow_the_indicators():
    assert allowed_modifiers(_row()) == ["52", "53"]
    assert allowed_modifiers(_row(bilat="0", asst="0")) == ["80", "81", "82", "AS", "52", "53"]  # 99213's
    knee = _row(code="27447", bilat="1", asst="2", co_surg="1", team="0", glob_days="090",
                pre_op="0.10", intra_op="0.69", post_op="0.21")
    assert allowed_modifiers(knee) == ["50", "62", "80", "81", "82", "AS", "54", "55", "56", "78", "52", "53"]
    assert allowed_modifiers(_row(pctc="1")) == ["26", "TC", "52", "53"]
    assert allowed_modifiers(_row(pctc="6")) == ["26", "52", "53"]


def test_indicator_problems_name_what_is_allowed():
    lookup = DictLookup([_row()])
    assert indicator_problem("99213", ("26",), lookup) == (
        "99213-26: modifier 26 is not valid with PC/TC indicator 0 (physician service); 99213's indicators allow "
        "52, 53 (and payment-neutral modifiers such as 25, 59, XS, RT, LT, GC)")
    assert indicator_problem("99213", ("50",), lookup).startswith(
        "99213-50: modifier 50 is not valid with BILAT SURG indicator 9")
    assert "needs a global-surgery code" in indicator_problem("99213", ("54",), lookup)
    assert indicator_problem("99213", ("25",), lookup) is None
    # a contractor-priced row never reaches the bilateral rule in the engine: not refused here either
    assert indicator_problem("99213", ("50",), DictLookup([_row(status="C")])) is None


# --------------------------------------------------------------------------- every path


pytestmark = pytest.mark.django_db


def cli(*args: str) -> dict:
    out = StringIO()
    call_command("price", *args, "--release", "RVU25A", "--setting", "facility", "--json", stdout=out)
    return json.loads(out.getvalue())


@pytest.mark.parametrize(("entry", "message"), [
    ("27447-5O", "27447-5O: unknown modifier 5O: not a CPT or HCPCS Level II modifier (did you mean 27447-50?)"),
    ("27447-ZZ", "27447-ZZ: unknown modifier ZZ: not a CPT or HCPCS Level II modifier"),
    ("99214 27447-RT-98", "line 2: 27447-98: unknown modifier 98: not a CPT modifier"),
])
def test_cli_price_refuses_an_unknown_modifier(entry, message):
    with pytest.raises(CommandError) as exc:
        cli(*entry.split())
    assert message in str(exc.value)


def test_cli_price_names_what_the_indicators_allow():
    with pytest.raises(CommandError) as exc:
        cli("99213-26")
    assert "modifier 26 is not valid with PC/TC indicator 0" in str(exc.value)
    assert "99213's indicators allow 80, 81, 82, AS, 52, 53 (and payment-neutral" in str(exc.value)  # ASST SURG 0
    with pytest.raises(CommandError) as exc:
        cli("27447-TC")
    assert "27447's indicators allow 50, " in str(exc.value)


@pytest.mark.parametrize("entry", ["27447-RT", "27447-LT-59", "20610-XS", "99214-GC", "27447-RR", "99214-25"])
def test_cli_price_still_accepts_real_modifiers(entry):
    data = cli(entry)
    assert data["total_wrvu"] != "0.00"


def test_rr_is_known_without_a_loaded_hcpcs_file():
    HcpcsModifier.objects.all().delete()
    HcpcsRelease.objects.all().delete()
    assert known_modifiers().problem("RR") is None and known_modifiers().problem("ZZ") is not None
    assert price_lines("27447-RR", release="RVU25A", setting="facility").result.lines[0].payment


def test_a_loaded_hcpcs_modifier_is_seen_at_once():
    assert known_modifiers().problem("Y9") is not None
    rel = HcpcsRelease.objects.first()
    HcpcsModifier.objects.create(release=rel, modifier="Y9", long_description="test", short_description="test")
    HcpcsRelease.objects.filter(pk=rel.pk).update(sha256="changed")  # what a new load does
    assert known_modifiers().problem("Y9") is None


def test_scenario_refuses_an_unknown_modifier(tmp_path):
    inputs = {"lines": [{"code": "27447", "modifiers": ["ZZ"]}], "setting": "facility",
              "gpci": {"work": "1", "pe": "1", "mp": "1"}, "conversion_factor": "32.3465",
              "rvu_fixture": [{"code": "27447", "work_rvu": "19.60", "bilat": "1", "status": "A"}]}
    with pytest.raises(PricingError, match="unknown modifier ZZ"):
        run_scenario(inputs)
    path = tmp_path / "s.json"
    path.write_text(json.dumps({**inputs, "lines": [{"code": "27447", "modifiers": ["5O"]}]}))
    with pytest.raises(CommandError, match=r"did you mean 27447-50\?"):
        call_command("price", "--scenario", str(path), "--json", stdout=StringIO())
    inputs["lines"][0]["modifiers"] = ["50"]
    assert run_scenario(inputs)["lines"][0]["wrvu"] == "29.40"
