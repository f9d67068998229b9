"""Messaging's part of a GDPR request (registered in apps.py through core.privacy_registry).

Export: every message to the person (what, when, outcome, opens/clicks) and their suppression
rows. Erase: message bodies, subjects, links and the recipient address are blanked (the rows
stay, so delivery counts and flow figures do not change), suppression rows of the address are
deleted, and messages still queued for them are cancelled.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db.models import Q

from aftercare.messaging.models import (
    ContactThrottle,
    Message,
    MessageStatus,
    SendAttempt,
    Suppression,
)

ERASED = "erased"


def _mine(*, store: Any, customer_ids: list[int], email: str) -> Q:
    return Q(store=store) & (Q(customer_id__in=customer_ids) | Q(recipient__iexact=email))


def export_messages(*, store: Any, customer_ids: list[int], email: str) -> list[dict[str, Any]]:
    rows = Message.objects.filter(_mine(store=store, customer_ids=customer_ids, email=email))
    return [
        {
            "channel": m.channel,
            "category": m.category,
            "recipient": m.recipient,
            "subject": m.subject,
            "template": m.template_key,
            "status": m.status,
            "created_at": m.created_at.isoformat(),
            "sent_at": m.sent_at.isoformat() if m.sent_at else None,
            "first_opened_at": m.first_opened_at.isoformat() if m.first_opened_at else None,
            "first_clicked_at": m.first_clicked_at.isoformat() if m.first_clicked_at else None,
        }
        for m in rows.order_by("created_at", "pk")
    ]


def export_suppressions(*, store: Any, customer_ids: list[int], email: str) -> list[dict[str, Any]]:
    return [
        {"channel": s.channel, "reason": s.reason, "created_at": s.created_at.isoformat()}
        for s in Suppression.objects.filter(store=store, address__iexact=email)
    ]


def erase_messages(*, store: Any, customer_ids: list[int], email: str) -> Mapping[str, int]:
    mine = Message.objects.filter(_mine(store=store, customer_ids=customer_ids, email=email))
    cancelled = mine.filter(status=MessageStatus.QUEUED).update(
        status=MessageStatus.CANCELLED, reason="recipient erased"
    )
    # SMTP answers and failure reasons often quote the address ("550 <ann@…>: no such user").
    answers = SendAttempt.objects.filter(message__in=mine).exclude(answer="").update(answer="")
    if email:
        mine.filter(reason__icontains=email).update(reason="recipient erased")
    blanked = mine.exclude(recipient=ERASED).update(
        recipient=ERASED, subject="", body_text="", body_html="", links=[], headers={}, sender=""
    )
    suppressions, _ = Suppression.objects.filter(store=store, address__iexact=email).delete()
    ContactThrottle.objects.filter(store=store, customer_id__in=customer_ids).delete()
    return {
        "messages_erased": blanked,
        "messages_cancelled": cancelled,
        "send_answers": answers,
        "suppressions": suppressions,
    }
