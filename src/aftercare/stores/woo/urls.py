"""Shop URLs: what a person typed, what we may log, and what WooCommerce signs.

    base = urls.normalise_url("https://shop.example/wp-admin/")   # "https://shop.example"
    logger.info("GET %s", urls.redact(request_url))               # never the query string
    urls.signing_url("http://shop.example/wp-json/wc/v3/orders", home="http://shop.example")

Importing this module also installs a filter on httpx's logger: httpx logs every request URL at
INFO, and over plain http those URLs carry OAuth signatures.
"""

from __future__ import annotations

import logging

import httpx

from aftercare.core.errors import InvalidInput
from aftercare.stores.errors import StoreErrorCode


def redact(url: httpx.URL | str) -> str:
    """A URL fit for logs: scheme, host and path, never the query (OAuth signatures, keys)
    nor a user:password (staging sites behind HTTP auth)."""
    parsed = httpx.URL(str(url))
    return str(parsed.copy_with(query=None, fragment=None, userinfo=b""))


class _RedactQueryStrings(logging.Filter):
    """httpx logs every request URL at INFO; over http those URLs carry OAuth signatures."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(
                redact(arg) if isinstance(arg, httpx.URL) else arg for arg in record.args
            )
        return True


_httpx_logger = logging.getLogger("httpx")
if not any(isinstance(f, _RedactQueryStrings) for f in _httpx_logger.filters):
    _httpx_logger.addFilter(_RedactQueryStrings())


def normalise_url(url: str) -> str:
    """The shop's base URL as typed by a person: scheme required, trailing slash, query,
    and a pasted /wp-json/… or /wp-admin/… suffix removed."""
    raw = url.strip()
    try:
        parsed = httpx.URL(raw)
    except httpx.InvalidURL:
        parsed = None
    if parsed is None or parsed.scheme not in {"http", "https"} or not parsed.host:
        shown = "That" if "@" in raw else repr(raw)  # never echo a password
        raise InvalidInput(
            f"{shown} is not a shop address; use the full URL, e.g. https://shop.example.com",
            code=StoreErrorCode.WOO_INVALID_URL,
        )
    if parsed.userinfo:
        # It would be stored and logged in the clear; the keys are the only credentials we keep.
        raise InvalidInput(
            "Remove the user name and password from the shop address; Aftercare authenticates "
            "with the REST API keys only (sites behind HTTP authentication are not supported).",
            code=StoreErrorCode.WOO_INVALID_URL,
        )
    path = parsed.path
    for marker in ("/wp-json", "/wp-admin", "/index.php"):
        if marker in path:
            path = path[: path.index(marker)]
    return str(parsed.copy_with(path=path.rstrip("/") or "/", query=None, fragment=None)).rstrip(
        "/"
    )


def signing_url(url: str, *, home: str) -> str:
    """The URL WooCommerce rebuilds to check an OAuth signature: the site's home URL plus the
    request path below the home path, in the scheme of the request
    (`get_home_url(null, $path, is_ssl() ? 'https' : 'http')`). Using WordPress's own home URL
    rather than what the person typed keeps signatures valid when the two differ (www.)."""
    request = httpx.URL(url)
    home_url = httpx.URL(home)
    home_path = home_url.path.rstrip("/") + "/"
    path = request.path
    relative = path[len(home_path) :] if path.startswith(home_path) else path.lstrip("/")
    root = f"{request.scheme}://{home_url.netloc.decode()}{home_url.path.rstrip('/')}"
    return f"{root}/{relative}" if relative else root
