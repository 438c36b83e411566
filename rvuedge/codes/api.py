"""JSON API routes for the codes app (mounted under /api/ by rvuedge.api)."""

from __future__ import annotations

from ninja import Router

router = Router(tags=["codes"])
