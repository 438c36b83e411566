from __future__ import annotations

import json

from django import forms
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth import get_user_model
from django.contrib.auth.forms import AuthenticationForm, PasswordResetForm, UserCreationForm
from django.core.exceptions import ValidationError
from django.utils.html import format_html, format_html_join

from rvuedge.pricing import PolicyError, load_policy

from . import throttle
from .choices import choices as app_choices
from .models import CAREER_STAGES, Profile
from .specialties import ALIASES


class SpecialtyInput(forms.TextInput):
    """Free text with suggestions: the specialty names benchmarks know (other spellings are matched too)."""

    def __init__(self, attrs=None):
        super().__init__({"list": "specialty-names", "autocomplete": "off", **(attrs or {})})

    def render(self, name, value, attrs=None, renderer=None):
        options = format_html_join("", '<option value="{}">', ((n,) for n in sorted(set(ALIASES.values()))))
        return format_html('{}<datalist id="specialty-names">{}</datalist>',
                           super().render(name, value, attrs, renderer), options)


class SignupForm(UserCreationForm):
    email = forms.EmailField(help_text="For password reset only.")
    career_stage = forms.ChoiceField(choices=CAREER_STAGES, initial="attending")
    specialty = forms.CharField(max_length=80, required=False, widget=SpecialtyInput())

    class Meta(UserCreationForm.Meta):
        model = get_user_model()
        fields = ("username", "email")

    def clean_email(self):
        email = self.cleaned_data["email"].strip().lower()
        if get_user_model().objects.filter(email__iexact=email).exists():
            raise ValidationError("An account with this e-mail address exists; log in or reset its password.")
        return email

    def save(self, commit: bool = True):
        user = super().save(commit=False)
        user.email = self.cleaned_data["email"]
        if commit:
            user.save()
            Profile.objects.update_or_create(user=user, defaults={
                "career_stage": self.cleaned_data["career_stage"],
                "specialty": self.cleaned_data.get("specialty", "").strip(),
            })
        return user


class ThrottledLoginMixin:
    """Pauses log-in for a username + client address, and for a client address, after too many failures."""

    def clean(self):
        username = self.cleaned_data.get("username") or ""
        ip = throttle.client_ip(self.request)
        refusal = throttle.login_refusal(username, ip)
        if refusal:
            raise ValidationError(refusal, code="throttled")
        try:
            cleaned = super().clean()
        except ValidationError:
            throttle.record_failure(username, ip)
            refusal = throttle.login_refusal(username, ip)
            if refusal:
                raise ValidationError(refusal, code="throttled") from None
            raise
        throttle.reset(username, ip)
        return cleaned


class ThrottledAuthenticationForm(ThrottledLoginMixin, AuthenticationForm):
    """The site's log-in form."""


class ThrottledAdminAuthenticationForm(ThrottledLoginMixin, AdminAuthenticationForm):
    """The admin's log-in form (staff only), under the same limits."""


class ThrottledPasswordResetForm(PasswordResetForm):
    """Password reset: a ceiling per client address (the form says so), and per e-mail address (silently:
    the page reads the same, so it tells nobody whether the address has an account)."""

    def __init__(self, *args, request=None, **kwargs):
        self.request = request
        super().__init__(*args, **kwargs)

    def clean(self):
        cleaned = super().clean()
        blocked, left = throttle.reset_request_blocked(throttle.client_ip(self.request))
        if blocked:
            raise ValidationError(throttle.reset_blocked_message(left), code="throttled")
        return cleaned

    def save(self, *args, **kwargs):
        if throttle.record_reset_request(throttle.client_ip(self.request), self.cleaned_data["email"]):
            return super().save(*args, **kwargs)
        return None


class ProfileForm(forms.ModelForm):
    custom_policy_text = forms.CharField(
        label="Custom policy (JSON)", required=False, widget=forms.Textarea(attrs={"rows": 4, "class": "mono"}),
        help_text='Used when the credit policy is "custom", e.g. {"wrvu_profile": "cms_mirror", '
                  '"multiple_procedure_wrvu_factor": "1", "rvu_release": {"mode": "frozen", "release": "RVU25A"}}',
    )

    class Meta:
        model = Profile
        fields = ["career_stage", "specialty", "default_locality", "default_setting", "default_release",
                  "credit_policy", "fte", "annual_goal", "monthly_goal", "start_date", "prior_ytd_wrvu",
                  "minimums_set", "surgical_role"]
        labels = {"default_release": "RVU release", "credit_policy": "Credit policy",
                  "annual_goal": "Annual wRVU goal", "monthly_goal": "Monthly wRVU goal"}
        help_texts = {"monthly_goal": "blank = annual goal / 12", "fte": "1.00 = full time"}
        widgets = {"specialty": SpecialtyInput(), "start_date": forms.DateInput(attrs={"type": "date"})}

    def __init__(self, *args, localities=(), releases=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["default_locality"] = forms.ChoiceField(
            label="Default locality", required=False,
            choices=[("", "National (GPCIs 1.000)")] + [(x["key"], x["label"]) for x in localities])
        self.fields["default_release"] = forms.ChoiceField(
            label="RVU release", required=False,
            choices=[("", "The release in force on each date of service")] + [(r, r) for r in releases])
        if self.instance and self.instance.custom_policy:
            self.fields["custom_policy_text"].initial = json.dumps(self.instance.custom_policy, indent=1)
        self.fields["fte"].widget.attrs.update({"step": "0.05", "min": "0.05", "max": "1.5"})
        self.fields["minimums_set"] = forms.ChoiceField(
            label="Case minimums", required=False, help_text=self.fields["minimums_set"].help_text,
            choices=[("", "None")] + app_choices("minimums_set",
                                               self.instance.user if self.instance and self.instance.user_id else None))
        self.fields["surgical_role"] = forms.ChoiceField(
            label="Usual surgical role", required=False, help_text=self.fields["surgical_role"].help_text,
            choices=[("", "By career stage")] + app_choices("surgical_role"))

    def clean_fte(self):
        fte = self.cleaned_data["fte"]
        if fte is None or not (0 < fte <= 2):
            raise ValidationError("FTE is between 0.05 and 2.00")
        return fte

    def clean(self):
        cleaned = super().clean()
        text = (cleaned.get("custom_policy_text") or "").strip()
        if cleaned.get("credit_policy") == "custom" or text:
            if not text:
                self.add_error("custom_policy_text", "Paste the custom policy JSON, or pick a named policy.")
                return cleaned
            try:
                data = json.loads(text)
                load_policy(data)
            except json.JSONDecodeError as exc:
                self.add_error("custom_policy_text", f"Not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})")
            except PolicyError as exc:
                self.add_error("custom_policy_text", str(exc))
            else:
                cleaned["custom_policy"] = data
        for goal in ("annual_goal", "monthly_goal"):
            value = cleaned.get(goal)
            if value is not None and value < 0:
                self.add_error(goal, "A goal cannot be negative.")
        prior = cleaned.get("prior_ytd_wrvu")
        if prior is not None:
            if prior < 0:
                self.add_error("prior_ytd_wrvu", "Prior wRVUs cannot be negative.")
            elif prior and not cleaned.get("start_date"):
                self.add_error("start_date", "Give the start date these prior wRVUs came before "
                                             "(they count in that year only).")
        return cleaned

    def save(self, commit: bool = True):
        profile = super().save(commit=False)
        profile.custom_policy = self.cleaned_data.get("custom_policy") or (
            None if not (self.cleaned_data.get("custom_policy_text") or "").strip() else profile.custom_policy)
        if commit:
            profile.save()
        return profile


class TokenForm(forms.Form):
    name = forms.CharField(max_length=60, initial="my phone", help_text="What uses it: a phone, a script …")
