"""API authentication for django-ninja: a personal token (``Authorization: Bearer rvu_…``) or the session.

A request that sends a Bearer token is judged by that token alone: an unknown or revoked one is a 401
("Invalid or revoked API token"), never a fall-through to the session and its CSRF check. A request with
neither a token nor a session cookie is a 401 too; only a request that carries the session cookie meets the
CSRF check (403 without the token), as in a browser.
"""

from __future__ import annotations

from django.conf import settings
from ninja.errors import AuthenticationError
from ninja.security import HttpBearer
from ninja.security import SessionAuth as NinjaSessionAuth

from .services import user_for_token

INVALID_TOKEN = "Invalid or revoked API token (create one on your profile page)"


class TokenAuth(HttpBearer):
    def authenticate(self, request, token):
        user = user_for_token(token.strip())
        if user is None:
            raise AuthenticationError(401, INVALID_TOKEN)
        request.user = user
        return user


class SessionAuth(NinjaSessionAuth):
    """The session cookie; without one there is nothing to authenticate (and no CSRF check to fail)."""

    def __call__(self, request):
        if settings.SESSION_COOKIE_NAME not in request.COOKIES:
            return None
        return super().__call__(request)


#: Token first, then the session cookie (which checks CSRF on unsafe methods).
api_auth = [TokenAuth(), SessionAuth()]
