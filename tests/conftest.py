"""Suite-wide fixtures. The network is blocked except loopback (pytest-socket, see pyproject)."""

from __future__ import annotations

import pytest

from aftercare.stores.models import Store
from tests.factories import StoreFactory


@pytest.fixture
def store(db: None) -> Store:
    return StoreFactory(slug="acme", name="Acme Outfitters")


@pytest.fixture
def other_store(db: None) -> Store:
    return StoreFactory(slug="globex", name="Globex Goods")
