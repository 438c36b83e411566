"""The site around the reference: home, career stages, resources, blog and feed, support and its form."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest
from django.core.cache import cache
from django.test import Client

from rvuedge.codes.content import blog_posts
from rvuedge.codes.models import ContactMessage
from rvuedge.fees.services import price_lines

pytestmark = pytest.mark.django_db


def test_home(client):
    r = client.get("/")
    html = r.content.decode()
    assert r.status_code == 200 and "RVU25A" in html and 'hx-get="/codes/suggest/"' in html
    assert "HCPC2026_JAN" in html and "Browse by section" in html
    assert client.get("/?format=json").json()["releases"][0]["name"] == "RVU25A"


@pytest.mark.parametrize("path", ["/students/", "/residents/", "/attendings/", "/resources/",
                                  "/resources/modifiers-guide/", "/resources/gpci-explainer/",
                                  "/resources/check-your-rvu-report/", "/support/", "/blog/"])
def test_pages_render(client, path):
    r = client.get(path)
    assert r.status_code == 200, path
    assert "<script>" not in r.content.decode().split("<main", 1)[1].split("</main>")[0]


def test_how_wrvus_work_is_filled_from_the_newest_release_and_the_engine(client):
    html = client.get("/resources/how-wrvus-work/").content.decode()
    assert "{{" not in html and "$32.3465" in html
    payment = price_lines("99214", release="RVU25A", setting="non_facility").result.lines[0].payment
    assert f"${payment:,.2f}" in html and "99214" in html


def test_old_resource_addresses_redirect(client):
    r = client.get("/how-wrvus-work/")
    assert r.status_code == 301 and r["Location"] == "/resources/how-wrvus-work/"
    html = client.get("/resources/").content.decode()
    assert 'href="/resources/how-wrvus-work/"' in html  # links in our Markdown point to the new addresses
    assert client.get("/resources/no-such-page/").status_code == 404


def test_blog_and_atom_feed(client):
    posts = blog_posts()
    assert posts and posts == sorted(posts, key=lambda p: p.date, reverse=True)
    html = client.get("/blog/").content.decode()
    assert posts[0].title in html and "/blog/feed.atom" in html
    assert client.get(f"/blog/{posts[0].slug}/").status_code == 200
    r = client.get(f"/blog/{posts[0].date.isoformat()}-{posts[0].slug}/")
    assert r.status_code == 301
    feed = client.get("/blog/feed.atom")
    assert feed["Content-Type"].startswith("application/atom+xml")
    root = ET.fromstring(feed.content)
    ns = {"a": "http://www.w3.org/2005/Atom"}
    assert len(root.findall("a:entry", ns)) == len(posts)
    assert root.find("a:entry/a:title", ns).text == posts[0].title
    assert client.get("/blog/no-such-post/").status_code == 404


def _form(**over):
    data = {"name": "Dr Test", "email": "test@example.org", "topic": "question",
            "message": "Is the 2026 conversion factor loaded yet?", "page": "", "website": ""}
    data.update(over)
    return data


def test_contact_form_stores_messages_with_csrf_on():
    cache.clear()
    strict = Client(enforce_csrf_checks=True)
    assert strict.post("/support/", _form()).status_code == 403  # no CSRF token
    page = strict.get("/support/")
    token = page.cookies["csrftoken"].value
    r = strict.post("/support/", _form(csrfmiddlewaretoken=token))
    assert r.status_code == 302 and r["Location"] == "/support/#contact"
    msg = ContactMessage.objects.get()
    assert msg.email == "test@example.org" and msg.topic == "question"


def test_contact_form_rejects_patient_identifiers_spam_and_floods(client):
    cache.clear()
    r = client.post("/support/", _form(message="Patient MRN 00123456, DOB 01/02/1960 had 27447"))
    assert r.status_code == 400 and "patient information" in r.content.decode()
    r = client.post("/support/", _form(message="Please call about SSN 123-45-6789"))
    assert r.status_code == 400
    assert client.post("/support/", _form(website="http://spam.example")).status_code == 302  # honeypot
    assert ContactMessage.objects.count() == 0
    for _ in range(5):
        assert client.post("/support/", _form()).status_code == 302
    r = client.post("/support/", _form())
    assert r.status_code == 400 and "Too many messages" in r.content.decode()
    assert ContactMessage.objects.count() == 5
    cache.clear()
