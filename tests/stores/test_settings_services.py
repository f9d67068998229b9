"""The settings writes: every rule checked for every caller, last-owner protection, tokens and
members looked up within the store only."""

from __future__ import annotations

import datetime
from typing import Any

import pytest

from aftercare.core.errors import Conflict, InvalidInput, NotFound
from aftercare.stores import services as store_services
from aftercare.stores import settings_services
from aftercare.stores.models import StaffMembership, StaffRole, Store
from tests.factories import MembershipFactory

pytestmark = pytest.mark.django_db


def test_update_changes_only_what_is_given(store: Store) -> None:
    settings_services.update_store_settings(
        store=store,
        time_zone="Asia/Seoul",
        marketing_cap_hours=0,
        languages=["en", "ko"],
        default_locale="ko",
        quiet_hours_start=datetime.time(22, 0),
        quiet_hours_end=datetime.time(7, 30),  # wraps midnight: fine
        brand_color="#AA00ff",
        sender_email="hello@acme.example",
    )
    fresh = Store.objects.get(pk=store.pk)
    assert fresh.time_zone == "Asia/Seoul" and fresh.marketing_cap_hours == 0
    assert fresh.languages == ["en", "ko"] and fresh.default_locale == "ko"
    assert fresh.quiet_hours_end == datetime.time(7, 30)
    assert fresh.name == "Acme Outfitters"  # untouched
    assert store.time_zone == "Asia/Seoul"  # the caller's instance follows


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"time_zone": "Mars/Olympus"}, "time_zone"),
        ({"time_zone": "CEST"}, "time_zone"),
        ({"languages": ["en", "xx"]}, "languages"),
        ({"languages": []}, "languages"),
        ({"default_locale": "ja"}, "default_locale"),  # not among languages ["en"]
        ({"sender_email": "not-an-email"}, "sender_email"),
        ({"reply_to_email": "a@"}, "reply_to_email"),
        ({"brand_color": "blue"}, "brand_color"),
        ({"brand_color": "#12345"}, "brand_color"),
        ({"marketing_cap_hours": 169}, "marketing_cap_hours"),
        ({"marketing_cap_hours": -1}, "marketing_cap_hours"),
        ({"consent_mode": "maybe"}, "consent_mode"),
        ({"logo_url": "javascript:alert(1)"}, "logo_url"),
        ({"quiet_hours_start": datetime.time(8, 0)}, "quiet_hours_end"),  # == default end
        ({"name": "  "}, "name"),
    ],
)
def test_invalid_values_are_refused_naming_the_field(
    store: Store, fields: dict[str, Any], field: str
) -> None:
    with pytest.raises(InvalidInput) as raised:
        settings_services.update_store_settings(store=store, **fields)
    assert raised.value.details["field"] == field
    assert Store.objects.get(pk=store.pk).time_zone == "UTC"


def test_unknown_fields_are_refused(store: Store) -> None:
    with pytest.raises(InvalidInput, match="webhook_secret"):
        settings_services.update_store_settings(store=store, webhook_secret="x")


def test_dropping_the_default_language_moves_the_default(store: Store) -> None:
    settings_services.update_store_settings(
        store=store, languages=["en", "ja"], default_locale="ja"
    )
    settings_services.update_store_settings(store=store, languages=["en"])
    assert Store.objects.get(pk=store.pk).default_locale == "en"


def test_the_last_owner_cannot_be_demoted_or_removed(store: Store) -> None:
    owner = MembershipFactory(store=store, role=StaffRole.OWNER)
    with pytest.raises(Conflict):
        settings_services.change_staff_role(
            store=store, membership_id=owner.pk, role=StaffRole.MANAGER
        )
    with pytest.raises(Conflict):
        settings_services.remove_staff_member(store=store, membership_id=owner.pk)
    second = MembershipFactory(store=store, role=StaffRole.MANAGER)
    settings_services.change_staff_role(store=store, membership_id=second.pk, role=StaffRole.OWNER)
    settings_services.change_staff_role(store=store, membership_id=owner.pk, role=StaffRole.AGENT)
    assert StaffMembership.objects.get(pk=owner.pk).role == StaffRole.AGENT
    with pytest.raises(Conflict):  # now `second` is the last owner
        settings_services.remove_staff_member(store=store, membership_id=second.pk)
    settings_services.remove_staff_member(store=store, membership_id=owner.pk)
    assert not StaffMembership.objects.filter(pk=owner.pk).exists()


def test_members_and_tokens_of_another_store_are_not_found(
    store: Store, other_store: Store
) -> None:
    theirs = MembershipFactory(store=other_store, role=StaffRole.AGENT)
    token = store_services.create_api_token(store=other_store, name="theirs").record
    with pytest.raises(NotFound):
        settings_services.change_staff_role(
            store=store, membership_id=theirs.pk, role=StaffRole.OWNER
        )
    with pytest.raises(NotFound):
        settings_services.remove_staff_member(store=store, membership_id=theirs.pk)
    with pytest.raises(NotFound):
        settings_services.revoke_api_token(store=store, token_id=token.pk)
    token.refresh_from_db()
    assert token.revoked_at is None
    assert StaffMembership.objects.get(pk=theirs.pk).role == StaffRole.AGENT


def test_revoking_twice_keeps_the_first_time(store: Store) -> None:
    token = store_services.create_api_token(store=store, name="ERP").record
    first = settings_services.revoke_api_token(store=store, token_id=token.pk).revoked_at
    second = settings_services.revoke_api_token(store=store, token_id=token.pk).revoked_at
    assert first is not None and first == second


def test_a_token_needs_a_name(store: Store) -> None:
    with pytest.raises(InvalidInput):
        settings_services.create_api_token(store=store, name="   ")


def test_adding_staff_validates_and_does_not_change_an_existing_role(
    store: Store, mailoutbox: Any
) -> None:
    def link(uid: str, token: str) -> str:
        return f"https://x/{uid}/{token}/"

    with pytest.raises(InvalidInput):
        settings_services.add_staff_member(
            store=store,
            email="nope",
            role=StaffRole.AGENT,
            invited_by="o",
            set_password_link=link,
            sign_in_link="https://x/login/",
        )
    invited = settings_services.add_staff_member(
        store=store,
        email=" New@Example.com ",
        role=StaffRole.MANAGER,
        invited_by="o",
        set_password_link=link,
        sign_in_link="https://x/login/",
    )
    assert invited.new_user and not invited.email_error
    assert invited.membership.user.get_username() == "new@example.com"
    again = settings_services.add_staff_member(
        store=store,
        email="new@example.com",
        role=StaffRole.OWNER,
        invited_by="o",
        set_password_link=link,
        sign_in_link="https://x/login/",
    )
    assert again.already_member
    assert StaffMembership.objects.get(pk=invited.membership.pk).role == StaffRole.MANAGER
    assert len(mailoutbox) == 1


def test_a_mail_failure_keeps_the_member_and_says_why(store: Store, settings: Any) -> None:
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", 9, 2
    invited = settings_services.add_staff_member(
        store=store,
        email="x@example.com",
        role=StaffRole.AGENT,
        invited_by="o",
        set_password_link=lambda u, t: "https://x/",
        sign_in_link="https://x/login/",
    )
    assert invited.email_error
    assert StaffMembership.objects.filter(pk=invited.membership.pk).exists()
