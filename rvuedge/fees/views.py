from __future__ import annotations

from django.http import JsonResponse
from django.shortcuts import render
from django.utils import timezone

from .queries import data_status, release_summaries


def releases_json(request):  # noqa: ARG001
    return JsonResponse({"releases": release_summaries()})


def data_page(request, fmt: str = "html"):
    """The CMS data this installation holds, and what to run when a year has no release of its own."""
    status = data_status(timezone.localdate())
    if fmt == "json":
        return JsonResponse(status)
    return render(request, "fees/data.html", {"d": status})
