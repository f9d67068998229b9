"""The WooCommerce connection wizard's first step: the shop's address and REST API keys."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _


class ConnectForm(forms.Form):
    url = forms.URLField(
        label=_("Shop address"),
        max_length=500,
        assume_scheme="https",
        help_text=_(
            "The address of your WordPress site, as in WordPress → Settings → General, e.g. "
            "https://shop.example.com."
        ),
    )
    consumer_key = forms.CharField(
        label=_("Consumer key"),
        max_length=200,
        strip=True,
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
        help_text=_(
            "Create a key in WooCommerce → Settings → Advanced → REST API → Add key, with "
            "Permissions Read/Write (needed to register webhooks). It starts with ck_."
        ),
    )
    consumer_secret = forms.CharField(
        label=_("Consumer secret"),
        max_length=200,
        strip=True,
        # Never sent back to the browser: after an error the field is empty again.
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
        help_text=_("Shown once by WooCommerce, next to the key. It starts with cs_."),
    )

    def clean_consumer_key(self) -> str:
        key = str(self.cleaned_data["consumer_key"])
        if not key.startswith("ck_"):
            raise forms.ValidationError(
                _("A WooCommerce consumer key starts with ck_. Did you paste the secret here?"),
                code="not_a_key",
            )
        return key

    def clean_consumer_secret(self) -> str:
        secret = str(self.cleaned_data["consumer_secret"])
        if not secret.startswith("cs_"):
            raise forms.ValidationError(
                _("A WooCommerce consumer secret starts with cs_."), code="not_a_secret"
            )
        return secret
