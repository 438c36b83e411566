"""The first year: pace and projections count from when the user started (start date or first logged day,
plus prior wRVUs), and nothing is projected until there is enough to project from (pace.RULE)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from rvuedge.benchmarks import services
from rvuedge.logbook import pace, queries
from tests.personas import log, make_user

pytestmark = pytest.mark.django_db

SEP_30 = dt.date(2025, 9, 30)
TUESDAYS = ["2025-09-02", "2025-09-09", "2025-09-16", "2025-09-23"]


@pytest.fixture
def today_is(monkeypatch):
    def set_day(day: dt.date) -> dt.date:
        monkeypatch.setattr(timezone, "localdate", lambda *a, **k: day)
        return day
    return set_day


@pytest.fixture
def joined_september(db):
    """An attending who joined on 1 September 2025 with 2,100 wRVU from earlier in the year, logging 99214
    (1.92 wRVU) on four Tuesdays."""
    user = make_user("sept", stage="attending", specialty="Family Medicine", start_date=dt.date(2025, 9, 1),
                     prior_ytd_wrvu=Decimal("2100"))
    for day in TUESDAYS:
        log(user, "99214", date=day)
    return user


def test_pure_pace_rule_and_projection():
    b = pace.Basis(today=dt.date(2025, 9, 5), start=dt.date(2025, 9, 1), logged=Decimal("5.76"), logged_days=3)
    assert b.working_days == 5 and not b.ready and b.project(dt.date(2025, 12, 31)) is None
    assert pace.RULE in b.describe()
    b = pace.Basis(today=SEP_30, start=dt.date(2025, 9, 1), logged=Decimal("7.68"), logged_days=4,
                   prior=Decimal("2100"), from_start_date=True)
    # Sep 1-30 2025 has 22 working days, Oct 1 - Dec 31 has 66: 2,100 + 7.68 + 7.68 / 22 x 66.
    assert b.ready and b.project(dt.date(2025, 12, 31)) == Decimal("2130.72")
    assert b.annual_pace() == Decimal("91.11")  # 7.68 / 22 x 261 working days in 2025
    assert "since your start date, Sep 1, 2025, plus 2,100.00 wRVU before it" in b.describe()
    assert pace.weekdays_between(dt.date(2025, 1, 1), dt.date(2025, 12, 31)) == 261


def test_dashboard_projects_from_the_start_date_with_prior_wrvus(joined_september):
    profile = joined_september.profile
    g = queries.goal_progress(joined_september, profile, SEP_30)
    assert g["logged_ytd"] == Decimal("7.68") and g["prior"] == Decimal("2100")
    assert g["ytd"] == Decimal("2107.68")
    assert g["start"] == dt.date(2025, 9, 1)
    assert g["projected"] == Decimal("2130.72")  # not 2,107.68 / 273 x 365 as if working since 1 January
    assert "4 logged days in 22 working days since your start date" in g["basis_text"]


def test_prior_wrvus_stay_in_the_year_of_the_start_date(joined_september):
    log(joined_september, "99213", date="2026-01-05")
    g = queries.goal_progress(joined_september, joined_september.profile, dt.date(2026, 1, 5))
    assert g["prior"] == 0 and g["ytd"] == Decimal("1.30") and g["projected"] is None


def test_without_a_start_date_pace_counts_from_the_first_logged_day(db):
    user = make_user("newbie")
    for day in TUESDAYS:
        log(user, "99214", date=day)
    g = queries.goal_progress(user, user.profile, SEP_30)
    assert g["start"] == dt.date(2025, 9, 2) and g["prior"] == 0
    # Sep 2-30: 21 working days; 7.68 + 7.68 / 21 x 66.
    assert g["projected"] == (Decimal("7.68") + Decimal("7.68") / 21 * 66).quantize(Decimal("0.01"))
    assert "since your first logged day" in g["basis_text"]


def test_one_logged_day_shows_no_projection(client, today_is, db):
    today_is(dt.date(2025, 12, 6))
    user = make_user("res1", stage="resident", specialty="General Surgery")
    log(user, "99214 99214 99215", date="2025-12-06")
    g = queries.goal_progress(user, user.profile, dt.date(2025, 12, 6))
    assert g["projected"] is None and g["basis"]["ready"] is False
    client.force_login(user)
    page = client.get("/log/dashboard/").content.decode()
    assert "No projection yet" in page and pace.RULE in page
    summary = client.get("/api/log/summary").json()["goals"]
    assert summary["projected"] is None and summary["rule"] == pace.RULE


def test_contract_status_projects_from_the_start(joined_september, today_is):
    today_is(SEP_30)
    contract = services.do_save_contract(joined_september, name="Clinic", start=dt.date(2025, 1, 1), end=None,
                                         terms={"base_salary": "100000", "threshold": "4000", "rate": "50"})
    st = services.contract_status(joined_september, contract, today=SEP_30)
    # The contract year began before the start date: the prior wRVUs count toward it.
    assert st["ytd_wrvu"] == Decimal("2107.68")
    assert st["basis"].start == dt.date(2025, 9, 1)
    assert st["projected_wrvu"] == Decimal("2130.72")  # the dashboard's figure: one pace module
    assert st["projected"] is not None


def test_contract_starting_on_the_start_date_leaves_prior_wrvus_out(joined_september):
    contract = services.do_save_contract(joined_september, name="New job", start=dt.date(2025, 9, 1), end=None,
                                         terms={"base_salary": "100000", "threshold": "4000", "rate": "50"})
    st = services.contract_status(joined_september, contract, today=SEP_30)
    assert st["ytd_wrvu"] == Decimal("7.68")
    assert st["projected_wrvu"] == Decimal("30.72")  # 7.68 + 7.68 / 22 x 66
    # Base salary accrues from 1 September: 30 of 365 days earned, 122 of 365 in the projected year (not the
    # 273 days elapsed since 1 January, nor a whole year).
    assert st["earned"].base == Decimal("8219.18") and st["projected"].base == Decimal("33424.66")
    assert st["count_from"] == dt.date(2025, 9, 1)


def test_contract_status_with_one_logged_day_has_no_projection(db, client, today_is):
    today_is(dt.date(2025, 9, 30))
    user = make_user("att1", specialty="Family Medicine")
    log(user, "99214", date="2025-09-30")
    contract = services.do_save_contract(user, name="Clinic", start=dt.date(2025, 1, 1), end=None,
                                         terms={"base_salary": "100000", "threshold": "4000", "rate": "50"})
    st = services.contract_status(user, contract, today=dt.date(2025, 9, 30))
    assert st["projected"] is None and st["projected_wrvu"] is None
    client.force_login(user)
    page = client.get(f"/benchmarks/contracts/{contract.pk}/").content.decode()
    assert "No projection yet" in page and pace.RULE in page
    data = client.get(f"/api/benchmarks/contracts/{contract.pk}").json()
    assert data["projected"] is None and data["basis"]["ready"] is False


def test_benchmark_standing_paces_from_the_start(joined_september):
    st = services.standing(joined_september, today=SEP_30)
    assert st["basis"].start == dt.date(2025, 9, 1)
    assert st["pace"] == Decimal("91.11")  # 7.68 / 22 working days x 261 (not 7.68 / 273 x 365 from 1 January)
    assert st["ytd"] == Decimal("2107.68")


def test_benchmark_standing_with_one_logged_day_places_nothing(db, client, today_is):
    today_is(dt.date(2025, 9, 30))
    user = make_user("att2", specialty="Family Medicine")
    log(user, "99214", date="2025-09-30")
    st = services.standing(user, today=dt.date(2025, 9, 30))
    assert st["pace"] is None and st["placement"] is None
    client.force_login(user)
    page = client.get("/benchmarks/").content.decode()
    assert 'data-testid="no-projection"' in page and 'id="bm-chart"' not in page


def test_profile_form_takes_start_date_and_prior_wrvus(client, db):
    user = make_user("form")
    client.force_login(user)
    page = client.get("/accounts/profile/").content.decode()
    assert 'name="start_date"' in page and 'name="prior_ytd_wrvu"' in page
    r = client.post("/accounts/profile/", {"career_stage": "attending", "specialty": "", "default_setting": "non_facility",
                                           "credit_policy": "cms_mirror", "fte": "1.00",
                                           "prior_ytd_wrvu": "2100"})
    assert r.status_code == 200 and "start date" in r.content.decode()  # prior wRVUs need the start date
    r = client.post("/accounts/profile/", {"career_stage": "attending", "specialty": "", "default_setting": "non_facility",
                                           "credit_policy": "cms_mirror", "fte": "1.00", "start_date": "2025-09-01",
                                           "prior_ytd_wrvu": "2100"})
    assert r.status_code == 302
    user.profile.refresh_from_db()
    assert user.profile.start_date == dt.date(2025, 9, 1) and user.profile.prior_ytd_wrvu == Decimal("2100")


# --------------------------------------------------------------------------- benchmarks fit the career stage

def _survey(tmp_path):
    from django.core.management import call_command

    csv = tmp_path / "survey.csv"
    csv.write_text("# year: 2025\n# kind: survey\n# fte_basis: 1.0 FTE\n# licence: test figures\n"
                   "specialty,metric,p25,p50,p75,p90\nGeneral Surgery,wrvu,5000,7000,9500,12000\n")
    call_command("benchmarks", "import", str(csv), "--source", "Attending survey")


def test_residents_see_case_counts_not_attending_medians(client, today_is, tmp_path, db):
    _survey(tmp_path)
    today_is(dt.date(2025, 9, 30))
    res = make_user("pgy1", stage="resident", specialty="General Surgery",
                    minimums_set="Example Surgery (not real minimums)")
    for day in TUESDAYS:
        log(res, "47562", date=day, setting="facility")
    st = services.standing(res, today=dt.date(2025, 9, 30))
    assert st["placement"] is None and st["pace"] is None and "case counts" in st["stage_note"]
    assert {p["category"]: p["done"] for p in st["cases"]["progress"]}["Cholecystectomy"] == 4
    client.force_login(res)
    for url in ("/log/dashboard/", "/benchmarks/"):
        page = client.get(url).content.decode()
        assert 'data-testid="stage-note"' in page and 'id="bm-chart"' not in page, url
        assert "tracking" not in page, url
    assert 'data-testid="case-progress"' in client.get("/log/dashboard/").content.decode()
    assert client.get("/api/benchmarks/me").json()["tracking"] is None


def test_students_see_neither_percentiles_nor_minimums(client, today_is, tmp_path, db):
    _survey(tmp_path)
    today_is(dt.date(2025, 9, 30))
    student = make_user("ms3", stage="student", specialty="General Surgery")
    for day in TUESDAYS:
        log(student, "47562", date=day, setting="facility")
    client.force_login(student)
    page = client.get("/log/dashboard/").content.decode()
    assert "Students are not compared" in page and 'id="bm-chart"' not in page
    assert 'data-testid="case-progress"' not in page
    assert "Case minimums are for residents" in client.get("/log/cases/").content.decode()


def test_attendings_see_attending_percentiles(client, today_is, tmp_path, db):
    _survey(tmp_path)
    today_is(dt.date(2025, 9, 30))
    att = make_user("att3", specialty="General Surgery")
    for day in TUESDAYS:
        log(att, "47562", date=day, setting="facility")
    client.force_login(att)
    page = client.get("/log/dashboard/").content.decode()
    assert 'id="bm-chart"' in page and "tracking below the 25th percentile" in page
    assert 'data-testid="pace-basis"' in page and "since your first logged day" in page


def test_a_year_already_past_the_next_percentile_says_so_not_zero_per_day(joined_september, tmp_path, client,
                                                                           today_is):
    from django.core.management import call_command

    csv = tmp_path / "s.csv"
    csv.write_text("# year: 2025\n# kind: survey\n# fte_basis: 1.0 FTE\n# licence: test figures\n"
                   "specialty,metric,p25,p50,p75,p90\nFamily Medicine,wrvu,50,2000,3000,4000\n")
    call_command("benchmarks", "import", str(csv), "--source", "Low survey")
    today_is(SEP_30)
    st = services.standing(joined_september, today=SEP_30)
    assert st["placement"]["next"][0] == 50 and st["to_next"]["remaining"] == 0  # 2,107.68 with the prior
    client.force_login(joined_september)
    page = client.get("/benchmarks/").content.decode()
    assert "already reach the 50th percentile" in page and "0.00 wRVU per working day" not in page
