"""Reads for stores, staff and tokens. Every store-scoped read elsewhere starts from a Store
returned by one of these."""

from __future__ import annotations

from django.db.models import QuerySet

from aftercare.core import clock
from aftercare.core.errors import NotFound
from aftercare.stores import tokens
from aftercare.stores.errors import StoreErrorCode
from aftercare.stores.models import ApiToken, StaffMembership, StaffProfile, Store, WooWebhook


def get_store_by_slug(*, slug: str) -> Store:
    store = Store.objects.filter(slug=slug).first()
    if store is None:
        raise NotFound(f"no store with slug {slug!r}", code=StoreErrorCode.UNKNOWN_STORE)
    return store


def store_for_token(*, token: str) -> Store | None:
    """The store an API token belongs to, or None for an unknown or revoked token."""
    if not token.startswith(tokens.TOKEN_PREFIX):
        return None
    record = (
        ApiToken.objects.select_related("store")
        .filter(token_hash=tokens.token_hash(token), revoked_at__isnull=True)
        .first()
    )
    if record is None:
        return None
    now = clock.now()
    # Touch at most once a minute: a write per API call would serialise readers on SQLite.
    if record.last_used_at is None or (now - record.last_used_at).total_seconds() > 60:
        ApiToken.objects.filter(pk=record.pk).update(last_used_at=now)
    return record.store


def stores_for_user(*, user_id: int) -> QuerySet[Store]:
    return Store.objects.filter(memberships__user_id=user_id).order_by("name")


def membership(*, user_id: int, store: Store) -> StaffMembership | None:
    return StaffMembership.objects.filter(user_id=user_id, store=store).first()


def webhook_secrets(*, store: Store, woo_webhook_id: int | None) -> list[str]:
    """Secrets a delivery may be signed with: the registered webhook's own, then the store's."""
    candidates: list[str] = []
    if woo_webhook_id is not None:
        hook = WooWebhook.objects.filter(store=store, woo_id=woo_webhook_id).first()
        if hook is not None and hook.secret:
            candidates.append(hook.secret)
    if store.webhook_secret:
        candidates.append(store.webhook_secret)
    return candidates


def staff_language(*, user_id: int) -> str:
    """The dashboard language a staff member chose, or "" for the browser's."""
    return (
        StaffProfile.objects.filter(user_id=user_id).values_list("language", flat=True).first()
        or ""
    )
