"""The staff login form: `username` or `email`, and `password` (other tools post either)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _


class StaffLoginForm(AuthenticationForm):
    username = forms.CharField(
        label=_("Email or username"),
        max_length=254,
        widget=forms.TextInput(attrs={"autofocus": True, "autocomplete": "username"}),
    )

    def __init__(self, request: Any = None, *args: Any, **kwargs: Any) -> None:
        data = kwargs.get("data") if "data" in kwargs else (args[0] if args else None)
        if data is not None and not data.get("username") and data.get("email"):
            data = data.copy()
            data["username"] = data["email"]
            if "data" in kwargs:
                kwargs["data"] = data
            else:
                args = (data, *args[1:])
        super().__init__(request, *args, **kwargs)
