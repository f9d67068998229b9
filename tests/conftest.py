"""Suite-wide fixtures. The network is blocked except loopback (pytest-socket, see pyproject)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import pytest

from aftercare.stores.models import Store
from tests.factories import StoreFactory
from tests.smtp_server import SmtpSink, running_smtp_server

# aiosmtpd logs every connection at INFO from its own thread ("EOF received"), also after the
# test that started it has ended and pytest has closed the stream it captured: noise, and a
# "Logging error" traceback in the CI log. Its warnings and errors still show.
logging.getLogger("mail.log").setLevel(logging.WARNING)


@pytest.fixture
def store(db: None) -> Store:
    return StoreFactory(slug="acme", name="Acme Outfitters")


@pytest.fixture
def other_store(db: None) -> Store:
    return StoreFactory(slug="globex", name="Globex Goods")


@pytest.fixture
def smtp_sink(settings: Any) -> Iterator[SmtpSink]:
    """A real SMTP server on loopback; Django's mail settings point at it for the test."""
    with running_smtp_server() as sink:
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST = sink.host
        settings.EMAIL_PORT = sink.port
        settings.EMAIL_USE_TLS = False
        settings.EMAIL_HOST_USER = ""
        settings.EMAIL_HOST_PASSWORD = ""
        settings.EMAIL_URL = f"smtp://{sink.host}:{sink.port}"  # messaging's channel too
        yield sink
