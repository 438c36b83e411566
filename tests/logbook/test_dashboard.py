"""Dashboard: wRVUs by period, goals and pace, top codes, mix, payment equivalent; the stable query API.

Runs on the synthetic fee set (tests/synthetic.py), not RVU25A: the figures below are sums of its work RVUs
(cms_mirror credits a single service its work RVU): 99214 1.92, 99213 1.30, 27447 19.11, 20610 0.77, 99215 2.65.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from rvuedge.logbook import queries
from rvuedge.logbook.actions import do_trash_encounters
from tests.personas import log
from tests.synthetic import FEE_SET_RELEASE

pytestmark = [pytest.mark.django_db, pytest.mark.synthetic_fees]


@pytest.fixture
def year(alice):
    log(alice, "99214", date="2025-01-06", category="Office")             # 1.92, Monday of week 2
    log(alice, "99213", date="2025-01-07", category="Office")             # 1.30
    log(alice, "27447-RT", date="2025-04-15", category="Arthroplasty", setting="facility")  # 19.11
    log(alice, "20610-LT", date="2025-12-31", category="Injection", role="assisted")        # 0.77
    gone = log(alice, "99215", date="2025-04-16")                          # 2.65, then deleted
    do_trash_encounters(alice, [gone.pk])


def test_credited_wrvus_and_daily_wrvus(alice, year, bob):
    # 1.92 + 1.30 + 19.11 + 0.77 = 23.10 (the deleted 99215 left out); from Jan 7 to Apr 15: 1.30 + 19.11 = 20.41
    assert queries.credited_wrvus(alice, dt.date(2025, 1, 1), dt.date(2025, 12, 31)) == Decimal("23.10")
    assert queries.credited_wrvus(alice, dt.date(2025, 1, 7), dt.date(2025, 4, 15)) == Decimal("20.41")
    assert queries.credited_wrvus(bob, dt.date(2025, 1, 1), dt.date(2025, 12, 31)) == Decimal("0.00")
    assert queries.daily_wrvus(alice, dt.date(2025, 1, 1), dt.date(2025, 4, 30)) == [
        (dt.date(2025, 1, 6), Decimal("1.92")), (dt.date(2025, 1, 7), Decimal("1.30")),
        (dt.date(2025, 4, 15), Decimal("19.11"))]


@pytest.mark.parametrize("period,labels,values", [  # Jan 6 + Jan 7: 1.92 + 1.30 = 3.22
    ("week", ["2025-W02", "2025-W16", "2026-W01"], ["3.22", "19.11", "0.77"]),
    ("month", ["Jan 2025", "Apr 2025", "Dec 2025"], ["3.22", "19.11", "0.77"]),
    ("quarter", ["2025 Q1", "2025 Q2", "2025 Q4"], ["3.22", "19.11", "0.77"]),
    ("year", ["2025"], ["23.10"]),
])
def test_series_by_period(alice, year, period, labels, values):
    data = queries.series(alice, period, dt.date(2025, 1, 1), dt.date(2025, 12, 31))
    nonzero = [(b["label"], b["wrvu"]) for b in data["buckets"] if b["wrvu"] != "0.00"]
    assert nonzero == list(zip(labels, values, strict=True))
    assert data["total_wrvu"] == "23.10" and data["encounters"] == 4


def test_series_fills_empty_buckets(alice, year):
    data = queries.series(alice, "month", dt.date(2025, 1, 1), dt.date(2025, 12, 31))
    assert len(data["buckets"]) == 12 and data["buckets"][1] == {
        "start": "2025-02-01", "label": "Feb 2025", "wrvu": "0.00", "payment": "0.00", "encounters": 0}


def test_goal_progress_and_pace(alice, year):
    p = alice.profile
    p.annual_goal, p.monthly_goal, p.fte = Decimal("100"), None, Decimal("1")
    p.save()
    g = queries.goal_progress(alice, p, dt.date(2025, 6, 30))  # day 181 of 365
    assert g["ytd"] == Decimal("22.33") and g["mtd"] == Decimal("0.00")  # 1.92 + 1.30 + 19.11
    # Pace counts from the first logged day (Mon Jan 6: 126 working days to Jun 30), not from 1 January:
    # 22.33 + 22.33 / 126 x 132 working days left = 22.33 + 23.393... = 45.723... (was 22.33 / 181 x 365 calendar
    # days from 1 January).
    assert g["projected"] == Decimal("45.72")
    assert g["start"] == dt.date(2025, 1, 6) and "3 logged days in 126 working days" in g["basis_text"]
    assert g["on_pace"] is False and g["annual_percent"] == 22  # int(22.33 x 100 / 100)
    assert g["working_days_left"] == Decimal("132.0")  # Mon-Fri from Jul 1 to Dec 31, 2025
    assert g["per_working_day"] == Decimal("0.59")     # (100 - 22.33) / 132 = 0.5884...
    assert g["monthly_goal"] == Decimal("8.33")        # annual / 12
    p.fte = Decimal("0.5")                             # (100 - 22.33) / 66.0 working days = 1.1768...
    assert queries.goal_progress(alice, p, dt.date(2025, 6, 30))["per_working_day"] == Decimal("1.18")


def test_top_codes_and_mix_leave_out_the_trash(alice, year):
    top = queries.top_codes(alice, dt.date(2025, 1, 1), dt.date(2025, 12, 31))
    assert [(t["code"], t["wrvu"]) for t in top] == [
        ("27447", Decimal("19.11")), ("99214", Decimal("1.92")), ("99213", Decimal("1.30")), ("20610", Decimal("0.77"))]
    cats = queries.mix(alice, dt.date(2025, 1, 1), dt.date(2025, 12, 31), "category")
    assert [(c["label"], c["wrvu"], c["encounters"]) for c in cats] == [
        ("Arthroplasty", Decimal("19.11"), 1), ("Office", Decimal("3.22"), 2), ("Injection", Decimal("0.77"), 1)]
    roles = queries.mix(alice, dt.date(2025, 1, 1), dt.date(2025, 12, 31), "role")
    # 27447 is surgery: logged as the primary surgeon by default (issue 15; was "Performed" for every code).
    assert {r["label"] for r in roles} == {"Performed", "Primary surgeon", "Assisted"}
    assert queries.provenance(alice, dt.date(2025, 1, 1), dt.date(2025, 12, 31)) == [
        {"release": FEE_SET_RELEASE, "policy_name": "cms_mirror", "locality": "national", "n": 4}]


def test_the_page_shows_credited_wrvus_goals_and_a_table_view(alice_client, alice, year):
    alice.profile.annual_goal = Decimal("5000")
    alice.profile.save()
    r = alice_client.get("/log/dashboard/", {"period": "month", "start": "2025-01-01", "end": "2025-12-31"})
    body = r.content.decode()
    assert r.status_code == 200
    assert "23.10" in body                      # credited wRVUs in range
    assert "Table view" in body and "Apr 2025" in body
    assert 'id="chart-data"' in body and "chart.umd.min.js" in body
    assert "Annual goal 5,000" in body and "per working day" in body
    assert "Medicare-payment equivalent" in body
    assert "27447" in body and "Arthroplasty" in body
    assert f"{FEE_SET_RELEASE} · cms_mirror · national (4)" in body


def test_the_page_defaults_to_this_year(alice_client, alice):
    log(alice, "99213", date=timezone.localdate())
    r = alice_client.get("/log/dashboard/")
    assert r.context["d"]["total_wrvu"] == "1.30"  # 99213 (work 1.30), credited with the only release loaded
    assert r.context["d"]["start"] == f"{timezone.localdate().year}-01-01"


@pytest.mark.parametrize("period", queries.PERIODS)
def test_every_period_renders(alice_client, year, period):
    assert alice_client.get("/log/dashboard/", {"period": period}).status_code == 200


def test_the_benchmarks_panel_is_skipped_when_absent_and_included_when_present(alice_client, year, settings, tmp_path,
                                                                               monkeypatch):
    from django.template import TemplateDoesNotExist

    from rvuedge.logbook import views

    def missing(names):
        raise TemplateDoesNotExist(names[0])

    with monkeypatch.context() as m:
        m.setattr(views, "select_template", missing)
        r = alice_client.get("/log/dashboard/")
        assert r.status_code == 200 and r.context["benchmarks_panel"] is None
    (tmp_path / "benchmarks").mkdir()
    (tmp_path / "benchmarks" / "_dashboard_panel.html").write_text('<div id="bench-panel">panel {{ g.ytd }}</div>')
    settings.TEMPLATES = [{**settings.TEMPLATES[0], "DIRS": [tmp_path, *settings.TEMPLATES[0]["DIRS"]]}]
    body = alice_client.get("/log/dashboard/").content.decode()
    assert '<div id="bench-panel">panel' in body


def test_the_json_twin(alice_client, year):
    r = alice_client.get("/api/log/summary", {"period": "quarter", "start": "2025-01-01", "end": "2025-12-31"})
    data = r.json()
    assert r.status_code == 200 and data["total_wrvu"] == "23.10" and len(data["buckets"]) == 4
    assert data["top_codes"][0]["code"] == "27447" and data["goals"]["ytd"] is not None
    assert alice_client.get("/api/log/summary", {"period": "decade"}).status_code == 422
