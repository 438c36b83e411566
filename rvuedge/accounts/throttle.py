"""Login rate limiting through Django's cache: N failures per username + client address per window.

The cache alias is ``RVUEDGE_RATELIMIT_CACHE`` (default ``ratelimit`` when configured, else ``default``).
It must be shared by every server process, or each gunicorn worker would count on its own.
"""

from __future__ import annotations

import hashlib
import time

from django.conf import settings
from django.core.cache import caches

MAX_FAILURES = 5
WINDOW_SECONDS = 15 * 60


def _cache():
    alias = getattr(settings, "RVUEDGE_RATELIMIT_CACHE", None)
    if alias is None:
        alias = "ratelimit" if "ratelimit" in settings.CACHES else "default"
    return caches[alias]


def _limits() -> tuple[int, int]:
    return (getattr(settings, "RVUEDGE_LOGIN_MAX_FAILURES", MAX_FAILURES),
            getattr(settings, "RVUEDGE_LOGIN_WINDOW_SECONDS", WINDOW_SECONDS))


def client_ip(request) -> str:
    # REMOTE_ADDR only: X-Forwarded-For is client-controlled unless a trusted proxy rewrites it.
    return (request.META.get("REMOTE_ADDR") or "unknown") if request is not None else "unknown"


def _key(username: str, ip: str) -> str:
    raw = f"{(username or '').strip().lower()}\x00{ip}"
    return "login-fail:" + hashlib.sha256(raw.encode()).hexdigest()


def failures(username: str, ip: str) -> tuple[int, float]:
    """(failures in the current window, seconds until the window ends)."""
    value = _cache().get(_key(username, ip))
    if not value:
        return 0, 0.0
    count, started = value
    _max, window = _limits()
    left = started + window - time.time()
    if left <= 0:
        return 0, 0.0
    return count, left


def is_locked(username: str, ip: str) -> tuple[bool, float]:
    count, left = failures(username, ip)
    return count >= _limits()[0], left


def record_failure(username: str, ip: str) -> int:
    count, left = failures(username, ip)
    _max, window = _limits()
    started = time.time() if count == 0 else time.time() + left - window
    count += 1
    _cache().set(_key(username, ip), (count, started), timeout=window)
    return count


def reset(username: str, ip: str) -> None:
    _cache().delete(_key(username, ip))


def locked_message(seconds_left: float) -> str:
    minutes = max(1, int(seconds_left // 60) + (1 if seconds_left % 60 else 0))
    limit, window = _limits()
    return (f"Too many failed log-in attempts ({limit} in {window // 60} minutes) for this username from your "
            f"network. Log-in is paused for about {minutes} minute{'s' if minutes != 1 else ''}; "
            "you can reset your password meanwhile.")
