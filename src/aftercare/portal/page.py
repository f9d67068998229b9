"""The frame of every customer page: open the signed link, speak the customer's language in
their time zone, render inside `portal/base.html` branded with the store, and send the headers
a page with a credential in its URL needs.

    @portal_page(purpose=PREFERENCES)
    def preferences(request: HttpRequest, link: PortalLink) -> HttpResponse: ...

A token that is not ours answers a neutral 404 page (nothing about any store); an authentic
but expired one answers 410 with the offer of a fresh link by mail, unless the view declares
`expired_ok` (unsubscribing must work however old the mail is)."""

from __future__ import annotations

import functools
import secrets
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import render
from django.utils import timezone, translation
from django.utils.cache import add_never_cache_headers, patch_vary_headers

from aftercare.core.signed_links import InvalidLink
from aftercare.portal import branding, language, masking, selectors
from aftercare.portal.selectors import PortalLink
from aftercare.stores.models import Store

PortalView = Callable[..., HttpResponse]

# No script at all on customer pages; styles only from our file and the one <style> block that
# carries the (validated) brand colours, by nonce; images from anywhere (the store's logo).
# Framing stays forbidden until a page needs embedding (then: that view's own frame-ancestors).
_CSP = (
    "default-src 'none'; style-src 'self' 'nonce-{nonce}'; img-src 'self' https: http: data:; "
    "form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)


def protect(
    request: HttpRequest, response: HttpResponse, *, nonce: str, lang: str | None
) -> HttpResponse:
    """Headers for pages whose URL carries a credential and whose body is personal."""
    response["X-Robots-Tag"] = "noindex, nofollow, noarchive"
    # same-origin: the token never leaks to another host (the logo's), while our own form posts
    # keep an Origin header — with no-referrer Chromium sends "Origin: null" and CSRF refuses it.
    response["Referrer-Policy"] = "same-origin"
    response["X-Frame-Options"] = "DENY"
    response["Content-Security-Policy"] = _CSP.format(nonce=nonce)
    add_never_cache_headers(response)  # private, no-store: no shared cache keeps a customer page
    if lang:
        response["Content-Language"] = lang
        patch_vary_headers(response, ["Accept-Language"])
    return response


def _switcher(request: HttpRequest, *, store: Store, current: str) -> list[dict[str, Any]]:
    options = language.available(store=store)
    if len(options) < 2:
        return []
    return [
        {
            "code": code,
            "name": name,
            "url": f"{request.path}?{urlencode({'lang': code})}",
            "current": code == current,
        }
        for code, name in options
    ]


def _logo(store: Store | None) -> str:
    url = store.logo_url.strip() if store is not None else ""
    return url if url.lower().startswith(("https://", "http://")) else ""


def render_page(
    request: HttpRequest,
    template: str,
    context: dict[str, Any] | None = None,
    *,
    link: PortalLink | None = None,
    status: int = 200,
) -> HttpResponse:
    """Render `template` (which extends portal/base.html) with the chrome: store, palette,
    language switcher, CSP nonce. Call inside the language/time zone of the page."""
    store = link.store if link is not None else None
    lang = translation.get_language() or "en"
    nonce = secrets.token_urlsafe(16)
    chrome = {
        "store": store,
        "palette": branding.palette(store.brand_color if store is not None else None),
        "logo_url": _logo(store),
        "languages": _switcher(request, store=store, current=lang) if store else [],
        "lang": lang,
        "lang_query": f"?{urlencode({'lang': lang})}" if store is not None else "",
        "nonce": nonce,
        "masked_email": masking.mask_email(link.customer.email) if link is not None else "",
        "link": link,
    }
    response = render(request, template, {**chrome, **(context or {})}, status=status)
    return protect(request, response, nonce=nonce, lang=lang)


def invalid_link_response(request: HttpRequest) -> HttpResponse:
    """The neutral "not valid" page: 404, no store, no resend (we do not know whom to ask)."""
    return render_page(request, "portal/invalid_link.html", status=404)


def expired_link_response(request: HttpRequest, *, link: PortalLink) -> HttpResponse:
    return render_page(request, "portal/expired_link.html", link=link, status=410)


def serve(
    request: HttpRequest,
    *,
    purpose: str,
    token: str,
    view: PortalView,
    methods: tuple[str, ...] = ("GET", "HEAD"),
    expired_ok: bool = False,
    **kwargs: Any,
) -> HttpResponse:
    """Open `token` for `purpose` and call `view(request, link, **kwargs)` in the customer's
    language and time zone; the invalid/expired pages otherwise. Other methods answer 405."""
    if request.method not in methods:
        refused = HttpResponseNotAllowed(methods)
        return protect(request, refused, nonce=secrets.token_urlsafe(16), lang=None)
    try:
        link = selectors.open_link(purpose=purpose, token=token)
    except InvalidLink:
        return invalid_link_response(request)
    lang = language.choose(
        store=link.store,
        # The page's switcher, else the language they chose for their messages, else the shop's.
        customer_locale=link.customer.preferred_locale or link.customer.locale,
        requested=request.GET.get("lang"),
    )
    zone = language.time_zone(store=link.store, customer=link.customer)
    with translation.override(lang), timezone.override(zone):
        request.LANGUAGE_CODE = lang
        if link.expired and not expired_ok:
            return expired_link_response(request, link=link)
        response = view(request, link, **kwargs)
    if "Content-Security-Policy" not in response:  # redirects and other bare responses
        protect(request, response, nonce=secrets.token_urlsafe(16), lang=lang)
    return response


def portal_page(
    *, purpose: str, methods: tuple[str, ...] = ("GET", "HEAD"), expired_ok: bool = False
) -> Callable[[PortalView], PortalView]:
    """Decorate a view `(request, link: PortalLink, **url_kwargs)` served at `<token>/…`."""

    def decorate(view: PortalView) -> PortalView:
        @functools.wraps(view)
        def wrapper(request: HttpRequest, token: str, **kwargs: Any) -> HttpResponse:
            return serve(
                request,
                purpose=purpose,
                token=token,
                view=view,
                methods=methods,
                expired_ok=expired_ok,
                **kwargs,
            )

        return wrapper

    return decorate
