"""`aftercare store configure --store S --consent-mode opt-in|opt-out [--cap-hours N]
[--quiet-hours 21:00-08:00]` (issue 4, "Interfaces other tools rely on")."""

from __future__ import annotations

import datetime
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from aftercare.stores.models import Store

pytestmark = pytest.mark.django_db


def _configure(*args: str) -> str:
    out = StringIO()
    call_command("store", "configure", *args, stdout=out)
    return out.getvalue()


def test_configure_sets_consent_mode_cap_and_quiet_hours(store: Store) -> None:
    out = _configure(
        "--store", store.slug, "--consent-mode", "opt-out", "--cap-hours", "24",
        "--quiet-hours", "22:00-07:30",
    )  # fmt: skip
    store.refresh_from_db()
    assert store.consent_mode == "opt-out" and store.marketing_cap_hours == 24
    assert store.quiet_hours_start == datetime.time(22, 0)
    assert store.quiet_hours_end == datetime.time(7, 30)
    assert "opt-out" in out and "24 h" in out and "22:00-07:30" in out

    _configure("--store", store.slug, "--consent-mode", "opt-in")
    store.refresh_from_db()
    assert store.consent_mode == "opt-in" and store.marketing_cap_hours == 24  # others kept
    assert "no frequency cap" in _configure("--store", store.slug, "--cap-hours", "0")
    assert "nothing changed" in _configure("--store", store.slug)


def test_configure_refuses_bad_values(store: Store) -> None:
    with pytest.raises(CommandError, match="marketing_cap_hours"):
        _configure("--store", store.slug, "--cap-hours", "1000")
    with pytest.raises(CommandError, match="quiet"):
        _configure("--store", store.slug, "--quiet-hours", "08:00-08:00")
    with pytest.raises(CommandError):
        _configure("--store", store.slug, "--quiet-hours", "late")
    with pytest.raises(CommandError):
        _configure("--store", store.slug, "--consent-mode", "maybe")
    with pytest.raises(CommandError):
        _configure("--store", "no-such-store", "--consent-mode", "opt-in")
    store.refresh_from_db()
    assert store.consent_mode == "opt-in" and store.marketing_cap_hours == 16


def test_configure_sets_the_attribution_window_and_opens(store: Store) -> None:
    out = _configure("--store", store.slug, "--attribution-days", "7", "--attribution-opens", "yes")
    store.refresh_from_db()
    assert (store.attribution_window_days, store.attribution_counts_opens) == (7, True)
    assert "attribution 7 days after a click or open" in out
    _configure("--store", store.slug, "--attribution-opens", "no")
    store.refresh_from_db()
    assert (store.attribution_window_days, store.attribution_counts_opens) == (7, False)
    with pytest.raises(CommandError, match="attribution_window_days"):
        _configure("--store", store.slug, "--attribution-days", "0")
