"""The JSON API: one NinjaAPI instance; each app contributes a router. OpenAPI at /api/openapi.json."""

from __future__ import annotations

import logging

from django.core.exceptions import PermissionDenied, RequestDataTooBig, SuspiciousOperation
from ninja import NinjaAPI

from rvuedge.benchmarks.api import router as benchmarks_router
from rvuedge.codes.api import router as codes_router
from rvuedge.logbook.api import router as logbook_router

api = NinjaAPI(title="RVU Edge API", version="1", urls_namespace="api", docs_url="/docs")
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
