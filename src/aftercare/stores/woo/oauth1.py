"""OAuth 1.0a one-legged request signing, as WooCommerce checks it on plain-HTTP requests.

    query = oauth1.sign(method="GET", url="http://shop.example/wp-json/wc/v3/orders",
                        query={"per_page": "100"}, consumer_key=ck, consumer_secret=cs)
    httpx.get("http://shop.example/wp-json/wc/v3/orders", params=query)

Why: WooCommerce only looks at HTTP Basic credentials when WordPress believes the request came
over TLS (`is_ssl()`); over http it ignores them and answers 401 `woocommerce_rest_cannot_view`
(SPEC §5, seen live). Over http it accepts OAuth 1.0a parameters in the query string instead, so
the secret itself never travels; only an HMAC of the request does.

The algorithm follows `WC_REST_Authentication::check_oauth_signature()`: every query parameter
(ours and the oauth_* ones except the signature) sorted by name, each `name=value` RFC 3986
encoded and joined with `&`, then `METHOD&enc(url)&enc(params)`, keyed with `consumer_secret&`
(no token secret). JSON request bodies are not part of the signature.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from collections.abc import Mapping
from urllib.parse import quote

SIGNATURE_METHOD = "HMAC-SHA256"


def _encode(value: str) -> str:
    # rawurlencode() with '~' left alone, which is what wc_rest_urlencode_rfc3986() produces.
    return quote(value, safe="-._~")


def base_string(*, method: str, url: str, params: Mapping[str, str]) -> str:
    """The signature base string for `params` (which must not include oauth_signature)."""
    # WooCommerce sorts by the raw parameter name (uksort strcmp) before encoding.
    pairs = [f"{_encode(name)}={_encode(params[name])}" for name in sorted(params)]
    return "&".join([method.upper(), _encode(url), _encode("&".join(pairs))])


def signature(*, method: str, url: str, params: Mapping[str, str], consumer_secret: str) -> str:
    digest = hmac.new(
        (consumer_secret + "&").encode(),
        base_string(method=method, url=url, params=params).encode(),
        hashlib.sha256,
    ).digest()
    return base64.b64encode(digest).decode()


def sign(
    *,
    method: str,
    url: str,
    query: Mapping[str, str],
    consumer_key: str,
    consumer_secret: str,
    timestamp: int | None = None,
    nonce: str | None = None,
) -> dict[str, str]:
    """`query` plus the oauth_* parameters that authenticate it.

    `url` is the request URL without its query string, exactly as WooCommerce rebuilds it from
    the site's home URL (see `WooClient` for how that is derived). A fresh nonce per call: the
    shop refuses a nonce it has seen in the last 15 minutes, so a retried request is re-signed."""
    params = {name: str(value) for name, value in query.items()}
    params.update(
        oauth_consumer_key=consumer_key,
        oauth_timestamp=str(int(time.time()) if timestamp is None else timestamp),
        oauth_nonce=nonce or secrets.token_hex(16),
        oauth_signature_method=SIGNATURE_METHOD,
    )
    params["oauth_signature"] = signature(
        method=method, url=url, params=params, consumer_secret=consumer_secret
    )
    return params
