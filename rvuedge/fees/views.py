from __future__ import annotations

from django.http import JsonResponse

from .queries import release_summaries


def releases_json(request):  # noqa: ARG001
    return JsonResponse({"releases": release_summaries()})
