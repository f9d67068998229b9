"""The demo store (the real `aftercare demo` command) with an owner who can sign in."""

from __future__ import annotations

from django.core.management import call_command
from django.db.models import Count

from aftercare.customers.models import Customer
from aftercare.stores.models import StaffRole, Store
from tests.browser.conftest import StaffMaker

DEMO_OWNER = "owner@demo.example"


def build_demo(make_staff: StaffMaker, *, slug: str = "demo", customers: int = 200) -> Store:
    call_command("demo", "--store", slug, "--customers", str(customers), "--seed", "1")
    store = Store.objects.get(slug=slug)
    make_staff(store=store, email=DEMO_OWNER, role=StaffRole.OWNER)
    return store


def repeat_customer(store: Store) -> Customer:
    """A named demo customer with several orders (the interesting kind of 360 view)."""
    customer = (
        Customer.objects.filter(store=store, deleted_at__isnull=True)
        .exclude(first_name="")
        .annotate(n=Count("orders"))
        .filter(n__gte=2)
        .order_by("-n", "pk")
        .first()
    )
    assert customer is not None, "the demo history has no repeat customer"
    return customer
