"""No request answers 5xx: every malformed parameter, body or credential is a clear 4xx naming what is wrong,
and stores nothing (issue 11). One table of requests, run against the real database with RVU25A loaded.

Each row: who sends it (anonymous, a personal token, a session), the request, the status expected, the field
an API error must name (``field`` of the error object) and words the answer must contain. Every row also
checks that no user data (encounters, lines, contracts, reports, favourites, tokens) changed.
"""

from __future__ import annotations

import json

import pytest
from django.test import Client

from rvuedge.accounts.models import ApiToken
from rvuedge.accounts.services import do_create_token, do_revoke_token
from rvuedge.benchmarks.models import Contract
from rvuedge.logbook.models import EmployerReport, Encounter, EncounterLine, Favourite
from tests.personas import log, make_user

pytestmark = pytest.mark.django_db

HUGE = "99999999999999999999"  # past a signed 64-bit integer
TOO_BIG = str(2**63)
DIGITS_5000 = "9" * 5000
JSON = "application/json"
PREVIEW = "/api/log/preview?start=2025-01-01&end=2025-12-31"

# (id, who, method, path, body, status, field, words)
#   who: anon | token | session | bad-token | revoked | nobody (an anonymous client that enforces CSRF)
#   body: a dict/list (sent as JSON), a str (sent as is, JSON), ("form", dict) (a form post) or None
#   "{enc}" in a path is an encounter of the token's user.
CASES = [
    # ---- public pages, their JSON twins and the public API: numbers and Decimals from the URL
    ("pay-wrvus-exponent", "anon", "post", "/api/benchmarks/pay",
     {"contract": {"base_salary": "250000", "rate": "55"}, "wrvus": "1e999999"}, 422, "wrvus", ["1,000,000,000"]),
    ("pay-wrvus-5000-digits", "anon", "post", "/api/benchmarks/pay",
     {"contract": {"base_salary": "250000", "rate": "55"}, "wrvus": DIGITS_5000}, 422, "wrvus", ["40 characters"]),
    ("pay-rate-exponent", "anon", "post", "/api/benchmarks/pay",
     {"contract": {"base_salary": "1e999999", "rate": "55"}, "wrvus": "5000"}, 422, "base_salary", []),
    ("pay-tiny-exponent", "anon", "post", "/api/benchmarks/pay",
     {"contract": {"threshold": "1e-999999", "rate": "55"}, "wrvus": "5000"}, 422, "threshold", ["decimal places"]),
    ("pay-json-number-huge", "anon", "post", "/api/benchmarks/pay",
     '{"contract": {"base_salary": 1e308, "rate": 55}, "wrvus": ["1", "2"]}', 422, "base_salary", []),
    ("pay-nul-in-contract", "anon", "post", "/api/benchmarks/pay",
     {"contract": {"name": "a\x00b", "rate": "55"}, "wrvus": "5000"}, 422, "contract", ["name", "NUL"]),
    ("search-page-huge", "anon", "get", f"/codes/?q=knee&page={HUGE}", None, 400, None, ["page", "10,000"]),
    ("search-page-zero", "anon", "get", "/codes/?q=knee&page=0", None, 400, None, ["page"]),
    ("search-page-words", "anon", "get", "/codes/?q=knee&page=two", None, 400, None, ["page"]),
    ("search-json-page-huge", "anon", "get", f"/codes/search.json?q=knee&page={HUGE}", None, 400, None, ["page"]),
    ("browse-page-huge", "anon", "get", f"/codes/browse/surgery/?page={HUGE}", None, 400, None, ["page"]),
    ("browse-json-page-huge", "anon", "get", f"/codes/browse/surgery.json?page={HUGE}", None, 400, None, ["page"]),
    ("code-locality-nul", "anon", "get", "/codes/27447/?locality=%00", None, 400, None, ["locality", "NUL"]),
    ("code-json-locality-nul", "anon", "get", "/codes/27447.json?locality=%00", None, 400, None, ["locality"]),
    ("code-path-nul", "anon", "get", "/codes/27%0047/", None, 400, None, ["NUL"]),
    ("benchmarks-ytd-exponent", "anon", "get", "/benchmarks/?ytd=1e999999", None, 400, None,
     ["wRVUs this year so far", "1,000,000"]),
    ("benchmarks-ytd-nan", "anon", "get", "/benchmarks/?ytd=NaN", None, 400, None, ["wRVUs this year so far"]),
    ("benchmarks-source-superscript", "anon", "get", "/benchmarks/?source=%C2%B2", None, 400, None, ["source"]),
    ("api-search-offset-negative", "anon", "get", "/api/codes/search?q=knee&offset=-1", None, 422, "offset", ["0"]),
    ("api-search-offset-2^63", "anon", "get", f"/api/codes/search?q=knee&offset={TOO_BIG}", None, 422, "offset", []),
    ("api-search-limit-zero", "anon", "get", "/api/codes/search?q=knee&limit=0", None, 422, "limit", []),
    ("api-search-q-nul", "anon", "get", "/api/codes/search?q=kn%00ee", None, 400, "q", ["NUL"]),
    ("api-browse-page-huge", "anon", "get", f"/api/codes/browse/surgery?page={HUGE}", None, 422, "page", ["10000"]),
    ("api-code-locality-nul", "anon", "get", "/api/codes/27447?locality=%00", None, 400, "locality", []),
    ("api-source-id-huge", "anon", "get", f"/api/benchmarks/sources/{HUGE}", None, 422, "source_id", []),
    ("api-specialties-nul", "anon", "get", "/api/benchmarks/codes/%00/specialties", None, 400, "path", []),
    # ---- the log's API with a personal token
    ("list-offset-negative", "token", "get", "/api/log/encounters?offset=-1", None, 422, "offset", []),
    ("list-offset-2^63", "token", "get", f"/api/log/encounters?offset={TOO_BIG}", None, 422, "offset", []),
    ("list-limit-2^63", "token", "get", f"/api/log/encounters?limit={TOO_BIG}", None, 422, "limit", ["500"]),
    ("list-limit-zero", "token", "get", "/api/log/encounters?limit=0", None, 422, "limit", []),
    ("list-code-nul", "token", "get", "/api/log/encounters?code=%00", None, 400, "code", ["NUL"]),
    ("list-site-nul", "token", "get", "/api/log/encounters?site=a%00", None, 400, "site", []),
    ("list-start-year-1", "token", "get", "/api/log/encounters?start=0001-01-01", None, 422, "start", ["1900"]),
    ("get-id-huge", "token", "get", f"/api/log/encounters/{HUGE}", None, 422, "encounter_id", []),
    ("get-id-word", "token", "get", "/api/log/encounters/abc", None, 422, "encounter_id", []),
    ("preview-policy-bad-json", "token", "get", f"{PREVIEW}&policy={{bad", None, 422, "policy", ["JSON"]),
    ("preview-policy-nul", "token", "get", f"{PREVIEW}&policy=" + '{"name": "\\u0000"}', None, 422, "policy",
     ["NUL"]),
    ("summary-year-9999", "token", "get", "/api/log/summary?period=year&start=9999-06-01&end=9999-12-31", None, 422,
     "start", ["2199"]),
    ("summary-bad-period", "token", "get", "/api/log/summary?period=decade", None, 422, "period", ["month"]),
    ("export-bad-format", "token", "get", "/api/log/export?format=pdf", None, 422, "format", ["csv"]),
    ("post-notes-nul", "token", "post", "/api/log/encounters", {"entry": "99213", "notes": "a\x00b"}, 422, "notes",
     ["NUL"]),
    ("post-site-surrogate", "token", "post", "/api/log/encounters", '{"entry": "99213", "site": "\\ud800"}', 422,
     "site", ["surrogate"]),
    ("post-attending-surrogate", "token", "post", "/api/log/encounters", '{"entry": "99213", "attending": "\\udfff"}',
     422, "attending", ["surrogate"]),
    ("post-category-nul", "token", "post", "/api/log/encounters", {"entry": "99213", "category": "\x00"}, 422,
     "category", ["NUL"]),
    ("post-entry-nul", "token", "post", "/api/log/encounters", {"entry": "99213\x00"}, 422, "entry", ["NUL"]),
    ("post-entry-surrogate", "token", "post", "/api/log/encounters", '{"entry": "99213 \\ud800"}', 422, "entry",
     ["surrogate"]),
    ("post-line-code-nul", "token", "post", "/api/log/encounters", {"lines": [{"code": "27\x00447"}]}, 422,
     "lines.0.code", ["NUL"]),
    ("post-line-modifier-surrogate", "token", "post", "/api/log/encounters",
     '{"lines": [{"code": "27447", "modifiers": ["\\ud800"]}]}', 422, "lines.0.modifiers.0", ["surrogate"]),
    ("post-units-10-million", "token", "post", "/api/log/encounters", {"lines": [{"code": "27447", "units": 10000000}]},
     422, "lines.0.units", ["999"]),
    ("post-units-2^31", "token", "post", "/api/log/encounters", {"lines": [{"code": "27447", "units": 2**31}]}, 422,
     "lines.0.units", ["999"]),
    ("post-units-2^64", "token", "post", "/api/log/encounters", {"lines": [{"code": "27447", "units": 2**64}]}, 422,
     "lines.0.units", ["999"]),
    ("post-minutes-2^63", "token", "post", "/api/log/encounters",
     {"lines": [{"code": "01402", "minutes": 2**63}]}, 422, "lines.0.minutes", ["2000"]),
    ("post-entry-units-1000", "token", "post", "/api/log/encounters", {"entry": "27447x1000"}, 422, "entry",
     ["units", "999"]),
    ("post-entry-units-huge", "token", "post", "/api/log/encounters", {"entry": f"27447x{HUGE}"}, 422, "entry",
     ["units", "999"]),
    ("post-date-year-1", "token", "post", "/api/log/encounters", {"entry": "99213", "date": "0001-01-01"}, 422, "date",
     []),
    ("post-body-not-json", "token", "post", "/api/log/encounters", "{entry", 400, None, []),
    ("post-body-list", "token", "post", "/api/log/encounters", [], 422, None, []),
    ("post-idempotency-key-control", "token", "post", "/api/log/encounters", {"entry": "99213"}, 422,
     "idempotency_key", ["Idempotency-Key"]),
    ("patch-body-list", "token", "patch", "/api/log/encounters/{enc}", [], 422, None, []),
    ("patch-units-10-million", "token", "patch", "/api/log/encounters/{enc}",
     {"lines": [{"code": "27447", "units": 10000000}]}, 422, "lines.0.units", ["999"]),
    ("patch-notes-surrogate", "token", "patch", "/api/log/encounters/{enc}", '{"notes": "\\ud800"}', 422, "notes",
     ["surrogate"]),
    ("check-entry-nul", "token", "post", "/api/log/check", {"entry": "99213\x00"}, 422, "entry", ["NUL"]),
    ("contract-name-nul", "token", "post", "/api/benchmarks/contracts",
     {"name": "a\x00", "start": "2025-01-01", "terms": {"rate": "50"}}, 422, "name", ["NUL"]),
    ("contract-terms-surrogate", "token", "post", "/api/benchmarks/contracts",
     '{"name": "x", "start": "2025-01-01", "terms": {"rate": "50", "stipends": [{"name": "\\ud800", "amount": "1"}]}}',
     422, "terms", ["stipends[0].name", "surrogate"]),
    ("contract-start-year-9999", "token", "post", "/api/benchmarks/contracts",
     {"name": "x", "start": "9999-12-31", "terms": {"rate": "50"}}, 422, "start", []),
    ("contract-pay-exponent", "token", "get", "/api/benchmarks/contracts/{contract}/pay?wrvus=1e999999", None, 422,
     "wrvus", ["1,000,000,000"]),
    ("me-source-huge", "token", "get", f"/api/benchmarks/me?source={HUGE}", None, 422, "source", []),
    # ---- credentials: a bad token is a 401 on every method, never a CSRF failure
    ("bad-token-post", "bad-token", "post", "/api/log/encounters", {"entry": "99213"}, 401, None, ["Invalid or revoked"]),
    ("bad-token-patch", "bad-token", "patch", "/api/log/encounters/{enc}", {"notes": "x"}, 401, None,
     ["Invalid or revoked"]),
    ("bad-token-delete", "bad-token", "delete", "/api/log/encounters/{enc}", None, 401, None, ["Invalid or revoked"]),
    ("revoked-token-post", "revoked", "post", "/api/log/encounters", {"entry": "99213"}, 401, None,
     ["Invalid or revoked"]),
    ("revoked-token-delete", "revoked", "delete", "/api/log/encounters/{enc}", None, 401, None, ["Invalid or revoked"]),
    ("no-credentials-post", "nobody", "post", "/api/log/encounters", {"entry": "99213"}, 401, None, []),
    ("no-credentials-contract", "nobody", "post", "/api/benchmarks/contracts",
     {"name": "x", "start": "2025-01-01", "terms": {"rate": "50"}}, 401, None, []),
    # ---- pages of a signed-in user
    ("entry-logged-superscript", "session", "get", "/log/?logged=%C2%B2", None, 400, None, ["logged"]),
    ("history-code-nul", "session", "get", "/log/history/?code=%00", None, 400, None, ["code", "NUL"]),
    ("compare-ids-huge", "session", "get", f"/benchmarks/contracts/compare/?ids={TOO_BIG}", None, 400, None, ["ids"]),
    ("bulk-ids-superscript", "session", "post", "/log/bulk/", ("form", {"ids": "\u00b2", "action": "delete"}), 400,
     None, ["ids"]),
    ("restore-one-superscript", "session", "post", "/log/restore/", ("form", {"one": "\u00b2"}), 400, None, ["one"]),
]


def _snapshot() -> dict[str, int]:
    return {m.__name__: m.objects.count() for m in (Encounter, EncounterLine, Contract, EmployerReport, Favourite,
                                                     ApiToken)}


@pytest.fixture
def world():
    """A user with a token, an encounter and a contract; clients for each kind of caller."""
    import datetime as dt

    from rvuedge.benchmarks.services import do_save_contract

    user = make_user("carol")
    _t, plain = do_create_token(user, "script")
    old, revoked_plain = do_create_token(user, "old")
    do_revoke_token(user, old.pk)
    enc = log(user, "99213", date="2025-03-04")
    contract = do_save_contract(user, name="Hospital", start=dt.date(2025, 1, 1), end=None,
                                terms={"base_salary": "250000", "rate": "55"})
    session = Client()
    session.force_login(user)
    clients = {
        "anon": Client(),
        "token": Client(HTTP_AUTHORIZATION=f"Bearer {plain}"),
        "session": session,
        "bad-token": Client(enforce_csrf_checks=True, HTTP_AUTHORIZATION="Bearer rvu_not-a-token"),
        "revoked": Client(enforce_csrf_checks=True, HTTP_AUTHORIZATION=f"Bearer {revoked_plain}"),
        "nobody": Client(enforce_csrf_checks=True),
    }
    return {"clients": clients, "enc": enc, "contract": contract}


@pytest.mark.parametrize(("who", "method", "path", "body", "status", "field", "words"),
                         [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_a_bad_request_is_a_clear_4xx_and_stores_nothing(world, who, method, path, body, status, field, words):
    path = path.replace("{enc}", str(world["enc"].pk)).replace("{contract}", str(world["contract"].pk))
    client = world["clients"][who]
    kwargs = {}
    if isinstance(body, tuple):
        kwargs = {"data": body[1]}
    elif body is not None:
        kwargs = {"data": body if isinstance(body, str) else json.dumps(body), "content_type": JSON}
    if path == "/api/log/encounters" and field == "idempotency_key":
        kwargs["HTTP_IDEMPOTENCY_KEY"] = "retry\x01one"
    before = _snapshot()
    r = getattr(client, method)(path, **kwargs)
    assert r.status_code == status, r.content[:400]
    text = r.content.decode("utf-8")
    for word in words:
        assert word in text, text[:400]
    if r["Content-Type"].startswith(JSON):
        data = r.json()
        # One error shape for the API and the JSON twins (rvuedge.errors.ErrorOut).
        assert set(data) == {"detail", "field", "problems"}, data
        assert isinstance(data["detail"], str) and data["detail"]
        assert isinstance(data["problems"], list)
        if field is not None:
            assert data["field"] == field, data
        if not path.startswith("/api/"):
            assert data["field"], data  # a twin's bad parameter is always named
    else:
        assert "Traceback" not in text
    assert _snapshot() == before


def test_check_names_the_units_limit_and_stores_nothing(world):
    before = _snapshot()
    r = world["clients"]["token"].post("/api/log/check", json.dumps({"entry": "27447x1000"}), content_type=JSON)
    assert r.status_code == 200
    item = r.json()["items"][0]
    assert item["ok"] is False and "units" in item["error"] and "999" in item["error"]
    assert _snapshot() == before


def test_history_and_dashboard_ignore_dates_and_ids_out_of_range(world):
    session = world["clients"]["session"]
    assert session.get("/log/dashboard/?period=year&start=9999-06-01&end=9999-12-31").status_code == 200
    assert session.get("/log/history/?start=0001-01-01").status_code == 200
    assert session.get(f"/log/history/?deleted=\u00b2,{HUGE},{world['enc'].pk}").status_code == 200


def test_a_cookie_holding_a_nul_is_ignored(world):
    client = Client(HTTP_COOKIE='sessionid="\\000abcdefghijklmnop"')
    assert client.get("/codes/27447/").status_code == 200
    assert client.get("/api/log/encounters").status_code == 401


def test_the_session_still_needs_its_csrf_token(world):
    """Only a request that carries the session cookie meets the CSRF check (403 without the token)."""
    c = Client(enforce_csrf_checks=True)
    c.force_login(world["enc"].user)
    r = c.post("/api/log/encounters", json.dumps({"entry": "99213"}), content_type=JSON)
    assert r.status_code == 403


# --------------------------------------------------------------------------- Idempotency-Key


def _post(world, body, key):
    return world["clients"]["token"].post("/api/log/encounters", json.dumps(body), content_type=JSON,
                                          HTTP_IDEMPOTENCY_KEY=key)


def test_an_idempotency_key_reused_with_another_body_is_a_422_naming_the_key(world):
    first = _post(world, {"entry": "99213", "date": "2025-03-04"}, "phone-7")
    assert first.status_code == 201
    before = _snapshot()
    again = _post(world, {"entry": "99214", "date": "2025-03-04"}, "phone-7")
    assert again.status_code == 422
    assert again.json()["field"] == "idempotency_key" and "'phone-7'" in again.json()["detail"]
    assert "different request" in again.json()["detail"]
    assert "id" not in again.json()  # not the first encounter
    assert _snapshot() == before
    replay = _post(world, {"entry": "99213", "date": "2025-03-04"}, "phone-7")
    assert replay.status_code == 200 and replay.json()["id"] == first.json()["id"]
    assert replay["Idempotent-Replayed"] == "true"


def test_a_retry_after_the_encounter_was_trashed_says_to_restore_it(world):
    first = _post(world, {"entry": "99213", "date": "2025-03-04"}, "phone-8")
    enc_id = first.json()["id"]
    assert world["clients"]["token"].delete(f"/api/log/encounters/{enc_id}").status_code == 200
    before = _snapshot()
    retry = _post(world, {"entry": "99213", "date": "2025-03-04"}, "phone-8")
    assert retry.status_code == 409
    detail = retry.json()["detail"]
    assert "was deleted; restore it from the trash" in detail and f"/api/log/encounters/{enc_id}/restore" in detail
    assert _snapshot() == before
    assert Encounter.objects.get(pk=enc_id).deleted_at is not None  # still in the trash, not revived


def test_the_idempotency_hash_is_stored_with_the_key(world):
    first = _post(world, {"entry": "99213", "date": "2025-03-04", "notes": "x"}, "phone-9")
    enc = Encounter.objects.get(pk=first.json()["id"])
    assert len(enc.idempotency_hash) == 64
    assert Encounter.objects.get(pk=world["enc"].pk).idempotency_hash == ""  # no key, no hash


def test_a_key_stored_before_hashes_were_kept_still_replays(world):
    first = _post(world, {"entry": "99213", "date": "2025-03-04"}, "old-key")
    Encounter.objects.filter(pk=first.json()["id"]).update(idempotency_hash="")
    again = _post(world, {"entry": "99213", "date": "2025-03-04"}, "old-key")
    assert again.status_code == 200 and again.json()["id"] == first.json()["id"]


# --------------------------------------------------------------------------- the OpenAPI document


def test_every_operation_declares_the_error_schema(client):
    spec = client.get("/api/openapi.json").json()
    assert spec["components"]["schemas"]["ErrorOut"]["required"] == ["detail"]
    ref = {"$ref": "#/components/schemas/ErrorOut"}
    for path, item in spec["paths"].items():
        for method, op in item.items():
            for status in ("400", "404", "422"):
                assert op["responses"][status]["content"]["application/json"]["schema"] == ref, (method, path)
            if op.get("security"):
                assert op["responses"]["401"]["content"]["application/json"]["schema"] == ref, (method, path)
    line = spec["components"]["schemas"]["LineIn"]["properties"]
    assert line["units"]["maximum"] == 999 and line["units"]["minimum"] == 1
    assert "409" in spec["paths"]["/api/log/encounters"]["post"]["responses"]
    listing = {p["name"]: p["schema"] for p in spec["paths"]["/api/log/encounters"]["get"]["parameters"]}
    assert listing["offset"]["minimum"] == 0 and listing["limit"]["maximum"] == 500


def test_the_entry_page_resubmitted_with_other_codes_offers_a_fresh_key(world):
    """The back button, new codes, the same page's key: not silently the first encounter, not a dead end."""
    session = world["clients"]["session"]
    form = {"entry": "99213", "date": "2025-03-04", "role": "performed", "idem": "form:page-1"}
    assert session.post("/log/", form).status_code == 302
    before = _snapshot()
    r = session.post("/log/", {**form, "entry": "99214"})
    assert r.status_code == 422 and "Press Log again" in r.content.decode()
    assert _snapshot() == before
    fresh = r.context["form"].data["idem"]
    assert fresh.startswith("form:") and fresh != "form:page-1"
    assert session.post("/log/", {**form, "entry": "99214", "idem": fresh}).status_code == 302
    assert Encounter.objects.filter(user=world["enc"].user, entry="99214").count() == 1
