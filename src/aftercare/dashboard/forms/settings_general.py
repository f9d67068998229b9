"""The store's settings: identity, sender, languages and time zone, marketing rules, branding."""

from __future__ import annotations

import datetime
from typing import Any

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from aftercare.stores import settings_services
from aftercare.stores.models import ConsentMode

CONSENT_HELP = _(
    "Opt-in: marketing emails only go to customers who said yes (ticked a box, or confirmed on "
    "their preferences page). This is what the law asks for in the EU and UK (GDPR and ePrivacy), "
    'South Korea and Japan, and it is the safe choice. Opt-out ("soft opt-in"): people who '
    "bought from you get marketing about similar products until they unsubscribe; allowed in the "
    "US (CAN-SPAM) and, for existing customers, in some other countries. Order and delivery "
    "updates are transactional and are sent either way."
)


class StoreSettingsForm(forms.Form):
    name = forms.CharField(label=_("Store name"), max_length=200)
    sender_name = forms.CharField(
        label=_("Sender name"),
        max_length=100,
        required=False,
        help_text=_("The name customers see as the sender, e.g. your shop's name."),
    )
    sender_email = forms.EmailField(
        label=_("Sender email"),
        required=False,
        help_text=_(
            "The From address of emails to customers. Use an address of your own domain and "
            "authorise this server to send for it (SPF and DKIM), or mail lands in spam."
        ),
    )
    reply_to_email = forms.EmailField(
        label=_("Reply-to email"),
        required=False,
        help_text=_("Where customers' answers go. Leave empty to use the sender email."),
    )
    languages = forms.MultipleChoiceField(
        label=_("Languages you write to customers in"),
        choices=settings.LANGUAGES,
        widget=forms.CheckboxSelectMultiple,
        help_text=_(
            "A customer gets their own language when it is one of these, else the default."
        ),
    )
    default_locale = forms.ChoiceField(label=_("Default language"), choices=settings.LANGUAGES)
    time_zone = forms.CharField(
        label=_("Time zone"),
        max_length=64,
        help_text=_(
            "An IANA time zone such as Europe/Berlin, America/New_York or Asia/Seoul. Reports "
            "count days in it; customers without a known time zone are scheduled in it."
        ),
        widget=forms.TextInput(attrs={"list": "time-zones", "autocomplete": "off"}),
    )
    consent_mode = forms.ChoiceField(
        label=_("Marketing consent"),
        choices=[
            (ConsentMode.OPT_IN, _("Opt-in")),
            (ConsentMode.OPT_OUT, _("Opt-out (soft opt-in)")),
        ],
        widget=forms.RadioSelect,
        help_text=CONSENT_HELP,
    )
    marketing_cap_hours = forms.IntegerField(
        label=_("Frequency cap (hours)"),
        min_value=0,
        max_value=settings_services.MAX_CAP_HOURS,
        help_text=_(
            "At most one marketing email per customer within this many hours, across all "
            "flows (a flow may set its own). 0 means no cap; 168 is one a week. Messages held "
            "back by the cap are recorded as skipped, not silently dropped."
        ),
    )
    quiet_hours_start = forms.TimeField(
        label=_("Quiet hours start"),
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
    )
    quiet_hours_end = forms.TimeField(
        label=_("Quiet hours end"),
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        help_text=_(
            "No marketing message is sent in this window, in the customer's own time zone (or "
            "the store's). It may run over midnight, e.g. 21:00 to 08:00; messages wait until "
            "it ends."
        ),
    )
    attribution_window_days = forms.IntegerField(
        label=_("Attribution window (days)"),
        min_value=1,
        max_value=settings_services.MAX_ATTRIBUTION_DAYS,
        help_text=_(
            "An order placed within this many days after a customer clicked a link in a flow's "
            "message counts as that flow's revenue (the last click wins; one flow per order)."
        ),
    )
    attribution_counts_opens = forms.BooleanField(
        label=_("Opens count too"),
        required=False,
        help_text=_(
            "Also credit a flow when its message was only opened. Off by default: mail apps "
            "such as Apple Mail open every message by themselves, so opens overstate revenue."
        ),
    )
    brand_color = forms.RegexField(
        label=_("Brand colour"),
        regex=settings_services.BRAND_COLOR,
        error_messages={"invalid": _("Enter a colour as #rrggbb, e.g. #1d5fd1.")},
        widget=forms.TextInput(attrs={"type": "color"}),
        help_text=_("Buttons and links on customer pages and in emails."),
    )
    logo_url = forms.URLField(
        label=_("Logo address"),
        required=False,
        max_length=500,
        assume_scheme="https",
        help_text=_("An https:// address of your logo image, shown on customer pages."),
    )

    def clean_time_zone(self) -> str:
        value = str(self.cleaned_data["time_zone"]).strip()
        if value not in settings_services.time_zones():
            raise forms.ValidationError(
                _("%(zone)s is not a time zone name. Pick one from the list, e.g. Europe/Berlin."),
                params={"zone": value},
                code="invalid_time_zone",
            )
        return value

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        languages = data.get("languages") or []
        default = data.get("default_locale")
        if default and languages and default not in languages:
            self.add_error(
                "default_locale",
                _("The default language must be one of the languages you chose."),
            )
        start: datetime.time | None = data.get("quiet_hours_start")
        end: datetime.time | None = data.get("quiet_hours_end")
        if start is not None and end is not None and start == end:
            self.add_error(
                "quiet_hours_end",
                _("Start and end are the same: choose when quiet hours end."),
            )
        return data

    @classmethod
    def initial_for(cls, store: Any) -> dict[str, Any]:
        return {name: getattr(store, name) for name in cls.base_fields}


class RevenueVisibilityForm(forms.Form):
    agents_see_revenue = forms.BooleanField(
        label=_("Agents see revenue"),
        required=False,
        help_text=_(
            "When off, agents do not see money on the overview and in reports. Owners and "
            "managers always do."
        ),
    )
