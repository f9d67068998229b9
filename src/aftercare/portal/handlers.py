"""Job handlers of the customer pages (found by kind; see docs/subsystems/jobs.md)."""

from __future__ import annotations

from aftercare.core import clock, signed_links
from aftercare.customers.models import Customer
from aftercare.jobs.registry import task
from aftercare.orders import selectors as order_selectors
from aftercare.portal import fresh_link_mail
from aftercare.portal.selectors import ORDER, PREFERENCES
from aftercare.stores.models import Store


@task(kind="portal.send_fresh_link", max_attempts=5)
def send_fresh_link(*, store_id: int, purpose: str, subject_id: int, customer_id: int) -> None:
    """Mail a new link for `purpose` + `subject_id` to the customer's address on file.

    Re-reads everything: a customer deleted (or an order trashed) since the request gets no
    mail. Not idempotent by key on purpose: a retry after a crash mid-send may send a second
    copy of a harmless mail (the "one message in flight" of the jobs contract)."""
    store = Store.objects.filter(pk=store_id).first()
    customer = Customer.objects.filter(
        store_id=store_id, pk=customer_id, deleted_at__isnull=True
    ).first()
    if store is None or customer is None or not customer.email:
        return
    order = None
    if purpose == ORDER:
        order = (
            order_selectors.orders_for_store(store=store, customer_id=customer.pk)
            .filter(pk=subject_id)
            .first()
        )
        if order is None:
            return
    elif purpose != PREFERENCES or subject_id != customer.pk:
        return
    ttl = signed_links.get_purpose(purpose).ttl
    url = signed_links.make_link(
        purpose=purpose,
        store_id=store.pk,
        subject_id=subject_id,
        customer_id=customer.pk,
        ttl=ttl,
    )
    message = fresh_link_mail.compose(
        store=store,
        customer=customer,
        purpose=purpose,
        url=url,
        expires_at=clock.now() + ttl,
        order=order,
    )
    message.send()
