from __future__ import annotations

from django.urls import path, register_converter

from . import views
from .content import RESOURCE_SLUGS


class CodeConverter:
    regex = "[0-9A-Za-z]{5}"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


class SlugConverter:
    regex = "[a-z0-9][a-z0-9-]*"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(CodeConverter, "code")
register_converter(SlugConverter, "lslug")

app_name = "codes"
urlpatterns = [
    path("", views.home, name="home"),
    # search (HTML + JSON twin) and the typeahead
    path("codes/", views.search_page, name="search"),
    path("codes/search.json", views.search_page, {"fmt": "json"}, name="search-json"),
    path("codes/suggest/", views.suggest, name="suggest"),
    # browse by category and section
    path("codes/browse/", views.browse, name="browse"),
    path("codes/browse.json", views.browse, {"fmt": "json"}, name="browse-json"),
    path("codes/browse/<lslug:section>/", views.browse, name="browse-section"),
    path("codes/browse/<lslug:section>.json", views.browse, {"fmt": "json"}, name="browse-section-json"),
    path("codes/browse/<lslug:section>/<lslug:group>/", views.browse, name="browse-group"),
    path("codes/browse/<lslug:section>/<lslug:group>.json", views.browse, {"fmt": "json"},
         name="browse-group-json"),
    # one page per code
    path("codes/<code:code>/", views.code_detail, name="code"),
    path("codes/<code:code>.json", views.code_detail, {"fmt": "json"}, name="code-json"),
    path("codes/<code:code>/payment/", views.payment_partial, name="code-payment"),
    # the site around it
    path("students/", views.content_page, {"slug": "students", "section": "career"}, name="students"),
    path("residents/", views.content_page, {"slug": "residents", "section": "career"}, name="residents"),
    path("attendings/", views.content_page, {"slug": "attendings", "section": "career"}, name="attendings"),
    path("resources/", views.resources, name="resources"),
    path("resources/<lslug:slug>/", views.resource, name="resource"),
    path("blog/", views.blog_index, name="blog"),
    path("blog/feed.atom", views.BlogFeed(), name="blog-feed"),
    path("blog/<lslug:slug>/", views.blog_post, name="blog-post"),
    path("support/", views.support, name="support"),
    # for search engines
    path("sitemap.xml", views.sitemap_index, name="sitemap"),
    path("sitemap-pages.xml", views.sitemap_pages, name="sitemap-pages"),
    path("sitemap-codes-<int:part>.xml", views.sitemap_codes, name="sitemap-codes"),
    path("robots.txt", views.robots_txt, name="robots"),
    # the Markdown content links to /<resource>/: keep those addresses working
    *[path(f"{slug}/", views.legacy_resource, {"slug": slug}) for slug in RESOURCE_SLUGS],
]
