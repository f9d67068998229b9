"""The mirror's part of merging a guest into an account (customers.merging): the shop's facts.

Registered by ingest/apps.py; ingest is the only writer of orders and the only one that moves
the customer of recorded events."""

from __future__ import annotations

from aftercare.customers.models import Customer
from aftercare.events.models import Event
from aftercare.orders.models import Order


def merge_mirror(*, guest: Customer, account: Customer) -> None:
    """Orders: every order of the guest becomes the account's (Order.customer is PROTECT: an
    order is never lost). Events: those naming the guest as their customer name the account, so
    its timeline and the flows' per-customer history are whole; `subject_id` stays (the fact
    was about that row). Only the guest's store is touched."""
    Order.objects.filter(store_id=guest.store_id, customer=guest).update(customer=account)
    Event.objects.filter(store_id=guest.store_id, customer_id=guest.pk).update(
        customer_id=account.pk
    )
