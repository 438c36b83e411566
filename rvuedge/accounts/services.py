"""Access and writes for accounts: get_profile_for_user and the do_* functions for API tokens."""

from __future__ import annotations

from django.db import transaction
from django.http import Http404
from django.utils import timezone

from .models import TOKEN_PREFIX, ApiToken, Profile, token_digest


def get_profile_for_user(user) -> Profile:
    """The user's profile, created with defaults on first use (users made by createsuperuser have none)."""
    try:
        return user.profile
    except Profile.DoesNotExist:
        profile, _ = Profile.objects.get_or_create(user=user)
        user.profile = profile
        return profile


def do_create_token(user, name: str) -> tuple[ApiToken, str]:
    """Create a token; return the row and the plain token (shown once, never stored)."""
    plain = ApiToken.generate()
    token = ApiToken.objects.create(user=user, name=name.strip()[:60] or "token", prefix=plain[:10],
                                    digest=token_digest(plain))
    return token, plain


def get_token_for_user(user, token_id: int) -> ApiToken:
    token = ApiToken.objects.filter(user=user, pk=token_id).first()
    if token is None:
        raise Http404("No such token")
    return token


def do_revoke_token(user, token_id: int) -> None:
    get_token_for_user(user, token_id).delete()


def user_for_token(plain: str):
    """The active user a personal token belongs to, or None; records when the token was last used."""
    if not plain or not plain.startswith(TOKEN_PREFIX) or len(plain) > 100:
        return None
    token = ApiToken.objects.select_related("user").filter(digest=token_digest(plain)).first()
    if token is None or not token.user.is_active:
        return None
    now = timezone.now()
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
        with transaction.atomic():
            ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user
