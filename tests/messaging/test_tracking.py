"""Click and open tracking over HTTP: signed, no open redirect, bots flagged, events recorded."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client

from aftercare.core import clock
from aftercare.events.models import Event
from aftercare.messaging import tracking
from aftercare.messaging.models import Message
from aftercare.stores.models import Store
from tests.mirror_factories import CustomerFactory

BROWSER = "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 Version/17.5 Safari"


def _message(store: Store) -> Message:
    now = clock.now()
    wrapper = tracking.LinkWrapper(token=tracking.new_token())
    wrapper("https://shop.example/product/1")
    return Message.objects.create(
        store=store,
        customer=CustomerFactory(store=store),
        channel="email",
        category="marketing",
        recipient="a@example.com",
        idempotency_key="t",
        tracking_token=wrapper.token,
        links=wrapper.targets,
        flow_id=7,
        status="sent",
        next_attempt_at=now,
        created_at=now,
        sent_at=now - timedelta(minutes=5),
    )


def _path(url: str) -> str:
    return url.split("://", 1)[1].split("/", 1)[1].join(["/", ""])


@pytest.mark.django_db
def test_a_click_redirects_to_the_stored_link_and_is_an_event(client: Client, store: Store) -> None:
    message = _message(store)
    url = tracking.click_url(token=message.tracking_token, index=0)
    response = client.get(_path(url), HTTP_USER_AGENT=BROWSER)
    assert response.status_code == 302
    assert response["Location"] == "https://shop.example/product/1"
    message.refresh_from_db()
    assert message.first_clicked_at is not None
    event = Event.objects.get(type="message.clicked")
    assert event.payload["bot"] is False and event.customer_id == message.customer_id


@pytest.mark.django_db
def test_forged_or_out_of_range_click_links_are_not_found(client: Client, store: Store) -> None:
    message = _message(store)
    good = _path(tracking.click_url(token=message.tracking_token, index=0))
    assert client.get(good[:-1] + ("0" if good[-1] != "0" else "1")).status_code == 404
    assert (
        client.get(_path(tracking.click_url(token=message.tracking_token, index=5))).status_code
        == 404
    )
    assert client.get(_path(tracking.click_url(token="nope", index=0))).status_code == 404
    assert not Event.objects.exists()


@pytest.mark.django_db
def test_scanner_clicks_are_flagged_and_do_not_count(client: Client, store: Store) -> None:
    message = _message(store)
    url = _path(tracking.click_url(token=message.tracking_token, index=0))
    client.get(url, HTTP_USER_AGENT="Mozilla/5.0 (compatible; Barracuda Sentinel)")
    message.refresh_from_db()
    assert message.first_clicked_at is None
    assert Event.objects.get().payload["bot"] is True


@pytest.mark.django_db
def test_the_open_pixel_answers_a_gif_whatever_the_token(client: Client, store: Store) -> None:
    message = _message(store)
    real = client.get(
        _path(tracking.open_pixel_url(token=message.tracking_token)), HTTP_USER_AGENT=BROWSER
    )
    fake = client.get("/m/o/whatever/0000000000000000.gif")
    assert real["Content-Type"] == fake["Content-Type"] == "image/gif"
    assert real.content == fake.content
    message.refresh_from_db()
    assert message.first_opened_at is not None
    assert Event.objects.filter(type="message.opened").count() == 1
