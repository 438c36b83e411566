"""Security headers Django 5.2 does not set itself.

* ``Content-Security-Policy`` (``settings.CONTENT_SECURITY_POLICY``) on every response that has none.
  The policy is one fixed string: no page carries inline script, so no per-request nonce is needed, and a
  short middleware is all it takes (django-csp would add a dependency and its settings for the same header).
* ``Cache-Control: private, no-store`` on private responses: anything under ``RVUEDGE_PRIVATE_PATHS``
  (the log, the account pages, contracts, the private API, the admin) and any response to a signed-in
  request (a session of an authenticated user, or an ``Authorization`` header), so neither a shared cache nor
  the browser's back/forward cache keeps a user's log.

It sits after WhiteNoise in ``MIDDLEWARE``: static files keep their own long-lived public caching.

:class:`PublicGZipMiddleware` compresses public pages (and never a page carrying a CSRF token: BREACH).
"""

from __future__ import annotations

from django.conf import settings
from django.middleware.gzip import GZipMiddleware

PRIVATE_CACHE_CONTROL = "private, no-store"


def is_private(request) -> bool:
    if request.path.startswith(tuple(settings.RVUEDGE_PRIVATE_PATHS)):
        return True
    if request.META.get("HTTP_AUTHORIZATION"):
        return True
    # Only look at the user when a session cookie came with the request: reading the session of an anonymous
    # visitor would add "Vary: Cookie" to every public page.
    if settings.SESSION_COOKIE_NAME not in request.COOKIES:
        return False
    user = getattr(request, "user", None)
    return bool(user is not None and user.is_authenticated)


class SecurityHeadersMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response
        self.policy = settings.CONTENT_SECURITY_POLICY

    def __call__(self, request):
        response = self.get_response(request)
        if self.policy and "Content-Security-Policy" not in response:
            response["Content-Security-Policy"] = self.policy
        if is_private(request):
            response["Cache-Control"] = PRIVATE_CACHE_CONTROL
        return response


# --------------------------------------------------------------------------- compression of public pages

COMPRESSIBLE = ("text/html", "application/json", "application/xml", "text/plain", "application/atom+xml")


class PublicGZipMiddleware(GZipMiddleware):
    """gzip for public responses only (pages, their JSON twins, the sitemap).

    Never for a private response or one whose page carries a CSRF token: compressing a secret beside text an
    attacker can reflect into the page leaks the secret through the compressed length (BREACH). A page that
    renders ``{% csrf_token %}`` calls ``get_token``, which marks the request with ``CSRF_COOKIE_NEEDS_UPDATE``.
    Static files are compressed ahead of time by WhiteNoise (gzip and Brotli) and never reach this middleware.
    """

    def process_response(self, request, response):
        if is_private(request) or settings.CSRF_COOKIE_NAME in response.cookies:
            return response
        if not response.get("Content-Type", "").startswith(COMPRESSIBLE):
            return response
        return super().process_response(request, response)
