"""Profile choices that apps above accounts own (the minimums sets and surgical roles belong to the log).

accounts sits below the log and benchmarks, so it never imports them: an app registers a provider in its
``AppConfig.ready()`` and the profile form asks here. A provider takes the user (or None) and returns
``[(value, label), ...]``; a field nobody registered offers no choices.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

Provider = Callable[[object], Iterable[tuple[str, str]]]
_PROVIDERS: dict[str, Provider] = {}


def register(field: str, provider: Provider) -> None:
    _PROVIDERS[field] = provider


def choices(field: str, user=None) -> list[tuple[str, str]]:
    provider = _PROVIDERS.get(field)
    return list(provider(user)) if provider else []
