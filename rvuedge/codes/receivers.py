"""The code site's answers to the fee schedule's signals (:mod:`rvuedge.fees.signals`), connected in
:meth:`rvuedge.codes.apps.CodesConfig.ready`."""

from __future__ import annotations

from django.core.management import call_command

from .models import CodeContent
from .search import rebuild_index


def rebuild_search_index(sender, release, **kwargs) -> None:
    """A release or HCPCS file was loaded: the search index is derived from them (same transaction)."""
    rebuild_index()


def load_content_on_first_start(sender, stdout, **kwargs) -> None:
    """``rvuedge serve`` on a new database: load the editorial code pages shipped in rvuedge/content/codes."""
    if not CodeContent.objects.exists():
        call_command("content", "load", stdout=stdout)
