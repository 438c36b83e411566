"""The sitemap (https://www.sitemaps.org/protocol.html) and robots.txt, generated from the database.

``/sitemap.xml`` is a sitemap index naming its parts: ``/sitemap-pages.xml`` (home, code search, career-stage,
resources and blog pages) and ``/sitemap-codes-N.xml`` (every code page of the current release, exactly once,
at most ``PART_SIZE`` URLs per part as the protocol allows). ``lastmod`` of a code page is the date the
current release was loaded; a blog post's is its own date.

The XML is built once per (data version, site address): :func:`rvuedge.codes.search.data_version` changes
whenever a release, HCPCS file or content is loaded, so a new ``rvuedge data load`` yields a new sitemap.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from xml.sax.saxutils import escape

from rvuedge.fees.models import Release

from . import content as content_mod
from .cache import LRU
from .releases import release_index, releases
from .search import data_version

PART_SIZE = 50_000  # URLs per sitemap file: the protocol's limit
XMLNS = "http://www.sitemaps.org/schemas/sitemap/0.9"
SITE_PAGES = ["/", "/codes/", "/codes/browse/", "/students/", "/residents/", "/attendings/", "/resources/",
              "/blog/", "/support/"]

_CACHE = LRU(32)


@dataclass(frozen=True)
class Url:
    path: str
    lastmod: dt.date | None


def current_release() -> Release | None:
    rels = releases()
    return rels[-1] if rels else None


def _load_date(release: Release | None) -> dt.date | None:
    return release.loaded_at.date() if release is not None and release.loaded_at else None


def code_urls() -> list[Url]:
    """One URL per code page of the current release (its fee rows, plus HCPCS Level II codes), sorted."""
    rel = current_release()
    if rel is None:
        return []
    when = _load_date(rel)
    return [Url(f"/codes/{code}/", when) for code in release_index(rel).codes]


def page_urls() -> list[Url]:
    when = _load_date(current_release())
    urls = [Url(path, when) for path in SITE_PAGES]
    urls += [Url(f"/resources/{slug}/", when) for slug in content_mod.RESOURCE_SLUGS
             if content_mod.get_page(slug) is not None]
    urls += [Url(f"/blog/{post.slug}/", post.date) for post in content_mod.blog_posts()]
    return urls


def code_parts() -> int:
    """How many ``/sitemap-codes-N.xml`` files there are (at least one, so the index is never empty of codes)."""
    return max(1, -(-len(code_urls()) // PART_SIZE))


def _urlset(base: str, urls: list[Url]) -> str:
    lines = ['<?xml version="1.0" encoding="UTF-8"?>', f'<urlset xmlns="{XMLNS}">']
    for u in urls:
        lastmod = f"<lastmod>{u.lastmod.isoformat()}</lastmod>" if u.lastmod else ""
        lines.append(f"<url><loc>{escape(base + u.path)}</loc>{lastmod}</url>")
    lines.append("</urlset>")
    return "\n".join(lines) + "\n"


def _cached(key: tuple[str, ...], build) -> str:
    return _CACHE.get_or_build((data_version(), PART_SIZE, *key), build)


def index_xml(base: str) -> str:
    def build() -> str:
        when = _load_date(current_release())
        lastmod = f"<lastmod>{when.isoformat()}</lastmod>" if when else ""
        names = ["/sitemap-pages.xml"] + [f"/sitemap-codes-{i}.xml" for i in range(1, code_parts() + 1)]
        lines = ['<?xml version="1.0" encoding="UTF-8"?>', f'<sitemapindex xmlns="{XMLNS}">']
        lines += [f"<sitemap><loc>{escape(base + name)}</loc>{lastmod}</sitemap>" for name in names]
        lines.append("</sitemapindex>")
        return "\n".join(lines) + "\n"

    return _cached(("index", base), build)


def pages_xml(base: str) -> str:
    return _cached(("pages", base), lambda: _urlset(base, page_urls()))


def codes_xml(base: str, part: int) -> str | None:
    """Part ``part`` (1-based) of the code pages, or None when there is no such part."""
    if part < 1 or part > code_parts():
        return None
    return _cached(("codes", base, str(part)),
                   lambda: _urlset(base, code_urls()[(part - 1) * PART_SIZE: part * PART_SIZE]))


def robots_txt(base: str) -> str:
    # The log's entry page is not listed: sign-in protects it (a crawler is sent to /accounts/, which is listed),
    # and naming it would mark the installable app's start page "blocked from indexing" for no gain.
    return ("User-agent: *\n"
            "Disallow: /accounts/\n"
            "Disallow: /admin/\n"
            "Disallow: /api/log/\n"
            "Disallow: /benchmarks/contracts/\n"
            f"\nSitemap: {base}/sitemap.xml\n")
