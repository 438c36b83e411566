"""Pace and projections (pure Python, Decimal; no Django): the one module behind the dashboard, the contract
status and the benchmark standing.

Pace counts from when the user started, never from 1 January by default:

* the **start** is the profile's start date when it falls in the period, else the first logged day in it;
* **prior wRVUs** (the profile's "wRVUs before the start date") are added to the year's total, not to the pace;
* the pace is the credited wRVUs since the start per working day (Mon-Fri) since the start, and a projection is
  what is credited so far plus that pace over the working days left;
* there is **no projection** until there is enough to project from: at least :data:`MIN_WORKING_DAYS` working
  days since the start and at least :data:`MIN_LOGGED_DAYS` days with something logged (:data:`RULE`).

Rounding goes through :mod:`rvuedge.pricing.money` (half-up to 0.01).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from datetime import timedelta as td
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from rvuedge.pricing.money import ONE, ZERO, round_places, round_wrvu

MIN_WORKING_DAYS = 10
MIN_LOGGED_DAYS = 3
RULE = (f"No projection until {MIN_WORKING_DAYS} working days have passed since you started "
        f"and you have logged on at least {MIN_LOGGED_DAYS} days.")
ORDINAL = {25: "25th", 50: "50th", 75: "75th", 90: "90th"}


def ordinal(n: int) -> str:
    if 10 <= n % 100 <= 20:
        suffix = "th"
    else:
        suffix = {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def weekdays_between(first: dt.date, last: dt.date) -> int:
    """Mon-Fri days in first..last inclusive (0 when last < first)."""
    if last < first:
        return 0
    days = (last - first).days + 1
    weeks, extra = divmod(days, 7)
    return weeks * 5 + sum(1 for i in range(extra) if (first.weekday() + i) % 7 < 5)


def working_days(first: dt.date, last: dt.date, fte: Decimal = ONE) -> Decimal:
    """Mon-Fri days in first..last scaled by FTE, to one decimal (what a 0.5 FTE clinician has left)."""
    return round_places(Decimal(weekdays_between(first, last)) * _fte(fte), 1)


def _fte(fte: Decimal | None) -> Decimal:
    return fte if fte and fte > 0 else ONE


def start_of(period_start: dt.date, today: dt.date, start_date: dt.date | None,
             first_logged: dt.date | None) -> dt.date | None:
    """Where pace counts from in a period beginning ``period_start``: the start date when it falls in
    period_start..today, else the first logged day (None: nothing logged and no start date in the period)."""
    if start_date is not None and period_start <= start_date <= today:
        return start_date
    if first_logged is not None and period_start <= first_logged <= today:
        return first_logged
    return None


def prior_counts(period_start: dt.date, period_end: dt.date, start_date: dt.date | None) -> bool:
    """Prior wRVUs belong to the period that holds the start date (a later year does not inherit them)."""
    return start_date is not None and period_start < start_date <= period_end


@dataclass(frozen=True)
class Basis:
    """What a projection is based on: credited wRVUs since ``start`` (``logged``, on ``logged_days`` days),
    plus ``prior`` wRVUs before it, as of ``today``."""

    today: dt.date
    start: dt.date | None
    logged: Decimal
    logged_days: int
    prior: Decimal = ZERO
    from_start_date: bool = False

    @property
    def working_days(self) -> int:
        return weekdays_between(self.start, self.today) if self.start else 0

    @property
    def ready(self) -> bool:
        return (self.start is not None and self.working_days >= MIN_WORKING_DAYS
                and self.logged_days >= MIN_LOGGED_DAYS)

    @property
    def total(self) -> Decimal:
        """Credited so far plus prior wRVUs."""
        return self.logged + self.prior

    @property
    def per_working_day(self) -> Decimal | None:
        """Exact credited wRVUs per working day since the start (None until :attr:`ready`)."""
        return self.logged / self.working_days if self.ready else None

    def project(self, end: dt.date) -> Decimal | None:
        """Total at ``end`` at the pace so far: credited + prior + pace x working days left (None until ready)."""
        rate = self.per_working_day
        if rate is None:
            return None
        return round_wrvu(self.total + rate * weekdays_between(self.today + td(days=1), end))

    def annual_pace(self, fte: Decimal = ONE) -> Decimal | None:
        """The pace as a full year's volume at 1.0 FTE: per working day x the year's working days / FTE."""
        rate = self.per_working_day
        if rate is None:
            return None
        year = self.today.year
        return round_wrvu(rate * weekdays_between(dt.date(year, 1, 1), dt.date(year, 12, 31)) / _fte(fte))

    def describe(self) -> str:
        """What the projection is based on, in words."""
        if self.start is None:
            return "Nothing logged yet. " + RULE
        since = "your start date" if self.from_start_date else "your first logged day"
        text = (f"Based on {fmt(self.logged)} wRVU on {self.logged_days} logged day{'s' if self.logged_days != 1 else ''}"
                f" in {self.working_days} working day{'s' if self.working_days != 1 else ''} since {since},"
                f" {self.start:%b} {self.start.day}, {self.start.year}")
        if self.prior:
            text += f", plus {fmt(self.prior)} wRVU before it"
        text += "."
        if not self.ready:
            text += " " + RULE
        return text

    def to_dict(self) -> dict[str, Any]:
        return {"start": self.start.isoformat() if self.start else None, "logged": str(round_wrvu(self.logged)),
                "logged_days": self.logged_days, "working_days": self.working_days, "prior": str(self.prior),
                "from_start_date": self.from_start_date, "ready": self.ready, "rule": RULE, "text": self.describe()}


def project_segments(actual: list[Decimal], bounds: list[tuple[dt.date, dt.date]], rate: Decimal,
                     today: dt.date, end: dt.date | None = None) -> list[Decimal]:
    """Each segment's actual wRVUs plus ``rate`` (wRVUs per working day) over its working days after ``today``
    (and up to ``end``, when the period stops early), rounded half-up to 0.01."""
    out = []
    for i, (a, b) in enumerate(bounds):
        last = min(b, end) if end else b
        ahead = weekdays_between(max(a, today + td(days=1)), last)
        out.append(round_wrvu((actual[i] if i < len(actual) else ZERO) + rate * ahead))
    return out


def fmt(value: Decimal) -> str:
    return f"{round_wrvu(value):,}"


def annualised(ytd: Decimal, today: dt.date, fte: Decimal) -> Decimal:
    """A typed calendar-year-to-date figure scaled to a full year and to 1.0 FTE (no log to start from)."""
    jan1 = dt.date(today.year, 1, 1)
    elapsed = (today - jan1).days + 1
    days = (dt.date(today.year, 12, 31) - jan1).days + 1
    return round_wrvu(ytd * days / elapsed / _fte(fte))


def place(value: Decimal, percentiles: list[tuple[int, Decimal]]) -> dict[str, Any]:
    """Where ``value`` falls: an interpolated percentile between known points, and the next point above."""
    pts = sorted((p, v) for p, v in percentiles if v is not None)
    out: dict[str, Any] = {"value": value, "estimate": None, "below": None, "above": None, "next": None}
    if not pts:
        out["text"] = "no percentiles in this source"
        return out
    below = [(p, v) for p, v in pts if v <= value]
    above = [(p, v) for p, v in pts if v > value]
    out["below"] = below[-1] if below else None
    out["next"] = above[0] if above else None
    if below and above:
        (p1, v1), (p2, v2) = below[-1], above[0]
        est = p1 + (p2 - p1) * (value - v1) / (v2 - v1) if v2 != v1 else Decimal(p1)
        out["estimate"] = int(est.to_integral_value(ROUND_HALF_UP)) if isinstance(est, Decimal) else int(est)
        out["text"] = (f"tracking toward the {ordinal(out['estimate'])} percentile "
                       f"(between the {ORDINAL.get(p1, ordinal(p1))} and the {ORDINAL.get(p2, ordinal(p2))})")
    elif below:
        p1, _v1 = below[-1]
        out["text"] = f"tracking above the {ORDINAL.get(p1, ordinal(p1))} percentile"
    else:
        p2, _v2 = above[0]
        out["text"] = f"tracking below the {ORDINAL.get(p2, ordinal(p2))} percentile"
    return out


def per_working_day(target: Decimal, done: Decimal, today: dt.date, end: dt.date,
                    fte: Decimal = ONE) -> dict[str, Decimal]:
    """wRVUs per remaining working day (Mon-Fri x FTE, after ``today`` up to ``end``) to go from ``done`` to
    ``target``."""
    remaining = max(target - done, ZERO)
    days_left = working_days(today + td(days=1), end, fte)
    per_day = round_wrvu(remaining / days_left) if days_left and remaining else ZERO
    return {"target": round_wrvu(target), "remaining": round_wrvu(remaining), "working_days_left": days_left,
            "per_day": per_day}
