"""A real SMTP server (aiosmtpd) on loopback that misbehaves on request, for the SMTP channel.

    with FaultySmtpServer(tls="starttls", login=("user", "secret")) as server:
        server.rcpt_replies["gone@example.com"] = "550 5.1.1 <gone@example.com>: User unknown"
        server.data_replies["full@example.com"] = "452 4.2.2 Mailbox full"
        server.drop_at_rcpt.add("crash@example.com")    # close the connection at RCPT TO
        server.stall_data["slow@example.com"] = 3.0     # answer DATA after 3 s
        server.idle_limit = 2      # the 3rd MAIL FROM on a connection finds it dropped …
        server.idle_reply = None   # … silently (None) or with "421 4.4.2 Timeout" first
        channel = SmtpChannel(parse_email_url(server.url), default_sender="…",
                              ssl_context=server.client_context)
        server.received            # [Received(mail_from, rcpt_tos, content, message, peer)]

Each mail is a separate connection's `peer` (host, port): `server.connections()` counts how
many connections delivered mail. TLS uses a throw-away self-signed certificate for 127.0.0.1
and localhost (`tls_files()`); `client_context` trusts exactly it.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import email
import email.policy
import ipaddress
import socket
import ssl
import tempfile
import threading
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any, Literal

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    content: bytes  # as the server got it, dot-unstuffed
    message: EmailMessage
    peer: tuple[str, int]
    mail_options: list[str]


def tls_files(directory: Path) -> tuple[Path, Path]:
    """A self-signed certificate (its own CA) for 127.0.0.1 and localhost, and its key."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = dt.datetime.now(dt.UTC)
    names = [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


@dataclass
class FaultySmtpServer:
    tls: Literal["none", "starttls", "implicit"] = "none"
    login: tuple[str, str] | None = None
    eight_bit: bool = True  # announce 8BITMIME
    smtputf8: bool = True  # announce SMTPUTF8
    rcpt_replies: dict[str, str] = field(default_factory=dict)
    mail_replies: dict[str, str] = field(default_factory=dict)
    data_replies: dict[str, str] = field(default_factory=dict)
    drop_at_rcpt: set[str] = field(default_factory=set)
    stall_data: dict[str, float] = field(default_factory=dict)
    idle_limit: int | None = None  # mails per connection before it is "idle-timed-out"
    idle_reply: str | None = None  # what the server says then (None: just closes)
    received: list[Received] = field(default_factory=list)
    port: int = 0
    cert_file: Path | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _mails_per_peer: dict[tuple[str, int], int] = field(default_factory=dict)
    _controller: Controller | None = None
    _tmp: tempfile.TemporaryDirectory[str] | None = None

    # -- lifecycle -------------------------------------------------------------------------------

    def __enter__(self) -> FaultySmtpServer:
        with socket.socket() as probe:  # a free port (aiosmtpd's start() cannot use port 0)
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        kwargs: dict[str, Any] = {}
        if self.tls != "none":
            self._tmp = tempfile.TemporaryDirectory()
            cert, key = tls_files(Path(self._tmp.name))
            self.cert_file = cert
            server_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            server_context.load_cert_chain(cert, key)
            if self.tls == "starttls":
                kwargs.update(tls_context=server_context, require_starttls=True)
            else:
                kwargs.update(ssl_context=server_context)
        if self.login is not None:
            kwargs.update(authenticator=self._authenticate, auth_require_tls=self.tls != "none")
        handler = _Handler(self)
        self._controller = Controller(
            handler,
            hostname="127.0.0.1",
            port=self.port,
            enable_SMTPUTF8=self.smtputf8,
            **kwargs,
        )
        self._controller.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._controller is not None:
            self._controller.stop()
        if self._tmp is not None:
            self._tmp.cleanup()

    # -- for tests -------------------------------------------------------------------------------

    @property
    def url(self) -> str:
        scheme = "smtps" if self.tls == "implicit" else "smtp"
        credentials = f"{self.login[0]}:{self.login[1]}@" if self.login else ""
        query = "?starttls=1" if self.tls == "starttls" else ""
        return f"{scheme}://{credentials}127.0.0.1:{self.port}{query}"

    @property
    def client_context(self) -> ssl.SSLContext | None:
        if self.cert_file is None:
            return None
        return ssl.create_default_context(cafile=str(self.cert_file))

    def connections(self) -> int:
        with self._lock:
            return len({mail.peer for mail in self.received})

    def by_recipient(self, address: str) -> list[Received]:
        with self._lock:
            return [mail for mail in self.received if address in mail.rcpt_tos]

    def _authenticate(
        self, server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any
    ) -> AuthResult:
        ok = (
            self.login is not None
            and isinstance(auth_data, LoginPassword)
            and auth_data.login.decode() == self.login[0]
            and auth_data.password.decode() == self.login[1]
        )
        return AuthResult(success=ok, handled=False)


class _Handler:
    def __init__(self, server: FaultySmtpServer) -> None:
        self.server = server

    async def handle_EHLO(  # noqa: N802 - aiosmtpd's hook names
        self, smtp: Any, session: Any, envelope: Any, hostname: str, responses: list[str]
    ) -> list[str]:
        session.host_name = hostname
        if self.server.eight_bit:
            return responses
        return [line for line in responses if "8BITMIME" not in line]

    async def handle_MAIL(  # noqa: N802
        self, smtp: Any, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        state = self.server
        peer = tuple(session.peer)
        with state._lock:
            count = state._mails_per_peer.get(peer, 0)
            state._mails_per_peer[peer] = count + 1
        if state.idle_limit is not None and count >= state.idle_limit:
            if state.idle_reply is None:
                smtp.transport.close()
                return "421 closed"  # never reaches the client: the transport is gone
            smtp.loop.call_soon(smtp.transport.close)
            return state.idle_reply
        if address in state.mail_replies:
            return state.mail_replies[address]
        envelope.mail_from = address
        envelope.mail_options.extend(options)
        return "250 OK"

    async def handle_RCPT(  # noqa: N802
        self, smtp: Any, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        state = self.server
        if address in state.drop_at_rcpt:
            smtp.transport.close()
            return "421 closed"
        if address in state.rcpt_replies:
            return state.rcpt_replies[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, smtp: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        state = self.server
        first = envelope.rcpt_tos[0]
        if first in state.stall_data:
            await asyncio.sleep(state.stall_data[first])
        if first in state.data_replies:
            return state.data_replies[first]
        content = bytes(envelope.content)
        message = email.message_from_bytes(content, policy=email.policy.default)
        with state._lock:
            state.received.append(
                Received(
                    mail_from=envelope.mail_from,
                    rcpt_tos=list(envelope.rcpt_tos),
                    content=content,
                    message=message,
                    peer=tuple(session.peer),
                    mail_options=list(envelope.mail_options),
                )
            )
            number = len(state.received)
        return f"250 2.0.0 Ok: queued as Q{number}"
