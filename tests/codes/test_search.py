"""One search function: codes, prefixes, ranges, words, synonyms, HCPCS long descriptions, typos."""

from __future__ import annotations

import json

import pytest
from django.core.management import call_command
from django.db import connection, transaction

from rvuedge.codes import search as search_mod
from rvuedge.codes.models import SearchEntry, SearchState
from rvuedge.codes.search import search

pytestmark = pytest.mark.django_db


def codes(query: str, limit: int = 10) -> list[str]:
    return [r["code"] for r in search(query, limit=limit).results]


def test_exact_code_first_then_same_prefix():
    r = search("27447")
    assert r.kind == "code" and r.results[0]["code"] == "27447" and r.results[0]["match"] == "code"
    assert all(x["code"].startswith("2744") for x in r.results[1:])
    assert codes("27447-50")[0] == "27447"  # a modifier is ignored
    assert codes("g2211")[0] == "G2211"


def test_prefix_and_range():
    r = search("2744")
    assert r.kind == "prefix" and r.results and all(x["code"].startswith("2744") for x in r.results)
    assert [x["code"] for x in r.results] == sorted(x["code"] for x in r.results)
    r = search("27440-27447")
    assert r.kind == "range" and r.range == ("27440", "27447")
    got = [x["code"] for x in r.results]
    assert got[0] == "27440" and got[-1] == "27447" and all("27440" <= c <= "27447" for c in got)
    assert search("27447 - 27440").range == ("27440", "27447")
    assert codes("J12")[0].startswith("J12")


def test_words_synonyms_and_level_ii_long_descriptions():
    assert "27447" in codes("knee arthroplasty", 5)
    assert codes("mibg", 3)[:2] == ["0331T", "0332T"] or set(codes("mibg", 2)) == {"0331T", "0332T"}
    assert "27447" in codes("TKA", 3)  # our synonym
    hits = search("sphygmomanometer").results  # only in a HCPCS Level II long description
    assert hits and hits[0]["category"] == "HCPCS Level II"
    assert "45380" in codes("colonoscopy biopsy", 5)


def test_typos_are_forgiven():
    r = search("arthroplsty")
    assert r.corrected == "arthroplasty" and {"27447", "27130"} <= set(x["code"] for x in r.results)
    r = search("knee arthroplsty")
    assert r.results[0]["code"] == "27447"
    assert search("sphygmomanometr").results


def test_nothing_and_empty():
    assert search("").kind == "empty" and search("").results == []
    assert search("zzqxv").results == []


def test_paging_and_totals():
    first = search("knee", limit=5)
    second = search("knee", limit=5, offset=5)
    assert first.total == second.total > 10
    assert not set(x["code"] for x in first.results) & set(x["code"] for x in second.results)


def test_the_html_page_json_twins_api_and_cli_agree(client, capsys):
    data = client.get("/codes/search.json?q=knee+arthroplasty").json()
    assert data == client.get("/codes/?q=knee+arthroplasty&format=json").json()
    assert data == client.get("/api/codes/search?q=knee+arthroplasty").json()
    call_command("search", "knee", "arthroplasty", "--json")
    assert json.loads(capsys.readouterr().out) == data
    r = client.get("/codes/?q=knee+arthroplasty")
    assert r.status_code == 200 and "27447" in r.content.decode()
    assert r["Link"] == '</codes/search.json?q=knee+arthroplasty>; rel="alternate"; type="application/json"'
    call_command("search", "arthroplsty")
    assert "showing results for: arthroplasty" in capsys.readouterr().out


def test_typeahead_partial(client):
    html = client.get("/codes/suggest/?q=2744").content.decode()
    assert html.count('role="option"') >= 5 and 'href="/codes/27447/"' in html
    assert "All results for" in html
    assert "No code matches" in client.get("/codes/suggest/?q=zzqxv").content.decode()
    assert client.get("/codes/suggest/?q=mibg&format=json").json()["results"][0]["code"] in {"0331T", "0332T"}


def test_the_index_rebuilds_when_its_sources_change(make_release):
    before = SearchState.objects.get(pk=1).version
    make_release("RVU26A", 2026, {"27447": None})
    search("27447")  # stale: rebuilt on first use (loads rebuild it in their own transaction)
    state = SearchState.objects.get(pk=1)
    assert state.version == before + 1 and state.signature == search_mod.current_signature()
    assert SearchEntry.objects.get(code="27447").release == "RVU26A"
    assert SearchEntry.objects.get(code="0331T").release == "RVU25A"  # not in the newer release


def test_a_failed_rebuild_leaves_the_index_as_it_was(monkeypatch):
    count = SearchEntry.objects.count()

    def boom(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(search_mod, "current_signature", boom)
    with pytest.raises(RuntimeError), transaction.atomic():
        search_mod.rebuild_index()
    assert SearchEntry.objects.count() == count
    monkeypatch.undo()
    assert codes("27447")[0] == "27447"


# --------------------------------------------------------------------------- issue 14: what clinicians type


def test_a_valid_word_is_never_rewritten_and_a_typo_ranks_like_the_word(rvu26c):
    r = search("flu shot")
    assert r.corrected is None and r.results[0]["code"] != "C8003"
    assert r.results[0]["code"].startswith(("906", "G0008", "Q20"))
    typo = search("colonscopy")
    assert typo.corrected == "colonoscopy"
    assert codes("colonscopy", 3) == codes("colonoscopy", 3) and codes("colonoscopy")[0] == "45378"


@pytest.mark.parametrize(("query", "code"), [
    ("intubation", "31500"), ("central line", "36556"), ("lumbar puncture", "62270"), ("c-section", "59510"),
    ("EKG", "93000"), ("echo", "93306"), ("cataract", "66984"), ("screening mammogram", "77067"),
    ("skin biopsy", "11102"), ("knee injection", "20610"), ("inguinal hernia repair", "49505"),
])
def test_everyday_words_reach_the_obvious_code(rvu26c, query, code):
    assert code in codes(query, 3)


@pytest.mark.parametrize(("query", "code"), [
    ("MRI brain without contrast", "70551"), ("mri brain with and without contrast", "70553"),
    ("CT head without contrast", "70450"), ("ct head w/o", "70450"), ("ct chest with contrast", "71260"),
    ("established patient office visit level 3", "99213"), ("new patient level 5", "99205"),
    ("ED visit level 4", "99284"), ("initial hospital care level 3", "99223"),
    ("knee injection with ultrasound", "20611"), ("thoracentesis with ultrasound", "32555"),
])
def test_qualifiers_raise_the_specific_code(rvu26c, query, code):
    if connection.vendor == "postgresql" and query == "knee injection with ultrasound":
        # Known gap (issue 14 report): ts_rank puts 20604 (same descriptor, small joint) first on PostgreSQL.
        assert code in codes(query, 3)
        pytest.xfail("PostgreSQL ranks 20604 (identical descriptor) above 20611")
    assert codes(query, 1) == [code]


def test_knee_arthroplasty_finds_the_family(rvu26c):
    got = codes("knee arthroplasty", 25)
    assert {"27447", "27446", "27486", "27487"} <= set(got) and got[0] == "27447"


def test_current_payable_codes_before_dental_supply_and_quality_codes(rvu26c):
    assert not codes("c-section", 3)[0].startswith("D")
    assert not any(c.startswith(("M", "G9")) for c in codes("hep b vaccine", 1))
    if connection.vendor == "postgresql":
        pytest.xfail("PostgreSQL ranks 50830 first for 'urinalysis' (known gap, issue 14 report)")
    assert codes("urinalysis", 1)[0].startswith("810")


def test_the_vocabulary_and_prior_can_be_switched_off_for_the_before_figures(rvu26c, monkeypatch):
    monkeypatch.setattr(search_mod, "USE_VOCABULARY", False)
    monkeypatch.setattr(search_mod, "USE_PRIOR", False)
    assert "31500" not in codes("intubation", 3)  # the words alone do not reach "Insert emergency airway"


def test_suggest_is_the_typeahead_call(rvu26c):
    r = search_mod.suggest("lap chole")
    assert r.limit == search_mod.TYPEAHEAD_LIMIT and r.results[0]["code"] == "47562"
