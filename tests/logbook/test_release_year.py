"""Credit uses a release of the date of service's own year, and says so whenever it is not the one in force."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.test import Client

from tests.personas import log

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(("date", "release", "note"), [
    ("2026-08-03", "RVU26C", None),                      # in force
    ("2026-12-06", "RVU26C", None),
    ("2026-03-10", "RVU26C", "The 2026 release in force on this date is not loaded; credited with RVU26C"),
    ("2025-06-02", "RVU25A", None),
    ("2024-05-06", "RVU25A", "No 2024 CMS release is loaded; credited with RVU25A (2025 values)"),
])
def test_each_date_is_credited_with_its_years_release_and_says_when_it_is_not_in_force(rvu26c, alice, date,
                                                                                       release, note):
    enc = log(alice, "27447", date=date)
    assert enc.release == release
    if note is None:
        assert "release_note" not in enc.source
    else:
        assert enc.source["release_note"].startswith(note)


def test_2026_work_rvu_carries_the_efficiency_adjustment(rvu26c, alice):
    # A fresh install following the README (RVU26C + RVU25A) credits a 2026 knee replacement with 2026 values.
    enc = log(alice, "27447", date="2026-03-10")
    assert str(enc.total_wrvu) == "19.11"  # RVU26C; RVU25A has 19.60


def test_without_a_release_of_the_year_every_surface_says_so(alice, alice_client):
    enc = log(alice, "99214", date="2026-02-02")  # only RVU25A is loaded in the test database
    note = enc.source["release_note"]
    assert note.startswith("No 2026 CMS release is loaded; credited with RVU25A")
    assert note in alice_client.get(f"/log/e/{enc.pk}/").content.decode()
    api = alice_client.get(f"/api/log/encounters/{enc.pk}").json()
    assert api["source"]["release_note"] == note
    check = alice_client.get("/log/check/", {"entry": "99214", "date": "2026-02-02"}).content.decode()
    assert "No 2026 CMS release is loaded" in check and 'href="/data/"' in check
    data = json.loads(Client().get("/data.json").content)
    assert data["problems"] and "rvuedge data update" in data["fix"][0]


def test_data_page_lists_releases_and_offers_the_fix(rvu26c):
    body = Client().get("/data/").content.decode()
    assert "RVU26C (CY2026 July release)" in body and "from RVU25A (no GPCI file of its own)" in body
    status = json.loads(Client().get("/data.json").content)
    assert [r["name"] for r in status["releases"]] == ["RVU26C", "RVU25A"]
    assert status["releases"][0]["own_gpci"] is False and status["releases"][1]["own_gpci"] is True


def test_choose_release_prefers_the_dates_year():
    from types import SimpleNamespace as R

    from rvuedge.logbook.credit import choose_release

    def rel(name):
        return R(name=name, year=2000 + int(name[3:5]), quarter=name[5])
    a25, d25, c26 = rel("RVU25A"), rel("RVU25D"), rel("RVU26C")
    assert choose_release([a25, d25, c26], dt.date(2025, 11, 1)) == (d25, None)
    assert choose_release([a25, d25, c26], dt.date(2025, 2, 1)) == (a25, None)
    got, note = choose_release([a25, d25, c26], dt.date(2026, 1, 5))
    assert got is c26 and "in force on this date is not loaded" in note
    got, note = choose_release([c26], dt.date(2027, 1, 5))
    assert got is c26 and note.startswith("No 2027 CMS release is loaded")


def test_dashboard_and_summary_say_how_many_encounters_lack_their_years_release(rvu26c, alice, alice_client):
    log(alice, "27447", date="2026-03-10")   # RVU26C, not yet in force
    log(alice, "99214", date="2026-03-11")
    log(alice, "99214", date="2026-08-03")   # RVU26C, in force
    log(alice, "99214", date="2024-06-03")   # RVU25A: no 2024 release
    args = {"period": "year", "start": "2024-01-01", "end": "2026-12-31"}
    body = alice_client.get("/log/dashboard/", args).content.decode()
    assert "2 encounters of 2026 were credited with RVU26C, which was not yet in force on their dates" in body
    assert "1 encounter of 2024 was credited with RVU25A because no 2024 CMS release is loaded" in body
    summary = alice_client.get("/api/log/summary", args).json()
    assert summary["release_mismatches"] == [
        {"year": 2024, "release": "RVU25A", "n": 1, "no_release_of_year": True},
        {"year": 2026, "release": "RVU26C", "n": 2, "no_release_of_year": False},
    ]


def test_release_check_counts_only_live_encounters_in_the_range(rvu26c, alice):
    from rvuedge.logbook.actions import do_trash_encounters
    from rvuedge.logbook.queries import release_mismatches

    early = [log(alice, "99214", date=d) for d in ("2026-02-02", "2026-03-10", "2026-06-30")]
    log(alice, "99214", date="2026-07-01")   # RVU26C's first day in force
    log(alice, "99213", date="2025-12-31")   # RVU25A, in force all 2025
    do_trash_encounters(alice, [early[0].pk])
    assert release_mismatches(alice, dt.date(2025, 1, 1), dt.date(2026, 12, 31)) == [
        {"year": 2026, "release": "RVU26C", "n": 2, "no_release_of_year": False}]
    assert release_mismatches(alice, dt.date(2026, 3, 11), dt.date(2026, 12, 31)) == [
        {"year": 2026, "release": "RVU26C", "n": 1, "no_release_of_year": False}]
    assert release_mismatches(alice, dt.date(2026, 7, 1), dt.date(2026, 12, 31)) == []


def test_exports_say_which_encounters_were_credited_without_their_years_release(rvu26c, alice, alice_client):
    import csv
    import io

    import openpyxl

    log(alice, "27447", date="2026-03-10")
    log(alice, "99214", date="2026-08-03")
    log(alice, "99214", date="2024-06-03")
    r = alice_client.get("/log/export/", {"format": "csv"})
    rows = list(csv.DictReader(io.StringIO(b"".join(r.streaming_content).decode("utf-8-sig"))))
    notes = {row["date"]: row["release_note"] for row in rows}
    assert notes["2026-08-03"] == ""
    assert notes["2026-03-10"] == ("RVU26C was not yet in force on this date (the 2026 release in force was not "
                                   "loaded)")
    assert notes["2024-06-03"] == "No 2024 CMS release was loaded; credited with RVU25A (2025 values)"
    r = alice_client.get("/log/export/", {"format": "xlsx"})
    data = b"".join(r.streaming_content) if r.streaming else r.content
    sheet = openpyxl.load_workbook(io.BytesIO(data)).worksheets[0]
    header, *body = [list(row) for row in sheet.iter_rows(values_only=True)]
    col = header.index("release_note")
    assert sorted((row[col] or "") for row in body)[1].startswith("No 2024 CMS release")
