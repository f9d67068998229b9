"""Creating an API token."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _


class TokenForm(forms.Form):
    name = forms.CharField(
        label=_("Name"),
        max_length=100,
        help_text=_(
            'What will use it, e.g. "ERP sync" — so you know what breaks if you revoke it.'
        ),
    )
