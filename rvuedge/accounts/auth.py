"""API authentication for django-ninja: a personal token (``Authorization: Bearer rvu_…``) or the session."""

from __future__ import annotations

from ninja.security import HttpBearer, SessionAuth

from .services import user_for_token


class TokenAuth(HttpBearer):
    def authenticate(self, request, token):
        user = user_for_token(token)
        if user is not None:
            request.user = user
        return user


#: Token first, then the session cookie (which checks CSRF on unsafe methods).
api_auth = [TokenAuth(), SessionAuth()]
