"""The WooCommerce REST API v3 client: the only code in Aftercare that talks HTTP to a shop.

    with WooClient(url, consumer_key, consumer_secret, timeout=30, concurrency=4) as woo:
        index = woo.discover()                       # REST index, pretty permalinks or not
        order = woo.get("orders/14")
        for page in woo.list_pages("orders", since=last_sync):
            apply(page.items)                        # pages arrive as they are fetched

Authentication follows WooCommerce's own rules (SPEC §5): over https HTTP Basic with the key
pair; over plain http OAuth 1.0a one-legged signatures in the query string (Basic is ignored
there). Transient failures (429, 502, 503, 504, connection errors, timeouts) are retried with
capped exponential backoff that honours Retry-After; other 4xx answers are final. Every failure
is a `WooError` whose message tells the shop owner what to fix.

Secrets stay inside the client: not in its repr, not in log lines (URLs are logged without their
query string, including httpx's own request log), not in error messages.
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
from collections.abc import Callable, Collection, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

import httpx

from aftercare.stores.woo import errors, oauth1, responses, urls
from aftercare.stores.woo.pages import Page, fetch_concurrently

logger = logging.getLogger(__name__)

RETRY_STATUSES = frozenset({429, 502, 503, 504})
MAX_PER_PAGE = 100  # WooCommerce answers 400 rest_invalid_param above this


@dataclass(frozen=True)
class WooIndex:
    """What the shop's REST index (/wp-json/) told us."""

    base_url: str  # after redirects (e.g. http:// → https://)
    home: str  # WordPress's home URL: OAuth signatures are computed against it
    name: str
    namespaces: tuple[str, ...]
    rest_route: bool  # pretty permalinks are off: routes go through ?rest_route=


class WooClient:
    """One shop, one keep-alive connection pool, at most `concurrency` requests in flight."""

    def __init__(
        self,
        url: str,
        consumer_key: str,
        consumer_secret: str,
        *,
        timeout: float = 30.0,
        concurrency: int = 4,
        verify: Any = True,
        max_retries: int = 4,
        backoff: float = 0.5,
        backoff_cap: float = 30.0,
        max_retry_after: float = 300.0,
        user_agent: str = "Aftercare (WooCommerce sync)",
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._base = urls.normalise_url(url)
        self._home = self._base
        self._rest_route = False
        self._consumer_key = consumer_key
        self._consumer_secret = consumer_secret
        self._timeout = float(timeout)
        self._concurrency = max(1, int(concurrency))
        self._max_retries = max_retries
        self._backoff = backoff
        self._backoff_cap = backoff_cap
        self._max_retry_after = max_retry_after
        self._sleep = sleep
        self._http = httpx.Client(
            timeout=httpx.Timeout(self._timeout, connect=min(self._timeout, 10.0)),
            limits=httpx.Limits(
                max_connections=self._concurrency + 2,
                max_keepalive_connections=self._concurrency + 2,
            ),
            verify=verify,
            headers={"User-Agent": user_agent, "Accept": "application/json"},
        )
        self._pool: ThreadPoolExecutor | None = None
        self._pool_lock = threading.Lock()

    # -- identity -----------------------------------------------------------------------------

    def __repr__(self) -> str:
        return f"<WooClient {self._base} ({self.auth_method})>"

    @property
    def base_url(self) -> str:
        return self._base

    @property
    def host(self) -> str:
        """host[:port], for messages."""
        return httpx.URL(self._base).netloc.decode()

    @property
    def uses_tls(self) -> bool:
        return self._base.startswith("https://")

    @property
    def auth_method(self) -> str:
        return "basic" if self.uses_tls else "oauth1"

    @property
    def concurrency(self) -> int:
        return self._concurrency

    # -- lifecycle ----------------------------------------------------------------------------

    def close(self) -> None:
        if self._pool is not None:
            # Wait for requests still running (a listing that failed midway) so their
            # connections go back to the pool before it closes: no leaked sockets.
            self._pool.shutdown(wait=True, cancel_futures=True)
        self._http.close()

    def __enter__(self) -> WooClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- discovery ----------------------------------------------------------------------------

    def discover(self) -> WooIndex:
        """Read the REST index; fall back to `?rest_route=` when /wp-json/ is missing (plain
        permalinks). Raises WooError: unreachable, REST disabled, not WordPress, no WooCommerce."""
        response = self._send("GET", "", authenticate=False, follow_redirects=True)
        index = responses.rest_index(response)
        if response.status_code == 404 or index is responses.NOT_JSON:
            fallback = self._send(
                "GET", "", authenticate=False, follow_redirects=True, rest_route=True
            )
            index = responses.rest_index(fallback)
            if isinstance(index, dict):
                self._rest_route = True
                logger.warning("%s: /wp-json/ is missing; using ?rest_route=", self.host)
            elif response.status_code == 404:
                raise errors.rest_disabled(host=self.host, status=404)
            else:
                raise errors.not_wordpress(host=self.host)
        elif not isinstance(index, dict):
            status = response.status_code
            if status in {401, 403}:
                raise errors.rest_disabled(host=self.host, status=status)
            if status == 429 or status >= 500:
                raise errors.from_response(response, host=self.host, tls=self.uses_tls)
            raise errors.not_wordpress(host=self.host)
        final = str(response.url) if not self._rest_route else self._base
        if not self._rest_route and "/wp-json" in final:
            self._base = final[: final.index("/wp-json")].rstrip("/")
        namespaces = tuple(str(ns) for ns in index.get("namespaces") or ())
        if "wc/v3" not in namespaces:
            raise errors.no_woocommerce(host=self.host)
        home = index.get("home")
        if isinstance(home, str) and home.startswith(("http://", "https://")):
            self._home = home.rstrip("/")
        return WooIndex(
            base_url=self._base,
            home=self._home,
            name=str(index.get("name") or ""),
            namespaces=namespaces,
            rest_route=self._rest_route,
        )

    # -- requests -----------------------------------------------------------------------------

    def get(self, path: str, params: Mapping[str, Any] | None = None) -> Any:
        """GET /wc/v3/<path> and return the decoded JSON."""
        return self._result(self._call("GET", "wc/v3/" + path, params=params))

    def get_page(self, resource: str, params: Mapping[str, Any], page: int) -> Page:
        response = self._call("GET", "wc/v3/" + resource, params={**params, "page": page})
        items = self._result(response)
        if not isinstance(items, list):
            raise errors.not_json(host=self.host, status=response.status_code)
        total = responses.int_header(response, "X-WP-Total")
        total_pages = responses.int_header(response, "X-WP-TotalPages")
        return Page(number=page, items=items, total=total, total_pages=total_pages)

    def list_pages(
        self,
        resource: str,
        params: Mapping[str, Any] | None = None,
        since: datetime | None = None,
        *,
        skip: Collection[int] = (),
        per_page: int = MAX_PER_PAGE,
        prefetch: int = 1,
        enrich: Callable[[Page], Any] | None = None,
    ) -> Iterator[Page]:
        """Every page of a collection, fetched `concurrency` at a time and yielded in the order
        they arrive (the caller applies them one by one in its own thread).

        Sorted by id ascending unless `params` says otherwise: an object modified during the
        run keeps its place, where `orderby=modified` would move it to the end and shift a
        neighbour onto a page already fetched. `since` adds `modified_after` (GMT). Pages in
        `skip` (already applied by a previous attempt) are not yielded; page 1 is always
        fetched because it carries the totals. `prefetch` > 1 requests pages 2…prefetch
        together with page 1 instead of waiting for the totals: one round trip less for a big
        listing, at most prefetch - 1 wasted requests for a small one. `enrich(page)` runs in
        the worker that fetched the page, right after it (e.g. the refunds of its orders, with
        plain sequential `get`s); its result is `page.extra`."""
        query: dict[str, Any] = {"orderby": "id", "order": "asc", **(params or {})}
        query["per_page"] = min(per_page, MAX_PER_PAGE)
        if since is not None:
            query["modified_after"] = since.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S")
            query["dates_are_gmt"] = "true"

        def fetch(number: int) -> Page:
            page = self.get_page(resource, query, number)
            return replace(page, extra=enrich(page)) if enrich is not None else page

        def submit(number: int) -> Future[Page]:
            return self._executor().submit(fetch, number)

        last_early = min(prefetch, self._concurrency)
        early = {n: submit(n) for n in range(2, last_early + 1) if n not in skip}
        try:
            first = fetch(1)
        finally:
            wait(early.values())
        if 1 not in skip:
            yield first
        if first.total_pages is None:  # a proxy stripped the totals: walk until a short page
            page = first
            while len(page.items) >= query["per_page"]:
                page = fetch(page.number + 1)
                if page.number not in skip:
                    yield page
            return
        for number, future in early.items():
            if number <= first.total_pages:
                yield future.result()
        wanted = (n for n in range(max(2, last_early + 1), first.total_pages + 1) if n not in skip)
        yield from fetch_concurrently(submit=submit, numbers=wanted, window=self._concurrency * 2)

    # -- webhooks -----------------------------------------------------------------------------

    def create_webhook(
        self, *, topic: str, delivery_url: str, secret: str, name: str
    ) -> dict[str, Any]:
        body = {
            "name": name,
            "topic": topic,
            "delivery_url": delivery_url,
            "secret": secret,
            "status": "active",
        }
        result: dict[str, Any] = self._result(self._call("POST", "wc/v3/webhooks", json=body))
        return result

    def list_webhooks(self) -> list[dict[str, Any]]:
        return [hook for page in self.list_pages("webhooks") for hook in page.items]

    def update_webhook(self, webhook_id: int, **fields: Any) -> dict[str, Any]:
        route = f"wc/v3/webhooks/{int(webhook_id)}"
        result: dict[str, Any] = self._result(self._call("PUT", route, json=fields))
        return result

    def delete_webhook(self, webhook_id: int) -> None:
        route = f"wc/v3/webhooks/{int(webhook_id)}"
        self._result(self._call("DELETE", route, params={"force": "true"}))

    # -- plumbing -----------------------------------------------------------------------------

    def _executor(self) -> ThreadPoolExecutor:
        with self._pool_lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(
                    max_workers=self._concurrency, thread_name_prefix="woo"
                )
            return self._pool

    def _locate(self, route: str, *, rest_route: bool) -> tuple[str, dict[str, str]]:
        if rest_route:
            return self._base + "/", {"rest_route": "/" + route}
        return f"{self._base}/wp-json/{route}", {}

    def _call(self, method: str, route: str, **kwargs: Any) -> httpx.Response:
        """`_send`, falling back to `?rest_route=` once if /wp-json/ is not routed at all (plain
        permalinks answer it with the theme's HTML 404), so a client that skipped `discover()`
        still works; the mode sticks for the client's lifetime."""
        response = self._send(method, route, **kwargs)
        if response.status_code == 404 and not self._rest_route and not _is_json(response):
            fallback = self._send(method, route, rest_route=True, **kwargs)
            if fallback.status_code != 404 or _is_json(fallback):
                self._rest_route = True
                logger.warning("%s: /wp-json/ is missing; using ?rest_route=", self.host)
                return fallback
        return response

    def _send(
        self,
        method: str,
        route: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        authenticate: bool = True,
        follow_redirects: bool = False,
        rest_route: bool | None = None,
    ) -> httpx.Response:
        use_rest_route = self._rest_route if rest_route is None else rest_route
        url, query = self._locate(route, rest_route=use_rest_route)
        query.update({key: responses.query_param(value) for key, value in (params or {}).items()})
        attempt = 0
        while True:
            request_params: Mapping[str, str] = query
            auth: tuple[str, str] | None = None
            if authenticate and self.uses_tls:
                auth = (self._consumer_key, self._consumer_secret)
            elif authenticate:
                request_params = oauth1.sign(
                    method=method,
                    url=urls.signing_url(url, home=self._home),
                    query=query,
                    consumer_key=self._consumer_key,
                    consumer_secret=self._consumer_secret,
                )
            started = time.monotonic()
            try:
                response = self._http.request(
                    method,
                    url,
                    params=request_params,
                    json=json,
                    auth=auth,
                    follow_redirects=follow_redirects,
                )
            except httpx.TransportError as exc:
                if attempt >= self._max_retries:
                    raise errors.unreachable(
                        host=self.host, exc=exc, timeout=self._timeout
                    ) from exc
                delay = self._backoff_delay(attempt)
                logger.warning(
                    "%s %s failed (%s); retry %d in %.1fs",
                    method,
                    urls.redact(url),
                    type(exc).__name__,
                    attempt + 1,
                    delay,
                )
            else:
                elapsed = time.monotonic() - started
                status = response.status_code
                logger.debug("%s %s → %d in %.3fs", method, urls.redact(url), status, elapsed)
                if status not in RETRY_STATUSES or attempt >= self._max_retries:
                    return response
                delay = responses.retry_after(response) or self._backoff_delay(attempt)
                if delay > self._max_retry_after:
                    return response
                logger.warning(
                    "%s %s → %d; retry %d in %.1fs",
                    method,
                    urls.redact(url),
                    status,
                    attempt + 1,
                    delay,
                )
            self._sleep(delay)
            attempt += 1

    def _backoff_delay(self, attempt: int) -> float:
        ceiling = min(self._backoff_cap, self._backoff * 2.0**attempt)
        return ceiling / 2 + ceiling / 2 * secrets.randbelow(1000) / 1000  # equal jitter

    def _result(self, response: httpx.Response) -> Any:
        if not response.is_success:
            raise errors.from_response(response, host=self.host, tls=self.uses_tls)
        try:
            return responses.decode_json(response)
        except ValueError:
            raise errors.not_json(host=self.host, status=response.status_code) from None


def _is_json(response: httpx.Response) -> bool:
    return "json" in response.headers.get("Content-Type", "")
