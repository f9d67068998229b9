"""A real HTTP server on 127.0.0.1 that answers like WooCommerce 10's REST API v3.

    with WooServer(orders=250, customers=40, latency=0.0) as shop:
        woo = WooClient(shop.url, shop.consumer_key, shop.consumer_secret)
        shop.inject(status=503, count=2, retry_after=1)      # next 2 matching requests
        shop.requests                                        # what the client sent

Behaviour copied from WooCommerce (SPEC §5, `WC_REST_Authentication`, the captures in
../shared/data/woocommerce/rest_local_run1/): Basic auth only over TLS (`tls=True`), otherwise
OAuth 1.0a query signatures verified like `check_oauth_signature()` (timestamp window, nonce
reuse), 401 bodies with WooCommerce's codes and messages, per_page 1-100 (101 → 400
rest_invalid_param), X-WP-Total / X-WP-TotalPages / Link headers, modified_after on the CRUD
resources (orders, products, coupons), after/before on reviews, webhooks CRUD that records
secrets. Modes: "ok", "html" (not WordPress), "no_wc" (WordPress without WooCommerce),
"rest_disabled" (/wp-json/ and ?rest_route= answer 404), "plain_permalinks" (only ?rest_route=).
"""

from __future__ import annotations

import hashlib
import json
import ssl
import tempfile
import threading
import time
from collections.abc import Collection
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from tests import woo_server_auth as auth
from tests.woo_server_api import ApiMixin
from tests.woo_shop_data import ShopData

CONSUMER_KEY = "ck_" + hashlib.sha1(b"aftercare-test-key").hexdigest()  # noqa: S324
CONSUMER_SECRET = "cs_" + hashlib.sha1(b"aftercare-test-secret").hexdigest()  # noqa: S324
HTML_PAGE = b"<!DOCTYPE html><html><head><title>Page not found</title></head><body></body></html>"


@dataclass
class Recorded:
    method: str
    path: str
    query: dict[str, str]
    status: int = 0
    auth: str = ""  # "basic", "oauth1" or ""
    body: Any = None
    started: float = 0.0
    ended: float = 0.0


@dataclass
class Fault:
    status: int | None  # None: drop the connection without answering
    count: int | None  # None: forever
    retry_after: str | None = None
    path: str = ""  # substring of the REST route, e.g. "/wc/v3/orders"
    pages: Collection[int] | None = None


@dataclass
class Request:
    handler: BaseHTTPRequestHandler
    method: str
    path: str
    query: dict[str, str]
    route: str
    body: Any
    record: Recorded
    form: dict[str, str] = field(default_factory=dict)


class WooServer(ApiMixin):
    def __init__(
        self,
        *,
        orders: int = 0,
        customers: int = 0,
        products: int = 0,
        coupons: int = 0,
        reviews: int = 0,
        refund_every: int = 5,
        consumer_key: str = CONSUMER_KEY,
        consumer_secret: str = CONSUMER_SECRET,
        permissions: str = "read_write",
        latency: float = 0.0,
        mode: str = "ok",
        tls: bool = False,
        base_path: str = "",
        wc_version: str = "10.0.2",
    ) -> None:
        self.consumer_key = consumer_key
        self.consumer_secret = consumer_secret
        self.permissions = permissions
        self.latency = latency  # seconds per response, however long building it took
        self.mode = mode
        self.tls = tls
        self.base_path = base_path.rstrip("/")
        self.wc_version = wc_version
        self.requests: list[Recorded] = []
        self.faults: list[Fault] = []
        self.webhooks: dict[int, dict[str, Any]] = {}
        self.webhook_secrets: dict[int, str] = {}
        self.webhook_posts: list[dict[str, Any]] = []
        self.nonces: set[str] = set()
        self.lock = threading.Lock()
        self.in_flight = 0
        self.max_in_flight = 0
        self._counts = {
            "orders": orders,
            "customers": customers,
            "products": products,
            "coupons": coupons,
            "reviews": reviews,
        }
        self._refund_every = refund_every
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        self.ca_file: str | None = None
        self.data = ShopData()

    # -- lifecycle ------------------------------------------------------------------------------

    def start(self) -> WooServer:
        shop = self

        class Handler(_Handler):
            server_shop = shop

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        if self.tls:
            self._tmp = tempfile.TemporaryDirectory()
            cert, key = auth.self_signed_cert(Path(self._tmp.name))
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(cert, key)
            self._httpd.socket = context.wrap_socket(self._httpd.socket, server_side=True)
            self.ca_file = str(cert)
        self.data = ShopData.generate(
            **self._counts, refund_every=self._refund_every, base=self.home
        )
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
        if self._tmp is not None:
            self._tmp.cleanup()

    def __enter__(self) -> WooServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        assert self._httpd is not None, "start() the server first"
        return int(self._httpd.server_address[1])

    @property
    def home(self) -> str:
        scheme = "https" if self.tls else "http"
        return f"{scheme}://127.0.0.1:{self.port}{self.base_path}"

    @property
    def url(self) -> str:
        return self.home

    # -- test controls --------------------------------------------------------------------------

    def inject(
        self,
        *,
        status: int | None = 503,
        count: int | None = 1,
        retry_after: str | None = None,
        path: str = "",
        pages: Collection[int] | None = None,
    ) -> None:
        """The next `count` requests whose route contains `path` (and, if given, whose page is
        in `pages`) get `status` (None: the connection is dropped)."""
        with self.lock:
            self.faults.append(Fault(status, count, retry_after, path, pages))

    def clear_faults(self) -> None:
        with self.lock:
            self.faults.clear()

    def api_requests(self, route: str = "") -> list[Recorded]:
        with self.lock:
            requests = [(r, r.query.get("rest_route") or r.path) for r in self.requests]
        return [r for r, path in requests if "/wc/v3/" in path and route in path]

    def touch(self, resource: str, object_id: int, **changes: Any) -> dict[str, Any]:
        """Modify an object now, as the shop owner would (date_modified moves)."""
        obj = next(o for o in self.data.collection(resource) if o["id"] == object_id)
        obj.update(changes)
        now = auth.now_stamp()
        obj["date_modified"] = obj["date_modified_gmt"] = now
        return obj

    # -- request handling -----------------------------------------------------------------------

    def handle(self, handler: BaseHTTPRequestHandler, method: str) -> None:
        split = urlsplit(handler.path)
        query = dict(parse_qsl(split.query, keep_blank_values=True))  # PHP: last value wins
        record = Recorded(method, split.path, query, started=time.monotonic())
        with self.lock:
            self.requests.append(record)
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            self._handle(handler, method, split.path, query, record)
        finally:
            record.ended = time.monotonic()
            with self.lock:
                self.in_flight -= 1

    def _handle(
        self,
        handler: BaseHTTPRequestHandler,
        method: str,
        path: str,
        query: dict[str, str],
        record: Recorded,
    ) -> None:
        length = int(handler.headers.get("Content-Length") or 0)
        raw = handler.rfile.read(length) if length else b""
        route = self._route(path, query)
        if self.mode == "html" or route is None:
            status = 200 if self.mode == "html" else 404
            self._send(handler, record, status, HTML_PAGE, content_type="text/html; charset=UTF-8")
            return
        fault = self._take_fault(route, query)
        if fault is not None:
            if fault.status is None:
                record.status = -1
                handler.close_connection = True
                handler.connection.close()
                return
            headers = {"Retry-After": fault.retry_after} if fault.retry_after else {}
            body = auth.error_body("http_error", "Injected failure.", fault.status)
            self._send_json(handler, record, fault.status, body, headers)
            return
        body: Any = None
        form: dict[str, str] = {}
        content_type = handler.headers.get("Content-Type", "")
        if raw and "json" in content_type:
            body = json.loads(raw)
        elif raw:
            form = dict(parse_qsl(raw.decode(), keep_blank_values=True))
        record.body = body
        request = Request(handler, method, path, query, route, body, record, form)
        status, payload, headers = self.respond(request)
        self._send_json(handler, record, status, payload, headers)

    def _route(self, path: str, query: dict[str, str]) -> str | None:
        """The REST route ("/", "/wc/v3/orders"…), or None for a plain (404) web page."""
        if self.base_path:
            if not path.startswith(self.base_path):
                return None
            path = path[len(self.base_path) :] or "/"
        if path in {"/", "/index.php"} and "rest_route" in query:
            return None if self.mode == "rest_disabled" else query["rest_route"]
        if path.startswith("/wp-json"):
            if self.mode in {"rest_disabled", "plain_permalinks"}:
                return None
            return path[len("/wp-json") :] or "/"
        return None

    def _take_fault(self, route: str, query: dict[str, str]) -> Fault | None:
        page = int(query.get("page", "1") or 1) if query.get("page", "1").isdigit() else 1
        with self.lock:
            for fault in self.faults:
                if fault.path not in route or (fault.pages is not None and page not in fault.pages):
                    continue
                if fault.count is not None:
                    fault.count -= 1
                    if fault.count <= 0:
                        self.faults.remove(fault)
                return fault
        return None

    def _send_json(
        self,
        handler: BaseHTTPRequestHandler,
        record: Recorded,
        status: int,
        payload: Any,
        headers: dict[str, str] | None = None,
    ) -> None:
        data = json.dumps(payload).encode()
        self._send(handler, record, status, data, "application/json; charset=UTF-8", headers)

    def _send(  # noqa: PLR0917
        self,
        handler: BaseHTTPRequestHandler,
        record: Recorded,
        status: int,
        data: bytes,
        content_type: str,
        headers: dict[str, str] | None = None,
    ) -> None:
        record.status = status
        # `latency` is the whole response time, like a PHP worker booting WordPress: the time
        # spent building this answer counts towards it.
        remaining = self.latency - (time.monotonic() - record.started)
        if remaining > 0:
            time.sleep(remaining)
        handler.send_response(status)
        handler.send_header("Content-Type", content_type)
        handler.send_header("Content-Length", str(len(data)))
        handler.send_header("Link", f'<{self.home}/wp-json/>; rel="https://api.w.org/"')
        for name, value in (headers or {}).items():
            handler.send_header(name, value)
        handler.end_headers()
        handler.wfile.write(data)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as a real server
    # Headers and body go out in two writes; without TCP_NODELAY, Nagle + delayed ACK add
    # ~40 ms to every response, which a real server (one write) does not.
    disable_nagle_algorithm = True
    server_shop: WooServer

    def do_GET(self) -> None:
        self.server_shop.handle(self, "GET")

    def do_POST(self) -> None:
        self.server_shop.handle(self, "POST")

    def do_PUT(self) -> None:
        self.server_shop.handle(self, "PUT")

    def do_DELETE(self) -> None:
        self.server_shop.handle(self, "DELETE")

    def log_message(self, format: str, *args: Any) -> None:
        pass
