"""Outgoing webhooks of flows: a signed JSON POST to the URL a store owner typed in.

    with WebhookChannel(WebhookConfig()) as channel:
        channel.send(Outgoing(message_id=7, channel="webhook", recipient="https://hooks.example/x",
                              body_text='{"event": "order.completed", …}', secret="whsec_…"))

Each request carries:

    Content-Type: application/json
    User-Agent: Aftercare/<version> (+webhooks)
    X-Aftercare-Delivery: <message id>          (the same on every retry: receivers dedupe on it)
    X-Aftercare-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>

Stripe's scheme, so receivers can use code they already know: recompute the HMAC over the
timestamp, a dot and the raw body, compare in constant time, and reject a timestamp older than a
few minutes (a replayed request). Without a secret the signature header is left out.

Outcome: 2xx → SENT; 408, 429, 5xx, timeouts and connection errors → TEMPORARY; other 4xx and
redirects (never followed: a redirect could point anywhere) → PERMANENT.

SSRF guard: the URL must be http(s) without credentials; its host is resolved here and *every*
address must be public (not loopback, private, link-local, CGNAT, multicast, reserved…), else
the item is refused PERMANENT with the reason. The request then goes to the address we checked
(the Host header and TLS SNI/certificate still name the host), so a DNS answer that changes
between the check and the connection (DNS rebinding) cannot redirect it. Settings may allow
private targets (`AFTERCARE_WEBHOOKS_ALLOW_PRIVATE=1`: an intranet receiver, and the tests).

The secret never leaves this module except as the HMAC; it is not logged nor put in answers.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import logging
import socket
import ssl
import time
from dataclasses import dataclass
from importlib import metadata
from types import TracebackType
from typing import Self
from urllib.parse import urlsplit

import httpx

from aftercare.messaging.channels.base import Delivery, Outcome, Outgoing
from aftercare.messaging.channels.config import WebhookConfig

logger = logging.getLogger(__name__)

_ANSWER_BYTES = 2048  # of the receiver's response body, kept in the attempt's answer
_RESERVED = frozenset(
    {"host", "content-type", "content-length", "user-agent", "accept-encoding"}
    | {"x-aftercare-signature", "x-aftercare-delivery", "transfer-encoding", "connection"}
)
_UNSAFE_HEADER = frozenset("\r\n\x00")


def _user_agent() -> str:
    try:
        version = metadata.version("aftercare")
    except metadata.PackageNotFoundError:  # pragma: no cover - running from a bare checkout
        version = "0"
    return f"Aftercare/{version} (+webhooks)"


USER_AGENT = _user_agent()


def signature(*, secret: str, body: bytes, timestamp: int) -> str:
    """The X-Aftercare-Signature value for `body` sent at `timestamp`."""
    mac = hmac.new(secret.encode(), str(timestamp).encode() + b"." + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


@dataclass(frozen=True, slots=True)
class _Target:
    scheme: str
    host: str  # as typed (lower-case), for Host and SNI
    port: int
    address: str  # the checked IP we connect to
    path: str  # path and query

    @property
    def pinned_url(self) -> str:
        ip = f"[{self.address}]" if ":" in self.address else self.address
        return f"{self.scheme}://{ip}:{self.port}{self.path}"

    @property
    def host_header(self) -> str:
        default = 443 if self.scheme == "https" else 80
        host = f"[{self.host}]" if ":" in self.host else self.host
        return host if self.port == default else f"{host}:{self.port}"


class _Refusal(Exception):
    def __init__(self, delivery: Delivery) -> None:
        super().__init__(delivery.answer)
        self.delivery = delivery


class WebhookChannel:
    def __init__(self, config: WebhookConfig, *, verify: ssl.SSLContext | bool = True) -> None:
        self._config = config
        self._verify = verify
        # One client per origin: a pooled TLS connection must never serve another host name
        # that happens to share the address (its certificate was checked for the first one).
        self._clients: dict[tuple[str, str, int, str], httpx.Client] = {}

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        clients, self._clients = self._clients, {}
        for client in clients.values():
            client.close()

    def send(self, item: Outgoing) -> Delivery:
        try:
            target = self._target(item.recipient)
            headers = _headers(item)
        except _Refusal as refusal:
            return refusal.delivery
        body = item.body_text.encode("utf-8")
        headers["Host"] = target.host_header
        if item.secret:
            headers["X-Aftercare-Signature"] = signature(
                secret=item.secret, body=body, timestamp=int(time.time())
            )
        client = self._client(target)
        try:
            with client.stream(
                "POST",
                target.pinned_url,
                content=body,
                headers=headers,
                extensions={"sni_hostname": target.host},
            ) as response:
                excerpt = _read_some(response)
        except httpx.TimeoutException as exc:
            return Delivery(Outcome.TEMPORARY, f"timed out: {type(exc).__name__}")
        except httpx.TransportError as exc:
            return Delivery(Outcome.TEMPORARY, f"connection failed: {type(exc).__name__}: {exc}")
        return classify(response.status_code, excerpt, location=response.headers.get("location"))

    def _target(self, url: str) -> _Target:
        parts = urlsplit(url.strip())
        scheme = parts.scheme.lower()
        if scheme not in {"http", "https"} or not parts.hostname:
            raise _permanent(f"not sent: {url!r} is not an http(s) URL")
        if parts.username is not None or parts.password is not None:
            raise _permanent("not sent: the URL has credentials in it; use a header instead")
        try:
            port = parts.port or (443 if scheme == "https" else 80)
        except ValueError:
            raise _permanent("not sent: the URL has an invalid port") from None
        host = parts.hostname  # lower-cased, brackets of an IPv6 literal removed
        try:
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except socket.gaierror as exc:
            if exc.errno in (socket.EAI_NONAME, getattr(socket, "EAI_NODATA", -5)):
                raise _permanent(f"not sent: the host {host} does not exist") from None
            raise _Refusal(
                Delivery(Outcome.TEMPORARY, f"could not resolve {host}: {exc.strerror}")
            ) from None
        addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
        if not self._config.allow_private:
            for address in addresses:
                why = non_public_reason(address)
                if why:
                    raise _permanent(
                        f"not sent: {host} resolves to {address}, a {why} address; outgoing"
                        " webhooks only go to public addresses"
                        " (AFTERCARE_WEBHOOKS_ALLOW_PRIVATE=1 allows private ones)"
                    )
        path = parts.path or "/"
        if parts.query:
            path += "?" + parts.query
        return _Target(scheme=scheme, host=host, port=port, address=addresses[0], path=path)

    def _client(self, target: _Target) -> httpx.Client:
        key = (target.scheme, target.host, target.port, target.address)
        client = self._clients.get(key)
        if client is None:
            client = self._clients[key] = httpx.Client(
                timeout=httpx.Timeout(self._config.timeout),
                follow_redirects=False,
                trust_env=False,  # no proxies or .netrc credentials from the environment
                verify=self._verify,
            )
        return client


def non_public_reason(address: str) -> str:
    """Why `address` is not a public unicast address ("" when it is)."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    checks = (
        (ip.is_loopback, "loopback"),
        (ip.is_link_local, "link-local"),
        (ip.is_multicast, "multicast"),
        (ip.is_unspecified, "unspecified"),
        (ip.is_private, "private"),
        (ip.is_reserved, "reserved"),
        (not ip.is_global, "non-global"),
    )
    return next((name for hit, name in checks if hit), "")


def classify(status: int, excerpt: str, *, location: str | None = None) -> Delivery:
    answer = f"HTTP {status}" + (f": {excerpt}" if excerpt else "")
    if 200 <= status < 300:
        return Delivery(Outcome.SENT, answer)
    if 300 <= status < 400:
        return Delivery(Outcome.PERMANENT, f"HTTP {status}: redirect to {location} not followed")
    if status in (408, 429) or status >= 500:
        return Delivery(Outcome.TEMPORARY, answer)
    return Delivery(Outcome.PERMANENT, answer)


def _headers(item: Outgoing) -> dict[str, str]:
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "Accept-Encoding": "identity",  # the answer excerpt is read raw, never decompressed
        "X-Aftercare-Delivery": str(item.message_id),
    }
    for name, value in item.headers.items():
        if name.lower() in _RESERVED:
            raise _permanent(f"not sent: the {name} header is set by the channel")
        if _UNSAFE_HEADER & set(name + value):
            raise _permanent(f"not sent: the {name} header contains a line break")
        headers[name] = value
    return headers


def _read_some(response: httpx.Response) -> str:
    """The start of the response body: enough for the attempt row, bounded whatever comes."""
    chunks: list[bytes] = []
    size = 0
    for chunk in response.iter_raw():
        chunks.append(chunk)
        size += len(chunk)
        if size >= _ANSWER_BYTES:
            break
    text = b"".join(chunks)[:_ANSWER_BYTES].decode("utf-8", "replace")
    return " ".join(text.split())[:500]


def _permanent(answer: str) -> _Refusal:
    return _Refusal(Delivery(Outcome.PERMANENT, answer))
