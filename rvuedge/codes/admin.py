from __future__ import annotations

import json

from django import forms
from django.contrib import admin

from . import models
from .search import rebuild_index


def _split(text: str) -> list[str]:
    return [part.strip() for part in (text or "").replace("\n", ",").split(",") if part.strip()]


class CodeContentForm(forms.ModelForm):
    """Lists edited as plain text: synonyms and specialties comma- or line-separated, the FAQ as JSON."""

    synonyms_text = forms.CharField(label="Also known as", required=False, widget=forms.Textarea(attrs={"rows": 3}),
                                    help_text="Comma- or line-separated")
    specialties_text = forms.CharField(label="Specialties", required=False,
                                       widget=forms.Textarea(attrs={"rows": 2}), help_text="Comma- or line-separated")
    faq_json = forms.CharField(label="Editorial FAQ", required=False, widget=forms.Textarea(attrs={"rows": 8}),
                               help_text='JSON list: [{"q": "question", "a": "answer"}, …]')

    class Meta:
        model = models.CodeContent
        fields = ["code", "title", "summary", "plain_language", "clinical_context"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["synonyms_text"].initial = ", ".join(self.instance.synonyms)
            self.fields["specialties_text"].initial = ", ".join(self.instance.specialties)
            self.fields["faq_json"].initial = json.dumps(self.instance.faq, indent=1, ensure_ascii=False)

    def clean_code(self) -> str:
        code = self.cleaned_data["code"].strip().upper()
        if len(code) != 5 or not code.isalnum():
            raise forms.ValidationError("A code has 5 characters (99214, 0331T, G2211).")
        return code

    def clean_faq_json(self) -> list[dict[str, str]]:
        text = self.cleaned_data.get("faq_json") or "[]"
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise forms.ValidationError(f"Not valid JSON: {exc}") from exc
        if not isinstance(data, list) or not all(isinstance(i, dict) and i.get("q") and i.get("a") for i in data):
            raise forms.ValidationError('Use a list of {"q": "…", "a": "…"} items.')
        return [{"q": str(i["q"]), "a": str(i["a"])} for i in data]

    def save(self, commit: bool = True):
        obj = super().save(commit=False)
        obj.synonyms = _split(self.cleaned_data.get("synonyms_text", ""))
        obj.specialties = _split(self.cleaned_data.get("specialties_text", ""))
        obj.faq = self.cleaned_data.get("faq_json", [])
        if commit:
            obj.save()
        return obj


@admin.register(models.CodeContent)
class CodeContentAdmin(admin.ModelAdmin):
    form = CodeContentForm
    list_display = ["code", "title", "edited_in_admin", "source_file", "updated_at"]
    list_filter = ["edited_in_admin"]
    search_fields = ["code", "title", "summary"]
    readonly_fields = ["source_file", "edited_in_admin", "updated_at"]
    fieldsets = [
        (None, {"fields": ["code", "title", "synonyms_text", "specialties_text", "summary"]}),
        ("Page sections (Markdown)", {"fields": ["plain_language", "clinical_context", "faq_json"]}),
        ("Provenance", {"fields": ["source_file", "edited_in_admin", "updated_at"]}),
    ]

    def save_model(self, request, obj, form, change):
        obj.edited_in_admin = True  # `rvuedge content load` now leaves this row alone (unless --force)
        super().save_model(request, obj, form, change)
        rebuild_index()  # synonyms and titles are searchable

    def delete_model(self, request, obj):
        super().delete_model(request, obj)
        rebuild_index()


@admin.register(models.ContactMessage)
class ContactMessageAdmin(admin.ModelAdmin):
    list_display = ["created_at", "name", "email", "topic", "handled", "short"]
    list_filter = ["handled", "topic"]
    search_fields = ["name", "email", "message"]
    readonly_fields = ["name", "email", "topic", "message", "page", "created_at"]
    list_editable = ["handled"]
    actions = ["mark_handled"]

    @admin.display(description="Message")
    def short(self, obj) -> str:
        return obj.message[:80]

    @admin.action(description="Mark selected messages as handled")
    def mark_handled(self, request, queryset):
        queryset.update(handled=True)

    def has_add_permission(self, request):
        return False


@admin.register(models.SearchState)
class SearchStateAdmin(admin.ModelAdmin):
    list_display = ["version", "entries", "built_at", "seconds", "signature"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
