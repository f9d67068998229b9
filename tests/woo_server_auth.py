"""How `tests.woo_server.WooServer` decides who is calling, ported from WooCommerce 10's
`WC_REST_Authentication` (not from our client, so the client's signing is tested against an
independent implementation): Basic or ck/cs query parameters only when the request came over
TLS; otherwise OAuth 1.0a query/header parameters with the signature rebuilt from the site's home
URL, a ±15 minute timestamp window and no nonce reuse.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import hmac
import ipaddress
import re
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, unquote

if TYPE_CHECKING:
    from tests.woo_server import Request, WooServer

OAUTH_PARAMS = (
    "oauth_consumer_key",
    "oauth_timestamp",
    "oauth_nonce",
    "oauth_signature",
    "oauth_signature_method",
)
WINDOW = 15 * 60
AUTH_ERROR = "woocommerce_rest_authentication_error"


def error_body(code: str, message: str, status: int, **data: Any) -> dict[str, Any]:
    """WordPress's REST error envelope, as in the captures (rest_local_run1/*_101.json)."""
    return {"code": code, "message": message, "data": {"status": status, **data}}


def now_stamp() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S")


def rfc3986(value: str) -> str:
    """wc_rest_urlencode_rfc3986(): rawurlencode() with '~' kept."""
    return quote(value, safe="-._~")


def authenticate(shop: WooServer, request: Request) -> tuple[str, dict[str, Any] | None]:
    """("basic" | "oauth1" | "", error body or None), like WC_REST_Authentication::authenticate."""
    error: dict[str, Any] | None = None
    if shop.tls:
        ok, error = _basic(shop, request)
        if ok:
            return "basic", None
    params = _oauth_params(request)
    if not params:
        return "", error
    if isinstance(params, str):
        return "", error_body("woocommerce_rest_authentication_missing_parameter", params, 401)
    problem = _check_oauth(shop, request, params)
    if problem:
        return "", error_body(AUTH_ERROR, problem, 401)
    return "oauth1", None


def permission_error(permissions: str, method: str) -> dict[str, Any] | None:
    if method == "GET" and permissions not in {"read", "read_write"}:
        return error_body(AUTH_ERROR, "The API key provided does not have read permissions.", 401)
    if method in {"POST", "PUT", "PATCH", "DELETE"} and permissions not in {"write", "read_write"}:
        return error_body(AUTH_ERROR, "The API key provided does not have write permissions.", 401)
    return None


def anonymous_error(method: str, *, collection: bool) -> dict[str, Any]:
    """What a WooCommerce endpoint's permission callback answers to nobody."""
    if method == "POST":
        return error_body(
            "woocommerce_rest_cannot_create", "Sorry, you are not allowed to create resources.", 401
        )
    if method in {"PUT", "PATCH"}:
        return error_body(
            "woocommerce_rest_cannot_edit", "Sorry, you are not allowed to edit this resource.", 401
        )
    if method == "DELETE":
        return error_body(
            "woocommerce_rest_cannot_delete",
            "Sorry, you are not allowed to delete this resource.",
            401,
        )
    message = (
        "Sorry, you cannot list resources."
        if collection
        else "Sorry, you cannot view this resource."
    )
    return error_body("woocommerce_rest_cannot_view", message, 401)


def _basic(shop: WooServer, request: Request) -> tuple[bool, dict[str, Any] | None]:
    key = request.query.get("consumer_key", "")
    secret = request.query.get("consumer_secret", "")
    if not (key and secret):
        key = secret = ""
        header = request.handler.headers.get("Authorization", "")
        if header.startswith("Basic "):
            try:
                key, _, secret = base64.b64decode(header[6:]).decode().partition(":")
            except (binascii.Error, UnicodeDecodeError):
                key = secret = ""
    if not key or not secret or key != shop.consumer_key:
        return False, None  # unknown key: WooCommerce just moves on to OAuth
    if not hmac.compare_digest(secret, shop.consumer_secret):
        return False, error_body(AUTH_ERROR, "Consumer secret is invalid.", 401)
    return True, None


def _oauth_params(request: Request) -> dict[str, str] | str | None:
    params = {**request.query, **request.form}
    header = request.handler.headers.get("Authorization", "").strip()
    if header.startswith("OAuth "):
        for name, quoted, bare in re.findall(r'(oauth_[a-z_-]*)=(?:"([^"]*)"|([^,]*))', header):
            params[name] = unquote(quoted or bare)
    missing = [name for name in OAUTH_PARAMS if not params.get(name)]
    if len(missing) == len(OAUTH_PARAMS):
        return None
    if missing:
        noun = "parameter" if len(missing) == 1 else "parameters"
        return f"Missing OAuth {noun} {', '.join(missing)}"
    return params


def _check_oauth(shop: WooServer, request: Request, params: dict[str, str]) -> str | None:  # noqa: PLR0911
    if params["oauth_consumer_key"] != shop.consumer_key:
        return "Consumer key is invalid."
    # get_home_url(null, $request_path, is_ssl() ? 'https' : 'http') after stripping the home path.
    path = request.path
    wp_base = shop.base_path + "/"
    if path.startswith(wp_base):
        path = path[len(wp_base) :]
    home = shop.home
    base_request_uri = rfc3986(home + ("/" + path.lstrip("/") if path else ""))
    consumer_signature = unquote(params.pop("oauth_signature").replace(" ", "+"))
    ordered = {rfc3986(k): rfc3986(params[k]) for k in sorted(params)}
    query_string = "%26".join(rfc3986(f"{k}={v}") for k, v in ordered.items())
    string_to_sign = f"{request.method}&{base_request_uri}&{query_string}"
    method = params["oauth_signature_method"]
    if method not in {"HMAC-SHA1", "HMAC-SHA256"}:
        return "Invalid signature - signature method is invalid."
    algorithm = hashlib.sha1 if method == "HMAC-SHA1" else hashlib.sha256
    key = (shop.consumer_secret + "&").encode()
    expected = base64.b64encode(hmac.new(key, string_to_sign.encode(), algorithm).digest()).decode()
    if not hmac.compare_digest(expected, consumer_signature):
        return "Invalid signature - provided signature does not match."
    try:
        timestamp = int(params["oauth_timestamp"])
    except ValueError:
        return "Invalid timestamp."
    if abs(timestamp - time.time()) > WINDOW:
        return "Invalid timestamp."
    with shop.lock:
        if params["oauth_nonce"] in shop.nonces:
            return "Invalid nonce - nonce has already been used."
        shop.nonces.add(params["oauth_nonce"])
    return None


def self_signed_cert(directory: Path) -> tuple[Path, Path]:
    """A CA-flagged self-signed certificate for 127.0.0.1 (the test client trusts exactly it)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
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
