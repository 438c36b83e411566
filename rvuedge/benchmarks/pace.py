"""Pace and percentile placement (pure Python, Decimal): where an annualised wRVU pace falls among a
specialty's percentiles, and what it takes per working day to reach the next one."""

from __future__ import annotations

import calendar
import datetime as dt
from datetime import timedelta as td
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

ZERO = Decimal(0)
CENT = Decimal("0.01")
ORDINAL = {25: "25th", 50: "50th", 75: "75th", 90: "90th"}


def ordinal(n: int) -> str:
    if 10 <= n % 100 <= 20:
        suffix = "th"
    else:
        suffix = {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def weekdays_between(first: dt.date, last: dt.date) -> int:
    """Mon-Fri days in first..last inclusive."""
    if last < first:
        return 0
    days = (last - first).days + 1
    weeks, extra = divmod(days, 7)
    return weeks * 5 + sum(1 for i in range(extra) if (first.weekday() + i) % 7 < 5)


def annualised(ytd: Decimal, today: dt.date, fte: Decimal) -> Decimal:
    """Calendar-year-to-date wRVUs scaled to a full year and to 1.0 FTE."""
    jan1 = dt.date(today.year, 1, 1)
    elapsed = (today - jan1).days + 1
    days = 366 if calendar.isleap(today.year) else 365
    fte = fte if fte and fte > 0 else Decimal(1)
    return (ytd * days / elapsed / fte).quantize(CENT, ROUND_HALF_UP)


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
        if p1 == 90:
            out["text"] = "tracking above the 90th percentile"
    else:
        p2, _v2 = above[0]
        out["text"] = f"tracking below the {ORDINAL.get(p2, ordinal(p2))} percentile"
    return out


def per_working_day(target_annual: Decimal, ytd: Decimal, today: dt.date, fte: Decimal) -> dict[str, Decimal]:
    """wRVUs per remaining working day (Mon-Fri x FTE) to finish the calendar year at ``target_annual`` x FTE."""
    fte = fte if fte and fte > 0 else Decimal(1)
    target = target_annual * fte
    remaining = max(target - ytd, ZERO)
    days_left = (Decimal(weekdays_between(today + td(days=1), dt.date(today.year, 12, 31))) * fte).quantize(
        Decimal("0.1"))
    per_day = (remaining / days_left).quantize(CENT, ROUND_HALF_UP) if days_left and remaining else ZERO
    return {"target": target.quantize(CENT), "remaining": remaining.quantize(CENT), "working_days_left": days_left,
            "per_day": per_day}
