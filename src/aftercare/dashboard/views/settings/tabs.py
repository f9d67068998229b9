"""The tabs over every settings page, each shown only to roles that may open it."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from aftercare.dashboard.access import Staff
from aftercare.stores.permissions import Permission

TABS = (
    ("general", _("General"), "dashboard:settings", Permission.MANAGE_SETTINGS),
    ("connection", _("WooCommerce"), "dashboard:settings_connection", Permission.MANAGE_SETTINGS),
    ("staff", _("Staff and roles"), "dashboard:settings_staff", Permission.MANAGE_STAFF),
    ("tokens", _("API tokens"), "dashboard:settings_tokens", Permission.MANAGE_STAFF),
    ("privacy", _("Privacy requests"), "dashboard:settings_privacy", Permission.EXPORT_DATA),
)


def settings_tabs(*, staff: Staff, current: str) -> list[dict[str, Any]]:
    return [
        {"key": key, "label": label, "url": reverse(url_name), "current": key == current}
        for key, label, url_name, permission in TABS
        if staff.can(permission)
    ]
