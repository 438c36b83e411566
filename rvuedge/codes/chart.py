"""The code page's history chart as a small server-rendered SVG: no JavaScript, no chart library.

Pure (no Django): takes the ``history["chart"]`` dict of a code page (labels plus figures as text, ``None``
where a release has no value) and returns ``<svg>`` markup. RVUs are drawn against the left axis, the national
non-facility payment against the right one. Coordinates are computed with Decimal like every figure here and
written with one decimal place; the table beside the chart carries the exact values.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_CEILING, Decimal
from html import escape

WIDTH, HEIGHT = 420, 270  # small enough that its 13-unit text stays legible (about 11 px) on a 360 px phone
LEFT, RIGHT, TOP, BOTTOM = 48, 60, 14, 70  # plot margins: axis labels below and at both sides, legend under them


@dataclass(frozen=True)
class Series:
    key: str
    label: str
    color: str
    axis: str  # "rvu" (left) or "usd" (right)
    dash: str = ""


SERIES = [
    Series("work_rvu", "Work RVU", "#0b6e4f", "rvu"),
    Series("nonfac_total", "Total RVU, non-facility", "#2563eb", "rvu"),
    Series("fac_total", "Total RVU, facility", "#7c3aed", "rvu", "5 4"),
    Series("payment_nonfac", "National $, non-facility", "#c2410c", "usd"),
]


def _dec(value: str | None) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        return Decimal(value)
    except ArithmeticError:
        return None


def nice_max(value: Decimal) -> Decimal:
    """The smallest 1, 2, 2.5 or 5 × 10^k at least ``value`` (the top of an axis); 1 for nothing to show."""
    if value <= 0:
        return Decimal(1)
    exp = value.adjusted()
    for _ in range(3):
        for step in (Decimal(1), Decimal(2), Decimal("2.5"), Decimal(5), Decimal(10)):
            top = step.scaleb(exp)
            if top >= value:
                return top
        exp += 1
    return value.to_integral_value(rounding=ROUND_CEILING)


def _fmt_tick(value: Decimal, money: bool) -> str:
    text = f"{value:,.0f}" if value == value.to_integral_value() else f"{value:,.1f}"
    return f"${text}" if money else text


def _c(value: Decimal) -> str:
    return f"{value:.1f}"


def history_svg(chart: dict[str, list[str | None]], *, code: str) -> str:
    """``<svg>`` of the history chart, or "" when there is no release to draw."""
    labels = chart.get("labels") or []
    if not labels:
        return ""
    values = {s.key: [_dec(v) for v in chart.get(s.key, [])] for s in SERIES}
    tops = {}
    for axis in ("rvu", "usd"):
        present = [v for s in SERIES if s.axis == axis for v in values[s.key] if v is not None]
        tops[axis] = nice_max(max(present, default=Decimal(0)))
    plot_w, plot_h = Decimal(WIDTH - LEFT - RIGHT), Decimal(HEIGHT - TOP - BOTTOM)
    n = len(labels)

    def x(i: int) -> Decimal:
        return Decimal(LEFT) + (plot_w / 2 if n == 1 else plot_w * i / (n - 1))

    def y(v: Decimal, axis: str) -> Decimal:
        return Decimal(TOP) + plot_h - plot_h * v / tops[axis]

    out = [f'<svg class="history-svg" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-labelledby="hc-t hc-d" '
           f'xmlns="http://www.w3.org/2000/svg" font-size="13" font-family="system-ui, sans-serif">',
           f'<title id="hc-t">History of {escape(code)} across the loaded releases</title>',
           f'<desc id="hc-d">Work RVU, total RVUs and national non-facility payment of {escape(code)} by release, '
           f'{escape(labels[0])} to {escape(labels[-1])}; the table below lists every value.</desc>']
    for k in range(5):  # gridlines and both axes' ticks
        frac = Decimal(k) / 4
        gy = Decimal(TOP) + plot_h - plot_h * frac
        out.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{_c(gy)}" y2="{_c(gy)}" stroke="#e5e7eb"/>')
        out.append(f'<text x="{LEFT - 6}" y="{_c(gy + 4)}" text-anchor="end" fill="#374151">'
                   f'{_fmt_tick(tops["rvu"] * frac, False)}</text>')
        out.append(f'<text x="{WIDTH - RIGHT + 6}" y="{_c(gy + 4)}" fill="#374151">'
                   f'{_fmt_tick(tops["usd"] * frac, True)}</text>')
    base_y = HEIGHT - BOTTOM
    every = max(1, -(-n // 8))  # at most about 8 release labels on the x axis
    for i, label in enumerate(labels):
        if i % every == 0 or i == n - 1:
            out.append(f'<text x="{_c(x(i))}" y="{base_y + 19}" text-anchor="middle" fill="#374151">'
                       f"{escape(label)}</text>")
    out.append(f'<text x="14" y="{TOP + plot_h / 2}" transform="rotate(-90 14 {TOP + plot_h / 2})" '
               'text-anchor="middle" fill="#374151">RVUs</text>')
    for s in SERIES:
        points = [(x(i), y(v, s.axis)) for i, v in enumerate(values[s.key]) if v is not None]
        if not points:
            continue
        dash = f' stroke-dasharray="{s.dash}"' if s.dash else ""
        if len(points) > 1:
            path = " ".join(f"{_c(px)},{_c(py)}" for px, py in points)
            out.append(f'<polyline points="{path}" fill="none" stroke="{s.color}" stroke-width="2"{dash}/>')
        out += [f'<circle cx="{_c(px)}" cy="{_c(py)}" r="3" fill="{s.color}"/>' for px, py in points]
    # legend: two rows of two under the axis labels
    for i, s in enumerate(SERIES):
        lx = LEFT - 30 + (i % 2) * 200
        ly = base_y + 38 + (i // 2) * 18
        dash = f' stroke-dasharray="{s.dash}"' if s.dash else ""
        out.append(f'<line x1="{lx}" x2="{lx + 18}" y1="{ly - 4}" y2="{ly - 4}" stroke="{s.color}" '
                   f'stroke-width="2"{dash}/><text x="{lx + 24}" y="{ly}" fill="#111827">{escape(s.label)}</text>')
    out.append("</svg>")
    return "".join(out)
