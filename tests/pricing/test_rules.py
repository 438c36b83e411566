"""Hand-checked rules the golden vectors do not cover. Amounts are worked out in the comments
(national GPCIs 1/1/1 and CF 33.4009 unless said otherwise; FSA rounded to cents first)."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rvuedge.pricing import (
    CMS_MIRROR,
    NO_REDUCTIONS,
    DictLookup,
    Encounter,
    EncounterLine,
    Gpci,
    LineSyntaxError,
    PolicyError,
    PricingError,
    RvuRow,
    load_policy,
    parse_entry,
    parse_line,
    price_encounter,
    setting_for_pos,
)
from rvuedge.pricing.policy import FIELD_CHOICES, FIELD_HELP

from .fixture_rows import CF, LOC_A, LOOKUP, NATIONAL, encounter, make_lookup

D = Decimal


def price(entry: str, setting: str = "non_facility", **kwargs: object):
    return price_encounter(encounter(entry, setting, **kwargs), LOOKUP)


def line_of(result, code: str, *mods: str):
    for line in result.lines:
        if line.code == code and tuple(line.modifiers) == mods:
            return line
    raise AssertionError(f"no line {code} {mods}")


# ------------------------------------------------------------------------------------------ family cuts
def test_cardiovascular_tc_cut_on_the_lower_tc_service() -> None:
    # 93880 TC (4.22 x CF = 140.95) outranks 93306 TC (3.56 x CF = 118.91);
    # 93306 global 5.64 x CF = 188.38 -> 188.38 - 0.25 x 118.91 = 158.6525 -> 158.65. Work untouched.
    result = price("99214 93306 93880")
    echo, e93880 = line_of(result, "93306"), line_of(result, "93880")
    assert e93880.payment == D("179.36") and e93880.rank == 1
    assert echo.payment == D("158.65") and echo.rank == 2
    assert echo.payment_factor is None and echo.extras["formula"] == "global - 0.25*TC"
    assert echo.extras["tc_amount"] == D("118.91")
    assert echo.wrvu_exact == D("1.46") and e93880.wrvu_exact == D("0.80")
    assert line_of(result, "99214").payment == D("122.92")  # 3.68 x CF = 122.9153
    assert result.total_payment == D("122.92") + D("179.36") + D("158.65")


def test_ophthalmology_tc_cut_on_tc_rows() -> None:
    # 92133-TC 0.76 x CF = 25.38; 92083-TC 0.81 x CF = 27.05 ranks first; 92133-TC x 0.8 = 20.304 -> 20.30
    result = price("92083-TC 92133-TC")
    first, second = line_of(result, "92083", "TC"), line_of(result, "92133", "TC")
    assert (first.payment, first.rank) == (D("27.05"), 1)
    assert (second.fee_schedule_amount, second.payment, second.payment_factor) == (D("25.38"), D("20.30"), D("0.8"))
    assert second.wrvu_exact == 0


def test_cardio_and_ophtho_cuts_leave_the_pc_alone() -> None:
    result = price("93306-26 93880-26")
    assert [line.payment_factor for line in result.lines] == [D("1"), D("1")]
    assert all(line.rank is None for line in result.lines)


def test_therapy_pe_cut_after_the_highest_pe_unit() -> None:
    # 97110: 0.89 x CF = 29.73, PE 0.42 x CF = 14.03; 97140: 0.81 x CF = 27.05, PE 0.36 x CF = 12.02.
    # Units by PE: 97110#1 full; a reduced unit is priced from its own RVUs with half the PE, rounded once
    # (issue 12): 97110#2 (0.45 + 0.21 + 0.02) x CF = 22.7126 -> 22.71 (the old "rounded FSA minus half the
    # rounded PE amount" gave 29.73 - 7.015 = 22.715 -> 22.72), 97140 (0.43 + 0.18 + 0.02) x CF = 21.04.
    result = price("97110-GPx2 97140-GP")
    t110, t140 = line_of(result, "97110", "GP"), line_of(result, "97140", "GP")
    assert t110.payment == D("29.73") + D("22.71")  # different factors per unit: rounded unit by unit
    assert t110.payment_factor is None and t110.extras["formula"] == "(work + 0.50*PE + MP) x GPCIs x CF"
    assert t110.extras["reduced_unit_amount"] == D("22.71")
    assert t140.payment == D("21.04") and t140.extras["pe_amount"] == D("12.02")
    assert result.total_wrvu_exact == D("1.33")  # work never cut


def test_imaging_tc_rows_same_session() -> None:
    # LOC_A: 74177-TC 224.60 first; 71260-TC 128.69 x 0.5 = 64.345 -> 64.35
    result = price("74177-TC 71260-TC", gpci=LOC_A)
    assert line_of(result, "71260", "TC").payment == D("64.35")
    assert line_of(result, "71260", "TC").payment_factor == D("0.5")


def test_imaging_pc_cut_credit_can_be_switched_off() -> None:
    policy = load_policy({"imaging_pc_mppr_applies_to_wrvu": False})
    result = price("74177 71260", gpci=LOC_A, policy=policy)
    assert line_of(result, "71260").payment == D("120.03")
    assert line_of(result, "71260").wrvu_exact == D("1.20")


def test_imaging_59_marks_a_separate_session() -> None:
    result = price("74177 71260-59", gpci=LOC_A)
    assert result.total_payment == D("498.46")


# ------------------------------------------------------------------------------------------ surgery
def test_sixth_procedure_is_priced_by_report() -> None:
    # facility national FSAs: 22551 1513.73 > 47562 606.56 > 27310 566.15 > 44970 549.78 > 49505 464.27 > 29881 439.22
    result = price("29881 49505 44970 27310 47562 22551", "facility")
    ranks = {line.code: line.rank for line in result.lines}
    assert ranks == {"22551": 1, "47562": 2, "27310": 3, "44970": 4, "49505": 5, "29881": 6}
    sixth = line_of(result, "29881")
    assert sixth.payment is None and "MULTIPLE_PROCEDURE_BY_REPORT" in sixth.flags
    assert sixth.wrvu_exact == D("3.425")  # by_report_unit_wrvu_factor 0.5
    assert sixth.explanation[-1].amount is None
    assert line_of(result, "49505").payment == D("232.14")  # 464.27 x 0.5 = 232.135
    assert result.total_payment is None


def test_units_of_a_mult2_code_rank_as_separate_procedures() -> None:
    # 11402 facility 2.35 x CF = 78.49; x3 units -> 100% + 50% + 50% = 78.49 + 39.245 + 39.245 -> 78.49 + 78.49
    result = price("11402x3", "facility")
    line = result.lines[0]
    assert line.payment == D("78.49") + D("78.49")
    assert line.extras["ranks"] == [1, 2, 3] and line.payment_factor is None
    assert line.wrvu_exact == D("1.25") * 2


def test_endoscopy_family_with_base_and_other_surgery() -> None:
    # 45378 161.33 (base), 45380 175.69, 45385 223.45; 45380 pays 175.69 - 161.33 = 14.36, work 3.47 - 3.18.
    # Family total 237.81 outranks 11402 (78.49 -> 50%: 39.245 -> 39.25).
    result = price("45380 45385 45378 11402", "facility")
    assert line_of(result, "45385").payment == D("223.45")
    member = line_of(result, "45380")
    assert member.payment == D("14.36") and member.payment_factor is None
    assert member.extras["formula"] == "FSA - base FSA" and member.wrvu_exact == D("0.29")
    base = line_of(result, "45378")
    assert base.payment == D("0.00") and "BASE_ENDOSCOPY_BUNDLED" in base.flags
    assert line_of(result, "11402").payment == D("39.25") and line_of(result, "11402").rank == 2
    assert line_of(result, "45385").rank == 1 and member.rank == 1


def test_endoscopy_family_credit_under_no_reductions() -> None:
    result = price("45380 45385 45378", "facility", policy=NO_REDUCTIONS)
    assert result.total_wrvu_exact == D("3.47") + D("4.46") + D("3.18")
    assert result.total_payment == D("223.45") + D("14.36")  # payment rules never change


def test_bilateral_indicators() -> None:
    # 73562 (BILAT 3): 1.15 x CF = 38.41 x 2; 92250 (BILAT 2): paid once; 11042 (BILAT 0): once + flag
    r3 = price("73562-50").lines[0]
    assert (r3.payment, r3.payment_factor, r3.wrvu_exact) == (D("76.82"), D("2"), D("0.36"))
    r2 = price("92250-50").lines[0]
    assert (r2.payment, r2.payment_factor) == (D("50.77"), D("1"))
    r0 = price("11042-50").lines[0]
    assert r0.payment == r0.fee_schedule_amount and "BILATERAL_PAID_ONCE" in r0.flags
    with pytest.raises(PricingError, match="BILAT SURG 9"):
        price("99213-50")
    # 2 units of a BILAT 2 code: one bilateral procedure at 100% (explanations must still end on the results)
    two = price("92250x2").lines[0]
    assert (two.payment, two.wrvu_exact, two.flags) == (D("50.77"), D("0.40"), ["TWO_UNITS_PRICED_AS_BILATERAL"])
    assert two.explanation[-1].amount == two.payment and two.wrvu_steps[-1].amount == two.wrvu_exact


def test_bilateral_rt_lt_lines_and_two_units() -> None:
    # 20610 non-facility 1.73 x CF = 57.78; RT and LT lines (issue 12): 100% on the RT line, 50% on the LT line
    # -> 57.78 + 28.89 = 86.67, the 150% of modifier 50 to the cent (75% on each line rounded to 43.34 twice)
    pair = price("20610-RT 20610-LT")
    assert [line.payment for line in pair.lines] == [D("57.78"), D("28.89")]
    assert pair.total_payment == D("86.67")
    assert all("BILATERAL_RT_LT_PAIR" in line.flags for line in pair.lines)
    assert [line.wrvu_exact for line in pair.lines] == [D("0.77"), D("0.385")]
    assert pair.total_wrvu_exact == D("1.155")
    two = price("20610x2").lines[0]
    assert two.payment == D("86.67") and "TWO_UNITS_PRICED_AS_BILATERAL" in two.flags  # 57.78 x 1.5
    same_line = price("20610-RT-LT").lines[0]
    assert same_line.payment == D("86.67")


def test_assistant_modifiers() -> None:
    # 27447 LOC_A facility 1146.79: AS 13.6% = 155.96344; 81/82 16% = 183.4864
    r_as = price("27447-AS", "facility", gpci=LOC_A).lines[0]
    assert (r_as.payment, r_as.payment_factor, r_as.wrvu_exact) == (D("155.96"), D("0.136"), D("3.0576"))
    assert price("27447-81", "facility", gpci=LOC_A).lines[0].payment == D("183.49")
    assert price("27447-82", "facility", gpci=LOC_A).lines[0].payment == D("183.49")
    doc = price("49505-80", "facility").lines[0]  # ASST SURG 0: payable with documentation
    assert doc.payment == D("74.28") and "ASSISTANT_DOCUMENTATION_REQUIRED" in doc.flags  # 464.27 x 0.16
    policy = load_policy({"as_modifier_wrvu_factor": "0.136"})
    assert price("27447-AS", "facility", gpci=LOC_A, policy=policy).lines[0].wrvu_exact == D("2.59896")


def test_co_surgery_and_team_surgery() -> None:
    denied = price("29881-62", "facility").lines[0]  # CO-SURG 0
    assert denied.payment == D("0.00") and denied.wrvu_exact == 0 and "CO_SURGERY_NOT_ALLOWED" in denied.flags
    team = price("23456-66", "facility").lines[0]  # TEAM 2: by report
    assert team.payment is None and "TEAM_SURGERY_BY_REPORT" in team.flags and team.wrvu_exact == D("8.00")
    no_team = price("27447-66", "facility").lines[0]  # TEAM 0
    assert no_team.payment == D("0.00") and "TEAM_SURGERY_NOT_ALLOWED" in no_team.flags
    with pytest.raises(PricingError, match="cannot be combined"):
        price("27447-62-80", "facility")


def test_global_split_56_and_errors() -> None:
    pre = price("27447-56", "facility", gpci=LOC_A).lines[0]
    assert (pre.payment, pre.payment_factor, pre.wrvu_exact) == (D("114.68"), D("0.10"), D("1.911"))
    with pytest.raises(PricingError, match="global-surgery code"):
        price("99213-54")
    lines = (EncounterLine("27447", ("55",), days_furnished=91),)
    with pytest.raises(PricingError, match="1..90"):
        price("27447", "facility", lines=lines)
    no_split = price("27447-54", "facility", gpci=LOC_A, policy=NO_REDUCTIONS).lines[0]
    assert no_split.payment == D("802.75") and no_split.wrvu_exact == D("19.11")


def test_modifier_52_53_22() -> None:
    disc = price("20610-53").lines[0]  # no 53 row: contractor priced, credit 50%
    assert disc.payment is None and "CONTRACTOR_PRICED_DISCONTINUED" in disc.flags and disc.wrvu_exact == D("0.385")
    increased = price("20610-22", policy=load_policy({"increased_service_wrvu_factor": "1.2"})).lines[0]
    assert increased.payment == D("57.78") and increased.wrvu_exact == D("0.924")


# ------------------------------------------------------------------------------------------ payment inputs
def test_qp_conversion_factor_and_defaults() -> None:
    # 99213 national non-facility RVUs 2.60: QP 2.60 x 33.5675 = 87.2755 -> 87.28; non-QP 86.84
    enc = Encounter(lines=(EncounterLine("99213"),), setting="non_facility", qp=True, date_of_service=dt.date(2026, 5, 1))
    assert price_encounter(enc, LOOKUP).total_payment == D("87.28")
    enc = Encounter(lines=(EncounterLine("99213"),), setting="non_facility", date_of_service=dt.date(2026, 5, 1))
    result = price_encounter(enc, LOOKUP)
    assert result.total_payment == D("86.84")
    assert result.source["conversion_factor"] == "33.4009" and result.source["gpci"]["work"] == "1.000"


def test_work_gpci_floor_can_be_modelled_off() -> None:
    gpci = Gpci(D("1.000"), D("0.880"), D("0.600"), work_no_floor=D("0.962"), locality="LOC_FLOOR")
    assert price("99214", gpci=gpci).total_payment == D("114.55")
    assert price("99214", gpci=gpci, apply_work_gpci_floor=False).total_payment == D("112.11")


def test_alaska_work_floor() -> None:
    gpci = Gpci(D("1.000"), D("1.100"), D("0.650"), locality="ALASKA")  # 1.5 applies even if the file says less
    result = price("99213", gpci=gpci)
    assert result.total_payment == D("111.39") and result.source["gpci"]["work"] == "1.500"


def test_na_indicators_price_with_the_other_setting() -> None:
    fac = price("12345", "facility").lines[0]  # facility NA: non-facility PE 1.00 -> 2.10 x CF = 70.14
    assert fac.payment == D("70.14") and fac.flags == ["FAC_NA_PRICED_AT_NONFACILITY"]
    office = price("27447", "non_facility").lines[0]
    assert office.flags == ["NONFAC_NA_PRICED_AT_FACILITY"]


def test_place_of_service_mapping() -> None:
    assert setting_for_pos("11") == "non_facility"
    assert setting_for_pos("22") == "facility" and setting_for_pos(21) == "facility"
    assert setting_for_pos("02") == "facility" and setting_for_pos("10") == "non_facility"
    with pytest.raises(PricingError, match="2-digit"):
        setting_for_pos("1A")
    enc = Encounter(lines=(EncounterLine("99213"),), pos="22", gpci=NATIONAL, conversion_factor=CF)
    assert price_encounter(enc, LOOKUP).total_payment == D("64.13")  # facility RVUs 1.92 x CF = 64.1297


def test_npp_rate_and_neutral_modifiers() -> None:
    npp = Encounter(lines=(EncounterLine("99213", provider_type="np"),), setting="non_facility", gpci=NATIONAL,
                    conversion_factor=CF)
    line = price_encounter(npp, LOOKUP).lines[0]
    assert (line.payment, line.payment_factor, line.wrvu_exact) == (D("73.81"), D("0.85"), D("1.30"))
    plain = price("99213").lines[0]
    for mod in ("25", "57", "24", "GC", "RT", "GP", "FS", "79", "58", "76", "77", "22", "XE", "59"):
        other = price(f"99213-{mod}").lines[0]
        assert (other.payment, other.wrvu_exact, other.flags) == (plain.payment, plain.wrvu_exact, []), mod
    assert price("99213-Z9").lines[0].flags == ["UNRECOGNISED_MODIFIER_Z9"]


def test_status_gating_and_status_t() -> None:
    contractor = price("0100T")
    assert contractor.total_payment is None
    assert contractor.lines[0].flags == ["STATUS_C_CONTRACTOR_PRICED", "NEEDS_MANUAL_VALUATION"]
    measure = price("3074F").lines[0]
    assert (measure.payment, measure.wrvu_exact, measure.flags) == (D("0.00"), 0, ["STATUS_M_MEASUREMENT"])
    no_credit = price("99397", policy=load_policy({"credit_non_medicare_rvus": False})).lines[0]
    assert no_credit.wrvu_exact == 0
    alone = price("99091").lines[0]
    assert alone.payment == D("58.79")  # 1.76 x CF = 58.7856
    bundled = line_of(price("99213 99091"), "99091")
    assert bundled.payment == D("0.00") and bundled.flags == ["STATUS_T_BUNDLED"] and bundled.wrvu_exact == 0
    with pytest.raises(PricingError, match="status D"):
        price("99001")


def test_addon_without_primary_is_flagged() -> None:
    assert price("11045x2").lines[0].flags == ["ADDON_WITHOUT_PRIMARY"]
    assert price("11042 11045").lines[1].flags == []


def test_invalid_combinations_and_unknown_codes() -> None:
    with pytest.raises(PricingError, match="PC/TC indicator 0"):
        price("99213-26")
    with pytest.raises(PricingError, match="26 and TC"):
        price("71046-26-TC")
    with pytest.raises(PricingError) as info:
        price("99215")
    assert info.value.code == "99215" and info.value.near[:2] == ("99213", "99214")
    with pytest.raises(PricingError, match="anaesthesia modifier"):
        price("99213-AA")
    with pytest.raises(PricingError, match="no setting"):
        price_encounter(Encounter(lines=(EncounterLine("99213"),), conversion_factor=CF), LOOKUP)


# ------------------------------------------------------------------------------------------ anaesthesia
def test_anaesthesia_modifiers_and_time_units() -> None:
    def anes(mod: str, minutes: int | None, **kwargs: object):
        lines = (EncounterLine("01402", (mod,) if mod else (), minutes=minutes, **kwargs),)  # type: ignore[arg-type]
        return price_encounter(Encounter(lines=lines, setting="facility", date_of_service=dt.date(2026, 3, 15)),
                               LOOKUP).lines[0]

    assert anes("QZ", 129).payment == D("319.76")  # 15.6 x 20.4976
    assert anes("QX", 129).payment == D("159.88")
    assert anes("AD", None).payment == D("61.49")  # 3 units
    assert anes("AD", None, present_at_induction=True).payment == D("81.99")  # 4 units
    assert anes("", 129).flags == ["ANESTHESIA_MODIFIER_MISSING"]
    # 17 min: 1.1 time units by default, 1.13 with two decimals
    assert anes("AA", 17).extras["total_units"] == D("8.1")
    enc = Encounter(lines=(EncounterLine("01402", ("AA",), minutes=17),), setting="facility",
                    policy=load_policy({"anesthesia_time_unit_decimals": 2}), date_of_service=dt.date(2026, 3, 15))
    assert price_encounter(enc, LOOKUP).lines[0].extras["total_units"] == D("8.13")


def test_multiple_anaesthesia_procedures_use_highest_base_and_total_time() -> None:
    lines = (EncounterLine("00400", ("AA",), minutes=30), EncounterLine("01402", ("AA",), minutes=60))
    result = price_encounter(Encounter(lines=lines, setting="facility", date_of_service=dt.date(2026, 3, 15)), LOOKUP)
    assert line_of(result, "01402", "AA").payment == D("266.47")  # (7 + 6.0) x 20.4976 = 266.4688
    assert line_of(result, "00400", "AA").payment == D("0.00")
    assert result.total_payment == D("266.47")


# ------------------------------------------------------------------------------------------ policies
def test_profiles_and_vector_policy_objects() -> None:
    vector_policy = {
        "wrvu_profile": "cms_mirror", "credit_non_medicare_rvus": True, "imaging_pc_mppr_applies_to_wrvu": True,
        "assistant_wrvu_factor": "0.16", "as_modifier_wrvu_factor": "0.16", "reduced_service_wrvu_factor": "0.5",
        "by_report_unit_wrvu_factor": "0.5", "npp_payment_factor": "0.85", "rounding": "free text is ignored",
    }
    assert load_policy(vector_policy) == CMS_MIRROR
    assert load_policy("no_reductions") is NO_REDUCTIONS
    assert load_policy('{"wrvu_profile": "no_reductions"}') == NO_REDUCTIONS
    custom = load_policy('{"multiple_procedure_wrvu_factor": 0.75, "name": "Ortho plan"}')
    assert custom.multiple_procedure_wrvu_factor == D("0.75") and custom.name == "Ortho plan"
    assert load_policy({"co_surgery_wrvu_factor": "1"}).name == "cms_mirror+custom"
    json.dumps(custom.to_dict())


@pytest.mark.parametrize(
    ("obj", "field", "message"),
    [
        ({"bogus": 1}, "bogus", "unknown policy key"),
        ({"assistant_wrvu_factor": "abc"}, "assistant_wrvu_factor", "not a number"),
        ({"assistant_wrvu_factor": "1.5"}, "assistant_wrvu_factor", "out of range"),
        ({"multiple_procedure": "yes"}, "multiple_procedure", "true or false"),
        ({"wrvu_profile": "generous"}, "wrvu_profile", "unknown profile"),
        ({"rvu_release": {"mode": "frozen"}}, "rvu_release.release", "release name"),
        ({"rvu_release": {"mode": "sometimes"}}, "rvu_release.mode", "not one of"),
        ({"rvu_release": {"mode": "blend", "releases": [{"release": "RVU25A", "weight": "0.5"},
                                                         {"release": "RVU26A", "weight": "0.4"}]}},
         "rvu_release.releases", "sum to 0.9"),
        ({"rvu_release": {"mode": "blend", "releases": [{"release": "RVU25A", "weight": "1"},
                                                         {"release": "rvu25a", "weight": "0"}]}},
         "rvu_release.releases[1].release", "twice"),
        ({"anesthesia_time_unit_decimals": 9}, "anesthesia_time_unit_decimals", "out of range"),
        ("{not json", "(json)", "not valid JSON"),
    ],
)
def test_policy_errors_name_the_field(obj: object, field: str, message: str) -> None:
    with pytest.raises(PolicyError, match=message) as info:
        load_policy(obj)  # type: ignore[arg-type]
    assert info.value.field == field


@pytest.mark.parametrize(
    ("obj", "field", "message"),
    [
        # an unknown key, by its name
        ({"assistant_wrvu_factr": "0.2"}, "assistant_wrvu_factr", "unknown policy key"),
        ({"rvu_release": {"mode": "frozen", "release": "RVU24A", "releases": []}}, "rvu_release.releases",
         "unknown key for mode 'frozen'"),
        # the wrong type
        ({"bilateral": 1}, "bilateral", "expected true or false, got 1"),
        ({"npp_wrvu_factor": [1]}, "npp_wrvu_factor", "expected a number, got list"),
        ({"anesthesia_time_unit_decimals": 1.5}, "anesthesia_time_unit_decimals", "expected a whole number, got 1.5"),
        ({"incident_to_facility_wrvu": None}, "incident_to_facility_wrvu", "expected one of none, full, got None"),
        ({"name": "  "}, "name", "expected a non-empty string"),
        ({"rvu_release": 5}, "rvu_release", 'expected an object like {"mode": "current"}'),
        # out of range, naming FIELD_HELP's range
        ({"team_wrvu_factor": "3.5"}, "team_wrvu_factor", "3.5 is out of range [0, 3]"),
        ({"increased_service_wrvu_factor": "0.9"}, "increased_service_wrvu_factor", "0.9 is out of range [1, 3]"),
        ({"bilateral_wrvu_factor": "-1"}, "bilateral_wrvu_factor", "-1 is out of range [0, 3]"),
        # nested: the path of the item at fault
        ({"rvu_release": {"mode": "blend", "releases": [{"release": "RVU25A", "weight": "1.5"}]}},
         "rvu_release.releases[0].weight", "1.5 is out of range [0, 1]"),
        ({"rvu_release": {"mode": "blend", "releases": [{"release": "RVU25A", "weight": "0.5"},
                                                         {"release": "RVU26A", "weight": "0.5", "extra": 1}]}},
         "rvu_release.releases[1]", 'expected {"release": ..., "weight": ...}'),
        # the document itself
        ([1], "(root)", "expected an object, got list"),
        ('{"a": 1,}', "(json)", "not valid JSON: Expecting property name enclosed in double quotes at line 1 column 9"),
        # several faults: an unknown key is named first, the first in alphabetical order
        ({"zz": 1, "assistant_wrvu_factor": "abc", "aa": 2}, "aa", "unknown policy key"),
    ],
)
def test_policy_errors_in_full(obj: object, field: str, message: str) -> None:
    with pytest.raises(PolicyError) as info:
        load_policy(obj)  # type: ignore[arg-type]
    assert (info.value.field, info.value.message) == (field, message)
    assert str(info.value) == f"policy field '{field}': {message}"


@pytest.mark.parametrize("name", [n for n, spec in FIELD_HELP.items() if spec[0] in ("factor", "opt_factor", "int")])
def test_each_range_is_the_one_in_field_help(name: str) -> None:
    kind, low, high, _help = FIELD_HELP[name]
    assert low is not None and high is not None
    assert getattr(load_policy({name: str(low) if kind != "int" else low}), name) == low
    assert getattr(load_policy({name: str(high) if kind != "int" else high}), name) == high
    for outside in (low - 1, high + 1):
        with pytest.raises(PolicyError) as info:
            load_policy({name: outside})
        assert (info.value.field, info.value.message) == (name, f"{outside} is out of range [{low}, {high}]")


_ANY_VALUE = st.one_of(st.booleans(), st.none(), st.integers(-3, 6), st.sampled_from(["none", "full", "half", "x"]),
                       st.decimals(min_value=-1, max_value=4, places=2),
                       st.decimals(min_value=-1, max_value=4, places=2).map(str))


@settings(max_examples=300)
@given(st.dictionaries(st.sampled_from(sorted(FIELD_HELP)), _ANY_VALUE, max_size=6))
def test_an_accepted_policy_lies_in_field_help(doc: dict[str, object]) -> None:
    """Whatever load_policy accepts gives a Policy whose every field has its FIELD_HELP kind and range."""
    try:
        policy = load_policy(doc)
    except PolicyError as exc:
        assert exc.field in doc
        return
    for name, (kind, low, high, _help) in FIELD_HELP.items():
        value = getattr(policy, name)
        if kind == "bool":
            assert isinstance(value, bool)
        elif kind == "choice":
            assert value in FIELD_CHOICES[name]
        elif kind == "opt_factor" and value is None:
            continue
        else:
            assert isinstance(value, int if kind == "int" else D) and not isinstance(value, bool)
            assert low <= value <= high  # type: ignore[operator]
        if name in doc and doc[name] is not None:
            assert value == doc[name] or value == D(str(doc[name]))


def _release_lookup() -> DictLookup:
    current = make_lookup()
    old = DictLookup([RvuRow(code="99213", status="A", work_rvu=D("1.00"), pe_nonfac=D("1.00"), pe_fac=D("0.50"),
                             mp_rvu=D("0.10"), pctc="0", mult_proc="0", bilat="9")], release="RVU24A")
    current.add_release("RVU24A", old)
    return current


def test_frozen_and_blended_release_credit() -> None:
    lookup = _release_lookup()
    frozen = load_policy({"rvu_release": {"mode": "frozen", "release": "RVU24A"}})
    result = price_encounter(encounter("99213 99214", policy=frozen), lookup)
    assert result.total_payment == D("86.84") + D("122.92")  # payment from the release in force
    assert line_of(result, "99213").wrvu_exact == D("1.00")
    fallback = line_of(result, "99214")  # not in RVU24A: current release, flagged
    assert fallback.wrvu_exact == D("1.92") and "WRVU_RELEASE_FALLBACK_RVU24A" in fallback.flags
    blend = load_policy({"rvu_release": {"mode": "blend", "releases": [
        {"release": "RVU24A", "weight": "0.25"}, {"release": "RVU26A", "weight": "0.75"}]}})
    blended = price_encounter(encounter("99213", policy=blend), lookup).lines[0]
    assert blended.wrvu_exact == D("1.225")  # 0.25 x 1.00 + 0.75 x 1.30
    assert blended.wrvu_steps[-1].amount == blended.wrvu_exact
    missing = load_policy({"rvu_release": {"mode": "frozen", "release": "RVU19A"}})
    with pytest.raises(PricingError, match="RVU19A"):
        price_encounter(encounter("99213", policy=missing), lookup)


# ------------------------------------------------------------------------------------------ line syntax
def test_line_syntax() -> None:
    assert parse_line("27447-50") == EncounterLine("27447", ("50",))
    assert parse_line("11045x3").units == 3
    assert parse_line("97110-gpx2") == EncounterLine("97110", ("GP",), units=2)
    assert parse_line("97110-XUx2").modifiers == ("XU",)
    assert parse_line("0100t").code == "0100T" and parse_line("g0105").code == "G0105"
    assert parse_line("01402-AAx129m").minutes == 129
    entry = parse_entry("99214 20610-RT 27447-50x2 @2026-11-20")
    assert [ln.code for ln in entry.lines] == ["99214", "20610", "27447"]
    assert entry.lines[2].units == 2 and entry.date_of_service == dt.date(2026, 11, 20)


@pytest.mark.parametrize(
    ("token", "reason"),
    [
        ("2744", "5 characters"),
        ("1234Z", "Category II"),
        ("ABCDE", "one letter followed by 4 digits"),
        ("27447-5", "modifier '5' must be 2"),
        ("27447--50", "empty modifier"),
        ("99214x", "missing number"),
        ("99214x0", "units must be 1..999"),
        ("99214xA", "whole number"),
        ("99214-25-25", "repeated"),
        ("99214-25-59-GC-FS-XU", "at most 4"),
        ("27447-50y2", "unexpected"),
    ],
)
def test_line_syntax_errors(token: str, reason: str) -> None:
    with pytest.raises(LineSyntaxError, match=reason) as info:
        parse_line(token)
    assert info.value.token == token


def test_entry_errors_point_at_the_token() -> None:
    with pytest.raises(LineSyntaxError) as info:
        parse_entry("99213 2744 @2026-01-01")
    assert info.value.token == "2744" and info.value.position == 1
    with pytest.raises(LineSyntaxError, match="YYYY-MM-DD"):
        parse_entry("99213 @tomorrow")
