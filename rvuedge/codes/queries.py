"""The code reference's read-side API: one domain function per page, each returning a JSON-ready dict.

HTML views, the JSON twins (``.json`` / ``?format=json``), the ninja API and the ``rvuedge code`` command call
these, so every surface shows the same figures. They live by purpose:

* :mod:`.codepage`: the code page (:func:`code_page`, :func:`page_key`, measured specialty shares);
* :mod:`.browse`: browse by section and group, the home page's figures, the "how wRVUs work" example;
* :mod:`.releases`: loaded releases and localities, each release's code index;
* :mod:`.cache`: the in-process LRU caches, keyed by :func:`rvuedge.codes.search.data_version`.

This module names what callers outside those modules use.
"""

from __future__ import annotations

from .browse import browse, example_payment, home_data
from .cache import LRU
from .codepage import code_page, page_key
from .releases import locality_options, pick_locality, pick_release, release_names, releases

__all__ = [
    "LRU", "browse", "code_page", "example_payment", "home_data", "locality_options", "page_key", "pick_locality",
    "pick_release", "release_names", "releases",
]
