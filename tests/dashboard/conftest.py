"""Shared by the dashboard page tests."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from aftercare.stores.models import Store
from tests.factories import MembershipFactory


@pytest.fixture
def owner(client: Client, store: Store) -> Client:
    """A client signed in as an owner of `store` (files with other needs override it)."""
    client.force_login(MembershipFactory(store=store, role="owner").user)
    return client


def table_body(response: Any) -> str:
    """The HTML of a page's results table body ("" when the page has no table)."""
    html = response.content.decode()
    return html[html.index("<tbody>") : html.index("</tbody>")] if "<tbody>" in html else ""
