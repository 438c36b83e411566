from __future__ import annotations

from rvuedge import __version__


def site(request):  # noqa: ARG001
    return {"rvuedge_version": __version__}
