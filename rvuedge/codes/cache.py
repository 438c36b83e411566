"""In-process caches of the code reference: a tiny thread-safe LRU and the shared instances.

Every key starts with what the value depends on (:func:`rvuedge.codes.search.data_version`, which changes
whenever a release, HCPCS file or content is loaded or edited), so nothing here is ever cleared by hand: a
new version simply stops hitting the old entries, which age out.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any


class LRU:
    """A tiny thread-safe in-process LRU (values are shared: callers must not mutate them)."""

    def __init__(self, size: int):
        self.size = size
        self.data: OrderedDict[Any, Any] = OrderedDict()
        self.lock = threading.Lock()

    def get(self, key: Any) -> Any:
        with self.lock:
            value = self.data.get(key)
            if value is not None:
                self.data.move_to_end(key)
            return value

    def put(self, key: Any, value: Any) -> Any:
        with self.lock:
            self.data[key] = value
            self.data.move_to_end(key)
            while len(self.data) > self.size:
                self.data.popitem(last=False)
        return value

    def get_or_build(self, key: Any, build: Callable[[], Any]) -> Any:
        value = self.get(key)
        if value is None:
            value = self.put(key, build())
        return value

    def clear(self) -> None:
        with self.lock:
            self.data.clear()


# Page dicts are large graphs of small objects: keep few of them (the garbage collector walks every live
# container); the views cache the rendered HTML and JSON text of many more pages, which costs the GC nothing.
PAGES = LRU(256)
DERIVED = LRU(64)  # per-release derived data: release list, localities, section index, content and HCPCS maps
MARKDOWN = LRU(2048)  # rendered editorial Markdown
