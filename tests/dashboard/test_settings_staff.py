"""Staff and roles (owners only): adding by email with a set-password link sent through a real
SMTP server, changing roles, the last owner protected, another store's members invisible."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from aftercare.stores.models import StaffMembership, StaffRole, Store
from tests.dashboard.test_settings_support import post_with_token, signed_in, staff_user
from tests.smtp_server import SmtpSink

pytestmark = pytest.mark.django_db
PAGE = "/dashboard/settings/staff/"


@pytest.fixture
def owner(store: Store) -> Client:
    return signed_in(store, StaffRole.OWNER, email="owner@acme.example")


def membership(store: Store, email: str) -> StaffMembership:
    return StaffMembership.objects.get(store=store, user__username=email)


def test_add_a_new_person_who_sets_a_password_from_the_email(
    store: Store, smtp_sink: SmtpSink
) -> None:
    owner = signed_in(store, StaffRole.OWNER, csrf=True, email="owner@acme.example")
    response = post_with_token(
        owner, PAGE, PAGE, {"email": "New.Agent@Example.com", "role": "agent"}
    )
    assert response.status_code == 302
    assert membership(store, "new.agent@example.com").role == StaffRole.AGENT
    [mail] = smtp_sink.wait_for(1)
    assert mail["To"] == "new.agent@example.com"
    assert "Acme Outfitters" in mail["Subject"]
    body = mail.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
    assert "owner@acme.example gave you access to Acme Outfitters" in body
    link = re.search(r"http://testserver(/dashboard/password-reset/\S+/\S+/)", body)
    assert link, body
    page = owner.get(PAGE).content.decode()
    assert "got an email to choose a password" in page
    assert "no password yet" in page

    newcomer = Client()
    form = newcomer.get(link.group(1), follow=True)
    assert form.status_code == 200
    set_url = form.redirect_chain[-1][0]
    done = newcomer.post(
        set_url,
        {"new_password1": "a long new passphrase 7", "new_password2": "a long new passphrase 7"},
    )
    assert done.status_code == 302
    assert newcomer.login(username="new.agent@example.com", password="a long new passphrase 7")
    assert newcomer.get("/dashboard/").status_code == 200


def test_adding_an_existing_user_sends_a_sign_in_link(
    store: Store, other_store: Store, owner: Client, smtp_sink: SmtpSink
) -> None:
    user = get_user_model().objects.create_user(
        username="pat@example.com", email="pat@example.com", password="pw-long-enough"
    )
    response = owner.post(PAGE, {"email": "pat@example.com", "role": "manager"}, follow=True)
    assert "was added and told by email" in response.content.decode()
    [mail] = smtp_sink.wait_for(1)
    body = mail.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
    assert "http://testserver/dashboard/login/" in body and "password-reset" not in body
    assert StaffMembership.objects.get(store=store, user=user).role == StaffRole.MANAGER


def test_adding_validates_the_email(owner: Client, store: Store) -> None:
    page = owner.post(PAGE, {"email": "nope", "role": "agent"}).content.decode()
    assert "Enter a valid email address." in page
    page = owner.post(PAGE, {"email": "a@example.com", "role": "king"}).content.decode()
    assert "Select a valid choice" in page
    assert StaffMembership.objects.filter(store=store).count() == 1


def test_change_role_and_the_last_owner_is_protected(owner: Client, store: Store) -> None:
    me = membership(store, "owner@acme.example")
    response = owner.post(f"{PAGE}{me.pk}/role/", {f"m{me.pk}-role": "agent"}, follow=True)
    assert "is the only owner" in response.content.decode()
    assert membership(store, "owner@acme.example").role == StaffRole.OWNER
    response = owner.post(f"{PAGE}{me.pk}/remove/", follow=True)
    assert "cannot be removed" in response.content.decode()
    assert StaffMembership.objects.filter(pk=me.pk).exists()

    other = staff_user(store, StaffRole.AGENT, "sam@example.com").store_memberships.get()
    owner.post(f"{PAGE}{other.pk}/role/", {f"m{other.pk}-role": "owner"})
    assert StaffMembership.objects.get(pk=other.pk).role == StaffRole.OWNER
    # Now there are two owners: I may step down, and then I am no longer allowed here.
    owner.post(f"{PAGE}{me.pk}/role/", {f"m{me.pk}-role": "manager"})
    assert membership(store, "owner@acme.example").role == StaffRole.MANAGER
    assert owner.get(PAGE).status_code == 403


def test_remove_a_member(owner: Client, store: Store) -> None:
    other = staff_user(store, StaffRole.AGENT, "sam@example.com").store_memberships.get()
    response = owner.post(f"{PAGE}{other.pk}/remove/", follow=True)
    assert "no longer has access" in response.content.decode()
    assert not StaffMembership.objects.filter(pk=other.pk).exists()
    assert get_user_model().objects.filter(username="sam@example.com").exists()  # account kept


def test_another_stores_members_are_invisible_and_404(
    owner: Client, store: Store, other_store: Store
) -> None:
    theirs = staff_user(other_store, StaffRole.OWNER, "boss@globex.example")
    their_membership = theirs.store_memberships.get()
    assert "boss@globex.example" not in owner.get(PAGE).content.decode()
    for action, data in (
        ("role", {f"m{their_membership.pk}-role": "agent"}),
        ("remove", {}),
        ("resend", {}),
    ):
        response = owner.post(f"{PAGE}{their_membership.pk}/{action}/", data)
        assert response.status_code == 404, action
    assert StaffMembership.objects.get(pk=their_membership.pk).role == StaffRole.OWNER


def test_resend_the_invitation(owner: Client, store: Store, smtp_sink: SmtpSink) -> None:
    owner.post(PAGE, {"email": "late@example.com", "role": "agent"})
    smtp_sink.wait_for(1)
    member = membership(store, "late@example.com")
    response = owner.post(f"{PAGE}{member.pk}/resend/", follow=True)
    assert "Email sent to late@example.com" in response.content.decode()
    assert len(smtp_sink.wait_for(2)) == 2


def test_agents_see_revenue_switch(owner: Client, store: Store) -> None:
    assert store.agents_see_revenue
    owner.post(f"{PAGE}revenue/", {})
    store.refresh_from_db()
    assert not store.agents_see_revenue
    owner.post(f"{PAGE}revenue/", {"agents_see_revenue": "on"})
    store.refresh_from_db()
    assert store.agents_see_revenue


def test_staff_names_are_escaped(owner: Client, store: Store) -> None:
    user = get_user_model().objects.create_user(
        username="<script>alert(1)</script>", email="x@example.com"
    )
    StaffMembership.objects.create(store=store, user=user, role=StaffRole.AGENT)
    page = owner.get(PAGE).content.decode()
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
