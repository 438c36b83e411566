"""JSON API routes for the code reference (mounted at /api/codes by rvuedge.api).

The same domain functions as the HTML pages and their ``.json`` twins: ``/api/codes/{code}`` returns exactly
what ``/codes/{code}.json`` returns, ``/api/codes/search?q=`` what ``/codes/search.json?q=`` returns.
"""

from __future__ import annotations

from typing import Any

from ninja import Router
from ninja.errors import HttpError

from rvuedge.fees.services import NotFound
from rvuedge.params import Offset, Page, limit_type

from . import queries
from .search import DEFAULT_LIMIT, MAX_LIMIT
from .search import search as run_search

router = Router(tags=["codes"])


@router.get("/search", summary="Search codes (code, prefix, range, words, synonyms; typo-tolerant)")
def search(request, q: str = "", limit: limit_type(MAX_LIMIT) = DEFAULT_LIMIT,
           offset: Offset = 0) -> dict[str, Any]:  # noqa: ARG001
    return run_search(q, limit=limit, offset=offset).to_dict()


@router.get("/browse", summary="Sections of the code set with code counts")
def browse_index(request, release: str | None = None) -> dict[str, Any]:  # noqa: ARG001
    try:
        return queries.browse(None, None, release=release)
    except NotFound as exc:
        raise HttpError(404, str(exc)) from exc


@router.get("/browse/{section}", summary="Codes of one section (paged)")
def browse_section(request, section: str, group: str | None = None, release: str | None = None,  # noqa: ARG001
                   page: Page = 1) -> dict[str, Any]:
    try:
        return queries.browse(section, group, release=release, page=page)
    except NotFound as exc:
        raise HttpError(404, str(exc)) from exc


@router.get("/{code}", summary="Everything about one code: RVUs, payment, history, comparison, FAQ")
def code(request, code: str, release: str | None = None, locality: str | None = None) -> dict[str, Any]:  # noqa: ARG001
    try:
        return queries.code_page(code, release=release, locality=locality)
    except NotFound as exc:
        raise HttpError(404, str(exc)) from exc
