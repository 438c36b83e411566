"""The JSON API: one NinjaAPI instance; each app contributes a router. OpenAPI at /api/openapi.json."""

from __future__ import annotations

from ninja import NinjaAPI

from rvuedge.benchmarks.api import router as benchmarks_router
from rvuedge.codes.api import router as codes_router
from rvuedge.logbook.api import router as logbook_router

api = NinjaAPI(title="RVU Edge API", version="1", urls_namespace="api", docs_url="/docs")
api.add_router("/codes", codes_router)
api.add_router("/log", logbook_router)
api.add_router("/benchmarks", benchmarks_router)
