"""A contract that credits differently from the log: its year is re-credited per day, kept, and a change to the
log re-credits the days it touched only (rvuedge.logbook.credit.recredited_days)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from rvuedge.benchmarks import services
from rvuedge.logbook import credit
from rvuedge.logbook.actions import (
    EncounterInput,
    do_restore_encounters,
    do_trash_encounters,
    do_update_encounter,
)
from tests.personas import log, make_user

pytestmark = pytest.mark.django_db

YEAR = (dt.date(2025, 1, 1), dt.date(2025, 12, 31))


@pytest.fixture
def counted(monkeypatch):
    """How many encounters each call of recredited_days credited again, by date."""
    seen: list[dt.date] = []
    real = credit.recredit

    def counting(crediter, encounters):
        for again in real(crediter, encounters):
            seen.append(again.encounter.date)
            yield again

    monkeypatch.setattr(credit, "recredit", counting)
    return seen


def mirror_contract(user):
    """A CMS-mirror contract for a user who logs with no reductions: every view re-credits."""
    contract = services.do_save_contract(user, name="Mirror", start=dt.date(2025, 1, 1), end=None,
                                         terms={"rate": "50", "credit_policy": "cms_mirror"})
    return contract.get_terms()


def uncached(user, terms):
    """The same year credited again from nothing (the kept days forgotten)."""
    from django.core.cache import caches

    caches["recredit"].clear()
    return services.daily_credit(user, *YEAR, terms)


def test_second_view_recredits_nothing_and_agrees(counted):
    att = make_user("rc1", credit_policy="no_reductions")
    log(att, "27447-RT 20610-LT", setting="facility", date="2025-03-04")
    log(att, "99214 20610-RT", date="2025-03-05")
    terms = mirror_contract(att)
    first = services.daily_credit(att, *YEAR, terms)
    assert sorted(counted) == [dt.date(2025, 3, 4), dt.date(2025, 3, 5)]
    counted.clear()
    again = services.daily_credit(att, *YEAR, terms)
    assert counted == [] and again == first
    # the mirror policy halves the second procedure; no reductions kept it whole
    (day, wrvu), = first[0][:1]
    assert day == dt.date(2025, 3, 4)
    assert wrvu < sum(e.total_wrvu for e in att.encounters.filter(date=dt.date(2025, 3, 4)))


def test_a_new_case_recredits_its_day_only(counted):
    att = make_user("rc2", credit_policy="no_reductions")
    for day in ("2025-02-03", "2025-02-04", "2025-02-05"):
        log(att, "27447-RT 20610-LT", setting="facility", date=day)
    terms = mirror_contract(att)
    services.daily_credit(att, *YEAR, terms)
    counted.clear()
    log(att, "99214 20610-RT", date="2025-02-04")
    got = services.daily_credit(att, *YEAR, terms)
    assert counted == [dt.date(2025, 2, 4), dt.date(2025, 2, 4)]  # that day's two encounters, nothing else
    assert got == uncached(att, terms)


def test_edit_trash_and_restore_are_seen(counted):
    att = make_user("rc3", credit_policy="no_reductions")
    keep = log(att, "27447-RT 20610-LT", setting="facility", date="2025-04-01")
    other = log(att, "45378 45380", date="2025-04-02")
    terms = mirror_contract(att)
    before = services.daily_credit(att, *YEAR, terms)

    do_update_encounter(att, keep, EncounterInput(entry="27447-RT", date=keep.date, setting="facility"))
    edited = services.daily_credit(att, *YEAR, terms)
    assert edited == uncached(att, terms) and edited != before

    do_trash_encounters(att, [other.pk])
    trashed = services.daily_credit(att, *YEAR, terms)
    assert [d for d, _ in trashed[0]] == [dt.date(2025, 4, 1)] and trashed == uncached(att, terms)

    do_restore_encounters(att, [other.pk])
    assert services.daily_credit(att, *YEAR, terms) == edited


def test_another_policy_or_user_never_reads_these_days():
    att = make_user("rc4", credit_policy="no_reductions")
    log(att, "27447-RT 20610-LT", setting="facility", date="2025-05-06")
    mirror = services.daily_credit(att, *YEAR, mirror_contract(att))
    other_terms = services.do_save_contract(att, name="Offer", start=dt.date(2025, 1, 1), end=None, is_offer=True,
                                            terms={"rate": "50", "credit_policy": {"wrvu_profile": "cms_mirror",
                                                                                   "multiple_procedure": False}})
    other = services.daily_credit(att, *YEAR, other_terms.get_terms())
    assert other != mirror and other == uncached(att, other_terms.get_terms())

    bob = make_user("rc5", credit_policy="no_reductions")
    assert services.daily_credit(bob, *YEAR, mirror_contract(bob)) == ([], [])


def test_the_daily_figures_match_the_what_if_preview():
    from rvuedge.logbook import queries

    att = make_user("rc6", credit_policy="no_reductions")
    for day in ("2025-06-02", "2025-06-03"):
        log(att, "27447-RT 20610-LT", setting="facility", date=day)
        log(att, "99214 20610-RT", date=day)
    days, notes = services.daily_credit(att, *YEAR, mirror_contract(att))
    preview = queries.what_if(att, att.profile, *YEAR, policy="cms_mirror")
    assert notes == [] and sum((w for _, w in days), Decimal(0)) == preview["what_if_total"]


def test_an_edit_that_keeps_the_days_totals_is_still_seen(counted):
    # Under no reductions a first assist keeps full credit, so the day's stored totals do not move; the contract
    # (CMS mirror) credits the assistant at 16%: only the saved time tells the kept day is stale.
    att = make_user("rc7", credit_policy="no_reductions")
    enc = log(att, "27447-RT", setting="facility", role="primary", date="2025-07-07")
    log(att, "27447-RT", setting="facility", role="primary", date="2025-07-08")
    terms = mirror_contract(att)
    before, _ = services.daily_credit(att, *YEAR, terms)
    edited = do_update_encounter(att, enc, EncounterInput(entry="27447-RT", date=enc.date, setting="facility",
                                                          role="first_assist"))
    assert edited.total_wrvu == enc.total_wrvu
    counted.clear()
    after, _ = services.daily_credit(att, *YEAR, terms)
    assert counted == [dt.date(2025, 7, 7)]
    assert after[0][1] == (before[0][1] * Decimal("0.16")).quantize(Decimal("0.01")) and after[1] == before[1]
