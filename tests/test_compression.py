"""HTML of public pages is gzip-compressed; pages carrying a CSRF token or a signed-in user's data never are
(BREACH); compressed code pages still answer conditional requests."""

from __future__ import annotations

import gzip

import pytest

pytestmark = pytest.mark.django_db
GZ = {"HTTP_ACCEPT_ENCODING": "gzip, deflate, br"}


@pytest.mark.parametrize("path", ["/", "/codes/27447/", "/codes/27447.json", "/codes/?q=knee", "/sitemap.xml",
                                  "/resources/how-wrvus-work/"])
def test_public_pages_are_gzipped(client, path):
    plain = client.get(path)
    r = client.get(path, **GZ)
    assert r.status_code == 200 and r["Content-Encoding"] == "gzip", path
    assert gzip.decompress(r.content) == plain.content
    if len(plain.content) > 5000:
        assert len(r.content) < len(plain.content) / 2
    assert "Accept-Encoding" in r["Vary"]


def test_a_compressed_code_page_answers_304_to_its_etag(client):
    r = client.get("/codes/99214/", **GZ)
    assert r["Content-Encoding"] == "gzip" and r["ETag"].startswith('W/"')
    again = client.get("/codes/99214/", HTTP_IF_NONE_MATCH=r["ETag"], **GZ)
    assert again.status_code == 304 and again["ETag"] == r["ETag"]


def test_no_compression_without_accept_encoding(client):
    r = client.get("/codes/27447/")
    assert r.status_code == 200 and not r.has_header("Content-Encoding")


def test_a_page_with_a_csrf_token_is_not_compressed(client):
    r = client.get("/support/", **GZ)
    assert r.status_code == 200 and b"csrfmiddlewaretoken" in r.content
    assert not r.has_header("Content-Encoding")
    again = client.get("/support/", **GZ)  # the CSRF cookie is already set: the token is still in the page
    assert b"csrfmiddlewaretoken" in again.content and not again.has_header("Content-Encoding")
    r = client.get("/accounts/login/", **GZ)
    assert r.status_code == 200 and not r.has_header("Content-Encoding")


def test_signed_in_pages_are_not_compressed(client, django_user_model):
    user = django_user_model.objects.create_user("gz@example.org", "gz@example.org", "a-long-password-1")
    client.force_login(user)
    for path in ("/", "/codes/27447/", "/log/"):
        r = client.get(path, **GZ)
        assert r.status_code == 200, path
        assert not r.has_header("Content-Encoding"), path
