"""What went wrong talking to a shop, said so that a shop owner knows what to do next.

Every failure of `WooClient` is a `WooError` (an `ExternalServiceError`, so the API maps it to
502 and jobs know from `retryable` whether trying again can help). Messages name the shop's host
and what to change in WooCommerce; they never contain keys, secrets, signatures or query strings.
"""

from __future__ import annotations

import ssl
from typing import Any

import httpx

from aftercare.core.errors import ExternalServiceError
from aftercare.stores.errors import StoreErrorCode

KEYS_PAGE = "WooCommerce → Settings → Advanced → REST API"


class WooError(ExternalServiceError):
    """A shop could not be reached or refused/failed a request.

    `status` is the HTTP status when the shop answered; `woo_code` WooCommerce's own error code
    (e.g. `woocommerce_rest_authentication_error`) for logs and support."""

    def __init__(
        self,
        message: str,
        *,
        code: StoreErrorCode,
        retryable: bool,
        status: int | None = None,
        woo_code: str = "",
    ) -> None:
        super().__init__(message, code=code, retryable=retryable, status=status, woo_code=woo_code)
        self.status = status
        self.woo_code = woo_code


def unreachable(*, host: str, exc: httpx.TransportError, timeout: float) -> WooError:
    """DNS, refused connection, timeout or TLS: the request never got an HTTP answer."""
    text = str(exc).lower()
    cause: BaseException | None = exc.__cause__ or exc.__context__
    if isinstance(exc, httpx.TimeoutException):
        message = (
            f"The shop at {host} did not answer within {timeout:g} seconds. The site may be down "
            "or very slow; try again later (or raise AFTERCARE_WOO_HTTP_TIMEOUT)."
        )
    elif isinstance(cause, ssl.SSLError) or "ssl" in text or "certificate" in text:
        message = (
            f"Could not open a secure (HTTPS) connection to {host}: {exc}. The site's SSL "
            "certificate may be expired, self-signed or issued for another name. Fix the "
            "certificate, or use the http:// address if the shop has none."
        )
    elif (
        "name or service not known" in text
        or "nodename nor servname" in text
        or ("name resolution" in text or "getaddrinfo" in text or "no address" in text)
    ):
        message = (
            f"Could not find the shop's address {host} (DNS lookup failed). Check the spelling "
            "of the URL."
        )
    elif "refused" in text:
        message = (
            f"Could not connect to {host}: the connection was refused. Check the shop address "
            "(http or https, and the port if there is one) and that the site is online."
        )
    else:
        message = (
            f"Could not reach the shop at {host}: {exc}. Check the address and that the site "
            "is online."
        )
    return WooError(message, code=StoreErrorCode.WOO_UNREACHABLE, retryable=True)


def error_body(response: httpx.Response) -> dict[str, Any]:
    """WordPress's error envelope `{"code", "message", "data": {"status"}}`, or {}."""
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _auth_message(*, woo_message: str, tls: bool) -> tuple[str, StoreErrorCode]:
    lowered = woo_message.lower()
    if "write permission" in lowered:
        return (
            "These REST API keys are read-only, but registering webhooks needs write access. In "
            f"{KEYS_PAGE}, edit the key and set Permissions to Read/Write (or connect without "
            "webhooks).",
            StoreErrorCode.WOO_KEYS_READ_ONLY,
        )
    if "read permission" in lowered:
        return (
            f"These REST API keys cannot read. In {KEYS_PAGE}, set the key's Permissions to "
            "Read/Write.",
            StoreErrorCode.WOO_UNAUTHORIZED,
        )
    if "consumer key is invalid" in lowered:
        return (
            "WooCommerce does not know this consumer key. Copy the key (it starts with ck_) "
            f"again from {KEYS_PAGE}, or create a new key there.",
            StoreErrorCode.WOO_UNAUTHORIZED,
        )
    if "consumer secret is invalid" in lowered or "signature" in lowered:
        return (
            "WooCommerce did not accept the consumer secret for this key. Copy the secret (it "
            "starts with cs_) again; WooCommerce shows it only once, so if it is lost, create a "
            f"new key in {KEYS_PAGE}. Also use the shop address exactly as in WordPress → "
            "Settings → General.",
            StoreErrorCode.WOO_UNAUTHORIZED,
        )
    if "timestamp" in lowered:
        return (
            "WooCommerce refused the request because this server's clock and the shop's differ "
            "by more than 15 minutes. Fix the clock (NTP) on the machine running Aftercare.",
            StoreErrorCode.WOO_UNAUTHORIZED,
        )
    if tls:
        hint = (
            "The web server or a proxy in front of it may drop the Authorization header, or "
            "the site sits behind an HTTPS proxy that WordPress does not know about (WordPress "
            "must see the request as HTTPS, e.g. $_SERVER['HTTPS'] = 'on' when "
            "X-Forwarded-Proto is https)."
        )
    else:
        hint = (
            "Over plain http WooCommerce only accepts signed (OAuth 1.0a) requests and ignores "
            "a username/password; if the site really uses https, connect with its https:// "
            "address."
        )
    return (
        f"WooCommerce did not see valid REST API keys in the request. {hint}",
        StoreErrorCode.WOO_UNAUTHORIZED,
    )


def from_response(response: httpx.Response, *, host: str, tls: bool) -> WooError:
    """A non-2xx answer (after retries) turned into the error the shop owner should see."""
    status = response.status_code
    body = error_body(response)
    woo_code = str(body.get("code", ""))
    woo_message = str(body.get("message", ""))
    if status == 401:
        message, code = _auth_message(woo_message=woo_message, tls=tls)
        return WooError(message, code=code, retryable=False, status=status, woo_code=woo_code)
    if status == 403:
        return WooError(
            f"The shop at {host} refused access (403). The WordPress user who owns these keys "
            "may not manage WooCommerce (use an Administrator or Shop Manager), or a security "
            "plugin or firewall blocks the REST API.",
            code=StoreErrorCode.WOO_UNAUTHORIZED,
            retryable=False,
            status=status,
            woo_code=woo_code,
        )
    if status == 429 or status >= 500:
        return WooError(
            f"The shop at {host} kept failing (HTTP {status}) after several attempts. It may be "
            "overloaded or rate-limiting us; Aftercare will try again later.",
            code=StoreErrorCode.WOO_SERVER_ERROR,
            retryable=True,
            status=status,
            woo_code=woo_code,
        )
    if status == 404 and woo_code == "rest_no_route":
        return WooError(
            f"The shop at {host} does not offer this WooCommerce API route; WooCommerce may be "
            "deactivated or too old (REST API v3 needs WooCommerce 3.5 or newer).",
            code=StoreErrorCode.WOO_NOT_WOOCOMMERCE,
            retryable=False,
            status=status,
            woo_code=woo_code,
        )
    detail = f": {woo_message}" if woo_message else ""
    return WooError(
        f"The shop at {host} rejected a request (HTTP {status}{detail}).",
        code=StoreErrorCode.WOO_BAD_RESPONSE,
        retryable=False,
        status=status,
        woo_code=woo_code,
    )


def not_json(*, host: str, status: int) -> WooError:
    return WooError(
        f"The shop at {host} answered with a web page instead of API data (HTTP {status}). A "
        "security plugin, maintenance mode or a caching proxy may be in the way of /wp-json/.",
        code=StoreErrorCode.WOO_BAD_RESPONSE,
        retryable=True,
        status=status,
    )


def not_wordpress(*, host: str) -> WooError:
    return WooError(
        f"{host} answers, but not as a WordPress site: /wp-json/ returned a web page instead of "
        "the REST API index. Check that the URL is the shop's own address (the one in WordPress "
        "→ Settings → General), not a landing page or a different site.",
        code=StoreErrorCode.WOO_NOT_WOOCOMMERCE,
        retryable=False,
    )


def no_woocommerce(*, host: str) -> WooError:
    return WooError(
        f"{host} is a WordPress site, but its REST API does not offer WooCommerce (no 'wc/v3' "
        "namespace). Is the WooCommerce plugin installed and active (version 3.5 or newer)?",
        code=StoreErrorCode.WOO_NOT_WOOCOMMERCE,
        retryable=False,
    )


def rest_disabled(*, host: str, status: int) -> WooError:
    return WooError(
        f"The WordPress REST API at {host} is not available (/wp-json/ answered HTTP {status}, "
        "and so did ?rest_route=/). Turn on pretty permalinks (WordPress → Settings → "
        "Permalinks: any setting except 'Plain'), and check that no security plugin disables "
        "the REST API or blocks the wc/v3 routes.",
        code=StoreErrorCode.WOO_REST_DISABLED,
        retryable=False,
        status=status,
    )
