"""The support contact form: CSRF-protected, honeypot + rate limit, and no patient identifiers."""

from __future__ import annotations

from django import forms

from rvuedge.phi import find_phi

from .models import ContactMessage

TOPICS = [
    ("question", "A question about a code or a number"),
    ("data", "A data problem (wrong or missing figure)"),
    ("content", "A correction to our explanations"),
    ("app", "The log, export or account"),
    ("other", "Something else"),
]

# Message kinds refused in support messages. E-mail addresses and phone numbers are allowed here:
# senders may give their own contact details.
BLOCKED_KINDS = {"keyword", "ssn", "date", "digits"}

def identifier_problem(text: str) -> str | None:
    """A message naming what looks like a patient identifier, or None."""
    for finding in find_phi(text):
        if finding.kind in BLOCKED_KINDS:
            return finding.message
    return None


class ContactForm(forms.ModelForm):
    # A field people never see: bots fill it in, and their message is dropped quietly.
    website = forms.CharField(required=False, label="Leave this field empty",
                              widget=forms.TextInput(attrs={"autocomplete": "off", "tabindex": "-1"}))

    class Meta:
        model = ContactMessage
        fields = ["name", "email", "topic", "message", "page"]
        widgets = {
            "topic": forms.Select(choices=TOPICS),
            "message": forms.Textarea(attrs={"rows": 6, "maxlength": 5000}),
            "page": forms.HiddenInput(),
        }
        labels = {"email": "Your e-mail", "name": "Your name"}

    def clean_message(self) -> str:
        text = self.cleaned_data["message"].strip()
        if len(text) < 10:
            raise forms.ValidationError("Please write a little more (at least 10 characters).")
        problem = identifier_problem(text)
        if problem:
            raise forms.ValidationError(
                f"Your message {problem}. Please remove any patient information (names, dates of birth, record "
                "numbers): we must not receive it.")
        return text

    def is_spam(self) -> bool:
        return bool(self.cleaned_data.get("website"))
