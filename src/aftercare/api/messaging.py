"""API v1: the outbox (messages and their send attempts), one-click unsubscribe, and bounce or
complaint notifications. Parse, make one selector or service call, shape the answer.

    GET  /messages?customer_email=&status=&channel=&flow_id=    newest first, paginated
    GET  /messages/{id}                                         + body_text and every attempt
    POST /bounces {"email": …, "type": "hard"|"complaint", "detail": …}   → the suppression
    POST /unsubscribe/{token}     RFC 8058 one-click target: no API token, no CSRF (see below)
    GET  /unsubscribe/{token}     302 to the portal's confirmation page

The unsubscribe URL is what marketing mail carries in `List-Unsubscribe` with
`List-Unsubscribe-Post: List-Unsubscribe=One-Click`: the mailbox provider POSTs that form body
(or nothing) on the customer's behalf, without cookies, so the route has no authentication of
its own — the signed token in the URL is the credential — and is exempt from CSRF (ninja's
views are; no cookie means nothing to forge). It never asks for confirmation and is idempotent
(providers retry). A GET is a person (or a mail scanner) following the link: it only redirects
to the portal's page, which asks before unsubscribing, so a scanner unsubscribes nobody.

(No `from __future__ import annotations`: django-ninja resolves `Query[...]` at import time.)"""

from datetime import datetime
from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.cache import add_never_cache_headers
from ninja import Query, Router, Schema
from ninja.pagination import LimitOffsetPagination, paginate

from aftercare.api.auth import store_of
from aftercare.core.errors import InvalidInput
from aftercare.messaging import selectors as messaging_selectors
from aftercare.messaging import suppressions, unsubscribe
from aftercare.messaging.models import ChannelKind, Message, SuppressionReason

router = Router()


# -- messages -------------------------------------------------------------------------------


class MessageOut(Schema):
    id: int
    channel: str
    category: str
    recipient: str
    subject: str
    status: str
    reason: str  # why it was not sent, or the last temporary failure
    customer_id: int | None
    flow_id: int | None
    step_id: int | None
    template_key: str
    locale: str
    source: str
    created_at: datetime
    sent_at: datetime | None
    first_opened_at: datetime | None
    first_clicked_at: datetime | None


class AttemptOut(Schema):
    attempted_at: datetime
    outcome: str  # sent | temporary | permanent | suppressed
    answer: str  # what the provider answered ("250 2.0.0 Ok", "HTTP 429 …")
    duration_ms: int


class MessageDetailOut(MessageOut):
    body_text: str
    attempts: list[AttemptOut]


class MessageFilters(Schema):
    customer_email: str | None = None
    customer_id: int | None = None
    status: str | None = None
    channel: str | None = None
    flow_id: int | None = None


@router.get("/messages", response=list[MessageOut], tags=["messages"])
@paginate(LimitOffsetPagination)
def list_messages(request: HttpRequest, filters: Query[MessageFilters]) -> QuerySet[Message]:
    """The outbox, newest first. `customer_email` matches exactly (case-insensitive)."""
    return messaging_selectors.messages(store=store_of(request), **filters.dict())


@router.get("/messages/{message_id}", response=MessageDetailOut, tags=["messages"])
def get_message(request: HttpRequest, message_id: int) -> dict[str, Any]:
    """One message with its text and every send attempt, oldest first (HTML: the dashboard)."""
    message = messaging_selectors.get_message(store=store_of(request), message_id=message_id)
    return {
        **{field: getattr(message, field) for field in MessageOut.model_fields},
        "body_text": message.body_text,
        "attempts": list(messaging_selectors.attempts(message=message)),
    }


# -- bounces and complaints -----------------------------------------------------------------

BOUNCE_TYPES = {"hard": SuppressionReason.HARD_BOUNCE, "complaint": SuppressionReason.COMPLAINT}


class BounceIn(Schema):
    # Optional here so that a missing value is a 400 saying which, like a wrong one.
    email: str = ""
    type: str = ""  # "hard" | "complaint"
    detail: str = ""  # the provider's text (DSN diagnostic, feedback report)


class SuppressionOut(Schema):
    id: int
    channel: str
    address: str
    reason: str  # hard_bounce | complaint | manual
    detail: str
    source: str
    created_at: datetime
    created: bool  # False: the address was already suppressed (it keeps its first reason)


@router.post("/bounces", response=SuppressionOut, tags=["messages"])
def report_bounce(request: HttpRequest, data: BounceIn) -> dict[str, Any]:
    """A hard bounce or a spam complaint about an email address (from your mail provider's
    webhook): the address gets no more mail from this store, transactional included."""
    reason = BOUNCE_TYPES.get(data.type.strip().lower())
    if reason is None:
        raise InvalidInput(
            f"type must be one of {', '.join(BOUNCE_TYPES)} (soft bounces are retried, "
            "not reported)",
            field="type",
        )
    suppression, created = suppressions.suppress(
        store=store_of(request),
        channel=ChannelKind.EMAIL,
        address=data.email,
        reason=reason,
        detail=data.detail,
        source="api",
    )
    return {
        "id": suppression.pk,
        "channel": suppression.channel,
        "address": suppression.address,
        "reason": suppression.reason,
        "detail": suppression.detail,
        "source": suppression.source,
        "created_at": suppression.created_at,
        "created": created,
    }


# -- one-click unsubscribe ------------------------------------------------------------------


class UnsubscribedOut(Schema):
    unsubscribed: bool
    channel: str
    changed: bool  # False: they had already unsubscribed (nothing new recorded)


def _private(response: HttpResponse) -> HttpResponse:
    """The URL carries a credential: no cache keeps the answer, no Referer carries the URL."""
    add_never_cache_headers(response)
    response["Referrer-Policy"] = "no-referrer"
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


@router.post("/unsubscribe/{token}", auth=None, response=UnsubscribedOut, tags=["unsubscribe"])
def one_click_unsubscribe(
    request: HttpRequest, token: str, response: HttpResponse
) -> dict[str, Any]:
    """RFC 8058 one-click unsubscribe from marketing email. Body `List-Unsubscribe=One-Click`
    (form-encoded) or empty; no API token. A token that is not ours is 404; an expired one
    still unsubscribes."""
    done = unsubscribe.one_click(token=token)
    _private(response)
    return {"unsubscribed": True, "channel": ChannelKind.EMAIL.value, "changed": done.changed}


@router.get("/unsubscribe/{token}", auth=None, response={302: None}, tags=["unsubscribe"])
def unsubscribe_page(request: HttpRequest, token: str) -> HttpResponse:
    """A person following the link: the portal's page, which asks before unsubscribing."""
    target = reverse("portal:unsubscribe", kwargs={"token": token})
    return _private(HttpResponseRedirect(target))
