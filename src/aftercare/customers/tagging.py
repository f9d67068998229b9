"""Tags on customers: labels staff (and later flows) put on people, e.g. "VIP" or "wholesale".

    tagging.add_tag(customer=c, name="VIP", source=f"staff:{user.pk}")    # -> Tag
    tagging.remove_tag(customer=c, name="vip")                           # -> True if it was on

A tag is created on first use and is unique per store regardless of case ("VIP" and "vip" are
one tag; the first spelling is kept). Adding a tag the customer already has, or removing one
they do not have, changes nothing and publishes nothing. Each real change publishes
`customer.tag_added` / `customer.tag_removed`, so flows can start on it and the customer's
timeline shows it."""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.db.models import Value
from django.db.models.functions import Lower

from aftercare.core import clock
from aftercare.core.errors import InvalidInput
from aftercare.customers.models import Customer, CustomerTag, Tag
from aftercare.events import bus

TAG_ADDED = "customer.tag_added"
TAG_REMOVED = "customer.tag_removed"
MAX_LENGTH = 50


def clean_name(name: str) -> str:
    """The tag name as stored: surrounding and repeated whitespace removed."""
    cleaned = " ".join(name.split())
    if not cleaned:
        raise InvalidInput("A tag needs a name.", code="tag_name_empty")
    if len(cleaned) > MAX_LENGTH:
        raise InvalidInput(
            f"A tag name has at most {MAX_LENGTH} characters.", code="tag_name_too_long"
        )
    return cleaned


def _find(*, store_id: int, name: str) -> Tag | None:
    # Compared with the database's lower(), the same function the unique constraint uses.
    return (
        Tag.objects.filter(store_id=store_id)
        .alias(key=Lower("name"))
        .filter(key=Lower(Value(name)))
        .first()
    )


def _get_or_create_tag(*, store_id: int, name: str) -> Tag:
    tag = _find(store_id=store_id, name=name)
    if tag is not None:
        return tag
    try:
        with transaction.atomic():  # a savepoint: a concurrent creator wins, we reuse theirs
            return Tag.objects.create(store_id=store_id, name=name, created_at=clock.now())
    except IntegrityError:
        tag = _find(store_id=store_id, name=name)
        if tag is None:
            raise
        return tag


@transaction.atomic
def add_tag(*, customer: Customer, name: str, source: str = "") -> Tag:
    """Put the tag `name` on `customer` (creating the tag in the store if new)."""
    tag = _get_or_create_tag(store_id=customer.store_id, name=clean_name(name))
    now = clock.now()
    link, created = CustomerTag.objects.get_or_create(
        customer=customer, tag=tag, defaults={"added_at": now, "source": source[:100]}
    )
    if created:
        _publish(customer=customer, type_=TAG_ADDED, tag=tag, link=link, source=source)
    return tag


@transaction.atomic
def remove_tag(*, customer: Customer, name: str, source: str = "") -> bool:
    """Take the tag `name` off `customer`; False if they did not have it. The tag itself stays
    in the store (other customers, filters and flows may use it)."""
    tag = _find(store_id=customer.store_id, name=clean_name(name))
    if tag is None:
        return False
    link = CustomerTag.objects.select_for_update().filter(customer=customer, tag=tag).first()
    if link is None:
        return False
    _publish(customer=customer, type_=TAG_REMOVED, tag=tag, link=link, source=source)
    link.delete()
    return True


def _publish(*, customer: Customer, type_: str, tag: Tag, link: CustomerTag, source: str) -> None:
    action = "added" if type_ == TAG_ADDED else "removed"
    bus.publish_many(
        [
            bus.EventDraft(
                store_id=customer.store_id,
                type=type_,
                subject_type="customer",
                subject_id=customer.pk,
                customer_id=customer.pk,
                occurred_at=clock.now(),
                payload={"tag": tag.name, "tag_id": tag.pk, "source": source},
                # One link row lives from one add to one removal: each fact once.
                dedupe_key=f"customer:{customer.pk}:tag-link:{link.pk}:{action}",
            )
        ]
    )
