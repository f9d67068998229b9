"""WooClient against a real HTTP server that authenticates, paginates and fails like WooCommerce."""

from __future__ import annotations

import logging
import socket
import ssl
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import httpx
import pytest

from aftercare.core.errors import InvalidInput
from aftercare.stores.errors import StoreErrorCode
from aftercare.stores.woo import oauth1
from aftercare.stores.woo.client import WooClient
from aftercare.stores.woo.errors import WooError
from tests.woo_server import WooServer


class Sleeps(list[float]):
    """A `sleep` that records instead of waiting."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def client(shop: WooServer, **options: object) -> WooClient:
    options.setdefault("sleep", Sleeps())
    return WooClient(shop.url, shop.consumer_key, shop.consumer_secret, **options)  # type: ignore[arg-type]


@pytest.fixture
def shop():
    with WooServer(orders=25, customers=5, products=3) as server:
        yield server


# -- authentication -------------------------------------------------------------------------------


def test_plain_http_uses_oauth1_signatures_the_shop_verifies(shop: WooServer) -> None:
    with client(shop) as woo:
        orders = woo.get("orders", {"per_page": 5})
    assert [o["id"] for o in orders] == [5025, 5024, 5023, 5022, 5021]  # WooCommerce: date desc
    request = shop.api_requests("/orders")[-1]
    assert request.auth == "oauth1"
    assert request.query["oauth_signature_method"] == "HMAC-SHA256"
    assert shop.consumer_secret not in str(request.query)


def test_basic_auth_over_plain_http_is_ignored_like_woocommerce(shop: WooServer) -> None:
    response = httpx.get(
        f"{shop.url}/wp-json/wc/v3/orders", auth=(shop.consumer_key, shop.consumer_secret)
    )
    assert response.status_code == 401
    assert response.json()["code"] == "woocommerce_rest_cannot_view"


def test_a_signature_over_other_parameters_is_refused(shop: WooServer) -> None:
    url = f"{shop.url}/wp-json/wc/v3/orders"
    signed = oauth1.sign(
        method="GET",
        url=url,
        query={"per_page": "5"},
        consumer_key=shop.consumer_key,
        consumer_secret=shop.consumer_secret,
    )
    response = httpx.get(url, params={**signed, "per_page": "50"})
    assert response.status_code == 401
    assert response.json()["message"] == "Invalid signature - provided signature does not match."
    assert httpx.get(url, params=signed).status_code == 200
    replay = httpx.get(url, params=signed)  # same nonce again
    assert replay.json()["message"] == "Invalid nonce - nonce has already been used."


def test_wrong_secret_and_wrong_key_have_their_own_messages(shop: WooServer) -> None:
    with (
        WooClient(shop.url, shop.consumer_key, "cs_" + "0" * 40) as woo,
        pytest.raises(WooError) as wrong_secret,
    ):
        woo.get("orders")
    assert wrong_secret.value.code == StoreErrorCode.WOO_UNAUTHORIZED
    assert "consumer secret" in str(wrong_secret.value)
    assert "cs_0000" not in str(wrong_secret.value)
    with (
        WooClient(shop.url, "ck_" + "1" * 40, shop.consumer_secret) as woo,
        pytest.raises(WooError) as wrong_key,
    ):
        woo.get("orders")
    assert "does not know this consumer key" in str(wrong_key.value)
    assert wrong_key.value.retryable is False


def test_https_uses_basic_auth() -> None:
    with WooServer(orders=3, tls=True) as shop:
        assert shop.ca_file is not None
        context = ssl.create_default_context(cafile=shop.ca_file)
        with client(shop, verify=context) as woo:
            assert woo.auth_method == "basic"
            woo.discover()
            assert len(woo.get("orders")) == 3
        request = shop.api_requests("/orders")[-1]
        assert request.auth == "basic"
        assert not any(k.startswith("oauth_") for k in request.query)


def test_an_untrusted_certificate_is_a_tls_error() -> None:
    with (
        WooServer(tls=True) as shop,
        client(shop, max_retries=0) as woo,
        pytest.raises(WooError) as caught,
    ):
        woo.discover()
    assert caught.value.code == StoreErrorCode.WOO_UNREACHABLE
    assert "secure (HTTPS) connection" in str(caught.value)


def test_a_shop_in_a_subdirectory_signs_against_its_home_url() -> None:
    with WooServer(orders=2, base_path="/shop") as shop, client(shop) as woo:
        index = woo.discover()
        assert index.home.endswith("/shop")
        assert len(woo.get("orders")) == 2


# -- pagination -----------------------------------------------------------------------------------


def test_all_pages_arrive_exactly_once_with_concurrent_requests() -> None:
    with WooServer(orders=1050, latency=0.03) as shop, client(shop, concurrency=4) as woo:
        pages = list(woo.list_pages("orders"))
        ids = [o["id"] for page in pages for o in page.items]
        assert sorted(p.number for p in pages) == list(range(1, 12))
        assert len(ids) == 1050
        assert set(ids) == {o["id"] for o in shop.data.orders}
        assert pages[0].total == 1050
        assert pages[0].total_pages == 11
        assert 3 <= shop.max_in_flight <= 4  # the pool runs C requests at once, never more
        per_page = {r.query["per_page"] for r in shop.api_requests("/orders")}
        assert per_page == {"100"}


def test_prefetch_asks_for_the_first_round_without_waiting_for_the_totals() -> None:
    with WooServer(orders=250, latency=0.05) as shop, client(shop, concurrency=4) as woo:
        pages = list(woo.list_pages("orders", prefetch=4))
        first_round = sorted(shop.api_requests("/orders"), key=lambda r: r.started)[:4]
    assert sorted(p.number for p in pages) == [1, 2, 3]  # page 4 is past the end: dropped
    assert sum(len(p.items) for p in pages) == 250
    assert {int(r.query["page"]) for r in first_round} == {1, 2, 3, 4}
    assert max(r.started for r in first_round) < min(r.ended for r in first_round)  # together


def test_pages_already_applied_are_not_fetched_again(shop: WooServer) -> None:
    with client(shop) as woo:
        pages = list(woo.list_pages("orders", per_page=5, skip={1, 2, 4}))
    assert sorted(p.number for p in pages) == [3, 5]
    fetched = sorted(int(r.query["page"]) for r in shop.api_requests("/orders"))
    assert fetched == [1, 3, 5]  # page 1 always: it carries the totals


def test_since_asks_for_modified_after_in_gmt(shop: WooServer) -> None:
    since = datetime(2026, 1, 5, 11, 15, tzinfo=UTC)
    with client(shop) as woo:
        items = [o for page in woo.list_pages("orders", since=since) for o in page.items]
    query = shop.api_requests("/orders")[0].query
    assert query["modified_after"] == "2026-01-05T11:15:00"
    assert query["dates_are_gmt"] == "true"
    assert all(o["date_modified_gmt"] > "2026-01-05T11:15:00" for o in items)
    assert 0 < len(items) < 25


def test_per_page_above_100_is_a_final_error_without_retry(shop: WooServer) -> None:
    with client(shop) as woo, pytest.raises(WooError) as caught:
        woo.get("orders", {"per_page": 101})
    assert caught.value.code == StoreErrorCode.WOO_BAD_RESPONSE
    assert "per_page" in str(caught.value)
    assert caught.value.retryable is False
    assert len(shop.api_requests("/orders")) == 1


# -- retries --------------------------------------------------------------------------------------


def test_503_is_retried_with_backoff(shop: WooServer) -> None:
    sleeps = Sleeps()
    shop.inject(status=503, count=2, path="/orders")
    with client(shop, sleep=sleeps, backoff=0.5) as woo:
        assert len(woo.get("orders")) == 10
    assert [r.status for r in shop.api_requests("/orders")] == [503, 503, 200]
    assert len(sleeps) == 2
    assert 0.25 <= sleeps[0] <= 0.5
    assert 0.5 <= sleeps[1] <= 1.0


def test_429_waits_as_long_as_retry_after_says(shop: WooServer) -> None:
    sleeps = Sleeps()
    shop.inject(status=429, count=1, retry_after="7", path="/orders")
    when = format_datetime(datetime.now(UTC) + timedelta(seconds=30), usegmt=True)
    shop.inject(status=503, count=1, retry_after=when, path="/customers")
    with client(shop, sleep=sleeps) as woo:
        woo.get("orders")
        woo.get("customers")
    assert sleeps[0] == 7.0
    assert 25 <= sleeps[1] <= 30


def test_a_dropped_connection_is_retried(shop: WooServer) -> None:
    shop.inject(status=None, count=1, path="/orders")
    with client(shop) as woo:
        assert len(woo.get("orders")) == 10


def test_giving_up_after_the_retries_says_so(shop: WooServer) -> None:
    shop.inject(status=503, count=None, path="/orders")
    with client(shop, max_retries=3) as woo, pytest.raises(WooError) as caught:
        woo.get("orders")
    assert caught.value.code == StoreErrorCode.WOO_SERVER_ERROR
    assert caught.value.retryable is True
    assert len(shop.api_requests("/orders")) == 4


def test_a_page_that_keeps_failing_stops_the_listing(shop: WooServer) -> None:
    shop.inject(status=500, count=None, path="/orders", pages={2})
    with client(shop) as woo, pytest.raises(WooError) as caught:
        list(woo.list_pages("orders", per_page=5))
    assert caught.value.status == 500


# -- what is at the address -----------------------------------------------------------------------


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_nothing_listening_is_unreachable() -> None:
    woo = WooClient(f"http://127.0.0.1:{_closed_port()}", "ck_x", "cs_y", max_retries=0)
    with woo, pytest.raises(WooError) as caught:
        woo.discover()
    assert caught.value.code == StoreErrorCode.WOO_UNREACHABLE
    assert "refused" in str(caught.value)


def test_a_shop_that_does_not_answer_in_time_is_unreachable() -> None:
    with (
        WooServer(latency=1.0) as shop,
        client(shop, timeout=0.2, max_retries=0) as woo,
        pytest.raises(WooError) as caught,
    ):
        woo.discover()
    assert "did not answer within 0.2 seconds" in str(caught.value)


@pytest.mark.parametrize(
    ("mode", "code", "words"),
    [
        ("html", StoreErrorCode.WOO_NOT_WOOCOMMERCE, "not as a WordPress site"),
        ("no_wc", StoreErrorCode.WOO_NOT_WOOCOMMERCE, "WooCommerce plugin installed"),
        ("rest_disabled", StoreErrorCode.WOO_REST_DISABLED, "pretty permalinks"),
    ],
)
def test_discovery_names_what_is_wrong(mode: str, code: StoreErrorCode, words: str) -> None:
    with WooServer(mode=mode) as shop, client(shop) as woo, pytest.raises(WooError) as caught:
        woo.discover()
    assert caught.value.code == code
    assert words in str(caught.value)


def test_plain_permalinks_fall_back_to_rest_route() -> None:
    with WooServer(orders=3, mode="plain_permalinks") as shop:
        with client(shop) as woo:
            assert woo.discover().rest_route is True
            assert len(woo.get("orders")) == 3
        with client(shop) as undiscovered:  # e.g. a job handler that skips discover()
            assert len(undiscovered.get("orders")) == 3
        last = shop.api_requests()[-1]
        assert last.path == "/"
        assert last.query["rest_route"] == "/wc/v3/orders"
        assert last.auth == "oauth1"


def test_url_typed_with_admin_path_is_normalised() -> None:
    woo = WooClient("https://shop.example/wp-admin/index.php?x=1", "ck_x", "cs_y")
    assert woo.base_url == "https://shop.example"
    woo.close()


@pytest.mark.parametrize("url", ["shop.example", "ftp://shop.example", "https://u:pw@shop.example"])
def test_unusable_addresses_are_refused_before_any_request(url: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        WooClient(url, "ck_x", "cs_y")
    assert caught.value.code == StoreErrorCode.WOO_INVALID_URL
    assert "pw" not in str(caught.value)


# -- secrets --------------------------------------------------------------------------------------


def test_secrets_and_signatures_stay_out_of_logs_reprs_and_errors(
    shop: WooServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    shop.inject(status=503, count=1, path="/orders")
    with client(shop) as woo:
        woo.get("orders")
        assert shop.consumer_secret not in repr(woo)
        assert shop.consumer_key not in repr(woo)
    with WooClient(shop.url, shop.consumer_key, "cs_wrong") as bad, pytest.raises(WooError) as e:
        bad.get("orders")
    assert "GET http://" in caplog.text  # the client's own log line is there …
    for secret in (shop.consumer_secret, shop.consumer_key, "cs_wrong", "oauth_signature"):
        assert secret not in caplog.text  # … without the query string
        assert secret not in str(e.value)
        assert secret not in repr(e.value.details)
