from __future__ import annotations

import uuid

from django import forms
from django.utils import timezone

from .backup import restore_max_bytes, too_big_message
from .models import ROLE_LABELS, ROLES, ROLES_BY_STAGE

SETTING_CHOICES = [("", "Profile default"), ("non_facility", "Non-facility (office)"), ("facility", "Facility")]


def role_choices(stage: str, current: str | None = None, *, by_code: bool = False) -> list[tuple[str, str]]:
    """The roles offered to a career stage; ``by_code`` puts first the default by code kind (blank value)."""
    keys = list(ROLES_BY_STAGE.get(stage, [k for k, _ in ROLES]))
    if current and current not in keys:
        keys.append(current)
    choices = [(k, ROLE_LABELS[k]) for k in keys if k in ROLE_LABELS]
    if by_code:
        label = ("By code (observed)" if stage == "student"
                 else "By code (E/M: performed; surgery: your usual role)")
        choices.insert(0, ("", label))
    return choices


class EncounterForm(forms.Form):
    entry = forms.CharField(label="Codes", max_length=500, widget=forms.TextInput(attrs={
        "autocomplete": "off", "autocapitalize": "characters", "spellcheck": "false", "enterkeyhint": "done",
        "placeholder": "99214 20610-RT 27447-50", "class": "entry-box"}))
    date = forms.DateField(label="Date of service", required=False, widget=forms.DateInput(attrs={"type": "date"}))
    setting = forms.ChoiceField(choices=SETTING_CHOICES, required=False)
    pos = forms.CharField(label="Place of service", max_length=2, required=False,
                          widget=forms.TextInput(attrs={"inputmode": "numeric", "placeholder": "e.g. 22", "size": 3}))
    role = forms.ChoiceField(choices=[(k, v) for k, v in ROLES], required=False)
    site = forms.CharField(label="Site", max_length=80, required=False,
                           widget=forms.TextInput(attrs={"list": "dl-site", "placeholder": "e.g. Main OR"}))
    attending = forms.CharField(label="Attending", max_length=80, required=False,
                                widget=forms.TextInput(attrs={"list": "dl-attending", "placeholder": "e.g. Dr. Rivera"}))
    category = forms.CharField(label="Case category", max_length=80, required=False,
                               widget=forms.TextInput(attrs={"list": "dl-category", "placeholder": "e.g. Hernia"}))
    notes = forms.CharField(max_length=1000, required=False, widget=forms.Textarea(attrs={
        "rows": 2, "placeholder": "e.g. converted to open (no patient identifiers)"}))
    idem = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, stage: str = "attending", current_role: str | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        # A new encounter's role defaults by code kind; an edit keeps the role it has.
        self.fields["role"].choices = role_choices(stage, current_role, by_code=current_role is None)
        if not self.is_bound:
            self.fields["idem"].initial = "form:" + uuid.uuid4().hex
            self.fields["date"].initial = timezone.localdate()


class FilterForm(forms.Form):
    start = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    code = forms.CharField(required=False, max_length=5, widget=forms.TextInput(attrs={"placeholder": "99214", "size": 6}))
    site = forms.CharField(required=False, max_length=80)
    role = forms.ChoiceField(required=False, choices=[("", "Any role")] + list(ROLES))
    category = forms.CharField(required=False, max_length=80)

    def filters(self) -> dict:
        if not self.is_valid():
            return {}
        return {k: v for k, v in self.cleaned_data.items() if v}


class RangeForm(forms.Form):
    start = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))


class UploadForm(forms.Form):
    file = forms.FileField(help_text="CSV or Excel (.xlsx), one encounter per row, up to 50 MB")


class RestoreForm(forms.Form):
    file = forms.FileField(label="Backup file (.json)")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["file"].help_text = f"an RVU Edge backup (.json) of up to {restore_max_bytes() / 1024 / 1024:g} MB"

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > restore_max_bytes():
            raise forms.ValidationError(too_big_message()[0].upper() + too_big_message()[1:] + ".")
        return upload


class ReportUploadForm(forms.Form):
    file = forms.FileField(help_text="CSV or Excel (.xlsx) from your employer: one row per service, up to 50 MB")
    label = forms.CharField(max_length=120, required=False, help_text="optional, e.g. 'Q1 2026 billing report'")
