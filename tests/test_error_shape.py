"""Every JSON error, from the API and from the pages' JSON twins, has the one shape of rvuedge.errors.ErrorOut."""

from __future__ import annotations

import json

import pytest
from django.contrib.auth import get_user_model

pytestmark = pytest.mark.django_db

SHAPE = {"detail", "field", "problems"}

ANONYMOUS = [
    ("get", "/codes/99999.json", 404),                       # an unknown code's twin
    ("get", "/codes/browse/no-such-section.json", 404),      # Http404 from a twin
    ("get", "/codes/search.json?page=0", 400),               # a bad parameter (ParamError via middleware)
    ("get", "/codes/99213.json?release=%00", 400),           # a NUL in the query string
    ("get", "/api/codes/99999", 404),                        # HttpError in the API
    ("get", "/api/no/such/route", 404),                      # no API route at all (handler404)
    ("get", "/api/codes/search?limit=100000", 422),          # ninja validation
    ("get", "/api/log/encounters", 401),                     # authentication
    ("get", "/api/benchmarks/sources/999999", 404),          # Http404 raised in the API
]


@pytest.mark.parametrize(("method", "path", "status"), ANONYMOUS, ids=[p for _m, p, _s in ANONYMOUS])
def test_anonymous_json_errors_have_one_shape(client, method, path, status):
    r = getattr(client, method)(path)
    assert r.status_code == status, r.content[:300]
    assert r["Content-Type"].startswith("application/json"), r["Content-Type"]
    data = r.json()
    assert set(data) == SHAPE, data
    assert isinstance(data["detail"], str) and data["detail"]
    assert isinstance(data["problems"], list)


def test_signed_in_log_api_errors_have_the_same_shape(client):
    user = get_user_model().objects.create_user("shape", password="pw-shape-12345")
    client.force_login(user)
    bad_entry = client.post("/api/log/encounters", json.dumps({"entry": "99999", "date": "2025-03-04"}),
                            content_type="application/json")
    bad_body = client.post("/api/log/encounters", json.dumps({"entry": "99213", "units": "x"}),
                           content_type="application/json")
    missing = client.get("/api/log/encounters/987654")
    for r, status in ((bad_entry, 422), (bad_body, 422), (missing, 404)):
        assert r.status_code == status, r.content[:300]
        assert set(r.json()) == SHAPE, r.json()
    assert bad_entry.json()["field"] == "entry" and bad_entry.json()["problems"]
    assert bad_body.json()["field"] and bad_body.json()["problems"]


def test_an_html_page_still_answers_html_on_404(client):
    r = client.get("/codes/browse/no-such-section/")
    assert r.status_code == 404 and r["Content-Type"].startswith("text/html")
