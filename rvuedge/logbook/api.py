"""JSON API routes for the logbook app (mounted under /api/ by rvuedge.api)."""

from __future__ import annotations

from ninja import Router

router = Router(tags=["logbook"])
