from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import reverse_lazy
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from rvuedge.fees.models import Release
from rvuedge.fees.services import localities, newest_release

from .forms import ProfileForm, SignupForm, ThrottledAuthenticationForm, ThrottledPasswordResetForm, TokenForm
from .models import ApiToken
from .services import do_create_token, do_revoke_token, get_profile_for_user


def _safe_next(request, default: str = "/log/") -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        return target
    return default


def signup(request):
    if request.user.is_authenticated:
        return redirect("/log/")
    form = SignupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = form.save()
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        messages.success(request, "Welcome! Type codes in the box and press Enter to log an encounter.")
        return redirect(_safe_next(request))
    return render(request, "accounts/signup.html", {"form": form, "next": request.GET.get("next", "")})


class LoginView(auth_views.LoginView):
    template_name = "accounts/login.html"
    authentication_form = ThrottledAuthenticationForm
    redirect_authenticated_user = True

    def get_default_redirect_url(self):
        return "/log/"


class LogoutView(auth_views.LogoutView):
    next_page = "/"


class PasswordResetView(auth_views.PasswordResetView):
    template_name = "accounts/password_reset_form.html"
    email_template_name = "accounts/password_reset_email.txt"
    subject_template_name = "accounts/password_reset_subject.txt"
    success_url = reverse_lazy("accounts:password_reset_done")
    form_class = ThrottledPasswordResetForm

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "request": self.request}

    def form_invalid(self, form):
        response = super().form_invalid(form)
        if form.has_error("__all__", code="throttled"):
            response.status_code = 429
        return response


class PasswordResetDoneView(auth_views.PasswordResetDoneView):
    template_name = "accounts/password_reset_done.html"


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    template_name = "accounts/password_reset_confirm.html"
    success_url = reverse_lazy("accounts:password_reset_complete")


class PasswordResetCompleteView(auth_views.PasswordResetCompleteView):
    template_name = "accounts/password_reset_complete.html"


class PasswordChangeView(auth_views.PasswordChangeView):
    template_name = "accounts/password_change.html"
    success_url = reverse_lazy("accounts:profile")

    def form_valid(self, form):
        messages.success(self.request, "Password changed.")
        return super().form_valid(form)


@login_required
def profile(request):
    prof = get_profile_for_user(request.user)
    release = newest_release()
    locs = localities(release) if release else []
    releases = list(Release.objects.order_by("-year", "-name").values_list("name", flat=True))
    form = ProfileForm(request.POST or None, instance=prof, localities=locs, releases=releases)
    if request.method == "POST" and form.is_valid():
        prof = form.save(commit=False)
        prof.updated_at = timezone.now()
        prof.save()
        messages.success(request, "Profile saved. New encounters are credited with these settings.")
        return redirect("accounts:profile")
    new_token = request.session.pop("new_token", None)
    return render(request, "accounts/profile.html", {
        "form": form, "profile": prof, "tokens": ApiToken.objects.filter(user=request.user),
        "token_form": TokenForm(), "new_token": new_token, "active": "profile",
    })


@login_required
@require_POST
def token_create(request):
    form = TokenForm(request.POST)
    if form.is_valid():
        token, plain = do_create_token(request.user, form.cleaned_data["name"])
        # Shown once on the next page view, then gone: only the hash is stored.
        request.session["new_token"] = {"name": token.name, "token": plain}
    else:
        messages.error(request, "Give the token a name.")
    return redirect(reverse_lazy("accounts:profile") + "#tokens")


@login_required
@require_POST
def token_revoke(request, token_id: int):
    do_revoke_token(request.user, token_id)
    messages.success(request, "Token revoked.")
    return redirect(reverse_lazy("accounts:profile") + "#tokens")
