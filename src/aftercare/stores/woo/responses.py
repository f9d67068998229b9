"""Reading what a shop answered: JSON bodies, pagination headers, Retry-After.

items = responses.decode_json(response)
total = responses.int_header(response, "X-WP-Total")
delay = responses.retry_after(response)        # seconds, or None
"""

from __future__ import annotations

import email.utils
import json
import logging
from datetime import UTC, datetime
from typing import Any

import httpx

logger = logging.getLogger(__name__)

NOT_JSON = object()  # the address answered 200, but not with the REST index JSON


def decode_json(response: httpx.Response) -> Any:
    """JSON, tolerating PHP notices printed before it (common with display_errors on)."""
    text = response.text
    try:
        return json.loads(text)
    except ValueError:
        starts = [i for i in (text.find("\n{"), text.find("\n[")) if i >= 0]
        if not starts or "<html" in text[: min(starts)].lower():
            raise
        logger.warning("the shop printed text (PHP notices?) before its JSON; ignoring it")
        return json.loads(text[min(starts) + 1 :])


def query_param(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple | set | frozenset):
        return ",".join(str(v) for v in value)
    return str(value)


def int_header(response: httpx.Response, name: str) -> int | None:
    value = response.headers.get(name)
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def retry_after(response: httpx.Response) -> float | None:
    """Retry-After in seconds: either a number or an HTTP date (RFC 9110 §10.2.3)."""
    value = response.headers.get("Retry-After")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    seconds: float = (when - datetime.now(UTC)).total_seconds()
    return max(0.0, seconds)


def rest_index(response: httpx.Response) -> Any:
    """The REST index (/wp-json/) as a dict; None if the status was not 200; NOT_JSON if the
    body is a web page or JSON without `namespaces`."""
    if response.status_code != 200:
        return None
    try:
        body = decode_json(response)
    except ValueError:
        return NOT_JSON
    return body if isinstance(body, dict) and "namespaces" in body else NOT_JSON
