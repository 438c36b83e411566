from __future__ import annotations

from django.contrib import admin

from .forms import ThrottledAdminAuthenticationForm
from .models import ApiToken, Profile

# The admin log-in is rate-limited like the site's (rvuedge.accounts.throttle).
admin.site.login_form = ThrottledAdminAuthenticationForm


@admin.register(Profile)
class ProfileAdmin(admin.ModelAdmin):
    list_display = ("user", "career_stage", "specialty", "credit_policy", "default_release", "annual_goal")
    list_filter = ("career_stage", "credit_policy")
    search_fields = ("user__username", "user__email", "specialty")


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ("user", "name", "prefix", "created_at", "last_used_at")
    search_fields = ("user__username", "name", "prefix")
    readonly_fields = ("prefix", "digest", "created_at", "last_used_at")
