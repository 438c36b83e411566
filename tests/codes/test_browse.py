"""Browse by category and section, with paging, and JSON twins."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


def test_the_sections(client):
    data = client.get("/codes/browse.json").json()
    names = [s["name"] for s in data["sections"]]
    assert names[:6] == ["Evaluation and Management", "Anesthesia", "Surgery", "Radiology",
                         "Pathology and Laboratory", "Medicine"]
    assert {"Category II", "Category III", "HCPCS Level II"} <= set(names)
    assert sum(s["codes"] for s in data["sections"]) > 16_000
    r = client.get("/codes/browse/")
    assert r.status_code == 200 and "Category III" in r.content.decode()
    assert r["Link"] == '</codes/browse.json>; rel="alternate"; type="application/json"'


def test_surgery_by_body_system_with_paging(client):
    data = client.get("/codes/browse/surgery.json").json()
    families = {g["family"] for g in data["groups"]}
    assert {"Integumentary", "Musculoskeletal", "Digestive", "Cardiovascular"} <= families
    assert data["pages"] > 1 and len(data["codes"]) == 100 and data["codes"][0]["code"] >= "10004"
    page2 = client.get("/codes/browse/surgery.json?page=2").json()
    assert page2["page"] == 2 and page2["codes"][0]["code"] > data["codes"][-1]["code"]
    html = client.get("/codes/browse/surgery/").content.decode()
    assert "<h2 class=\"fam\">Musculoskeletal</h2>" in html and 'rel="next"' in html


def test_a_group_and_hcpcs_letters(client):
    surgery = client.get("/codes/browse/surgery.json").json()
    knee = next(g for g in surgery["groups"] if "knee" in g["name"].lower())
    data = client.get(knee["url"].rstrip("/") + ".json").json()
    assert data["group"]["name"] == knee["name"] and any(c["code"] == "27447" for c in data["codes"])
    letters = client.get("/codes/browse/hcpcs-level-ii.json").json()["groups"]
    assert [g["slug"] for g in letters][:3] == ["a", "b", "c"]
    j = client.get("/codes/browse/hcpcs-level-ii/j.json").json()
    assert j["total"] > 100 and all(c["code"].startswith("J") for c in j["codes"])
    assert client.get("/codes/browse/hcpcs-level-ii/j/").status_code == 200
    cat3 = client.get("/codes/browse/category-iii.json").json()
    assert any(c["code"] == "0331T" for p in range(1, cat3["pages"] + 1)
               for c in client.get(f"/codes/browse/category-iii.json?page={p}").json()["codes"])


def test_unknown_sections_are_404(client):
    assert client.get("/codes/browse/nonsense/").status_code == 404
    assert client.get("/codes/browse/surgery/nonsense.json").status_code == 404
    assert client.get("/api/codes/browse/nonsense").status_code == 404
    assert client.get("/api/codes/browse/surgery?page=3").json()["page"] == 3
