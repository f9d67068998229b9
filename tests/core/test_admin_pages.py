"""Every admin changelist opens, searches and filters (raw data for operators)."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.test import Client

from tests.api.conftest import fill_store

pytestmark = pytest.mark.django_db


def test_every_changelist_opens_with_search(admin_client: Client, store) -> None:
    fill_store(store)
    for model, model_admin in admin.site._registry.items():
        url = f"/admin/{model._meta.app_label}/{model._meta.model_name}/"
        assert admin_client.get(url).status_code == 200, url
        if model_admin.search_fields:
            assert admin_client.get(url, {"q": "jane"}).status_code == 200, url
