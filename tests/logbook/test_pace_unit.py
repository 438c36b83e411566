"""Pace and percentile placement as pure functions (rvuedge.logbook.pace): no database, no clock."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal as D

from hypothesis import given
from hypothesis import strategies as st

from rvuedge.logbook import pace

MEDIANS = [(25, D("4000")), (50, D("5000")), (75, D("6200")), (90, D("7500"))]


def test_place_interpolates_between_the_known_points():
    got = pace.place(D("5600"), MEDIANS)
    assert got["estimate"] == 63  # 50 + 25 * 600 / 1200 = 62.5, rounded half-up
    assert got["below"] == (50, D("5000")) and got["next"] == (75, D("6200"))
    assert got["text"] == "tracking toward the 63rd percentile (between the 50th and the 75th)"


def test_place_outside_the_points_names_the_nearest_one():
    assert pace.place(D("3000"), MEDIANS)["text"] == "tracking below the 25th percentile"
    top = pace.place(D("9000"), MEDIANS)
    assert top["text"] == "tracking above the 90th percentile" and top["next"] is None and top["estimate"] is None
    assert pace.place(D("1"), [])["text"] == "no percentiles in this source"


def test_place_on_a_point_is_that_point():
    assert pace.place(D("5000"), MEDIANS)["estimate"] == 50


@given(st.decimals(min_value=0, max_value=20000, places=2))
def test_place_estimate_stays_between_its_neighbours(value):
    got = pace.place(value, MEDIANS)
    if got["estimate"] is not None:
        assert got["below"][0] <= got["estimate"] <= got["next"][0]


def test_weekdays_and_working_days():
    monday, friday, sunday = dt.date(2026, 11, 30), dt.date(2026, 12, 4), dt.date(2026, 12, 6)
    assert pace.weekdays_between(monday, friday) == 5
    assert pace.weekdays_between(monday, sunday) == 5  # the weekend adds nothing
    assert pace.weekdays_between(friday, monday) == 0  # an empty range
    assert pace.working_days(monday, friday, D("0.5")) == D("2.5")  # FTE scales the days


def test_per_working_day_to_a_target():
    got = pace.per_working_day(D("1000"), D("900"), dt.date(2026, 12, 4), dt.date(2026, 12, 11))
    assert got["working_days_left"] == 5 and got["per_day"] == D("20.00")  # Mon 7 .. Fri 11
    done = pace.per_working_day(D("1000"), D("1200"), dt.date(2026, 12, 4), dt.date(2026, 12, 11))
    assert done["remaining"] == 0 and done["per_day"] == 0  # already past it: nothing to do, never negative


def test_annualised_scales_to_a_year_and_to_full_time():
    # 1 July 2025 is day 182 of 365
    assert pace.annualised(D("2500"), dt.date(2025, 7, 1), D("1")) == D("5013.74")
    assert pace.annualised(D("2500"), dt.date(2025, 7, 1), D("0.5")) == D("10027.47")
