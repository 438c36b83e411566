"""The pure pay engine: worked examples, explanations and validation."""

from __future__ import annotations

import json
from decimal import Decimal as D

import pytest
from django.core.management import call_command

from rvuedge.benchmarks.contracts import (
    ContractError,
    Tier,
    compute_pay,
    load_contract,
    next_tier,
    project_year,
    split_total,
)

TIERS = [{"up_to": "4500", "rate": "55"}, {"up_to": "7000", "rate": "65"}, {"rate": "75"}]


def test_it_accrues_by_tier():
    result = compute_pay({"tiers": TIERS}, "7500")
    assert result.total == D("447500.00")
    assert result.explain() == [
        "4,500 wRVU × $55 = $247,500 (tier 1)",
        "2,500 wRVU × $65 = $162,500 (tier 2)",
        "500 wRVU × $75 = $37,500 (tier 3)",
        "Total pay: $447,500",
    ]
    assert isinstance(result.total, D)


def test_it_pays_all_at_the_highest_tier_reached():
    result = compute_pay({"tiers": TIERS, "tier_mode": "highest"}, 7500)
    assert result.total == D("562500.00")
    assert result.explain()[0] == "7,500 wRVU × $75 = $562,500 (all at tier 3)"


def test_a_tier_boundary_belongs_to_the_lower_tier():
    assert compute_pay({"tiers": TIERS, "tier_mode": "highest"}, 7000).total == D("455000.00")  # 7,000 × 65
    assert compute_pay({"tiers": TIERS}, 4500).total == D("247500.00")


def test_threshold_with_payout_share():
    terms = {"base_salary": "240000", "threshold": "4500", "rate": "60", "payout_share": "0.5"}
    result = compute_pay(terms, 5500)
    assert result.total == D("270000.00")  # 240,000 + (5,500 − 4,500) × $60 × 50%
    assert result.explain() == [
        "Base salary $240,000",
        "Threshold 4,500 wRVU: 4,500 wRVU earn no $/wRVU",
        "1,000 wRVU × $60 = $60,000 (tier 1)",
        "payout share 50% of $60,000 = $30,000",
        "Total pay: $270,000",
    ]


def test_below_the_threshold_only_base_is_paid():
    result = compute_pay({"base_salary": "240000", "threshold": "4500", "rate": "60"}, 4000)
    assert result.total == D("240000")
    assert result.production == 0


def test_draw_with_quarterly_true_up_and_clawback():
    terms = {"rate": "50", "draw": {"amount": "240000", "true_up": "quarter", "clawback": True}}
    result = compute_pay(terms, ["1400", "1000", "1300", "1100"])
    assert result.production == D("240000.00")
    assert result.draws_paid == D("240000.00")
    assert result.true_up_paid == D("15000.00")
    assert result.clawback == D("15000.00")
    assert result.total == D("240000.00")  # with clawback, pay = what the wRVUs earned
    text = result.explain()
    assert "True-up Q1: earned $70,000 - drawn $60,000 = $10,000 paid" in text
    assert "True-up Q2: earned $50,000 - drawn $60,000 = -$10,000 clawed back" in text


def test_draw_without_clawback_is_a_floor():
    terms = {"rate": "50", "draw": {"amount": "240000", "true_up": "quarter", "clawback": False}}
    result = compute_pay(terms, ["1400", "1000", "1300", "1100"])
    assert result.total == D("255000.00")
    assert result.forgiven == D("15000.00")


def test_draw_deficit_carried_forward_then_clawed_back_at_year_end():
    terms = {"rate": "50", "draw": {"amount": "240000", "true_up": "quarter", "carry_forward": True}}
    result = compute_pay(terms, ["1000", "1400", "1000", "1100"])
    # Q1 -10,000 carried; Q2 70,000 - 60,000 - 10,000 = 0; Q3 -10,000 carried; Q4 55,000 - 60,000 - 10,000 = -15,000
    assert result.true_up_paid == 0
    assert result.clawback == D("15000.00")
    assert result.total == D("225000.00") == result.production


def test_fte_scales_base_threshold_and_tiers():
    terms = {"base_salary": "300000", "fte": "0.8", "threshold": "5000", "rate": "50"}
    result = compute_pay(terms, 5000)
    assert result.total == D("290000.00")  # 240,000 + (5,000 − 4,000) × 50
    assert result.explain()[0] == "Base salary $300,000 × 0.8 FTE = $240,000"
    assert "Threshold 4,000 wRVU: 4,000 wRVU earn no $/wRVU" in result.explain()


def test_fte_scales_tier_bounds():
    result = compute_pay({"tiers": TIERS, "fte": "0.8"}, 6000)
    # bounds 3,600 and 5,600: 3,600 × 55 + 2,000 × 65 + 400 × 75
    assert result.total == D("198000") + D("130000") + D("30000")


def test_quarterly_reset():
    terms = {"tiers": [{"up_to": "4000", "rate": "50"}, {"rate": "60"}], "tier_reset": "quarter"}
    result = compute_pay(terms, ["1500", "500", "1200", "800"])
    assert result.total == D("207000.00")
    annual = compute_pay({**terms, "tier_reset": "year"}, ["4000"])
    assert annual.total == D("200000.00")
    assert "Q1: 500 wRVU × $60 = $30,000 (tier 2)" in result.explain()
    assert [p["earned"] for p in result.periods] == ["80000.00", "25000.00", "62000.00", "40000.00"]


def test_an_annual_total_is_spread_evenly_over_periods():
    terms = {"tiers": [{"up_to": "4000", "rate": "50"}, {"rate": "60"}], "tier_reset": "quarter"}
    result = compute_pay(terms, "4800")
    assert result.total == D("4000") * 50 + D("800") * 60
    assert result.explain()[0] == "4,800 wRVU assumed evenly spread over 4 quarters (1,200 each)"


def test_year_to_date_prorates_base_and_stipends():
    terms = {"base_salary": "240000", "rate": "50", "stipends": [{"name": "Call", "amount": "12000"}],
             "tier_reset": "month"}
    result = compute_pay(terms, ["400", "400", "400"])
    assert result.base == D("60000.00")
    assert result.stipends == D("3000.00")
    assert result.total == D("60000") + D("3000") + D("60000")
    assert "Base salary $240,000 × 3 of 12 months = $60,000" in result.explain()


def test_highest_mode_books_the_uplift_when_the_tier_is_reached():
    terms = {"tiers": TIERS, "tier_mode": "highest", "draw": {"amount": "0", "true_up": "quarter"}}
    result = compute_pay(terms, ["4000", "1000", "2500", "0"])
    earned = [line for line in result.lines if line.section == "true_up"]
    # Q2 crosses 4,500: all 5,000 at $65 minus the 4,000 × 55 already earned
    assert earned[1].amount == D("325000") - D("220000")
    assert result.production == D("562500.00")


def test_projection_and_next_tier():
    terms = load_contract({"threshold": "4000", "tiers": [{"up_to": "6000", "rate": "50"}, {"rate": "60"}],
                           "tier_reset": "month"})
    projected = project_year(terms, [D(500), D(400), D(100)], D("0.2"))
    assert projected[:3] == [D(500), D(400), D("350.00")]
    assert sum(projected) == pytest.approx(D(5000), abs=D("0.1"))
    assert next_tier(load_contract({"threshold": "4000", "rate": "50"}), D(3000))["needed"] == "1000"
    top = load_contract({"threshold": "4000", "tiers": [{"up_to": "6000", "rate": "50"}, {"rate": "60"}]})
    assert next_tier(top, D(5000))["label"] == "tier 2"
    assert next_tier(top, D(7000)) is None


def test_split_total_keeps_the_sum():
    parts = split_total(D("4001"), 12)
    assert sum(parts) == D("4001")


@pytest.mark.parametrize(("contract", "field"), [
    ({"tiers": [{"up_to": 10, "rate": 1}, {"up_to": 5, "rate": 2}, {"rate": 3}]}, "tiers[1].up_to"),
    ({"tiers": [{"up_to": 10, "rate": 1}]}, "tiers[0].up_to"),
    ({"tiers": [{"rate": "x"}]}, "tiers[0].rate"),
    ({"fte": 2}, "fte"),
    ({"payout_share": "1.5"}, "payout_share"),
    ({"tier_mode": "sometimes"}, "tier_mode"),
    ({"tier_reset": "week"}, "tier_reset"),
    ({"credit_policy": "nope"}, "credit_policy"),
    ({"credit_policy": {"assistant_wrvu_factor": 9}}, "credit_policy.assistant_wrvu_factor"),
    ({"rvu_release": {"mode": "frozen"}}, "rvu_release.release"),
    ({"rvu_release": {"mode": "blend", "releases": [{"release": "RVU24A", "weight": "0.4"}]}}, "rvu_release.releases"),
    ({"draw": {"amount": 1}}, "draw"),
    ({"rate": 1, "draw": {"amount": 1, "true_up": "fortnight"}}, "draw.true_up"),
    ({"stipends": [{"name": "x"}]}, "stipends[0]"),
    ({"salary": 1}, "salary"),
    ("{not json", "(json)"),
])
def test_it_names_the_bad_field(contract, field):
    with pytest.raises(ContractError) as exc:
        load_contract(contract)
    assert exc.value.field == field
    assert field in str(exc.value)


KNOWN = ("base_salary, credit_policy, draw, fte, name, payout_share, rate, rvu_release, stipends, threshold, "
         "tier_mode, tier_reset, tiers, year_start_month")


@pytest.mark.parametrize(("contract", "field", "message"), [
    # an unknown key, by its name (the first in alphabetical order), with the known ones
    ({"salary": 1}, "salary", f"unknown key (known: {KNOWN})"),
    ({"zeta": 1, "fte": 9, "alpha": 2}, "alpha", f"unknown key (known: {KNOWN})"),
    ({"rate": 1, "draw": {"amount": 1, "clawbak": True}}, "draw.clawbak", "unknown key"),
    ({"rvu_release": {"mode": "frozen", "release": "RVU24A", "junk": 1}}, "rvu_release.junk",
     "unknown key for mode 'frozen'"),
    # the wrong type
    ({"base_salary": True}, "base_salary", "expected a number, got true"),
    ({"fte": "abc"}, "fte", "'abc' is not a number"),
    ({"rate": 1, "draw": {"amount": 1, "clawback": "yes"}}, "draw.clawback", 'expected true or false, got "yes"'),
    ({"rate": 1, "draw": "monthly"}, "draw", 'expected an object like {"amount": "240000", "true_up": "quarter"}'),
    ({"tiers": "flat"}, "tiers", 'expected a list of {"up_to": ..., "rate": ...}'),
    ({"stipends": {"name": "x"}}, "stipends", 'expected a list of {"name": ..., "amount": ...}'),
    ({"credit_policy": 5}, "credit_policy", "expected a profile name or a policy object"),
    # out of range, naming the range
    ({"fte": 2}, "fte", "2 is above 1.5"),
    ({"fte": "0"}, "fte", "0 is below 0.01"),
    ({"year_start_month": 13}, "year_start_month", 'expected a month number 1-12, got "13"'),
    ({"credit_policy": {"bilateral_wrvu_factor": "4"}}, "credit_policy.bilateral_wrvu_factor",
     "4 is out of range [0, 3]"),
    # nested: the path of the item at fault
    ({"tiers": [{"up_to": "4500", "rate": "55"}, {"rate": "$1,000,000,001"}]}, "tiers[1].rate",
     "1000000001 is above 1,000,000,000"),
    ({"tiers": [{"up_to": 10, "rate": 1}, {"up_to": 20, "rate": "x"}, {"rate": 3}]}, "tiers[1].rate",
     "'x' is not a number"),
    ({"tiers": [{"up_to": 10, "rate": 1}, {"rate": 2, "bonus": 1}]}, "tiers[1]", 'expected {"up_to": ..., "rate": ...}'),
    ({"stipends": [{"amount": 1}, {"name": 5, "amount": 1}]}, "stipends[1].name", "expected a string"),
    ({"rate": 1, "draw": {"true_up": "year"}}, "draw.amount", "required"),
    ({"credit_policy": {"rvu_release": {"mode": "blend", "releases": [{"release": "RVU25A", "weight": "2"}]}}},
     "rvu_release.releases[0].weight", "2 is out of range [0, 1]"),
    # across fields
    ({"rate": 1, "tiers": []}, "rate", "give either 'rate' or 'tiers', not both"),
    ({"tiers": [], "draw": {"amount": 1}}, "draw", "a draw is an advance against productivity pay: give 'rate' or 'tiers'"),
    # the document itself
    ([], "(root)", "expected an object, got list"),
    ('{"rate": 1,}', "(json)", "not valid JSON: Expecting property name enclosed in double quotes at line 1 column 12"),
    (b"\xff", "(json)", "not valid JSON: not UTF-8 text (byte 1)"),
])
def test_errors_in_full(contract, field, message):
    with pytest.raises(ContractError) as exc:
        load_contract(contract)
    assert (exc.value.field, exc.value.message) == (field, message)
    assert str(exc.value) == f"contract field '{field}': {message}"


def test_the_cli_example_round_trips(capsys):
    call_command("contract", "example")
    text = capsys.readouterr().out
    terms = load_contract(text)
    assert load_contract(json.dumps(terms.to_dict())) == terms == load_contract(text.encode())
    assert terms.tiers[-1] == Tier(None, D("75")) and terms.policy_dict() == {"wrvu_profile": "cms_mirror",
                                                                              "rvu_release": {"mode": "current"}}


def test_it_refuses_the_wrong_number_of_period_values():
    with pytest.raises(ContractError, match="settles by quarter"):
        compute_pay({"rate": 1, "tier_reset": "quarter"}, ["1", "2", "3", "4", "5"])


def test_terms_round_trip_through_json():
    terms = load_contract({"name": "A", "base_salary": 1, "tiers": TIERS, "draw": {"amount": 5, "true_up": "month"},
                           "stipends": [{"name": "s", "amount": 3}], "credit_policy": "no_reductions",
                           "rvu_release": {"mode": "frozen", "release": "rvu24a"}})
    again = load_contract(terms.to_dict())
    assert again == terms
    assert again.rvu_release == {"mode": "frozen", "release": "RVU24A"}
    assert again.describe_release() == "frozen at RVU24A"
