"""Helpers for the settings page tests (no tests here): a signed-in client per role, and
posting a page's form through a CSRF-enforcing client the way a browser does."""

from __future__ import annotations

import re
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.http import HttpResponse
from django.test import Client

from aftercare.stores import services as store_services
from aftercare.stores.models import StaffRole, Store


def staff_user(store: Store, role: StaffRole, email: str | None = None) -> AbstractBaseUser:
    return store_services.create_staff_member(
        store=store, email=email or f"{role}@{store.slug}.example", role=role
    ).user


def signed_in(
    store: Store, role: StaffRole, *, csrf: bool = False, email: str | None = None
) -> Client:
    client = Client(enforce_csrf_checks=csrf)
    client.force_login(staff_user(store, role, email))
    return client


def csrf_token(client: Client, page: str) -> str:
    html = client.get(page).content.decode()
    found = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html)
    assert found, f"no CSRF token on {page}"
    return found.group(1)


def post_with_token(client: Client, page: str, url: str, data: dict[str, Any]) -> HttpResponse:
    return client.post(url, {**data, "csrfmiddlewaretoken": csrf_token(client, page)})
