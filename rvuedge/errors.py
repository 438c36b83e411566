"""One error shape for every JSON answer: the API under /api/ and the pages' JSON twins (``/codes/99213.json``).

Every JSON error is an :class:`ErrorOut` object::

    {"detail": "99999 is not in any loaded release", "field": "code", "problems": []}

``detail`` says what is wrong and what is accepted, ``field`` names the input at fault (or null), ``problems``
lists per-item problems (one per field of a body, one per token of an entry) and is empty otherwise.
:func:`register` installs the handlers on the NinjaAPI once; pages answer with :func:`json_error` (and
:func:`error_response` for the middleware), so the shapes cannot drift apart.
"""

from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import PermissionDenied, RequestDataTooBig, SuspiciousOperation
from django.http import Http404, HttpResponse, JsonResponse
from django.views import defaults
from ninja import Schema
from ninja.errors import HttpError, ValidationError

logger = logging.getLogger("rvuedge.api")


class ErrorOut(Schema):
    """Every error the JSON API and the JSON twins answer: what is wrong (``detail``), the field at fault,
    per-item problems."""

    detail: str
    field: str | None = None
    problems: list[dict[str, Any]] = []


class ParamError(ValueError):
    """A request parameter that cannot be used; ``field`` names it and ``message`` says what is accepted."""

    def __init__(self, field: str, message: str, *, status: int = 400):
        self.field = field
        self.message = message
        self.status = status
        super().__init__(message)


def error_body(detail: str, field: str | None = None, problems: list[dict[str, Any]] | None = None) -> dict:
    """The one JSON error object (see the module docstring)."""
    return {"detail": detail, "field": field, "problems": list(problems or [])}


def json_error(detail: str, status: int, field: str | None = None,
               problems: list[dict[str, Any]] | None = None) -> JsonResponse:
    return JsonResponse(error_body(detail, field, problems), status=status)


def wants_json(request) -> bool:
    """The API, a page's JSON twin (``….json``) or ``?format=json``."""
    return (request.path.startswith("/api/") or request.path.endswith(".json")
            or request.GET.get("format") == "json")


def error_response(request, field: str, message: str, status: int = 400) -> HttpResponse:
    """An error where no view answered (middleware): the JSON error object when JSON was asked for, else text."""
    if wants_json(request):
        return json_error(message, status, field)
    return HttpResponse(f"Bad request: {message}\n", status=status, content_type="text/plain; charset=utf-8")


def page_not_found(request, exception=None):
    """The site's 404 (``handler404``): the JSON error object for the API and JSON twins, else the 404 page."""
    if wants_json(request):
        message = str(exception) if isinstance(exception, Http404) and exception.args else "Not found"
        return json_error(message, 404)
    return defaults.page_not_found(request, exception)


# --------------------------------------------------------------------------- the API's handlers


def _field(loc) -> str:
    """pydantic's error location without the request part and the parameter name: ``lines.0.units``."""
    parts = [str(p) for p in loc]
    if parts and parts[0] in ("body", "query", "path", "header", "cookie", "form", "file"):
        source = parts.pop(0)
        if source == "body" and len(parts) > 1:
            parts.pop(0)  # the view's parameter name ("payload", "body")
    return ".".join(parts) or "body"


def validation_body(exc: ValidationError) -> dict:
    """ninja's request validation errors, naming each field; ``detail`` names the first."""
    problems = []
    for err in exc.errors:
        message = str(err.get("msg", "is not valid")).removeprefix("Value error, ")
        problems.append({"field": _field(err.get("loc", ())), "error": message, "type": err.get("type", "")})
    first = problems[0] if problems else {"field": "body", "error": "is not valid"}
    detail = f"{first['field']}: {first['error']}"
    if len(problems) > 1:
        detail += f" (and {len(problems) - 1} more problem{'s' if len(problems) > 2 else ''})"
    return error_body(detail, first["field"], problems)


def register(api) -> None:
    """Install the error handlers on a NinjaAPI: every error it answers is an :class:`ErrorOut`."""

    def reply(request, body: dict, status: int):
        return api.create_response(request, body, status=status)

    @api.exception_handler(Exception)
    def unexpected_error(request, exc):
        """Anything the endpoints did not answer themselves: never a traceback, whatever DEBUG says; the
        traceback goes to the server log."""
        if isinstance(exc, PermissionDenied):
            return reply(request, error_body("Forbidden"), 403)
        if isinstance(exc, RequestDataTooBig):
            return reply(request, error_body("Request body too large"), 413)
        if isinstance(exc, SuspiciousOperation):
            logger.warning("Bad request to %s %s: %s", request.method, request.path, exc)
            return reply(request, error_body("Bad request"), 400)
        logger.error("Unexpected error in %s %s", request.method, request.path, exc_info=exc)
        return reply(request, error_body("Internal server error"), 500)

    @api.exception_handler(ValidationError)
    def validation_error(request, exc: ValidationError):
        return reply(request, validation_body(exc), 422)

    @api.exception_handler(ParamError)
    def param_error(request, exc: ParamError):
        return reply(request, error_body(exc.message, exc.field), exc.status)

    @api.exception_handler(HttpError)
    def http_error(request, exc: HttpError):
        return reply(request, error_body(str(exc.message)), exc.status_code)

    @api.exception_handler(Http404)
    def not_found(request, exc: Http404):
        return reply(request, error_body(str(exc) if exc.args else "Not found"), 404)
