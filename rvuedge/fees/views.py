from __future__ import annotations

from django.http import JsonResponse
from django.shortcuts import render

from .queries import release_summaries


def home(request):
    releases = release_summaries()
    return render(request, "home.html", {"releases": releases})


def releases_json(request):  # noqa: ARG001
    return JsonResponse({"releases": release_summaries()})
