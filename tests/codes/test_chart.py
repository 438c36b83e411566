"""The history chart is pure SVG built from the page dict's chart data (rvuedge/codes/chart.py imports no Django)."""

from __future__ import annotations

import ast
import xml.etree.ElementTree as ET
from decimal import Decimal
from pathlib import Path

from rvuedge.codes import chart

SVG = "{http://www.w3.org/2000/svg}"


def test_nice_axis_tops():
    assert [chart.nice_max(Decimal(v)) for v in ("0", "0.7", "1", "19.6", "37.2", "1234.56")] == [
        Decimal(1), Decimal(1), Decimal(1), Decimal(20), Decimal(50), Decimal(2000)]
    assert chart.nice_max(Decimal("2.3")) == Decimal("2.5")


def test_lines_points_and_escaped_text():
    data = {"labels": ["RVU24A", "RVU25A", "<x>"], "work_rvu": ["19.60", None, "19.11"],
            "nonfac_total": ["38.00", "37.50", "36.00"], "fac_total": ["38.00", "37.50", "36.00"],
            "payment_nonfac": ["1234.56", "1200.00", None], "payment_fac": [None, None, None]}
    svg = chart.history_svg(data, code="27447")
    root = ET.fromstring(svg)  # well-formed, text escaped
    assert root.tag == SVG + "svg" and root.find(SVG + "title").text.startswith("History of 27447")
    lines = root.findall(SVG + "polyline")
    assert len(lines) == 4  # work (2 points), both totals, payment (2 points)
    assert len(lines[0].get("points").split()) == 2
    assert "<x>" in [t.text for t in root.iter(SVG + "text")]
    ys = [float(c.get("cy")) for c in root.findall(SVG + "circle")]
    assert all(chart.TOP <= y <= chart.HEIGHT - chart.BOTTOM for y in ys)


def test_one_release_is_points_only_and_nothing_is_empty():
    one = chart.history_svg({"labels": ["RVU25A"], "work_rvu": ["1.92"], "nonfac_total": ["3.70"],
                             "fac_total": ["2.60"], "payment_nonfac": ["119.68"]}, code="99214")
    assert "<polyline" not in one and one.count("<circle") == 4
    assert chart.history_svg({"labels": []}, code="99214") == ""


def test_the_chart_module_imports_no_django():
    tree = ast.parse(Path(chart.__file__).read_text())
    names = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    names |= {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}
    assert not any(name.startswith("django") or name.startswith("rvuedge") for name in names)
