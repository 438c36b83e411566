"""Why wasn't it credited: every rule of rvuedge.logbook.rules on real RVU25A / RVU26C fee rows.

The expected global-period boundaries come from the CMS rule (pfs-rules 1.6: 090 = the day before, the day of and
90 post-op days; 010 = the day of and 10 post-op days; 000 = the day of only), counted as post-op day N =
procedure date + N days: 27447 on 1 March 2026 has post-op day 90 on 30 May and day 91 on 31 May.
"""

from __future__ import annotations

import datetime as dt

import pytest

from rvuedge.fees.models import Release
from rvuedge.logbook.rules import RULES, Line, check, global_window
from rvuedge.logbook.whynot import entry_findings, facts_for
from rvuedge.pricing import EncounterLine
from tests.personas import log

pytestmark = pytest.mark.django_db

MAR1 = dt.date(2026, 3, 1)


def d(month: int, day: int) -> dt.date:
    return dt.date(2026, month, day)


def run(*lines: tuple[dt.date, str], release: str = "RVU25A", **kw):
    """Findings for lines given as (date, "CODE-MOD-MOD") using the release's real fee rows."""
    parsed = []
    for day, text in lines:
        code, *mods = text.split("-")
        parsed.append(Line(day, code, tuple(mods), 1, text))
    rel = Release.objects.get(name=release)
    return check(parsed, facts_for(rel, {ln.code for ln in parsed}), **kw)


def rules_of(found, code: str | None = None):
    return [f.rule for f in found if code is None or f.line.code == code]


# --------------------------------------------------------------------------- E/M inside a global period

def test_em_in_090_post_op_names_procedure_end_and_modifier_24():
    found = run((MAR1, "27447"), (d(3, 20), "99213"))
    assert rules_of(found) == ["em_in_global"]
    f = found[0]
    assert f.line.code == "99213" and f.related.code == "27447"
    assert "90-day global ends 30 May 2026" in f.message
    assert "post-op day 19" in f.message
    assert f.modifiers == ("24",)
    assert "most employers credit it 0" in f.message
    assert "24" in f.fix and f.source.startswith("RVU25A 27447: GLOB DAYS 090")
    assert "PRE OP 0.10, INTRA OP 0.69, POST OP 0.21" in f.source


def test_090_boundary_day_90_warned_day_91_not():
    assert global_window(MAR1, "090") == (d(2, 28), d(5, 30))
    assert rules_of(run((MAR1, "27447"), (d(5, 30), "99213"))) == ["em_in_global"]
    assert "post-op day 90" in run((MAR1, "27447"), (d(5, 30), "99213"))[0].message
    assert rules_of(run((MAR1, "27447"), (d(5, 31), "99213"))) == []


def test_with_modifier_24_no_warning():
    assert run((MAR1, "27447"), (d(3, 20), "99213-24")) == []
    # a modifier for another situation does not help
    assert rules_of(run((MAR1, "27447"), (d(3, 20), "99213-25"))) == ["em_in_global"]


def test_day_before_and_day_of_a_090_need_57():
    before = run((MAR1, "27447"), (d(2, 28), "99213"))
    assert rules_of(before) == ["em_in_global"] and before[0].modifiers == ("57",)
    assert "the day before" in before[0].message
    same = run((MAR1, "27447"), (MAR1, "99213"))
    assert [f.modifiers for f in same] == [("57",)]
    assert run((MAR1, "27447"), (MAR1, "99213-57")) == []
    assert run((MAR1, "27447"), (d(2, 27), "99213")) == []  # two days before: outside


def test_010_same_day_25_post_op_24_and_boundary():
    same = run((MAR1, "10060"), (MAR1, "99213"))
    assert [(f.rule, f.modifiers) for f in same] == [("em_in_global", ("25",))]
    assert run((MAR1, "10060"), (MAR1, "99213-25")) == []
    assert run((MAR1, "10060"), (d(2, 28), "99213")) == []  # 010 has no day-before
    day10 = run((MAR1, "10060"), (d(3, 11), "99213"))
    assert [(f.rule, f.modifiers) for f in day10] == [("em_in_global", ("24",))]
    assert "10-day global ends 11 March 2026" in day10[0].message
    assert run((MAR1, "10060"), (d(3, 12), "99213")) == []


def test_000_same_day_only():
    same = run((MAR1, "20610"), (MAR1, "99213"))
    assert [(f.rule, f.modifiers) for f in same] == [("em_in_global", ("25",))]
    assert "RVU25A 20610: GLOB DAYS 000" in same[0].source
    assert run((MAR1, "20610"), (d(3, 2), "99213")) == []
    assert run((MAR1, "20610"), (MAR1, "99213-25")) == []


def test_surgical_care_only_has_no_post_op_visits():
    assert run((MAR1, "27447-54"), (d(3, 20), "99213")) == []
    assert run((MAR1, "27447-80"), (d(3, 20), "99213")) == []  # the assistant's post-op days are not theirs


def test_an_assisted_case_starts_no_global_period_of_ones_own(alice):
    rel = Release.objects.get(name="RVU25A")
    log(alice, "27447", date="2026-03-01", role="first_assist")
    assert entry_findings(alice, [EncounterLine(code="99213")], d(3, 20), rel) == []
    log(alice, "27447", date="2026-03-02", role="performed")
    assert [f.related.date for f in entry_findings(alice, [EncounterLine(code="99213")], d(3, 20), rel)] == [d(3, 2)]


def test_post_op_visit_code_is_not_an_em_warning():
    assert rules_of(run((MAR1, "27447"), (d(3, 20), "99024"))) == ["status_not_paid"]


# --------------------------------------------------------------------------- second procedure

def test_second_procedure_in_global_needs_58_78_79():
    found = run((MAR1, "27447"), (d(3, 15), "20610"))
    assert rules_of(found) == ["procedure_in_global"]
    assert found[0].modifiers == ("58", "78", "79") and found[0].related.code == "27447"
    for mod in ("58", "78", "79"):
        assert run((MAR1, "27447"), (d(3, 15), f"20610-{mod}")) == []
    assert rules_of(run((MAR1, "27447"), (d(5, 30), "29881"))) == ["procedure_in_global"]
    assert run((MAR1, "27447"), (d(5, 31), "29881")) == []
    # same-day procedures are the multiple-procedure rule's business, not this one
    assert run((MAR1, "27447"), (MAR1, "20610")) == []
    # a 000 procedure has no post-op days
    assert run((MAR1, "20610"), (d(3, 2), "20610")) == []


# --------------------------------------------------------------------------- add-on, endoscopy, status, bilateral

def test_addon_without_primary():
    found = run((MAR1, "11045"))
    assert rules_of(found) == ["addon_without_primary"]
    assert found[0].source == "RVU25A 11045: GLOB DAYS ZZZ"
    assert run((MAR1, "11042"), (MAR1, "11045")) == []
    assert run((MAR1, "64490"), (MAR1, "64491")) == []
    assert rules_of(run((MAR1, "64490"), (d(3, 2), "64491"))) == ["addon_without_primary"]


@pytest.mark.parametrize(("base", "member"), [("43235", "43239"), ("45378", "45385"), ("29870", "29881")])
def test_endoscopy_base_with_family_member(base, member):
    found = run((MAR1, base), (MAR1, member))
    assert [(f.rule, f.line.code, f.related.code) for f in found] == [("endo_base_with_family", base, member)]
    assert f"ENDO BASE {base}" in found[0].source and "MULT PROC 3" in found[0].source
    assert run((MAR1, base)) == []
    assert "endo_base_with_family" not in rules_of(run((MAR1, base), (d(3, 2), member)))  # another day


def test_status_codes_and_default_policy_credit():
    b = run((MAR1, "99024"))
    assert rules_of(b) == ["status_not_paid"] and "status B" in b[0].message and b[0].credits.startswith("0")
    assert "status P" in run((MAR1, "A4211"))[0].message
    n = run((MAR1, "99397"))[0]
    assert "status N" in n.message and "work RVU 2.00" in n.credits
    assert run((MAR1, "99397"), credit_non_medicare=False)[0].credits.startswith("0")
    i = run((MAR1, "99243"))[0]
    assert "status I" in i.message and "work RVU 1.80" in i.credits
    t_alone = run((MAR1, "G0117"))[0]
    assert "status T" in t_alone.message and "work RVU 0.45" in t_alone.credits
    t_with = [f for f in run((MAR1, "G0117"), (MAR1, "99213")) if f.line.code == "G0117"][0]
    assert t_with.credits.startswith("0 that day: 99213")
    assert run((MAR1, "99213")) == []


def test_bilateral_rt_lt_on_bilat_1():
    found = run((MAR1, "27447-RT"), (MAR1, "27447-LT"))
    assert rules_of(found) == ["bilateral_rt_lt"]
    assert found[0].modifiers == ("50",) and "27447-50" in found[0].fix
    assert found[0].source == "RVU25A 27447: BILAT SURG 1"
    assert run((MAR1, "27447-50")) == []
    assert run((MAR1, "10060-RT"), (MAR1, "10060-LT")) == []  # BILAT 0
    # typed later: the LT line of a pair whose RT line is already logged gets the warning
    rel = Release.objects.get(name="RVU25A")
    typed = check([Line(MAR1, "27447", ("RT",)), Line(MAR1, "27447", ("LT",), new=True)], facts_for(rel, {"27447"}))
    assert [(f.rule, f.line.text) for f in typed] == [("bilateral_rt_lt", "27447-LT")]


def test_rvu26c_rows_name_their_release(rvu26c):
    found = run((MAR1, "27447"), (d(3, 20), "99213"), release="RVU26C")
    assert found[0].source.startswith("RVU26C 27447: GLOB DAYS 090")
    assert rules_of(run((MAR1, "27447"), (d(5, 30), "99213"), release="RVU26C")) == ["em_in_global"]
    assert run((MAR1, "27447"), (d(5, 31), "99213"), release="RVU26C") == []
    assert [f.modifiers for f in run((MAR1, "20610"), (MAR1, "99213"), release="RVU26C")] == [("25",)]
    assert rules_of(run((MAR1, "11045"), release="RVU26C")) == ["addon_without_primary"]
    endo = run((MAR1, "43239"), (MAR1, "43235"), release="RVU26C")
    assert [(f.rule, f.source) for f in endo] == [("endo_base_with_family", "RVU26C 43239: ENDO BASE 43235, MULT PROC 3")]
    assert "status B" in run((MAR1, "99024"), release="RVU26C")[0].message
    assert rules_of(run((MAR1, "27447-RT"), (MAR1, "27447-LT"), release="RVU26C")) == ["bilateral_rt_lt"]


def test_every_rule_has_title_meaning_source_fix():
    for rule in RULES.values():
        assert rule.title and rule.meaning and rule.source and rule.fix


def test_only_new_lines_are_reported():
    rel = Release.objects.get(name="RVU25A")
    lines = [Line(MAR1, "27447"), Line(d(3, 20), "99213"), Line(d(3, 21), "99213", new=True)]
    found = check(lines, facts_for(rel, {"27447", "99213"}))
    assert [(f.line.date, f.rule) for f in found] == [(d(3, 21), "em_in_global")]


# --------------------------------------------------------------------------- the adapter: the user's own log

def test_entry_findings_read_the_users_log(alice, bob):
    log(alice, "27447", "2026-03-01")
    rel = Release.objects.get(name="RVU25A")
    found = entry_findings(alice, [EncounterLine(code="99213")], d(3, 20), rel)
    assert [f.rule for f in found] == ["em_in_global"]
    assert "27447" in found[0].message
    assert entry_findings(bob, [EncounterLine(code="99213")], d(3, 20), rel) == []  # another user's log is not yours
    assert entry_findings(alice, [EncounterLine(code="99213", modifiers=("24",))], d(3, 20), rel) == []
