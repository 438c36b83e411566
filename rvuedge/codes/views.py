"""Thin views: parse the request, call one domain function (:mod:`.queries`, :mod:`.search`), render it.

Every data page has a JSON twin built from the same dict (``.json`` suffix or ``?format=json``) and
announces it with a ``Link: <...>; rel="alternate"; type="application/json"`` header.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.syndication.views import Feed
from django.core.cache import cache
from django.core.serializers.json import DjangoJSONEncoder
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseNotModified,
    HttpResponsePermanentRedirect,
    JsonResponse,
)
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.feedgenerator import Atom1Feed
from django.utils.html import escape
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_safe

from rvuedge.errors import json_error
from rvuedge.fees.figures import editorial_figures
from rvuedge.fees.services import NotFound
from rvuedge.params import MAX_PAGE, query_int

from . import content as content_mod
from . import present, queries, sitemap
from .cache import LRU
from .forms import ContactForm
from .search import DEFAULT_LIMIT, data_version, search

LOCALITY_COOKIE = "rvuedge_locality"
JSON_DUMPS: dict[str, Any] = {}


def wants_json(request: HttpRequest, fmt: str | None = None) -> bool:
    return fmt == "json" or request.GET.get("format") == "json"


def json_response(data: dict[str, Any], status: int = 200) -> JsonResponse:
    return JsonResponse(data, status=status, json_dumps_params=JSON_DUMPS)


def with_alternate(response: HttpResponse, json_url: str) -> HttpResponse:
    response["Link"] = f'<{json_url}>; rel="alternate"; type="application/json"'
    return response


def _query_string(request: HttpRequest, **overrides: Any) -> str:
    params = {k: v for k, v in request.GET.items() if k not in ("format",)}
    params.update({k: v for k, v in overrides.items() if v is not None})
    params = {k: v for k, v in params.items() if v not in ("", None)}
    return ("?" + urlencode(params)) if params else ""


def not_found(request: HttpRequest, message: str, as_json: bool) -> HttpResponse:
    if as_json:
        return json_error(message, 404, "code")
    return render(request, "codes/not_found.html", {"message": message}, status=404)


def _ld_json(data: Any) -> str:
    return mark_safe(json.dumps(data, ensure_ascii=False).replace("<", "\\u003c").replace(">", "\\u003e"))


# --------------------------------------------------------------------------- code page


def _locality_param(request: HttpRequest) -> tuple[str | None, bool]:
    """(locality text, came from the query string)."""
    if "locality" in request.GET:
        return request.GET.get("locality") or "national", True
    return request.COOKIES.get(LOCALITY_COOKIE), False


def _cacheable(request: HttpRequest) -> bool:
    return settings.SESSION_COOKIE_NAME not in request.COOKIES and "messages" not in request.COOKIES


LOCALITY_SELECTS = LRU(256)
HTML_CACHE = LRU(2048)  # rendered pages as (bytes, ETag): no work for the garbage collector
JSON_CACHE = LRU(4096)


def locality_select(release: Any, selected: str) -> str:
    """The <option> list of the locality picker (109 options), rendered once per release and selection."""

    def build() -> str:
        opts = [("national", "National (all GPCIs 1.000)")] + [
            (o["key"], o["label"]) for o in queries.locality_options(release)]
        return mark_safe("".join(
            f'<option value="{escape(k)}"{" selected" if k == selected else ""}>{escape(label)}</option>'
            for k, label in opts))

    return LOCALITY_SELECTS.get_or_build((data_version(), release.pk, selected), build)


def _canonical_url(request: HttpRequest, code: str) -> str:
    """The one address of a code page: locality, setting and release parameters all canonicalise to it."""
    return request.build_absolute_uri(f"/codes/{code}/")


def _code_context(page: dict[str, Any], request: HttpRequest) -> dict[str, Any]:
    """The context of codes/code.html: head metadata, then the sections built by :mod:`.present`."""
    rel = queries.pick_release(page["release"]["name"])
    faq_ld = {
        "@context": "https://schema.org", "@type": "FAQPage",
        "mainEntity": [{"@type": "Question", "name": f["q"], "acceptedAnswer": {"@type": "Answer", "text": f["a"]}}
                       for f in page["faq"]],
    }
    json_url = f"/codes/{page['code']}.json" + _query_string(request)
    selected = page["payment"]["locality"] if page["payment"] else "national"
    return {
        "title": f"{page['code']} {page['title']}",
        "description": f"{page['code']} ({page['category']}): {page['descriptor']}. RVUs, Medicare payment by "
                       f"locality and history from CMS {page['release']['name']}.",
        "canonical": _canonical_url(request, page["code"]),
        "json_url": json_url,
        "faq_ld": _ld_json(faq_ld),
        "crumbs": mark_safe(present.crumbs(page)),
        "body": present.code_body(
            page, json_url=json_url,
            locality_options=locality_select(rel, selected) if page["payment"] else "",
            release_names=[name for _pk, name in queries.release_names()]),
    }


def _render_code_page(page: dict[str, Any], request: HttpRequest) -> str:
    return render_to_string("codes/code.html", _code_context(page, request), request=request)


def _etag(body: bytes) -> str:
    """A validator of the page's bytes: the same page (release, locality, content and code version) gives the same
    ETag in every worker, and anything that changes the page changes it. Weak (``W/``), as it stays valid for the
    gzip-encoded form of the same page (PublicGZipMiddleware)."""
    return 'W/"' + hashlib.blake2b(body, digest_size=16).hexdigest() + '"'


def _not_modified(request: HttpRequest, etag: str) -> bool:
    """If-None-Match uses the weak comparison (RFC 9110 13.1.2): ``W/`` prefixes are ignored."""
    wanted = request.META.get("HTTP_IF_NONE_MATCH", "").strip()
    if wanted == "*":
        return True
    return etag.removeprefix("W/") in {t.strip().removeprefix("W/") for t in wanted.split(",") if t.strip()}


def _set_locality_cookie(response: HttpResponse, request: HttpRequest, locality: str | None, explicit: bool) -> None:
    if explicit and locality:
        response.set_cookie(LOCALITY_COOKIE, locality, max_age=365 * 24 * 3600, samesite="Lax",
                            httponly=True, secure=request.is_secure())


def _resolve_page_key(request: HttpRequest, code: str) -> tuple[tuple[str, str, str, str], str | None, bool]:
    """(cache key, locality text, locality came from the query string); a stale cookie falls back to national."""
    release = request.GET.get("release") or None
    locality, explicit = _locality_param(request)
    try:
        return queries.page_key(code, release, locality), locality, explicit
    except NotFound:
        if locality and not explicit:
            return queries.page_key(code, release, None), None, False
        raise


@require_safe
def code_detail(request: HttpRequest, code: str, fmt: str | None = None) -> HttpResponse:
    as_json = wants_json(request, fmt)
    if code != code.upper() and not as_json:
        return HttpResponsePermanentRedirect(f"/codes/{code.upper()}/" + _query_string(request))
    shared = as_json or _cacheable(request)  # the same bytes for every visitor asking this address
    try:
        key, locality, explicit = _resolve_page_key(request, code)
        # Rendered pages and JSON (with their ETags) are cached per (data version, code, release, locality),
        # so a repeat visit builds nothing.
        store = JSON_CACHE if as_json else HTML_CACHE
        cache_key = (*key, "json" if as_json else request.build_absolute_uri())
        hit = store.get(cache_key) if shared else None
        if hit is None:
            page = queries.code_page(key[1], release=key[2], locality=key[3])
            body = (json.dumps(page, cls=DjangoJSONEncoder) if as_json else _render_code_page(page, request)).encode()
            hit = (body, _etag(body))
            if shared:
                store.put(cache_key, hit)
    except NotFound as exc:
        return not_found(request, str(exc), as_json)
    body, etag = hit
    if shared and _not_modified(request, etag):
        response = HttpResponseNotModified()
    elif as_json:
        response = HttpResponse(body, content_type="application/json")
    else:
        response = with_alternate(HttpResponse(body), f"/codes/{key[1]}.json" + _query_string(request))
    if shared:
        # Revalidate every time (the page changes when data or content is loaded): a repeat visit costs a 304.
        response["ETag"] = etag
        response["Cache-Control"] = "no-cache"
    _set_locality_cookie(response, request, locality, explicit)
    return response


@require_safe
def payment_partial(request: HttpRequest, code: str) -> HttpResponse:
    """The payment box alone (htmx swaps it in when the locality changes)."""
    release = request.GET.get("release") or None
    locality, explicit = _locality_param(request)
    try:
        page = queries.code_page(code, release=release, locality=locality)
    except NotFound as exc:
        return HttpResponse(f'<div id="payment" class="card error">{escape(str(exc))}</div>', status=404)
    if not page["payment"]:
        raise Http404("no payment for this code in this release")
    rel = queries.pick_release(page["release"]["name"])
    response = HttpResponse(present.payment_section(page, locality_select(rel, page["payment"]["locality"]), oob=True))
    _set_locality_cookie(response, request, locality, explicit)
    response["Vary"] = "HX-Request"
    return response


# --------------------------------------------------------------------------- search


def _page(request: HttpRequest) -> int:
    """?page=N, 1 to MAX_PAGE (anything else is a 400 naming it: see rvuedge.params)."""
    return query_int(request, "page", default=1, lo=1, hi=MAX_PAGE)


@require_safe
def search_page(request: HttpRequest, fmt: str | None = None) -> HttpResponse:
    q = request.GET.get("q", "").strip()
    as_json = wants_json(request, fmt)
    per_page = DEFAULT_LIMIT
    page_no = _page(request)
    result = search(q, limit=per_page, offset=(page_no - 1) * per_page) if q else None
    data = result.to_dict() if result else {"query": "", "results": [], "total": 0}
    if as_json:
        return json_response(data)
    if result and result.kind == "code" and result.results and result.results[0]["match"] == "code" \
            and request.GET.get("go") == "1":
        return redirect(result.results[0]["url"])
    pages = max(1, (data["total"] + per_page - 1) // per_page)
    ctx = {"q": q, "r": data, "page": page_no, "pages": pages,
           "prev_url": _query_string(request, page=page_no - 1) if page_no > 1 else None,
           "next_url": _query_string(request, page=page_no + 1) if page_no < pages else None,
           "browse": queries.browse()["sections"] if not q and queries.releases() else []}
    response = render(request, "codes/search.html", ctx)
    return with_alternate(response, "/codes/search.json" + _query_string(request))


@require_safe
def suggest(request: HttpRequest) -> HttpResponse:
    """Typeahead results (htmx partial; JSON with ?format=json)."""
    q = request.GET.get("q", "").strip()
    result = search(q, limit=8, count=False) if q else None
    if wants_json(request):
        return json_response(result.to_dict() if result else {"query": "", "results": []})
    return render(request, "codes/_suggest.html", {"q": q, "r": result})


# --------------------------------------------------------------------------- browse


@require_safe
def browse(request: HttpRequest, section: str | None = None, group: str | None = None,
           fmt: str | None = None) -> HttpResponse:
    as_json = wants_json(request, fmt)
    try:
        data = queries.browse(section, group, release=request.GET.get("release") or None,
                              page=_page(request))
    except NotFound as exc:
        return not_found(request, str(exc), as_json)
    path = "/codes/browse" + (f"/{section}" if section else "") + (f"/{group}" if group else "")
    json_url = path + ".json" + _query_string(request)
    if as_json:
        return json_response(data)
    families: list[tuple[str, list[dict[str, Any]]]] = []
    for g in data["groups"]:
        if families and families[-1][0] == g["family"]:
            families[-1][1].append(g)
        else:
            families.append((g["family"], [g]))
    ctx = {"b": data, "families": families, "path": path,
           "prev_url": _query_string(request, page=data["page"] - 1) if data["page"] > 1 else None,
           "next_url": _query_string(request, page=data["page"] + 1) if data["page"] < data["pages"] else None}
    return with_alternate(render(request, "codes/browse.html", ctx), json_url)


# --------------------------------------------------------------------------- site pages


def home(request: HttpRequest) -> HttpResponse:
    page = content_mod.get_page("home")
    data = queries.home_data()
    if wants_json(request):
        return json_response(data)
    ctx = {"d": data, "intro": page.html() if page else "", "page": page}
    return with_alternate(render(request, "site/home.html", ctx), "/?format=json")


def content_page(request: HttpRequest, slug: str, section: str | None = None) -> HttpResponse:
    page = content_mod.get_page(slug)
    if page is None:
        raise Http404(f"No page {slug}")
    values = {**editorial_figures(), **(queries.example_payment() if slug == "how-wrvus-work" else {})}
    ctx = {"page": page, "html": page.html(values), "section": section, "slug": slug}
    return render(request, "site/page.html", ctx)


def resources(request: HttpRequest) -> HttpResponse:
    return content_page(request, "resources", section="resources")


def resource(request: HttpRequest, slug: str) -> HttpResponse:
    if slug not in content_mod.RESOURCE_SLUGS and content_mod.get_page(slug) is None:
        raise Http404(slug)
    if slug in ("home", "students", "residents", "attendings", "resources", "support"):
        return redirect(f"/{slug}/" if slug != "home" else "/")
    return content_page(request, slug, section="resources")


def legacy_resource(request: HttpRequest, slug: str) -> HttpResponse:  # noqa: ARG001
    return HttpResponsePermanentRedirect(f"/resources/{slug}/")


def blog_index(request: HttpRequest) -> HttpResponse:
    posts = content_mod.blog_posts()
    if wants_json(request):
        return json_response({"posts": [{"slug": p.slug, "title": p.title, "date": p.date.isoformat() if p.date
                                         else None, "summary": p.summary, "url": f"/blog/{p.slug}/"} for p in posts]})
    return with_alternate(render(request, "site/blog_index.html", {"posts": posts}), "/blog/?format=json")


def blog_post(request: HttpRequest, slug: str) -> HttpResponse:
    post = content_mod.get_post(slug)
    if post is None:
        m = re.match(r"^\d{4}-\d{2}-\d{2}-(.+)$", slug)
        if m and content_mod.get_post(m.group(1)):
            return HttpResponsePermanentRedirect(f"/blog/{m.group(1)}/")
        raise Http404(slug)
    return render(request, "site/blog_post.html", {"post": post, "html": post.html()})


class BlogFeed(Feed):
    feed_type = Atom1Feed
    title = "RVU Edge blog"
    link = "/blog/"
    subtitle = "Notes on RVUs, the Medicare fee schedule and logging your work."

    def items(self) -> list[content_mod.Page]:
        return content_mod.blog_posts()[:30]

    def item_title(self, item: content_mod.Page) -> str:
        return item.title

    def item_description(self, item: content_mod.Page) -> str:
        return item.summary or item.html()[:500]

    def item_link(self, item: content_mod.Page) -> str:
        return f"/blog/{item.slug}/"

    def item_pubdate(self, item: content_mod.Page) -> Any:
        return dt.datetime.combine(item.date, dt.time(12, 0), tzinfo=dt.UTC) if item.date else None

    def item_author_name(self, item: content_mod.Page) -> str:
        return item.author or "RVU Edge"


# --------------------------------------------------------------------------- sitemap and robots.txt


def _site_base(request: HttpRequest) -> str:
    return request.build_absolute_uri("/").rstrip("/")


def _xml(text: str) -> HttpResponse:
    return HttpResponse(text, content_type="application/xml; charset=utf-8")


@require_safe
def sitemap_index(request: HttpRequest) -> HttpResponse:
    return _xml(sitemap.index_xml(_site_base(request)))


@require_safe
def sitemap_pages(request: HttpRequest) -> HttpResponse:
    return _xml(sitemap.pages_xml(_site_base(request)))


@require_safe
def sitemap_codes(request: HttpRequest, part: int) -> HttpResponse:
    text = sitemap.codes_xml(_site_base(request), part)
    if text is None:
        raise Http404(f"No sitemap part {part}")
    return _xml(text)


@require_safe
def robots_txt(request: HttpRequest) -> HttpResponse:
    return HttpResponse(sitemap.robots_txt(_site_base(request)), content_type="text/plain; charset=utf-8")


# --------------------------------------------------------------------------- support


RATE_LIMIT = 5  # messages per address per hour


def _client_key(request: HttpRequest) -> str:
    return "contact:" + (request.META.get("REMOTE_ADDR") or "unknown")


def support(request: HttpRequest) -> HttpResponse:
    page = content_mod.get_page("support")
    form = ContactForm(request.POST or None, initial={"page": request.GET.get("from", "")})
    if request.method == "POST":
        key = _client_key(request)
        sent = cache.get(key, 0)
        if sent >= RATE_LIMIT:
            form.add_error(None, "Too many messages from your network in the last hour. Please try again later.")
        elif form.is_valid():
            if form.is_spam():
                messages.success(request, "Thank you. Your message has been received.")
                return redirect(reverse("codes:support") + "#contact")
            form.save()
            cache.set(key, sent + 1, 3600)
            messages.success(request, "Thank you. Your message has been received; we reply by e-mail.")
            return redirect(reverse("codes:support") + "#contact")
    status = 400 if request.method == "POST" and form.errors else 200
    return render(request, "site/support.html", {"page": page, "html": page.html() if page else "", "form": form},
                  status=status)
