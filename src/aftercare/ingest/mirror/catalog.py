"""Mirroring the catalogue: products (with categories), coupons and shop reviews. Newest
`date_modified_gmt` wins, as for orders. The caller holds the transaction."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from django.db import models

from aftercare.catalog.models import Category, Coupon, Product, ProductReview
from aftercare.core import clock
from aftercare.events.bus import EventDraft
from aftercare.ingest.mirror.result import Outcome
from aftercare.ingest.woo_records import CategoryRecord, CouponRecord, ProductRecord, ReviewRecord
from aftercare.stores.models import Store


def _categories(store: Store, records: Sequence[CategoryRecord]) -> list[Category]:
    result = []
    for record in records:
        category, _ = Category.objects.update_or_create(
            store=store,
            external_id=record.external_id,
            defaults={"name": record.name, "slug": record.slug},
        )
        result.append(category)
    return result


def _upsert(
    *,
    model: type[models.Model],
    store: Store,
    external_id: int,
    modified: datetime | None,
    values: dict[str, Any],
) -> tuple[Outcome, Any]:
    """Create or update one mirrored row, newest-wins. Returns (outcome, row or None)."""
    row = model.objects.filter(store=store, external_id=external_id).first()  # type: ignore[attr-defined]
    if row is None:
        row = model.objects.create(store=store, external_id=external_id, **values)  # type: ignore[attr-defined]
        return Outcome.CREATED, row
    stored = getattr(row, "date_modified_gmt", None)
    deleted = getattr(row, "deleted_at", None) is not None
    if stored and modified and (modified < stored or (deleted and modified == stored)):
        return Outcome.STALE, None
    changed = [name for name, value in values.items() if getattr(row, name) != value]
    if not changed:
        return Outcome.UNCHANGED, row
    for name in changed:
        setattr(row, name, values[name])
    row.save()
    return Outcome.UPDATED, row


def _change_event(
    *,
    store: Store,
    kind: str,
    outcome: Outcome,
    row: Any,
    at: datetime | None,
    payload: dict[str, Any],
) -> list[EventDraft]:
    """`<kind>.created` / `<kind>.updated` for a row that changed; nothing otherwise."""
    if outcome not in (Outcome.CREATED, Outcome.UPDATED):
        return []
    return [
        EventDraft(
            store_id=store.pk,
            type=f"{kind}.{outcome.value}",
            subject_type=kind,
            subject_id=row.pk,
            occurred_at=at or clock.now(),
            payload=payload,
        )
    ]


def apply_products(
    *, store: Store, records: Sequence[ProductRecord], backfill: bool = False
) -> tuple[list[Outcome], list[EventDraft]]:
    outcomes: list[Outcome] = []
    drafts: list[EventDraft] = []
    for record in records:
        outcome, product = _upsert(
            model=Product,
            store=store,
            external_id=record.external_id,
            modified=record.date_modified,
            values={
                "parent_external_id": record.parent_external_id,
                "type": record.type,
                "status": record.status,
                "sku": record.sku,
                "name": record.name,
                "slug": record.slug,
                "permalink": record.permalink,
                "price": record.price,
                "regular_price": record.regular_price,
                "sale_price": record.sale_price,
                "images": record.images,
                "upsell_ids": record.upsell_ids,
                "cross_sell_ids": record.cross_sell_ids,
                "stock_status": record.stock_status,
                "date_modified_gmt": record.date_modified,
                "deleted_at": None,
            },
        )
        if product is not None:
            wanted = {c.pk for c in _categories(store, record.categories)}
            have = set(product.categories.values_list("pk", flat=True))
            if wanted != have:
                product.categories.set(wanted)
                if outcome is Outcome.UNCHANGED:
                    outcome = Outcome.UPDATED
        outcomes.append(outcome)
        drafts.extend(
            _change_event(
                store=store,
                kind="product",
                outcome=outcome,
                row=product,
                at=record.date_modified,
                payload={
                    "name": record.name,
                    "sku": record.sku,
                    "price": str(record.price),
                    "stock_status": record.stock_status,
                    "backfill": backfill,
                },
            )
        )
    return outcomes, drafts


def apply_coupons(
    *, store: Store, records: Sequence[CouponRecord], backfill: bool = False
) -> tuple[list[Outcome], list[EventDraft]]:
    outcomes: list[Outcome] = []
    drafts: list[EventDraft] = []
    for record in records:
        outcome, coupon = _upsert(
            model=Coupon,
            store=store,
            external_id=record.external_id,
            modified=record.date_modified,
            values={
                "code": record.code,
                "discount_type": record.discount_type,
                "amount": record.amount,
                "date_expires": record.date_expires,
                "usage_count": record.usage_count,
                "usage_limit": record.usage_limit,
                "email_restrictions": record.email_restrictions,
                "date_modified_gmt": record.date_modified,
                "deleted_at": None,
            },
        )
        outcomes.append(outcome)
        drafts.extend(
            _change_event(
                store=store,
                kind="coupon",
                outcome=outcome,
                row=coupon,
                at=record.date_modified,
                payload={
                    "code": record.code,
                    "usage_count": record.usage_count,
                    "backfill": backfill,
                },
            )
        )
    return outcomes, drafts


def apply_reviews(
    *, store: Store, records: Sequence[ReviewRecord], backfill: bool = False
) -> tuple[list[Outcome], list[EventDraft]]:
    outcomes: list[Outcome] = []
    drafts: list[EventDraft] = []
    for record in records:
        review, created = ProductReview.objects.update_or_create(
            store=store,
            external_id=record.external_id,
            defaults={
                "product_external_id": record.product_external_id,
                "reviewer": record.reviewer,
                "reviewer_email": record.reviewer_email,
                "rating": record.rating,
                "review": record.review,
                "status": record.status,
                "verified": record.verified,
                "date_created_gmt": record.date_created,
            },
        )
        outcomes.append(Outcome.CREATED if created else Outcome.UPDATED)
        if created:
            drafts.append(
                EventDraft(
                    store_id=store.pk,
                    type="shop_review.created",
                    subject_type="shop_review",
                    subject_id=review.pk,
                    occurred_at=record.date_created or clock.now(),
                    payload={
                        "product_external_id": record.product_external_id,
                        "rating": record.rating,
                        "email": record.reviewer_email,
                        "backfill": backfill,
                    },
                    dedupe_key=f"shop_review.created:{review.pk}",
                )
            )
    return outcomes, drafts


def mark_deleted(
    *, store: Store, model: type[Product] | type[Coupon], external_id: int, at: datetime
) -> Outcome:
    """`product.deleted`/`coupon.deleted` carry only an id, which may be another resource's
    (SPEC §4): only a row of the right type with that id is marked."""
    updated = model.objects.filter(
        store=store, external_id=external_id, deleted_at__isnull=True
    ).update(deleted_at=at)
    if updated:
        return Outcome.DELETED
    exists = model.objects.filter(store=store, external_id=external_id).exists()
    return Outcome.UNCHANGED if exists else Outcome.NOT_FOUND
