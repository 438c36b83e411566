"""For search engines: the sitemap index and its parts, robots.txt, one canonical link per code page, Open
Graph, the FAQPage JSON-LD, and conditional requests (ETag -> 304)."""

from __future__ import annotations

import datetime as dt
import json
import re
import xml.etree.ElementTree as ET
from decimal import Decimal

import pytest
from django.utils import timezone

from rvuedge.codes import sitemap
from rvuedge.fees.models import FeeRow, HcpcsCode, Release

pytestmark = pytest.mark.django_db
NS = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9"}
BASE = "http://testserver"


def _xml(client, path):
    r = client.get(path)
    assert r.status_code == 200, path
    assert r["Content-Type"].startswith("application/xml")
    return ET.fromstring(r.content)  # raises on anything that is not well-formed XML


def _all_urls(client):
    """(loc, lastmod) of every URL in every part named by the index."""
    index = _xml(client, "/sitemap.xml")
    assert index.tag == "{" + NS["s"] + "}sitemapindex"
    parts = [loc.text for loc in index.findall("s:sitemap/s:loc", NS)]
    assert parts and all(p.startswith(BASE + "/sitemap-") for p in parts)
    urls = []
    for part in parts:
        root = _xml(client, part.removeprefix(BASE))
        assert root.tag == "{" + NS["s"] + "}urlset"
        entries = root.findall("s:url", NS)
        assert len(entries) <= sitemap.PART_SIZE
        urls += [(u.find("s:loc", NS).text, u.findtext("s:lastmod", None, NS)) for u in entries]
    return parts, urls


def _codes_of(release_name):
    rel = Release.objects.get(name=release_name)
    return set(FeeRow.objects.filter(release=rel).values_list("hcpcs", flat=True))


def test_the_sitemap_lists_every_code_of_the_current_release_once_and_the_site_pages(client):
    parts, urls = _all_urls(client)
    locs = [loc for loc, _ in urls]
    assert len(locs) == len(set(locs)), "a URL is listed twice"
    code_locs = [loc for loc in locs if re.fullmatch(BASE + r"/codes/[0-9A-Z]{5}/", loc)]
    codes = {loc.split("/")[-2] for loc in code_locs}
    assert _codes_of("RVU25A") <= codes  # every code of the release has its page listed
    hcpcs = set(HcpcsCode.objects.values_list("code", flat=True))
    assert codes <= _codes_of("RVU25A") | hcpcs  # and nothing else
    for path in ("/", "/students/", "/residents/", "/attendings/", "/resources/", "/resources/how-wrvus-work/",
                 "/blog/"):
        assert BASE + path in locs, path
    assert any(loc.startswith(BASE + "/blog/") and loc != BASE + "/blog/" for loc in locs)
    loaded = Release.objects.get(name="RVU25A").loaded_at.date().isoformat()
    assert {lastmod for loc, lastmod in urls if loc in code_locs} == {loaded}
    # every listed page answers
    for loc in [code_locs[0], code_locs[-1], BASE + "/resources/how-wrvus-work/"]:
        assert client.get(loc.removeprefix(BASE)).status_code == 200, loc


def test_parts_hold_at_most_part_size_urls(client, monkeypatch):
    monkeypatch.setattr(sitemap, "PART_SIZE", 5000)
    parts, urls = _all_urls(client)
    code_parts = [p for p in parts if "/sitemap-codes-" in p]
    codes = [loc for loc, _ in urls if "/codes/" in loc and loc.count("/") == 5]
    assert len(code_parts) == -(-len(codes) // 5000) > 1
    assert len(codes) == len(set(codes))
    assert client.get(f"/sitemap-codes-{len(code_parts) + 1}.xml").status_code == 404


def test_the_sitemap_changes_after_a_new_release_is_loaded(client, make_release):
    _, before = _all_urls(client)
    assert BASE + "/codes/0331T/" in [loc for loc, _ in before]
    rel = make_release("RVU26A", 2026, {"99214": None, "27447": {"work_rvu": Decimal("19.11")}})
    Release.objects.filter(pk=rel.pk).update(loaded_at=timezone.make_aware(dt.datetime(2026, 7, 1, 12)))
    from rvuedge.codes import search

    search.forget_version()
    _, after = _all_urls(client)
    locs = [loc for loc, _ in after]
    assert BASE + "/codes/99214/" in locs and BASE + "/codes/27447/" in locs
    assert BASE + "/codes/0331T/" not in locs  # not in the new current release
    assert len(locs) == len(set(locs))
    assert {m for loc, m in after if loc == BASE + "/codes/99214/"} == {"2026-07-01"}


def test_robots_txt_names_the_sitemap(client):
    r = client.get("/robots.txt")
    assert r.status_code == 200 and r["Content-Type"].startswith("text/plain")
    text = r.content.decode()
    assert "Sitemap: http://testserver/sitemap.xml" in text.splitlines()
    assert "Disallow: /accounts/" in text and "Disallow: /api/log/" in text and "User-agent: *" in text
    # the log itself is kept private by sign-in, not by robots.txt: a crawler is sent to the (disallowed) login
    r = client.get("/log/")
    assert r.status_code == 302 and r["Location"].startswith("/accounts/login/")


# --------------------------------------------------------------------------- code page head


def _canonicals(html):
    return re.findall(r'<link rel="canonical" href="([^"]+)">', html)


@pytest.mark.parametrize("query", ["", "?locality=13202-01", "?release=RVU25A", "?setting=facility",
                                   "?locality=national&release=RVU25A&utm_source=x"])
def test_one_canonical_link_per_code_page_without_query_parameters(client, query):
    html = client.get("/codes/27447/" + query).content.decode()
    assert _canonicals(html) == ["http://testserver/codes/27447/"]
    assert html.count('rel="canonical"') == 1


def test_open_graph_and_the_faq_json_ld(client):
    html = client.get("/codes/99214/").content.decode()
    title = re.search(r'<meta property="og:title" content="([^"]+)">', html).group(1)
    desc = re.search(r'<meta property="og:description" content="([^"]+)">', html).group(1)
    assert title.startswith("99214 ") and "RVU25A" in desc
    assert '<meta property="og:url" content="http://testserver/codes/99214/">' in html
    assert '<meta property="og:type" content="website">' in html
    ld = re.search(r'<script type="application/ld\+json">(.*?)</script>', html, re.S).group(1)
    data = json.loads(ld)
    assert data["@type"] == "FAQPage" and data["mainEntity"][0]["@type"] == "Question"


def test_every_page_has_at_most_one_canonical_link(client):
    for path in ("/", "/codes/", "/resources/", "/blog/", "/codes/browse/"):
        assert client.get(path).content.decode().count('rel="canonical"') <= 1, path


# --------------------------------------------------------------------------- conditional requests


def test_a_second_request_with_the_etag_answers_304(client):
    first = client.get("/codes/27447/")
    etag = first["ETag"]
    assert first.status_code == 200 and etag
    second = client.get("/codes/27447/", HTTP_IF_NONE_MATCH=etag)
    assert second.status_code == 304 and second.content == b""
    assert second["ETag"] == etag
    # another locality is another representation
    other = client.get("/codes/27447/?locality=13202-01")
    assert other["ETag"] != etag
    assert client.get("/codes/27447/?locality=13202-01", HTTP_IF_NONE_MATCH=etag).status_code == 200
    # the JSON twin too
    j = client.get("/codes/27447.json")
    assert client.get("/codes/27447.json", HTTP_IF_NONE_MATCH=j["ETag"]).status_code == 304


def test_the_etag_changes_when_a_release_is_loaded(client, make_release):
    etag = client.get("/codes/99214/")["ETag"]
    make_release("RVU26A", 2026, {"99214": None})
    r = client.get("/codes/99214/", HTTP_IF_NONE_MATCH=etag)
    assert r.status_code == 200 and r["ETag"] != etag


def test_the_sitemap_follows_a_real_release_load(client, rvu26c):
    """The same loader as `rvuedge data load`: RVU26C becomes the current release and the sitemap lists its
    codes, once each, with its load date."""
    _, urls = _all_urls(client)
    codes = {loc.split("/")[-2] for loc, _ in urls if re.fullmatch(BASE + r"/codes/[0-9A-Z]{5}/", loc)}
    assert _codes_of("RVU26C") <= codes
    dropped = _codes_of("RVU25A") - _codes_of("RVU26C") - set(HcpcsCode.objects.values_list("code", flat=True))
    assert dropped and not (dropped & codes)  # codes deleted in RVU26C are no longer listed
    loaded = Release.objects.get(name="RVU26C").loaded_at.date().isoformat()
    assert {m for loc, m in urls if loc == BASE + "/codes/99214/"} == {loaded}
    locs = [loc for loc, _ in urls]
    assert len(locs) == len(set(locs))
