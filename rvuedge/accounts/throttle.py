"""Rate limits through Django's cache: log-in failures and password-reset requests.

Log-in (the site's and the admin's): failures are counted per username + client address, so an attacker
elsewhere cannot lock a username out for everyone, and per client address across all usernames (a
ceiling), so one address cannot try many usernames either. Password reset: requests per client address and
per e-mail address (so nobody can flood someone's mailbox).

The client address is ``REMOTE_ADDR``, or, behind ``RVUEDGE_TRUSTED_PROXIES`` = N reverse proxies, the N-th
``X-Forwarded-For`` entry from the right (the address the outermost trusted proxy saw; anything to its left
is what the client claimed and is ignored).

The cache alias is ``RVUEDGE_RATELIMIT_CACHE`` (default ``ratelimit`` when configured, else ``default``).
It must be shared by every server process, or each gunicorn worker would count on its own.
"""

from __future__ import annotations

import hashlib
import ipaddress
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import caches

MAX_FAILURES = 5
WINDOW_SECONDS = 15 * 60
MAX_FAILURES_PER_ADDRESS = 50
MAX_RESETS_PER_ADDRESS = 10
MAX_RESETS_PER_EMAIL = 3
RESET_WINDOW_SECONDS = 60 * 60


def _cache():
    alias = getattr(settings, "RVUEDGE_RATELIMIT_CACHE", None)
    if alias is None:
        alias = "ratelimit" if "ratelimit" in settings.CACHES else "default"
    return caches[alias]


@dataclass(frozen=True)
class Limit:
    """At most ``limit`` events per key in a window of ``window`` seconds (from the first event)."""

    name: str
    limit_setting: str
    limit_default: int
    window_setting: str
    window_default: int

    @property
    def limit(self) -> int:
        return getattr(settings, self.limit_setting, self.limit_default)

    @property
    def window(self) -> int:
        return getattr(settings, self.window_setting, self.window_default)

    def _key(self, *parts: str) -> str:
        raw = "\x00".join(parts)
        return f"rl:{self.name}:" + hashlib.sha256(raw.encode()).hexdigest()

    def count(self, *parts: str) -> tuple[int, float]:
        """(events in the current window, seconds until the window ends)."""
        value = _cache().get(self._key(*parts))
        if not value:
            return 0, 0.0
        count, started = value
        left = started + self.window - time.time()
        if left <= 0:
            return 0, 0.0
        return count, left

    def exceeded(self, *parts: str) -> tuple[bool, float]:
        count, left = self.count(*parts)
        return count >= self.limit, left

    def hit(self, *parts: str) -> int:
        count, left = self.count(*parts)
        window = self.window
        started = time.time() if count == 0 else time.time() + left - window
        count += 1
        _cache().set(self._key(*parts), (count, started), timeout=window)
        return count

    def clear(self, *parts: str) -> None:
        _cache().delete(self._key(*parts))


LOGIN = Limit("login", "RVUEDGE_LOGIN_MAX_FAILURES", MAX_FAILURES, "RVUEDGE_LOGIN_WINDOW_SECONDS", WINDOW_SECONDS)
LOGIN_ADDRESS = Limit("login-addr", "RVUEDGE_LOGIN_MAX_FAILURES_PER_ADDRESS", MAX_FAILURES_PER_ADDRESS,
                      "RVUEDGE_LOGIN_WINDOW_SECONDS", WINDOW_SECONDS)
RESET_ADDRESS = Limit("reset-addr", "RVUEDGE_RESET_MAX_PER_ADDRESS", MAX_RESETS_PER_ADDRESS,
                      "RVUEDGE_RESET_WINDOW_SECONDS", RESET_WINDOW_SECONDS)
RESET_EMAIL = Limit("reset-email", "RVUEDGE_RESET_MAX_PER_EMAIL", MAX_RESETS_PER_EMAIL,
                    "RVUEDGE_RESET_WINDOW_SECONDS", RESET_WINDOW_SECONDS)


def _limits() -> tuple[int, int]:
    return LOGIN.limit, LOGIN.window


def _valid_ip(value: str) -> str | None:
    value = value.strip()
    if value.startswith("[") and "]" in value:  # [v6]:port
        value = value[1:value.index("]")]
    elif value.count(":") == 1:  # v4:port
        value = value.split(":", 1)[0]
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        return None


def client_ip(request) -> str:
    """The client's address: REMOTE_ADDR, or the address the trusted proxies report (see the module doc)."""
    if request is None:
        return "unknown"
    remote = request.META.get("REMOTE_ADDR") or "unknown"
    proxies = getattr(settings, "RVUEDGE_TRUSTED_PROXIES", 0)
    if proxies <= 0:
        return remote
    entries = [e for e in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if e.strip()]
    if len(entries) < proxies:
        # Fewer entries than proxies: the request did not come through them all; trust nothing it says.
        return remote
    return _valid_ip(entries[-proxies]) or remote


def _username(username: str) -> str:
    return (username or "").strip().lower()


# --------------------------------------------------------------------------- log-in


def failures(username: str, ip: str) -> tuple[int, float]:
    """(failures for this username from this address in the current window, seconds until it ends)."""
    return LOGIN.count(_username(username), ip)


def record_failure(username: str, ip: str) -> int:
    LOGIN_ADDRESS.hit(ip)
    return LOGIN.hit(_username(username), ip)


def reset(username: str, ip: str) -> None:
    """A successful log-in clears its username + address count (not the address ceiling)."""
    LOGIN.clear(_username(username), ip)


def login_refusal(username: str, ip: str) -> str | None:
    """Why a log-in attempt is refused before its password is checked, or None."""
    locked, left = LOGIN.exceeded(_username(username), ip)
    if locked:
        return locked_message(left)
    locked, left = LOGIN_ADDRESS.exceeded(ip)
    if locked:
        return (f"Too many failed log-in attempts from your network ({LOGIN_ADDRESS.limit} in "
                f"{LOGIN_ADDRESS.window // 60} minutes). Log-in is paused for about {_minutes(left)}.")
    return None


def locked_message(seconds_left: float) -> str:
    limit, window = _limits()
    return (f"Too many failed log-in attempts ({limit} in {window // 60} minutes) for this username from your "
            f"network. Log-in is paused for about {_minutes(seconds_left)}; you can reset your password "
            "meanwhile.")


def _minutes(seconds_left: float) -> str:
    minutes = max(1, int(seconds_left // 60) + (1 if seconds_left % 60 else 0))
    return f"{minutes} minute{'s' if minutes != 1 else ''}"


# --------------------------------------------------------------------------- password reset


def reset_request_blocked(ip: str) -> tuple[bool, float]:
    return RESET_ADDRESS.exceeded(ip)


def record_reset_request(ip: str, email: str) -> bool:
    """Count one password-reset request; False when this e-mail address already had its share (send nothing)."""
    RESET_ADDRESS.hit(ip)
    email = (email or "").strip().lower()
    over, _left = RESET_EMAIL.exceeded(email)
    if over:
        return False
    RESET_EMAIL.hit(email)
    return True


def reset_blocked_message(seconds_left: float) -> str:
    return (f"Too many password-reset requests from your network ({RESET_ADDRESS.limit} in "
            f"{RESET_ADDRESS.window // 60} minutes). Try again in about {_minutes(seconds_left)}.")
