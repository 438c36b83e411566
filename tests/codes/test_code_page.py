"""The code page: every section of the seed page, with correct numbers, and its JSON twin."""

from __future__ import annotations

import json
import re
from decimal import Decimal

import pytest
from django.core.management import call_command

from rvuedge.fees.services import price_lines

pytestmark = pytest.mark.django_db

SEED_SECTIONS = ["Also known as", "Description", "In plain language", "Clinical context", "RVU information",
                 "Billing &amp; documentation", "Specialties", "Frequently asked questions",
                 "Track this code in RVU Edge", "Data sourced from CMS Physician Fee Schedule RVU25A"]


def _ld(html: str) -> dict:
    m = re.search(r'<script type="application/ld\+json">(.*?)</script>', html, re.S)
    assert m, "no JSON-LD"
    return json.loads(m.group(1))


def test_0331t_has_every_seed_section_and_is_contractor_priced(client):
    r = client.get("/codes/0331T/")
    assert r.status_code == 200
    html = r.content.decode()
    for heading in SEED_SECTIONS:
        assert heading in html, heading
    assert "Heart symp image plnr" in html  # the CMS short descriptor, from the loaded file
    assert "Category III" in html
    assert "Status C" in html and "contractor priced" in html.lower()
    assert "sunset" in html  # the Category III billing note
    assert "MIBG" in html  # our synonyms
    assert "Nuclear cardiology" in html  # our specialties
    # the payment box says contractor priced instead of an amount
    pay = html[html.index('id="payment"'):html.index("</section>", html.index('id="payment"'))]
    assert "Contractor priced" in pay and "$" not in pay.split("conversion factor")[0]
    ld = _ld(html)
    assert ld["@type"] == "FAQPage"
    questions = [q["name"] for q in ld["mainEntity"]]
    assert "What is CPT code 0331T?" in questions and "Is 0331T a permanent CPT code?" in questions
    assert any("0331T and 0332T" in q for q in questions)  # the editorial FAQ too
    assert 'href="/log/?entry=0331T"' in html
    assert r["Link"] == '</codes/0331T.json>; rel="alternate"; type="application/json"'


def test_json_twin_api_and_cli_are_the_same_object(client, capsys):
    page = client.get("/codes/0331T.json").json()
    assert page == client.get("/codes/0331T/?format=json").json()
    assert page == client.get("/api/codes/0331T").json()
    call_command("code", "0331T", "--json")
    assert json.loads(capsys.readouterr().out) == page
    assert page["category"] == "Category III" and page["status"] == "C"
    assert page["payment"]["rows"][0]["non_facility"]["national"]["amount"] is None
    assert page["no_rvu_reason"].startswith("CPT 0331T has no national RVUs for payment in RVU25A")
    assert page["track_url"] == "/log/?entry=0331T"


def test_27447_numbers_come_from_the_file_and_the_engine(client):
    page = client.get("/codes/27447.json").json()
    g = page["rvus"][0]
    assert (g["work_rvu"], g["fac_pe_rvu"], g["mp_rvu"]) == ("19.60", "15.30", "3.98")
    assert Decimal(g["fac_total"]) == Decimal("19.60") + Decimal("15.30") + Decimal("3.98")
    assert g["global_days"] == "090" and g["bilat_surg"] == "1"
    engine = price_lines("27447", release="RVU25A", locality="national", setting="facility").result.lines[0]
    assert page["payment"]["rows"][0]["facility"]["national"]["amount"] == f"{engine.payment:.2f}"
    titles = [b["title"] for b in page["billing"]]
    assert "Bilateral: modifier 50 pays 150% (BILAT SURG 1)" in titles
    assert any(t.startswith("Assistant at surgery (ASST SURG 2)") for t in titles)
    assert page["compare"]["groups"][0]["percentile"] is not None
    assert all(r["code"] != "27447" for r in page["compare"]["related"]) and page["compare"]["related"]
    html = client.get("/codes/27447/").content.decode()
    assert "modifier 50 pays 150% (BILAT SURG 1)" in html


def test_pc_tc_rows_are_shown_together(client):
    page = client.get("/codes/71046.json").json()
    assert [r["row"] for r in page["rvus"]] == ["71046", "71046-26", "71046-TC"]
    assert page["rvus"][2]["work_rvu"] == "0.00"
    assert [r["row"] for r in page["payment"]["rows"]] == ["71046", "71046-26", "71046-TC"]
    html = client.get("/codes/71046/").content.decode()
    assert 'data-row="71046-26" data-k="work">0.22<' in html


def test_locality_changes_the_payment_and_is_remembered(client):
    national = client.get("/codes/99214.json").json()["payment"]
    r = client.get("/codes/99214/?locality=13202-01")
    assert r.status_code == 200
    assert r.cookies["rvuedge_locality"].value == "13202-01"
    html = r.content.decode()
    assert "Manhattan" in html and '<option value="13202-01" selected>' in html
    manhattan = client.get("/codes/99214.json").json()["payment"]  # the cookie is remembered
    assert manhattan["locality"] == "13202-01"
    nat_amt = Decimal(national["rows"][0]["non_facility"]["national"]["amount"])
    loc_amt = Decimal(manhattan["rows"][0]["non_facility"]["locality"]["amount"])
    assert loc_amt > nat_amt
    engine = price_lines("99214", release="RVU25A", locality="13202-01", setting="non_facility")
    assert loc_amt == engine.result.lines[0].payment


def test_the_htmx_partial_swaps_the_payment_box_and_the_key_figure(client):
    r = client.get("/codes/99214/payment/?locality=13202-01&release=RVU25A", HTTP_HX_REQUEST="true")
    html = r.content.decode()
    assert html.startswith('<section id="payment"')
    assert 'id="kf-pay" hx-swap-oob="true"' in html and "Manhattan" in html
    assert 'id="data-source" hx-swap-oob="true"' in html
    assert r.cookies["rvuedge_locality"].value == "13202-01"


def test_a_stale_locality_cookie_falls_back_to_national(client):
    client.cookies["rvuedge_locality"] = "99999-99"
    assert client.get("/codes/99214/").status_code == 200
    assert client.get("/codes/99214/?locality=99999-99").status_code == 404


def test_hcpcs_level_ii_codes_show_the_long_description(client):
    page = client.get("/codes/G2211.json").json()
    assert page["category"] == "HCPCS Level II" and page["hcpcs"]["long_description"]
    assert page["hcpcs"]["release"].startswith("HCPC2026")
    only_hcpcs = client.get("/codes/E0100.json").json()  # a DME code: in the HCPCS file, not on the PFS
    assert only_hcpcs["in_release"] is False and only_hcpcs["long_description_source"] == "hcpcs"
    assert "not on the Physician Fee Schedule in any loaded release" in client.get("/codes/E0100/").content.decode()


def test_categories_by_code_shape(client):
    from rvuedge.codes.kinds import code_kind

    assert [code_kind(c) for c in ("99213", "3074F", "0331T", "0001U", "0002M", "G2211", "ABCDE")] == \
        ["cat1", "cat2", "cat3", "pla", "maaa", "level2", "other"]
    assert client.get("/codes/3074F.json").json()["category"] == "Category II"
    assert client.get("/codes/99213.json").json()["category"] == "Category I"


def test_specialties_fall_back_to_sections_yaml(client):
    from rvuedge.codes.kinds import sections
    from rvuedge.codes.models import CodeContent
    from rvuedge.fees.models import FeeRow

    written = set(CodeContent.objects.values_list("code", flat=True))
    code = next(c for c in FeeRow.objects.filter(hcpcs__gte="99202", hcpcs__lte="99499", modifier="")
                .order_by("hcpcs").values_list("hcpcs", flat=True) if c not in written)
    page = client.get(f"/codes/{code}.json").json()
    assert page["content"] is None
    assert page["specialties"] == sections().place(code).specialties != []
    assert page["placement"]["section"] == "Evaluation and Management"
    assert page["long_description_source"] == "generated"


def test_unknown_and_malformed_codes(client):
    r = client.get("/codes/99999/")
    assert r.status_code == 404 and "not in any loaded CMS file" in r.content.decode()
    assert client.get("/codes/99999.json").json()["detail"].startswith("99999 is not in any loaded")
    r = client.get("/codes/27447/?release=RVU99A")
    assert r.status_code == 404 and "RVU99A is not loaded" in r.content.decode()
    r = client.get("/codes/g2211/")
    assert r.status_code == 301 and r["Location"] == "/codes/G2211/"
    assert client.get("/api/codes/99999").status_code == 404


def test_a_code_page_takes_few_queries(client, django_assert_max_num_queries):
    client.get("/codes/99215/")  # per-release derived data is built once per process
    with django_assert_max_num_queries(4):
        assert client.get("/codes/99214/").status_code == 200
    with django_assert_max_num_queries(1):
        assert client.get("/codes/99214.json").status_code == 200


def test_cli_text_output(capsys):
    call_command("code", "27447", "--locality", "manhattan")
    out = capsys.readouterr().out
    assert "27447" in out and "Manhattan" in out and "BILAT SURG 1" in out
    with pytest.raises(Exception, match="not in any loaded"):
        call_command("code", "99999")
