"""Issue 17, server side of the offline log: the compact code table, the PHI rules it carries, the service worker,
the manifest and icons, and the API's refusal of a queue item sent under another user's session."""

from __future__ import annotations

import gzip
import io
import json
import shutil
import subprocess

import pytest
from django.conf import settings
from django.contrib.staticfiles import finders
from django.test import Client

from rvuedge.accounts.services import do_create_token
from rvuedge.logbook.models import Encounter
from rvuedge.phi import _RULES, find_phi, rules_as_data

pytestmark = pytest.mark.django_db

TABLE = "/log/offline/table.json"


def _table(client, **headers) -> tuple[dict, object]:
    r = client.get(TABLE, HTTP_ACCEPT_ENCODING="gzip, br", **headers)
    assert r.status_code == 200, r.content[:300]
    assert r["Content-Encoding"] == "gzip" and r["Content-Type"] == "application/json"
    return json.loads(gzip.decompress(r.content)), r


# --------------------------------------------------------------------------- the code table


def test_table_needs_a_session(client):
    r = client.get(TABLE)
    assert r.status_code == 302 and "/accounts/login/" in r["Location"]


def test_table_holds_the_release_codes_with_work_rvu_status_and_indicators(alice_client):
    doc, r = _table(alice_client)
    assert doc["release"] == "RVU25A" and r["X-RVU-Release"] == "RVU25A"
    assert doc["fields"] == ["work_rvu", "status", "glob_days", "ind"]
    assert doc["codes"]["99214"] == ["1.92", "A", "XXX", "0000"]  # RVU25A: work 1.92, global XXX, indicators 0
    work, status, glob, ind = doc["codes"]["27447"]
    assert status == "A" and glob == "090" and ind[0] == "1"  # 150% bilateral
    assert "71046-26" in doc["codes"] and "71046-TC" in doc["codes"]  # component rows, keyed code-modifier
    assert "99214-26" not in doc["codes"]
    mods = doc["modifiers"].split()
    assert {"RT", "LT", "50", "26", "TC", "80"} <= set(mods) and "ZZ" not in mods
    assert doc["indicator_rules"]["50"] == {"pos": 0, "ok": "0123", "refused": True, "label": "BILAT SURG"}
    assert doc["refused_status"]["D"].startswith("was deleted")


def test_table_is_sent_compressed_and_answers_a_matching_etag_with_304(alice_client):
    _doc, r = _table(alice_client)
    plain = alice_client.get(TABLE)
    assert "Content-Encoding" not in plain and len(r.content) * 4 < len(plain.content)
    assert json.loads(plain.content) == json.loads(gzip.decompress(r.content))
    again = alice_client.get(TABLE, HTTP_IF_NONE_MATCH=r["ETag"])
    assert again.status_code == 304 and again["ETag"] == r["ETag"]
    assert "Accept-Encoding" in r["Vary"]


def test_table_follows_the_profile_release(alice, alice_client, rvu26c):
    doc, _ = _table(alice_client)
    assert doc["release"] == "RVU26C"  # the release that credits today (2026), not RVU25A
    alice.profile.default_release = "RVU25A"
    alice.profile.save()
    doc, _ = _table(alice_client)
    assert doc["release"] == "RVU25A"


def test_table_carries_the_server_phi_rules_as_data(alice_client):
    doc, _ = _table(alice_client)
    assert doc["phi"] == rules_as_data()
    assert [r["pattern"] for r in doc["phi"]] == [p.pattern for _k, p, _m in _RULES]


PHI_SAMPLES = ["MRN 00123456", "dob 3/4/1950", "call 555-123-4567", "jane@example.org", "123-45-6789",
               "born on March 4, 1950", "acct # 99", "difficult airway, converted to open", "99214 20610-RT",
               "27447-50x2 @2025-03-04", "seen 4 March 1950", "ID A1234567"]


def test_phi_rules_read_the_same_in_javascript():
    """The browser's guard compiles the exported patterns with RegExp: the same texts are flagged, by the same
    first rule, as find_phi flags them."""
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed")
    script = ("const rules = JSON.parse(process.argv[1]); const samples = JSON.parse(process.argv[2]);"
              "console.log(JSON.stringify(samples.map(s => { for (const r of rules) {"
              " if (new RegExp(r.pattern, 'g' + r.flags).test(s)) return r.kind; } return null; })));")
    out = subprocess.run([node, "-e", script, json.dumps(rules_as_data()), json.dumps(PHI_SAMPLES)],
                         capture_output=True, text=True, check=True, timeout=30).stdout
    expected = []
    for s in PHI_SAMPLES:
        kinds = [k for k, p, _m in _RULES if p.search(s)]
        expected.append(kinds[0] if kinds else None)
    assert json.loads(out) == expected
    assert [bool(find_phi(s)) for s in PHI_SAMPLES] == [k is not None for k in expected]


# --------------------------------------------------------------------------- the queue's safety on the server


def _post(client, body, **headers):
    return client.post("/api/log/encounters", data=json.dumps(body), content_type="application/json", **headers)


def test_a_queue_item_of_another_user_is_refused_and_not_logged(alice, bob, bob_client):
    r = _post(bob_client, {"entry": "99213", "date": "2025-03-04"}, HTTP_X_RVU_USER=str(alice.pk),
              HTTP_IDEMPOTENCY_KEY="offline:1")
    assert r.status_code == 409
    assert r.json()["field"] == "X-RVU-User" and "another user" in r.json()["detail"]
    assert not Encounter.objects.exists()


def test_a_queue_item_of_the_signed_in_user_is_logged_once(alice, alice_client):
    body = {"entry": "99214 20610-RT", "date": "2025-03-04", "setting": None, "role": None, "site": "", "notes": ""}
    first = _post(alice_client, body, HTTP_X_RVU_USER=str(alice.pk), HTTP_IDEMPOTENCY_KEY="offline:abc")
    again = _post(alice_client, body, HTTP_X_RVU_USER=str(alice.pk), HTTP_IDEMPOTENCY_KEY="offline:abc")
    assert first.status_code == 201 and first.json()["total_wrvu"] == "2.71"
    assert again.status_code == 200 and again["Idempotent-Replayed"] == "true"
    assert again.json()["id"] == first.json()["id"]
    assert Encounter.objects.filter(user=alice).count() == 1


def test_the_user_header_is_checked_for_token_requests_too(alice, bob):
    _token, plain = do_create_token(alice, "phone")
    c = Client(HTTP_AUTHORIZATION=f"Bearer {plain}")
    r = _post(c, {"entry": "99213", "date": "2025-03-04"}, HTTP_X_RVU_USER=str(bob.pk))
    assert r.status_code == 409 and not Encounter.objects.exists()


# --------------------------------------------------------------------------- the installable app


def test_service_worker_is_served_from_the_root(client):
    r = client.get("/sw.js")
    assert r.status_code == 200
    assert r["Content-Type"].startswith("text/javascript")
    assert r["Cache-Control"] == "no-cache"
    body = r.content.decode()
    precache = json.loads(body.split("var PRECACHE = ", 1)[1].split(";\n", 1)[0])
    assert "/manifest.webmanifest" in precache and "/static/js/offline.js" in precache
    for url in precache:
        if url.startswith(settings.STATIC_URL):
            assert finders.find(url[len(settings.STATIC_URL):]), url
    version = body.split('var VERSION = "', 1)[1].split('"', 1)[0]
    assert len(version) == 16 and client.get("/sw.js").content.decode() == body  # stable between requests


def test_csp_allows_the_worker_and_the_manifest_from_this_origin(client):
    csp = client.get("/sw.js")["Content-Security-Policy"]
    assert "worker-src 'self'" in csp and "manifest-src 'self'" in csp
    assert "script-src 'self'" in csp  # unchanged


def test_manifest_makes_the_log_installable(client):
    from PIL import Image

    r = client.get("/manifest.webmanifest")
    assert r.status_code == 200 and r["Content-Type"] == "application/manifest+json"
    m = json.loads(r.content)
    assert m["start_url"] == "/log/" and m["display"] == "standalone" and m["name"] and m["short_name"]
    sizes = {}
    for icon in m["icons"]:
        path = finders.find(icon["src"].removeprefix(settings.STATIC_URL))
        with Image.open(path) as img:
            assert f"{img.width}x{img.height}" == icon["sizes"] and img.format == "PNG"
        sizes.setdefault(icon["purpose"], set()).add(icon["sizes"])
    assert {"192x192", "512x512"} <= sizes["any"] and "512x512" in sizes["maskable"]


def test_favicon_is_served(client):
    from PIL import Image

    r = client.get("/favicon.ico")
    assert r.status_code == 301
    path = finders.find(r["Location"].removeprefix(settings.STATIC_URL))
    with Image.open(io.BytesIO(open(path, "rb").read())) as img:
        assert img.format == "ICO"


def test_pages_link_the_manifest_and_the_entry_page_has_the_queue(alice, alice_client):
    home = Client().get("/").content.decode()
    assert '<link rel="manifest" href="/manifest.webmanifest">' in home and 'name="theme-color"' in home
    assert "js/pwa.js" in home
    page = alice_client.get("/log/").content.decode()
    assert 'id="offline-queue"' in page and f'data-user="{alice.pk}"' in page
    assert 'data-table="/log/offline/table.json"' in page and "js/offline.js" in page
