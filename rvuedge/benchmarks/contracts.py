"""Contract pay engine: base salary, FTE, threshold, $/wRVU tiers, payout share, draws with true-up and
clawback, stipends. Pure Python and ``Decimal`` throughout (no Django); every figure is explained.

The contract JSON format (also accepted by ``rvuedge contract pay`` and stored by the web app)::

    {
      "name": "Hospital offer 2026",
      "base_salary": "240000",            # annual, at 1.0 FTE
      "fte": "1.0",                       # scales base salary, threshold, tier bounds and draw
      "threshold": "4500",                # annual wRVUs at 1.0 FTE credited before any $/wRVU is earned
      "tiers": [                          # bands on the period's wRVU count, ascending; last one open
        {"up_to": "4500", "rate": "55"},
        {"up_to": "7000", "rate": "65"},
        {"rate": "75"}
      ],
      "rate": "60",                       # shorthand for one open tier (instead of "tiers")
      "tier_mode": "accrual",             # "accrual" (each band at its own rate) or "highest" (all at the
                                          # rate of the highest band reached)
      "tier_reset": "year",               # "year", "quarter" or "month": the wRVU count (and the
                                          # threshold and bands, pro rata) restart each period
      "payout_share": "1",                # share of the productivity pay that is paid (0-1)
      "draw": {"amount": "240000",        # annual advance (at 1.0 FTE) paid evenly each month
               "true_up": "quarter",      # "month", "quarter" or "year": when earned vs drawn is settled
               "clawback": true,          # deficits are paid back (false: the draw is a guaranteed floor)
               "carry_forward": false},   # deficits roll into the next true-up within the year
      "stipends": [{"name": "Medical directorship", "amount": "20000"}],   # annual, not FTE-scaled
      "credit_policy": "cms_mirror",      # "cms_mirror", "no_reductions" or a policy object
      "rvu_release": {"mode": "current"}, # or {"mode": "frozen", "release": "RVU24A"} or
                                          # {"mode": "blend", "releases": [{"release": .., "weight": ..}]}
      "year_start_month": 1               # the contract year starts on the 1st of this month
    }

Numbers may be JSON numbers or strings; all are read as ``Decimal``. Only ``name`` and one of
``rate``/``tiers``/``base_salary`` matter for a useful contract; everything else has the default shown.

Semantics, in one place:

* Tier bands and the threshold are positions on the wRVU count of a *reset period*. Only wRVUs above the
  threshold earn a rate. Annual figures are scaled by FTE and divided by the number of reset periods
  (4 for quarterly), rounded half-up to 0.01 wRVU.
* The year is cut into *segments*, the finest of the tier-reset and true-up periods. Production earned in a
  segment is ``F(count after) - F(count before)`` within its reset period, so reaching a higher tier in
  "highest" mode books the uplift for earlier wRVUs when it happens.
* Money is rounded half-up to cents once per explained line; totals are sums of the lines shown.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import ROUND_FLOOR, Decimal
from typing import Any

from rvuedge.pricing.money import cents, round_places

from .terms import (
    MONTH_NAMES,
    PERIODS,
    ContractError,
    ContractTerms,
    Draw,
    Stipend,
    Tier,
    decimal_field,
    fmt_money,
    fmt_pct,
    fmt_wrvu,
    load_contract,
)

__all__ = [
    "PERIODS",
    "ContractError",
    "ContractTerms",
    "Draw",
    "PayLine",
    "PayResult",
    "Stipend",
    "Tier",
    "compute_pay",
    "fmt_money",
    "fmt_wrvu",
    "load_contract",
    "next_tier",
    "period_label",
    "project_year",
    "split_total",
    "split_values",
]

ZERO = Decimal(0)
ONE = Decimal(1)
PERIOD_LABEL = {"year": "Year", "quarter": "Q", "month": "M"}


# --------------------------------------------------------------------------- computation


@dataclass(frozen=True)
class PayLine:
    section: str  # base | production | share | stipend | draw | true_up | info | total
    text: str
    amount: Decimal | None = None
    period: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"section": self.section, "period": self.period, "text": self.text,
                "amount": None if self.amount is None else str(self.amount)}


@dataclass
class PayResult:
    terms: ContractTerms
    wrvus: Decimal
    elapsed: Decimal  # fraction of the contract year covered, 0-1
    lines: list[PayLine]
    base: Decimal
    production_gross: Decimal
    production: Decimal  # after payout share: what the wRVUs earned
    stipends: Decimal
    draws_paid: Decimal
    true_up_paid: Decimal
    clawback: Decimal
    forgiven: Decimal
    open_true_up: dict[str, Any] | None
    periods: list[dict[str, Any]]

    @property
    def total(self) -> Decimal:
        if self.terms.draw is None:
            return self.base + self.production + self.stipends
        return self.base + self.stipends + self.draws_paid + self.true_up_paid - self.clawback

    @property
    def per_wrvu(self) -> Decimal | None:
        return cents(self.total / self.wrvus) if self.wrvus else None

    def explain(self) -> list[str]:
        return [line.text for line in self.lines] + [f"Total pay: {fmt_money(self.total)}"]

    def to_dict(self) -> dict[str, Any]:
        return {
            "contract": self.terms.name,
            "wrvus": str(self.wrvus),
            "year_fraction": str(self.elapsed),
            "base_salary": str(self.base),
            "production_gross": str(self.production_gross),
            "production": str(self.production),
            "stipends": str(self.stipends),
            "draws_paid": str(self.draws_paid),
            "true_up_paid": str(self.true_up_paid),
            "clawback": str(self.clawback),
            "forgiven": str(self.forgiven),
            "total": str(self.total),
            "comp_per_wrvu": None if self.per_wrvu is None else str(self.per_wrvu),
            "open_true_up": self.open_true_up,
            "periods": self.periods,
            "lines": [line.to_dict() for line in self.lines],
            "explanation": self.explain(),
            "terms": self.terms.to_dict(),
        }


@dataclass(frozen=True)
class _Band:
    number: int
    lo: Decimal
    hi: Decimal | None
    rate: Decimal


def _bands(terms: ContractTerms) -> tuple[list[_Band], Decimal]:
    """Tier bands and threshold for one reset period (scaled by FTE, divided by periods, to 0.01 wRVU)."""
    n = PERIODS[terms.tier_reset]

    def scale(v: Decimal) -> Decimal:
        q = cents(v * terms.fte / n)
        return q.to_integral_value() if q == q.to_integral_value() else q

    bands: list[_Band] = []
    lo = ZERO
    for i, tier in enumerate(terms.tiers, start=1):
        hi = None if tier.up_to is None else scale(tier.up_to)
        bands.append(_Band(i, lo, hi, tier.rate))
        lo = hi if hi is not None else lo
    return bands, scale(terms.threshold)


def _production(terms: ContractTerms, w: Decimal, label: str) -> tuple[Decimal, list[PayLine]]:
    """Productivity pay (before payout share) for ``w`` wRVUs counted in one reset period."""
    bands, threshold = _bands(terms)
    prefix = f"{label}: " if label else ""
    lines: list[PayLine] = []
    if not bands:
        return ZERO, lines
    if threshold:
        covered = min(w, threshold)
        lines.append(PayLine("info", f"{prefix}{'threshold' if prefix else 'Threshold'} {fmt_wrvu(threshold)} wRVU: {fmt_wrvu(covered)} wRVU "
                                     "earn no $/wRVU", None, label))
    paid = max(ZERO, w - threshold)
    if not paid:
        return ZERO, lines
    if terms.tier_mode == "highest":
        band = [b for b in bands if w > b.lo][-1]
        amount = cents(paid * band.rate)
        what = f"{fmt_wrvu(paid)} wRVU" if not threshold else f"{fmt_wrvu(paid)} wRVU above threshold"
        lines.append(PayLine("production", f"{prefix}{what} × {fmt_money(band.rate)} = {fmt_money(amount)} "
                                           f"(all at tier {band.number})", amount, label))
        return amount, lines
    total = ZERO
    for band in bands:
        top = w if band.hi is None else min(w, band.hi)
        units = top - max(band.lo, threshold)
        if units <= 0:
            continue
        amount = cents(units * band.rate)
        total += amount
        lines.append(PayLine("production", f"{prefix}{fmt_wrvu(units)} wRVU × {fmt_money(band.rate)} = "
                                           f"{fmt_money(amount)} (tier {band.number})", amount, label))
    return total, lines


def _earned(terms: ContractTerms, w: Decimal) -> Decimal:
    """Productivity pay after payout share for ``w`` wRVUs in one reset period (no explanation)."""
    gross, _ = _production(terms, w, "")
    return cents(gross * terms.payout_share)


def split_total(total: Decimal, parts: int) -> list[Decimal]:
    """Split wRVUs evenly into ``parts`` (to 0.01; the last part takes the rounding remainder)."""
    if parts == 1:
        return [total]
    each = cents(total / parts)
    return [each] * (parts - 1) + [total - each * (parts - 1)]


def split_values(text: str) -> list[str]:
    """'7,500' -> ['7500']; '1500 500 1200 800' or '1,500; 500' -> one value per period (commas group digits)."""
    return [v.replace(",", "").replace("_", "") for v in text.replace(";", " ").split() if v.strip(",")]


def period_label(kind: str, index: int, start_month: int) -> str:
    if kind == "year":
        return "Year"
    if kind == "quarter":
        return f"Q{index + 1}"
    return MONTH_NAMES[(start_month - 1 + index) % 12]


def compute_pay(
    terms: ContractTerms | dict[str, Any] | str,
    wrvus: Decimal | int | str | Sequence[Decimal | int | str],
    *,
    elapsed: Decimal | None = None,
) -> PayResult:
    """Pay for a contract year (or the part of it elapsed) from credited wRVUs.

    ``wrvus`` is one annual total (spread evenly over the contract's segments) or a list of wRVUs per
    segment (``terms.segments`` per year: 1, 4 or 12), from the start of the contract year; a shorter
    list is the year to date. ``elapsed`` (0-1) overrides the share of the year used to prorate base,
    stipends and draws (default: segments given / segments per year).
    """
    terms = load_contract(terms)
    lines: list[PayLine] = []
    segs = _segments(terms, wrvus, lines)
    share = _YearShare(terms, len(segs), elapsed)
    total_wrvu = sum(segs, ZERO)
    base = _annual_amounts(share, "base", [("Base salary", terms.base_salary)] if terms.base_salary else [], True,
                           lines)
    prod = _productivity(terms, segs, lines)
    if terms.tiers and not any(pl.section == "production" for pl in lines):
        lines.append(PayLine("production", f"{fmt_wrvu(total_wrvu)} wRVU earn no productivity pay", ZERO))
    stipends = _annual_amounts(share, "stipend", [(f"Stipend ({s.name})", s.amount) for s in terms.stipends], False,
                               lines)
    draws = _draws(terms, share, prod, lines) if terms.draw else _Draws()
    return PayResult(
        terms=terms, wrvus=total_wrvu, elapsed=share.frac, lines=lines, base=base,
        production_gross=prod.gross, production=prod.paid, stipends=stipends, draws_paid=draws.paid,
        true_up_paid=draws.true_up, clawback=draws.clawback, forgiven=draws.forgiven,
        open_true_up=draws.open_true_up, periods=prod.periods,
    )


def _segments(terms: ContractTerms, wrvus: Decimal | int | str | Sequence[Decimal | int | str],
              lines: list[PayLine]) -> list[Decimal]:
    """wRVUs per settlement segment: as given (the year to date), or one annual total spread evenly."""
    k = terms.segments
    seg_kind = terms.segment_kind
    if isinstance(wrvus, Sequence) and not isinstance(wrvus, str):
        segs = [decimal_field("wrvus", w) for w in wrvus]
        if not 1 <= len(segs) <= k:
            raise ContractError("wrvus", f"this contract settles by {seg_kind}: give one annual total or "
                                         f"1 to {k} values per {seg_kind}, not {len(segs)}")
        return segs
    total = decimal_field("wrvus", wrvus)
    segs = split_total(total, k)
    if k > 1:
        lines.append(PayLine("info", f"{fmt_wrvu(total)} wRVU assumed evenly spread over {k} {seg_kind}s "
                                     f"({fmt_wrvu(segs[0])} each)"))
    return segs


class _YearShare:
    """The share of the contract year covered (segments given, or ``elapsed``) and how annual amounts are
    prorated to it."""

    def __init__(self, terms: ContractTerms, n: int, elapsed: Decimal | None):
        k = terms.segments
        self.terms = terms
        self.frac = Decimal(n) / k if elapsed is None else decimal_field("elapsed", elapsed, high=ONE)
        self.whole_year = self.frac == ONE
        if elapsed is None:
            self.text = f"× {n} of {k} {terms.segment_kind}s"
        else:
            self.text = f"× {round_places(self.frac * 100, 1)}% of the year"

    def prorate(self, annual: Decimal) -> Decimal:
        return annual if self.whole_year else cents(annual * self.frac)

    def scaled(self, label: str, annual: Decimal, fte: bool) -> tuple[Decimal, str]:
        """An annual amount (times FTE when ``fte``) prorated to the share, and the line explaining it."""
        terms = self.terms
        parts = [f"{label} {fmt_money(annual)}"]
        full = cents(annual * terms.fte) if fte else annual
        if fte and terms.fte != ONE:
            parts.append(f"× {terms.fte.normalize()} FTE")
        if not self.whole_year:
            parts.append(self.text)
        amount = self.prorate(full)
        return amount, " ".join(parts) + (f" = {fmt_money(amount)}" if len(parts) > 1 else "")


@dataclass
class _Production:
    gross: Decimal = ZERO
    paid: Decimal = ZERO
    periods: list[dict[str, Any]] = field(default_factory=list)
    earned_by_seg: list[Decimal] = field(default_factory=list)  # productivity pay earned in each segment


def _productivity(terms: ContractTerms, segs: list[Decimal], lines: list[PayLine]) -> _Production:
    """Productivity pay per tier-reset period (tiers restart each period), after the payout share."""
    reset_n = PERIODS[terms.tier_reset]
    per_reset = terms.segments // reset_n
    out = _Production()
    for r in range(reset_n):
        chunk = segs[r * per_reset:(r + 1) * per_reset]
        if not chunk:
            break
        label = "" if reset_n == 1 else period_label(terms.tier_reset, r, terms.year_start_month)
        w = sum(chunk, ZERO)
        gross, plines = _production(terms, w, label)
        lines.extend(plines)
        if gross and terms.payout_share != ONE:
            paid = cents(gross * terms.payout_share)
            lines.append(PayLine("share", f"{label + ': ' if label else ''}payout share "
                                          f"{fmt_pct(terms.payout_share)} of {fmt_money(gross)} = "
                                          f"{fmt_money(paid)}", paid - gross, label))
        else:
            paid = gross
        out.gross += gross
        out.paid += paid
        out.periods.append({"period": label or "Year", "wrvus": str(w), "earned": str(paid)})
        cum = ZERO
        before = ZERO
        for seg in chunk:
            cum += seg
            after = _earned(terms, cum)
            out.earned_by_seg.append(after - before)
            before = after
    return out


def _annual_amounts(share: _YearShare, section: str, amounts: list[tuple[str, Decimal]], fte: bool,
                    lines: list[PayLine]) -> Decimal:
    """Annual amounts (base salary, stipends), each prorated to the share (times FTE when ``fte``) on a line of
    its own; their total."""
    total = ZERO
    for label, annual in amounts:
        amount, text = share.scaled(label, annual, fte)
        total += amount
        lines.append(PayLine(section, text, amount))
    return total


@dataclass
class _Draws:
    paid: Decimal = ZERO
    true_up: Decimal = ZERO
    clawback: Decimal = ZERO
    forgiven: Decimal = ZERO
    open_true_up: dict[str, Any] | None = None


def _draws(terms: ContractTerms, share: _YearShare, prod: _Production, lines: list[PayLine]) -> _Draws:
    """Draws advanced against productivity pay, settled at each true-up: paid, carried forward, clawed back or
    forgiven; the true-up still open when the share ends inside it."""
    d = terms.draw
    assert d is not None
    k = terms.segments
    frac = share.frac
    earned_by_seg = prod.earned_by_seg
    out = _Draws()
    annual = cents(d.amount * terms.fte)
    per_seg = split_total(annual, k)
    tn = PERIODS[d.true_up]
    seg_per_t = k // tn
    covered_segments = int((frac * k).to_integral_value(rounding=ROUND_FLOOR))
    out.paid, text = share.scaled("Draw", d.amount, True)
    lines.append(PayLine("info", f"Productivity pay earned ({fmt_money(prod.paid)}) is settled against the "
                                 f"draw at each {d.true_up}ly true-up"))
    lines.append(PayLine("draw", f"{text} advanced against productivity pay", out.paid))
    carried = ZERO
    for t in range(tn):
        segs_t = range(t * seg_per_t, (t + 1) * seg_per_t)
        label = period_label(d.true_up, t, terms.year_start_month)
        if segs_t.start >= len(earned_by_seg):
            break
        earned_t = sum((earned_by_seg[i] for i in segs_t if i < len(earned_by_seg)), ZERO)
        drawn_t = sum((per_seg[i] for i in segs_t), ZERO)
        if segs_t.stop > covered_segments:
            drawn_so_far = cents(annual * frac) - sum(per_seg[:segs_t.start], ZERO) if frac < ONE else drawn_t
            out.open_true_up = {"period": label, "earned": str(earned_t), "drawn": str(max(drawn_so_far, ZERO)),
                                "drawn_full_period": str(drawn_t), "carried_deficit": str(carried)}
            lines.append(PayLine("info", f"True-up {label} (open): earned {fmt_money(earned_t)} vs drawn "
                                         f"{fmt_money(max(drawn_so_far, ZERO))} so far", None, label))
            break
        diff = earned_t - drawn_t + carried
        carried_text = f" - carried deficit {fmt_money(-carried)}" if carried else ""
        head = f"True-up {label}: earned {fmt_money(earned_t)} - drawn {fmt_money(drawn_t)}{carried_text}"
        carried = ZERO
        if diff >= 0:
            out.true_up += diff
            lines.append(PayLine("true_up", f"{head} = {fmt_money(diff)} paid", diff, label))
        elif d.carry_forward and t < tn - 1:
            carried = diff
            lines.append(PayLine("true_up", f"{head} = {fmt_money(diff)} carried forward", ZERO, label))
        elif d.clawback:
            out.clawback += -diff
            lines.append(PayLine("true_up", f"{head} = {fmt_money(diff)} clawed back", diff, label))
        else:
            out.forgiven += -diff
            lines.append(PayLine("true_up", f"{head} = {fmt_money(diff)} forgiven (no clawback)", ZERO, label))
    return out


# --------------------------------------------------------------------------- projections


def project_year(terms: ContractTerms, segments_to_date: Sequence[Decimal], elapsed: Decimal) -> list[Decimal]:
    """Full-year segments: actuals so far, the rest at the year-to-date pace.

    ``segments_to_date`` covers the segments begun so far (the last may be partial); ``elapsed`` is the
    share of the contract year that has passed (0-1).
    """
    k = terms.segments
    done = sum(segments_to_date, ZERO)
    if elapsed <= 0:
        return [ZERO] * k
    annual_pace = done / elapsed
    per_seg = annual_pace / k
    out: list[Decimal] = []
    for i in range(k):
        seg_start, seg_end = Decimal(i) / k, Decimal(i + 1) / k
        actual = segments_to_date[i] if i < len(segments_to_date) else ZERO
        if elapsed >= seg_end:
            out.append(actual)
        else:
            remaining_share = (seg_end - max(seg_start, elapsed)) * k
            out.append(cents(actual + per_seg * remaining_share))
    return out


def next_tier(terms: ContractTerms, wrvus_in_period: Decimal) -> dict[str, Any] | None:
    """The next threshold or tier boundary above the current reset period's count, or None at the top."""
    bands, threshold = _bands(terms)
    if not bands:
        return None
    if wrvus_in_period < threshold:
        first = [b for b in bands if b.hi is None or b.hi > threshold][0]
        return {"label": "threshold", "at": str(threshold), "needed": str(threshold - wrvus_in_period),
                "rate": str(first.rate), "tier": first.number}
    for band in bands:
        if wrvus_in_period < band.lo:
            return {"label": f"tier {band.number}", "at": str(band.lo), "needed": str(band.lo - wrvus_in_period),
                    "rate": str(band.rate), "tier": band.number}
    return None
