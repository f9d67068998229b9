"""A real HTTP server on 127.0.0.1 speaking the part of Twilio's Messages API we use.

    with TwilioServer() as twilio:
        settings.TWILIO_API_BASE = twilio.url
        settings.TWILIO_ACCOUNT_SID, settings.TWILIO_AUTH_TOKEN = twilio.account_sid, twilio.token
        twilio.stopped.add("+15005550009")             # replied STOP: 400, code 21610
        twilio.inject(status=429, code=20429, count=1)  # the next request(s) answer this
        twilio.inject(hang=2.0, count=1)                # … or answer only after 2 s
        twilio.messages                                 # what was accepted (form fields + sid)

`POST /2010-04-01/Accounts/{AccountSid}/Messages.json`, form-encoded, HTTP basic auth with the
account SID and auth token, answering like Twilio (https://www.twilio.com/docs/messaging/api/
message-resource): 201 with the message resource (`sid` "SM…", `status` "queued", or
"accepted" with a Messaging Service), or an error `{"code", "message", "more_info", "status"}`:
401/20003 bad credentials, 404/20404 another account, 400/21211 a `To` that is not E.164,
21602 no body, 21603 no sender, 21617 a body over 1,600 characters, 21610 a stopped number,
21614 a landline (`landlines`).
"""

from __future__ import annotations

import base64
import json
import re
import secrets
import threading
import time
from dataclasses import dataclass, field
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl

E164 = re.compile(r"\+[1-9][0-9]{6,14}")
_PATH = re.compile(r"/2010-04-01/Accounts/([A-Za-z0-9]+)/Messages\.json")


@dataclass
class Injected:
    status: int = 0
    code: int | None = None
    hang: float = 0.0
    count: int = 1


@dataclass
class TwilioServer:
    account_sid: str = "AC" + "0123456789abcdef" * 2
    token: str = "test-auth-token"
    stopped: set[str] = field(default_factory=set)
    landlines: set[str] = field(default_factory=set)
    messages: list[dict[str, str]] = field(default_factory=list)
    requests: int = 0
    _faults: list[Injected] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _httpd: ThreadingHTTPServer | None = None

    def __enter__(self) -> TwilioServer:
        server = self

        class Handler(_Handler):
            twilio = server

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        threading.Thread(target=self._httpd.serve_forever, args=(0.05,), daemon=True).start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()

    @property
    def url(self) -> str:
        assert self._httpd is not None
        return f"http://127.0.0.1:{self._httpd.server_address[1]}"

    def inject(
        self, *, status: int = 0, code: int | None = None, hang: float = 0.0, count: int = 1
    ) -> None:
        with self._lock:
            self._faults.append(Injected(status=status, code=code, hang=hang, count=count))

    def _next_fault(self) -> Injected | None:
        with self._lock:
            if not self._faults:
                return None
            fault = self._faults[0]
            fault.count -= 1
            if fault.count <= 0:
                self._faults.pop(0)
            return fault


def error(status: int, code: int, message: str) -> dict[str, Any]:
    return {
        "code": code,
        "message": message,
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status,
    }


class _Handler(BaseHTTPRequestHandler):
    twilio: TwilioServer
    protocol_version = "HTTP/1.1"  # keep-alive, like Twilio

    def log_message(self, format: str, *args: Any) -> None:
        return None

    def do_POST(self) -> None:
        twilio = self.twilio
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length)
        with twilio._lock:
            twilio.requests += 1
        fault = twilio._next_fault()
        if fault is not None:
            if fault.hang:
                time.sleep(fault.hang)
            if fault.status:
                self._answer(fault.status, error(fault.status, fault.code or 0, "Injected"))
                return
        match = _PATH.fullmatch(self.path)
        if not match:
            self._answer(404, error(404, 20404, "The requested resource was not found"))
            return
        if not self._authorised():
            self._answer(401, error(401, 20003, "Authenticate"))
            return
        if match.group(1) != twilio.account_sid:
            self._answer(404, error(404, 20404, "The requested resource was not found"))
            return
        form = dict(parse_qsl(raw.decode("utf-8"), keep_blank_values=True))
        status, payload = self._create(form)
        self._answer(status, payload)

    def _authorised(self) -> bool:
        header = self.headers.get("Authorization", "")
        if not header.startswith("Basic "):
            return False
        decoded = base64.b64decode(header[6:]).decode("utf-8")
        return decoded == f"{self.twilio.account_sid}:{self.twilio.token}"

    def _create(self, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
        twilio = self.twilio
        to, body = form.get("To", ""), form.get("Body", "")
        sender, service = form.get("From", ""), form.get("MessagingServiceSid", "")
        refusals = [
            (not to, 21604, "A 'To' phone number is required."),
            (not E164.fullmatch(to), 21211, f"Invalid 'To' Phone Number: {to}"),
            (not (sender or service), 21603, "A 'From' or 'MessagingServiceSid' is required."),
            (not body, 21602, "Message body is required."),
            (len(body) > 1600, 21617, "The concatenated message body exceeds 1600 characters."),
            (to in twilio.stopped, 21610, "Attempt to send to unsubscribed recipient"),
            (to in twilio.landlines, 21614, f"'To' number {to} is not a valid mobile number"),
        ]
        for refused, code, message in refusals:
            if refused:
                return 400, error(400, code, message)
        sid = "SM" + secrets.token_hex(16)
        with twilio._lock:
            twilio.messages.append({**form, "sid": sid})
        segments = 1 if len(body) <= 160 else -(-len(body) // 153)
        return 201, {
            "account_sid": twilio.account_sid,
            "api_version": "2010-04-01",
            "body": body,
            "date_created": formatdate(usegmt=True),
            "date_sent": None,
            "date_updated": formatdate(usegmt=True),
            "direction": "outbound-api",
            "error_code": None,
            "error_message": None,
            "from": sender or None,
            "messaging_service_sid": service or None,
            "num_media": "0",
            "num_segments": str(segments),
            "price": None,
            "price_unit": "USD",
            "sid": sid,
            "status": "accepted" if service else "queued",
            "subresource_uris": {
                "media": f"/2010-04-01/Accounts/{twilio.account_sid}/Messages/{sid}/Media.json"
            },
            "to": to,
            "uri": f"/2010-04-01/Accounts/{twilio.account_sid}/Messages/{sid}.json",
        }

    def _answer(self, status: int, payload: dict[str, Any]) -> None:
        data = json.dumps(payload).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):  # the client gave up (timeout test)
            pass
