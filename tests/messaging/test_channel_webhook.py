"""Outgoing webhooks against a real local receiver that checks the signature the way a
receiver should (HMAC over "<t>.<body>", constant-time compare, a tolerance on t)."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import socket
import ssl
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from aftercare.messaging.channels import open_channel
from aftercare.messaging.channels.base import Outcome, Outgoing
from aftercare.messaging.channels.config import WebhookConfig
from aftercare.messaging.channels.webhook import WebhookChannel, non_public_reason, signature
from tests.messaging.smtp_faults import tls_files

SECRET = "whsec_test_5f0c2b9e"
TOLERANCE = 300  # seconds a receiver accepts between t and its clock


@dataclass
class Seen:
    path: str
    headers: dict[str, str]
    body: bytes
    signature_ok: bool
    peer_port: int


@dataclass
class Receiver:
    """path → (status, body, seconds to wait before answering)."""

    answers: dict[str, tuple[int, str, float]] = field(default_factory=dict)
    seen: list[Seen] = field(default_factory=list)
    tls_context: ssl.SSLContext | None = None
    _httpd: ThreadingHTTPServer | None = None

    def __enter__(self) -> Receiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                return None

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                receiver.seen.append(
                    Seen(
                        path=self.path,
                        headers=dict(self.headers.items()),
                        body=body,
                        signature_ok=verify(self.headers.get("X-Aftercare-Signature", ""), body),
                        peer_port=self.client_address[1],
                    )
                )
                status, text, delay = receiver.answers.get(self.path, (200, "ok", 0.0))
                time.sleep(delay)
                data = text.encode()
                try:
                    self.send_response(status)
                    if 300 <= status < 400:
                        self.send_header("Location", "http://169.254.169.254/latest/meta-data")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        if self.tls_context is not None:
            self._httpd.socket = self.tls_context.wrap_socket(self._httpd.socket, server_side=True)
        threading.Thread(target=self._httpd.serve_forever, args=(0.05,), daemon=True).start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        assert self._httpd is not None
        self._httpd.shutdown()
        self._httpd.server_close()

    def url(self, path: str = "/hook", host: str = "127.0.0.1") -> str:
        assert self._httpd is not None
        scheme = "https" if self.tls_context else "http"
        return f"{scheme}://{host}:{self._httpd.server_address[1]}{path}"


def verify(header: str, body: bytes) -> bool:
    """What a receiver does (Stripe's scheme)."""
    try:
        parts = dict(item.split("=", 1) for item in header.split(","))
        timestamp = int(parts["t"])
    except (KeyError, ValueError):
        return False
    expected = hmac.new(SECRET.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    fresh = abs(time.time() - timestamp) <= TOLERANCE
    return fresh and hmac.compare_digest(expected.hexdigest(), parts.get("v1", ""))


def hook(url: str, number: int = 1, **changes: Any) -> Outgoing:
    payload = {"event": "order.completed", "order": {"number": f"10{number}", "note": "감사"}}
    base = Outgoing(
        message_id=number,
        channel="webhook",
        recipient=url,
        body_text=json.dumps(payload, ensure_ascii=False),
        secret=SECRET,
    )
    return replace(base, **changes)


@pytest.fixture
def allow_loopback(settings: Any) -> None:
    settings.OUTGOING_WEBHOOKS_ALLOW_PRIVATE = True
    settings.OUTGOING_WEBHOOKS_TIMEOUT = 1


@pytest.fixture
def receiver(allow_loopback: None) -> Iterator[Receiver]:
    with Receiver() as running:
        yield running


def test_a_signed_json_post_that_the_receiver_can_verify(receiver: Receiver) -> None:
    with open_channel("webhook") as channel:
        assert isinstance(channel, WebhookChannel)
        first = channel.send(hook(receiver.url(), 1))
        second = channel.send(hook(receiver.url("/hook?store=acme"), 2))

    assert first.outcome is second.outcome is Outcome.SENT
    assert first.answer == "HTTP 200: ok"
    seen = receiver.seen[0]
    assert seen.signature_ok
    assert seen.body == hook("", 1).body_text.encode()
    assert seen.headers["Content-Type"] == "application/json"
    assert seen.headers["User-Agent"].startswith("Aftercare/")
    assert seen.headers["X-Aftercare-Delivery"] == "1"
    assert seen.headers["Host"] == receiver.url().split("/")[2]
    assert receiver.seen[1].path == "/hook?store=acme"
    assert seen.peer_port == receiver.seen[1].peer_port  # one keep-alive connection


def test_a_tampered_or_replayed_request_fails_verification() -> None:
    body = b'{"event": "order.completed"}'
    now = int(time.time())
    assert verify(signature(secret=SECRET, body=body, timestamp=now), body)
    assert not verify(signature(secret=SECRET, body=body, timestamp=now), body + b" ")
    assert not verify(signature(secret="other", body=body, timestamp=now), body)
    assert not verify(signature(secret=SECRET, body=body, timestamp=now - 3600), body)
    expected = hmac.new(SECRET.encode(), f"{now}.".encode() + body, hashlib.sha256).hexdigest()
    assert signature(secret=SECRET, body=body, timestamp=now) == f"t={now},v1={expected}"


def test_without_a_secret_there_is_no_signature_header(receiver: Receiver) -> None:
    with open_channel("webhook") as channel:
        delivery = channel.send(hook(receiver.url(), secret=""))

    assert delivery.outcome is Outcome.SENT
    assert "X-Aftercare-Signature" not in receiver.seen[0].headers


@pytest.mark.parametrize(
    ("status", "outcome"),
    [
        (200, Outcome.SENT),
        (202, Outcome.SENT),
        (204, Outcome.SENT),
        (408, Outcome.TEMPORARY),
        (429, Outcome.TEMPORARY),
        (500, Outcome.TEMPORARY),
        (503, Outcome.TEMPORARY),
        (400, Outcome.PERMANENT),
        (401, Outcome.PERMANENT),
        (404, Outcome.PERMANENT),
        (410, Outcome.PERMANENT),
        (302, Outcome.PERMANENT),
    ],
)
def test_the_receivers_status_decides_the_outcome(
    receiver: Receiver, status: int, outcome: Outcome
) -> None:
    receiver.answers["/hook"] = (status, "" if status == 204 else f"answer {status}", 0.0)
    with open_channel("webhook") as channel:
        delivery = channel.send(hook(receiver.url()))

    assert delivery.outcome is outcome
    assert delivery.answer.startswith(f"HTTP {status}")
    assert len(receiver.seen) == 1  # a redirect is never followed
    if status == 302:
        assert "not followed" in delivery.answer


def test_timeouts_and_refused_connections_are_temporary(receiver: Receiver) -> None:
    receiver.answers["/slow"] = (200, "late", 3.0)  # OUTGOING_WEBHOOKS_TIMEOUT is 1 s
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    with open_channel("webhook") as channel:
        slow = channel.send(hook(receiver.url("/slow")))
        refused = channel.send(hook(f"http://127.0.0.1:{closed_port}/hook"))

    assert (slow.outcome, refused.outcome) == (Outcome.TEMPORARY, Outcome.TEMPORARY)
    assert "timed out" in slow.answer
    assert "connection failed" in refused.answer


def test_https_goes_to_the_checked_address_with_the_hosts_name_and_certificate(
    allow_loopback: None,
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        cert, key = tls_files(Path(tmp))
        server_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        server_context.load_cert_chain(cert, key)
        client_context = ssl.create_default_context(cafile=str(cert))
        with Receiver(tls_context=server_context) as receiver:
            config = WebhookConfig(allow_private=True, timeout=5)
            with WebhookChannel(config, verify=client_context) as channel:
                delivery = channel.send(hook(receiver.url(host="localhost")))

    assert delivery.outcome is Outcome.SENT
    assert receiver.seen[0].headers["Host"].startswith("localhost:")
    assert receiver.seen[0].signature_ok


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://127.0.0.1:{port}/hook", "loopback"),
        ("http://localhost:{port}/hook", "loopback"),
        ("http://2130706433:{port}/hook", "loopback"),  # 127.0.0.1 as one number
        ("http://0x7f.1:{port}/hook", "loopback"),
        ("http://[::1]:{port}/hook", "loopback"),
        ("http://[::ffff:127.0.0.1]:{port}/hook", "loopback"),
        ("http://169.254.169.254/latest/meta-data/", "link-local"),
        ("http://10.1.2.3/hook", "private"),
        ("https://192.168.0.10/hook", "private"),
        ("http://172.16.5.4/hook", "private"),
        ("http://100.64.0.1/hook", "non-global"),
        ("http://0.0.0.0:{port}/hook", "unspecified"),
        ("http://[fd00::1]/hook", "private"),
        ("http://224.0.0.1/hook", "multicast"),
    ],
)
def test_internal_addresses_are_refused_by_default(settings: Any, url: str, reason: str) -> None:
    settings.OUTGOING_WEBHOOKS_ALLOW_PRIVATE = False
    with Receiver() as receiver:
        port = receiver.url().rsplit(":", 1)[1].split("/")[0]
        with open_channel("webhook") as channel:
            delivery = channel.send(hook(url.format(port=port)))

    assert delivery.outcome is Outcome.PERMANENT
    assert f"a {reason} address" in delivery.answer
    assert "AFTERCARE_WEBHOOKS_ALLOW_PRIVATE" in delivery.answer
    assert receiver.seen == []


@pytest.mark.parametrize(
    "url",
    [
        "ftp://example.com/hook",
        "file:///etc/passwd",
        "javascript:alert(1)",
        "example.com/hook",
        "http://user:pass@example.com/hook",
        "http://example.com:99999/hook",
    ],
)
def test_only_plain_http_urls(settings: Any, url: str) -> None:
    with WebhookChannel(WebhookConfig()) as channel:
        delivery = channel.send(hook(url))

    assert delivery.outcome is Outcome.PERMANENT
    assert delivery.answer.startswith("not sent: ")
    assert "pass" not in delivery.answer.replace("passwd", "")


def test_public_addresses_pass_the_guard() -> None:
    assert non_public_reason("93.184.215.14") == ""
    assert non_public_reason("2606:4700:4700::1111") == ""
    assert non_public_reason("::ffff:10.0.0.1") == "private"


def test_extra_headers_go_along_but_cannot_replace_ours_or_inject(receiver: Receiver) -> None:
    with open_channel("webhook") as channel:
        ok = channel.send(hook(receiver.url(), headers={"Authorization": "Bearer abc"}))
        ours = channel.send(hook(receiver.url(), headers={"X-Aftercare-Signature": "forged"}))
        injected = channel.send(hook(receiver.url(), headers={"X-Note": "a\r\nX-Evil: 1"}))

    assert ok.outcome is Outcome.SENT
    assert receiver.seen[0].headers["Authorization"] == "Bearer abc"
    assert (ours.outcome, injected.outcome) == (Outcome.PERMANENT, Outcome.PERMANENT)
    assert len(receiver.seen) == 1


def test_the_secret_is_never_logged_nor_in_an_answer(
    receiver: Receiver, caplog: pytest.LogCaptureFixture
) -> None:
    receiver.answers["/fail"] = (500, "boom", 0.0)
    with caplog.at_level(logging.DEBUG), open_channel("webhook") as channel:
        deliveries = [channel.send(hook(receiver.url(path))) for path in ("/hook", "/fail")]
        item = hook(receiver.url())
        logging.getLogger("test").info("sending %r", item)

    assert SECRET not in caplog.text
    assert all(SECRET not in delivery.answer for delivery in deliveries)
    assert SECRET not in repr(item)
