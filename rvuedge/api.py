"""The JSON API: one NinjaAPI instance; each app contributes a router. OpenAPI at /api/openapi.json.

Every error is one JSON object, :class:`~rvuedge.errors.ErrorOut` (``detail``, and ``field`` when one field is
at fault), declared in the OpenAPI document for every operation's 4xx answers: request validation (422,
naming the field and the rule, e.g. ``lines.0.units: Input should be less than or equal to 999``), a bad
query parameter or a NUL character in the address (400), authentication (401), missing objects (404).
"""

from __future__ import annotations

from ninja import NinjaAPI

from rvuedge import errors
from rvuedge.benchmarks.api import router as benchmarks_router
from rvuedge.codes.api import router as codes_router
from rvuedge.errors import ErrorOut
from rvuedge.logbook.api import router as logbook_router

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

api.add_router("/codes", codes_router)
api.add_router("/log", logbook_router)
api.add_router("/benchmarks", benchmarks_router)


errors.register(api)
