"""The JSON API: one NinjaAPI instance; each app contributes a router. OpenAPI at /api/openapi.json.

Every error is one JSON object, :class:`~rvuedge.params.ErrorOut` (``detail``, and ``field`` when one field is
at fault), declared in the OpenAPI document for every operation's 4xx answers: request validation (422,
naming the field and the rule, e.g. ``lines.0.units: Input should be less than or equal to 999``), a bad
query parameter or a NUL character in the address (400), authentication (401), missing objects (404).
"""

from __future__ import annotations

import logging

from django.core.exceptions import PermissionDenied, RequestDataTooBig, SuspiciousOperation
from ninja import NinjaAPI
from ninja.errors import ValidationError

from rvuedge.benchmarks.api import router as benchmarks_router
from rvuedge.codes.api import router as codes_router
from rvuedge.logbook.api import router as logbook_router
from rvuedge.params import ErrorOut, ParamError

#: The error answers every operation may give (401/403 only where authentication applies).
ERRORS = {
    400: "Bad request: a malformed parameter or body, or a NUL character in the address",
    401: "Authentication required: a personal token (Authorization: Bearer rvu_…) or a session",
    403: "Forbidden (a session request without its CSRF token)",
    404: "Not found",
    413: "Request body too large",
    414: "Address too long (the server's request-line limit)",
    422: "Validation error: `field` names the field at fault, `detail` says what is accepted",
    429: "Too many requests",
}
_ERROR_REF = {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorOut"}}}


class RvuEdgeAPI(NinjaAPI):
    def get_openapi_schema(self, *, path_prefix=None, path_params=None):
        schema = super().get_openapi_schema(path_prefix=path_prefix, path_params=path_params)
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        components["ErrorOut"] = ErrorOut.model_json_schema(ref_template="#/components/schemas/{model}")
        for path_item in schema["paths"].values():
            for op in path_item.values():
                responses = op.setdefault("responses", {})
                for status, description in ERRORS.items():
                    if status in (401, 403) and not op.get("security"):
                        continue
                    if status not in responses and str(status) not in responses:
                        responses[status] = {"description": description}
                        if status != 414:  # answered by gunicorn, in HTML
                            responses[status]["content"] = _ERROR_REF
        return schema


api = RvuEdgeAPI(title="RVU Edge API", version="1", urls_namespace="api", docs_url="/docs")
logger = logging.getLogger("rvuedge.api")

api.add_router("/codes", codes_router)
api.add_router("/log", logbook_router)
api.add_router("/benchmarks", benchmarks_router)


@api.exception_handler(Exception)
def unexpected_error(request, exc):
    """Anything the endpoints did not answer themselves: a JSON error without details (never a traceback,
    whatever DEBUG says); the traceback goes to the server log. ninja's own handlers (validation 422,
    HttpError, 404) are more specific and still apply."""
    if isinstance(exc, PermissionDenied):
        return api.create_response(request, {"detail": "Forbidden"}, status=403)
    if isinstance(exc, RequestDataTooBig):
        return api.create_response(request, {"detail": "Request body too large"}, status=413)
    if isinstance(exc, SuspiciousOperation):
        logger.warning("Bad request to %s %s: %s", request.method, request.path, exc)
        return api.create_response(request, {"detail": "Bad request"}, status=400)
    logger.error("Unexpected error in %s %s", request.method, request.path, exc_info=exc)
    return api.create_response(request, {"detail": "Internal server error"}, status=500)


def _field(loc) -> str:
    """pydantic's error location without the request part and the parameter name: ``lines.0.units``."""
    parts = [str(p) for p in loc]
    if parts and parts[0] in ("body", "query", "path", "header", "cookie", "form", "file"):
        source = parts.pop(0)
        if source == "body" and len(parts) > 1:
            parts.pop(0)  # the view's parameter name ("payload", "body")
    return ".".join(parts) or "body"


@api.exception_handler(ValidationError)
def validation_error(request, exc: ValidationError):
    """ninja's request validation errors in the API's one error shape (ErrorOut), naming each field."""
    problems = []
    for err in exc.errors:
        message = str(err.get("msg", "is not valid")).removeprefix("Value error, ")
        problems.append({"field": _field(err.get("loc", ())), "error": message, "type": err.get("type", "")})
    first = problems[0] if problems else {"field": "body", "error": "is not valid"}
    detail = f"{first['field']}: {first['error']}"
    if len(problems) > 1:
        detail += f" (and {len(problems) - 1} more problem{'s' if len(problems) > 2 else ''})"
    return api.create_response(request, {"detail": detail, "field": first["field"], "problems": problems},
                               status=422)


@api.exception_handler(ParamError)
def param_error(request, exc: ParamError):
    return api.create_response(request, {"detail": exc.message, "field": exc.field}, status=exc.status)
