"""History across releases: new, changed and deleted values, priced at each release's own conversion factor."""

from __future__ import annotations

from decimal import Decimal

import pytest

pytestmark = pytest.mark.django_db


def test_history_marks_new_changed_and_deleted(client, make_release):
    # A synthetic later release: 27447 revalued, 0331T dropped, 99214 unchanged.
    make_release("RVU26A", 2026, {"27447": {"work_rvu": Decimal("19.11"), "fac_pe_rvu": Decimal("11.58"),
                                            "nonfac_pe_rvu": Decimal("11.58")},
                                  "99214": None})
    tka = client.get("/codes/27447.json").json()
    assert tka["release"]["name"] == "RVU26A"  # the newest release is the default
    entries = tka["history"]["entries"]
    assert [e["release"] for e in entries] == ["RVU25A", "RVU26A"]
    assert entries[0]["new"] and not entries[1]["new"]
    assert {"work_rvu", "fac_pe_rvu", "fac_total", "payment_fac"} <= set(entries[1]["changed"])
    work = next(c for c in entries[1]["cells"] if c["key"] == "work_rvu")
    assert (work["was"], work["value"], work["dir"]) == ("19.60", "19.11", "down")
    # each release is priced at its own conversion factor
    assert entries[0]["conversion_factor"] == "32.3465" and entries[1]["conversion_factor"] == "33.4009"
    assert tka["history"]["chart"]["labels"] == ["RVU25A", "RVU26A"]

    mibg = client.get("/codes/0331T.json").json()
    assert [(e["release"], e["deleted"]) for e in mibg["history"]["entries"]] == [("RVU25A", False),
                                                                                  ("RVU26A", True)]
    assert mibg["in_release"] is False and mibg["in_other_releases"] == ["RVU25A"]
    html = client.get("/codes/0331T/").content.decode()
    assert "deleted" in html and "0331T is not in RVU26A" in html

    office = client.get("/codes/99214.json").json()["history"]["entries"]
    rvus_changed = [f for f in office[1]["changed"] if not f.startswith("payment")]
    assert rvus_changed == [] and "payment_nonfac" in office[1]["changed"]  # same RVUs, new CF

    old = client.get("/codes/27447.json?release=RVU25A").json()
    assert old["rvus"][0]["work_rvu"] == "19.60"
    assert [e["selected"] for e in old["history"]["entries"]] == [True, False]


def test_the_chart_is_server_rendered_svg_without_a_chart_library(client):
    html = client.get("/codes/27447/").content.decode()
    chart = html.split('id="history-chart"', 1)[1].split("</figure>", 1)[0]
    assert '<svg class="history-svg"' in chart and ("<polyline" in chart or "<circle" in chart)
    assert "History of 27447" in chart and "RVU25A" in chart
    assert "chart.umd.min.js" not in html and "history-data" not in html


def test_a_release_with_a_qp_conversion_factor_shows_both(client, make_release):
    make_release("RVU26A", 2026, {"99214": None}, cf="33.4009", cf_qp="33.5675")
    pay = client.get("/codes/99214.json?locality=13202-01").json()["payment"]
    assert (pay["conversion_factor"], pay["conversion_factor_qp"]) == ("33.4009", "33.5675")
    cell = pay["rows"][0]["non_facility"]
    assert Decimal(cell["national_qp"]["amount"]) > Decimal(cell["national"]["amount"])
    assert Decimal(cell["locality_qp"]["amount"]) > Decimal(cell["locality"]["amount"])
    html = client.get("/codes/99214/").content.decode()
    assert "(QP $33.5675)" in html and "QP $" in html
