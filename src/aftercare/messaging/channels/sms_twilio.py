"""SMS through Twilio's Programmable Messaging REST API.

    with TwilioChannel(config.twilio_config()) as channel:
        channel.send(Outgoing(message_id=9, channel="sms", recipient="+821012345678",
                              body_text="…"))
        # Delivery(SENT, "HTTP 201 queued SM…", provider_id="SM…")

One request per message, `POST {api_base}/2010-04-01/Accounts/{sid}/Messages.json`, form
encoded (`To`, `Body`, and `From` or `MessagingServiceSid`), HTTP basic auth with the account
SID and auth token, over one keep-alive httpx client per `with` block. The sender is the item's
`sender` when set (a number, or an `MG…` Messaging Service) else the configured one.
`api_base` is configurable so tests talk to tests/messaging/twilio_server.py.

Outcome, from the HTTP status and Twilio's error `code`
(https://www.twilio.com/docs/api/errors):
- 201 → SENT, provider_id = the message SID (Twilio queued it; delivery receipts are later work);
- 429 (20429), 5xx, timeouts, connection errors → TEMPORARY;
- 401 (20003, wrong SID or token) → TEMPORARY: our configuration, fixing it drains the queue;
- 400 with an error about the destination number — 21211 invalid, 21217/21401 not a valid
  number, 21407/21614 cannot receive SMS, 21612 unreachable, 21610 replied STOP — → PERMANENT
  with `bad_address`, so the number is suppressed;
- any other 4xx → PERMANENT (e.g. 21408 region not enabled, 21617 body too long).
"""

from __future__ import annotations

from types import TracebackType
from typing import Any, Self

import httpx

from aftercare.messaging.channels.base import Delivery, Outcome, Outgoing
from aftercare.messaging.channels.config import TwilioConfig

BAD_NUMBER_CODES = frozenset({21211, 21217, 21401, 21407, 21610, 21612, 21614})
USER_AGENT = "Aftercare (+sms)"


class TwilioChannel:
    def __init__(self, config: TwilioConfig) -> None:
        self._config = config
        self._client: httpx.Client | None = None
        self._path = f"/2010-04-01/Accounts/{config.account_sid}/Messages.json"

    def __enter__(self) -> Self:
        config = self._config
        self._client = httpx.Client(
            base_url=config.api_base,
            auth=(config.account_sid, config.auth_token),
            timeout=httpx.Timeout(config.timeout, connect=min(config.timeout, 5.0)),
            headers={"User-Agent": USER_AGENT, "Accept": "application/json"},
            follow_redirects=False,
            trust_env=False,  # no proxies or .netrc credentials picked up from the environment
        )
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        client, self._client = self._client, None
        if client is not None:
            client.close()

    def send(self, item: Outgoing) -> Delivery:
        assert self._client is not None, "use the channel in a with block"
        form = {"To": item.recipient.strip(), "Body": item.body_text}
        sender = item.sender.strip() or self._config.messaging_service_sid
        sender = sender or self._config.from_number
        if sender.startswith("MG"):
            form["MessagingServiceSid"] = sender
        else:
            form["From"] = sender
        try:
            response = self._client.post(self._path, data=form)
        except httpx.TimeoutException as exc:
            return Delivery(Outcome.TEMPORARY, f"Twilio timed out: {type(exc).__name__}")
        except httpx.TransportError as exc:
            return Delivery(Outcome.TEMPORARY, f"Twilio unreachable: {type(exc).__name__}: {exc}")
        return classify(response.status_code, _json(response), text=response.text)


def classify(status: int, payload: dict[str, Any], *, text: str = "") -> Delivery:
    if status in (200, 201):
        sid = str(payload.get("sid", ""))
        state = payload.get("status", "")
        if not sid:
            return Delivery(Outcome.TEMPORARY, f"HTTP {status} without a message SID: {text[:200]}")
        return Delivery(Outcome.SENT, f"HTTP {status} {state} {sid}".replace("  ", " "), sid)
    code = payload.get("code")
    message = payload.get("message") or " ".join(text.split())[:200]
    answer = f"HTTP {status}" + (f" Twilio error {code}" if code else "") + f": {message}"
    if status in (401, 429) or status >= 500:
        return Delivery(Outcome.TEMPORARY, answer)
    if 400 <= status < 500:
        return Delivery(Outcome.PERMANENT, answer, bad_address=code in BAD_NUMBER_CODES)
    return Delivery(Outcome.TEMPORARY, answer)  # 1xx/3xx: not an answer Twilio gives


def _json(response: httpx.Response) -> dict[str, Any]:
    try:
        payload = response.json()
    except ValueError:  # an HTML error page from a proxy, an empty body…
        return {}
    return payload if isinstance(payload, dict) else {}
