"""The preferences form: one box per channel the customer can be reached on."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from aftercare.customers.consent import ConsentChannel

CHANNEL_LABELS = {
    ConsentChannel.EMAIL: _("Emails with offers and news"),
    ConsentChannel.SMS: _("Text messages (SMS) with offers and news"),
}


class PreferencesForm(forms.Form):
    def __init__(self, *args: Any, channels: list[ConsentChannel], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.channels = channels
        for channel in channels:
            self.fields[str(channel)] = forms.BooleanField(
                required=False, label=CHANNEL_LABELS[channel]
            )

    def subscribed(self) -> dict[ConsentChannel, bool]:
        """What the customer ticked (call after is_valid()); "unsubscribe from all" unticks all."""
        if self.data.get("unsubscribe_all"):
            return dict.fromkeys(self.channels, False)
        return {channel: bool(self.cleaned_data.get(str(channel))) for channel in self.channels}
