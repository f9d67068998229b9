"""Opening a signed link: the token says which store, customer and subject; each is looked up
*inside* that store and must match the others, so a token can never reach another customer's
data (an order of someone else, a customer of another store)."""

from __future__ import annotations

from dataclasses import dataclass

from aftercare.core import signed_links
from aftercare.core.signed_links import ExpiredLink, InvalidLink, LinkClaims
from aftercare.customers import selectors as customer_selectors
from aftercare.customers.models import Customer
from aftercare.orders import selectors as order_selectors
from aftercare.orders.models import Order
from aftercare.stores.models import Store

PREFERENCES = "preferences"
ORDER = "order"


@dataclass(frozen=True)
class PortalLink:
    """An authentic link, opened: whom it is for, and whether it is past its expiry."""

    purpose: str
    token: str
    claims: LinkClaims
    store: Store
    customer: Customer
    order: Order | None
    expired: bool


def open_link(*, purpose: str, token: str) -> PortalLink:
    """The objects behind `token`, also when it has expired (`expired=True`: the page decides
    what an expired link may still do). Raises `InvalidLink` for a token that is not ours, or
    whose store, customer or subject no longer exist or no longer belong together."""
    if not signed_links.is_purpose(purpose):
        raise InvalidLink
    try:
        claims = signed_links.read_token(purpose=purpose, token=token)
        expired = False
    except ExpiredLink as exc:
        claims, expired = exc.claims, True
    store = Store.objects.filter(pk=claims.store_id).first()
    if store is None:
        raise InvalidLink
    # The id the link was made for, or the account it was merged into since (a guest who
    # registered): links already in inboxes keep working.
    customer = customer_selectors.current_customer(store=store, customer_id=claims.customer_id)
    if customer is None:
        raise InvalidLink
    order = None
    if purpose == PREFERENCES:
        if claims.subject_id != claims.customer_id:
            raise InvalidLink
    elif purpose == ORDER:
        order = _order(store=store, customer=customer, order_id=claims.subject_id)
    else:
        raise InvalidLink  # a purpose whose page is not in the portal
    return PortalLink(
        purpose=purpose,
        token=token,
        claims=claims,
        store=store,
        customer=customer,
        order=order,
        expired=expired,
    )


def _order(*, store: Store, customer: Customer, order_id: int) -> Order:
    orders = order_selectors.orders_for_store(store=store, customer_id=customer.pk)
    order = order_selectors.with_details(orders.filter(pk=order_id)).first()
    if order is None:
        raise InvalidLink
    return order


def order_by_number(*, store: Store, customer: Customer, number: str) -> Order | None:
    """The customer's order with the shop's number `number` (for issuing links)."""
    return (
        order_selectors.orders_for_store(store=store, customer_id=customer.pk, number=number)
        .order_by("-date_created", "-id")
        .first()
    )
