"""GDPR requests: look up an email, then export or erase (typing the email again)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _


class LookupForm(forms.Form):
    email = forms.EmailField(label=_("Customer email"), max_length=254)

    def clean_email(self) -> str:
        return str(self.cleaned_data["email"]).strip().lower()


class EraseForm(LookupForm):
    confirm_email = forms.CharField(
        label=_("Type the email again to confirm"),
        max_length=254,
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        email = data.get("email")
        typed = str(data.get("confirm_email") or "").strip().lower()
        if email and typed != email:
            self.add_error(
                "confirm_email",
                _("This is not the same email. Nothing was erased."),
            )
        return data
