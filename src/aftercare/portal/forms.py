"""The preferences form: one box per channel the customer can be reached on, one per marketing
topic (customers.topics; only while email marketing is on — otherwise there is nothing to
narrow down), and the language of their messages when the store writes in more than one."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from aftercare.customers import topics
from aftercare.customers.consent import ConsentChannel

CHANNEL_LABELS = {
    ConsentChannel.EMAIL: _("Emails with offers and news"),
    ConsentChannel.SMS: _("Text messages (SMS) with offers and news"),
}
TOPIC_PREFIX = "topic-"
LANGUAGE_FIELD = "language"


def topic_field(key: str) -> str:
    return f"{TOPIC_PREFIX}{key}"


class PreferencesForm(forms.Form):
    def __init__(
        self,
        *args: Any,
        channels: list[ConsentChannel],
        show_topics: bool = False,
        languages: list[tuple[str, str]] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.channels = channels
        self.show_topics = show_topics
        for channel in channels:
            self.fields[str(channel)] = forms.BooleanField(
                required=False, label=CHANNEL_LABELS[channel]
            )
        if show_topics:
            for topic in topics.TOPICS.values():
                self.fields[topic_field(topic.key)] = forms.BooleanField(
                    required=False, label=str(topic.label), help_text=str(topic.description)
                )
        self.has_language = bool(languages) and len(languages or []) > 1
        if self.has_language:
            # Not required: "unsubscribe from all" works whatever else the form holds.
            self.fields[LANGUAGE_FIELD] = forms.ChoiceField(
                choices=languages or [], label=_("Language of our messages"), required=False
            )

    def subscribed(self) -> dict[ConsentChannel, bool]:
        """What the customer ticked (call after is_valid()); "unsubscribe from all" unticks all."""
        if self.data.get("unsubscribe_all"):
            return dict.fromkeys(self.channels, False)
        return {channel: bool(self.cleaned_data.get(str(channel))) for channel in self.channels}

    def unsubscribed_topics(self) -> set[str] | None:
        """The topics left unticked, or None when the form did not show topics (or the customer
        pressed "unsubscribe from all", which stops all marketing and leaves topics alone)."""
        if not self.show_topics or self.data.get("unsubscribe_all"):
            return None
        return {key for key in topics.KEYS if not self.cleaned_data.get(topic_field(key))}

    def language(self) -> str | None:
        """The chosen language code, or None when the form offered no choice."""
        if not self.has_language:
            return None
        return str(self.cleaned_data.get(LANGUAGE_FIELD) or "") or None
