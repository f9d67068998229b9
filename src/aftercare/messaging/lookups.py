"""Where queueing a message reads the mirror — one message at a time, or a whole batch at once.

    lookups = Lookups()                                   # a single message: a query per question
    lookups = BatchLookups(hints=[Hint(store_id=1, customer_id=5, order_id=9,
                                       idempotency_key="flow:3:run:9:step:send"), …])
    outbox.queue(…, lookups=lookups)

`outbox.queue` and `variables.build` ask a `Lookups` for everything they read: whether the
message exists already (idempotency), suppressions, the order with its lines, the ordered
products, the customer's figures, the template, and what recommendations need. `Lookups` asks
the database each time. `BatchLookups` is told up front what a batch of messages will ask about
(the flow runner knows its steps' customers, orders and idempotency keys) and answers each kind
of question for the whole batch with one query the first time it is asked — a batch of 200 mails
then costs a dozen queries instead of ~18 per mail. A question about something it was not told
(another order, another address) falls back to `Lookups`: answers are never wrong, only slower.

Everything is read inside the caller's transaction, when first asked: a batch sees the mirror
as of its first message. The two answers that could go stale within a batch are kept current
by the batch itself: a message it writes is remembered for its idempotency key, and so is the
frequency-cap row its slot created (the slot itself is still taken row by row by
`policy.take_marketing_slot`, never from a preload). A caller that rolls a message back (the
runner's savepoint around a failed action) rolls the batch's memory back with it:
`mark = lookups.checkpoint()` … `lookups.roll_back(mark)`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, TypeVar

from django.db.models import QuerySet

from aftercare.analytics.models import CustomerStats
from aftercare.catalog.models import Product
from aftercare.messaging import policy
from aftercare.messaging.models import ContactThrottle, Message, Suppression
from aftercare.orders.models import Order
from aftercare.stores.models import Store

if TYPE_CHECKING:  # rendering → variables → recommendations → here: no import at run time
    from aftercare.messaging.rendering import TemplateSource

_CHUNK = 900  # SQLite's bound-variable limit leaves room for the other conditions

T = TypeVar("T")


def _chunks(values: Iterable[T]) -> Iterable[list[T]]:
    ordered = list(dict.fromkeys(values))
    for start in range(0, len(ordered), _CHUNK):
        yield ordered[start : start + _CHUNK]


def purchasable(store_id: int) -> QuerySet[Product]:
    """Products a mail may suggest: published, not deleted, not a variation, in stock."""
    return (
        Product.objects.filter(store_id=store_id, deleted_at__isnull=True, status="publish")
        .exclude(type="variation")
        .exclude(stock_status__in=["outofstock", "onbackorder"])
    )


class Lookups:
    """One query per question: what a single message needs."""

    def existing_message(self, *, store: Store, key: str) -> int | None:
        found = Message.objects.filter(store=store, idempotency_key=key)
        return found.values_list("pk", flat=True).first()

    def remember_message(self, *, store: Store, key: str, message_id: int) -> None:
        """A message was just written under `key` (a batch must not write it twice)."""

    def suppression(self, *, store: Store, channel: str, address: str) -> str:
        return policy.is_suppressed(store=store, channel=channel, address=address)

    def has_throttle(self, *, customer_id: int, channel: str) -> bool | None:
        """Whether the customer has a frequency-cap row on `channel`; None: not known here."""
        return None

    def remember_throttle(self, *, customer_id: int, channel: str) -> None:
        """A message that took the customer's slot was written (its row exists now)."""

    def checkpoint(self) -> int:
        """A mark to `roll_back` to: what was remembered since is forgotten when the caller's
        savepoint is rolled back (the message and the slot are gone with it)."""
        return 0

    def roll_back(self, to: int) -> None:
        """Forget what `remember_*` recorded since `checkpoint()` returned `to`."""

    def order(self, *, store: Store, order_id: int) -> Order | None:
        return Order.objects.filter(store=store, pk=order_id).prefetch_related("lines").first()

    def products(self, *, store: Store, external_ids: Iterable[int]) -> dict[int, Product]:
        """The store's (not deleted) products by their shop id."""
        found: dict[int, Product] = {}
        for chunk in _chunks(external_ids):
            found.update(
                (p.external_id, p)
                for p in Product.objects.filter(
                    store=store, external_id__in=chunk, deleted_at__isnull=True
                )
            )
        return found

    def customer_figures(self, *, customer_id: int) -> tuple[int, Decimal]:
        """(paid orders, net spent) from the customer's stats; (0, 0) without a row."""
        row = (
            CustomerStats.objects.filter(customer_id=customer_id)
            .values_list("orders_count", "total_spent")
            .first()
        )
        return (int(row[0]), Decimal(row[1])) if row else (0, Decimal(0))

    def template(
        self, *, store: Store, key: str, locale: str | None, channel: str
    ) -> TemplateSource:
        from aftercare.messaging import template_catalog

        return template_catalog.get(store=store, key=key, locale=locale, channel=channel)

    def purchasable_by_external_id(
        self, *, store: Store, external_ids: Sequence[int]
    ) -> dict[int, Product]:
        found: dict[int, Product] = {}
        for chunk in _chunks(external_ids):
            found.update(
                (p.external_id, p) for p in purchasable(store.pk).filter(external_id__in=chunk)
            )
        return found

    def purchasable_by_pk(self, *, store: Store, pks: Sequence[int]) -> dict[int, Product]:
        return {p.pk: p for p in purchasable(store.pk).filter(pk__in=list(pks))}

    def category_ids(self, *, product_pks: Iterable[int]) -> frozenset[int]:
        through = Product.categories.through
        pks = list(product_pks)
        return frozenset(
            through.objects.filter(product_id__in=pks).values_list("category_id", flat=True)
        )


@dataclass(frozen=True, slots=True)
class Hint:
    """What one message of a batch will be about."""

    store_id: int
    customer_id: int | None
    order_id: int | None
    idempotency_key: str
    addresses: tuple[tuple[str, str], ...] = ()  # (channel, address) it may go to


class BatchLookups(Lookups):
    """Answers for a whole batch, one query per kind of question (module docstring)."""

    def __init__(self, *, hints: Iterable[Hint]) -> None:
        self._hints = list(hints)
        # What the batch was told about: a question outside these goes to the database.
        self._known_keys = {(h.store_id, h.idempotency_key) for h in self._hints}
        self._order_ids = {(h.store_id, h.order_id) for h in self._hints if h.order_id is not None}
        self._customer_ids = {h.customer_id for h in self._hints if h.customer_id is not None}
        self._product_keys: set[tuple[int, int]] = set()  # the ordered products, once loaded
        self._loaded: set[str] = set()
        self._journal: list[Callable[[], object]] = []  # undoes what `remember_*` recorded
        self._messages: dict[tuple[int, str], int] = {}
        self._suppressions: dict[tuple[int, str, str], str] = {}
        self._checked: set[tuple[int, str, str]] = set()
        self._throttles: set[tuple[int, str]] = set()
        self._orders: dict[int, Order] = {}
        self._products: dict[tuple[int, int], Product] = {}
        self._figures: dict[int, tuple[int, Decimal]] = {}
        self._templates: dict[tuple[int, str, str | None, str], TemplateSource] = {}
        self._purchasable: dict[tuple[int, int], Product] = {}
        self._purchasable_checked: set[tuple[int, int]] = set()
        self._categories: dict[int, set[int]] = defaultdict(set)
        self._category_checked: set[int] = set()
        self._by_pk: dict[tuple[int, int], Product] = {}
        self._pk_checked: set[tuple[int, int]] = set()

    def _once(self, what: str, load: Callable[[], None]) -> None:
        if what not in self._loaded:
            self._loaded.add(what)
            load()

    # -- idempotency ---------------------------------------------------------------------------

    def _load_messages(self) -> None:
        by_store: dict[int, list[str]] = defaultdict(list)
        for hint in self._hints:
            by_store[hint.store_id].append(hint.idempotency_key)
        for store_id, keys in by_store.items():
            for chunk in _chunks(keys):
                rows = Message.objects.filter(store_id=store_id, idempotency_key__in=chunk)
                for pk, key in rows.values_list("pk", "idempotency_key"):
                    self._messages[(store_id, key)] = pk

    def existing_message(self, *, store: Store, key: str) -> int | None:
        self._once("messages", self._load_messages)
        if (store.pk, key) in self._messages:
            return self._messages[(store.pk, key)]
        if (store.pk, key) in self._known_keys:
            return None
        return super().existing_message(store=store, key=key)

    def remember_message(self, *, store: Store, key: str, message_id: int) -> None:
        self._messages[(store.pk, key)] = message_id
        self._journal.append(lambda: self._messages.pop((store.pk, key), None))

    def checkpoint(self) -> int:
        return len(self._journal)

    def roll_back(self, to: int) -> None:
        while len(self._journal) > to:
            self._journal.pop()()

    # -- suppressions and frequency-cap rows ----------------------------------------------------

    def _load_suppressions(self) -> None:
        wanted: dict[tuple[int, str], set[str]] = defaultdict(set)
        for hint in self._hints:
            for channel, address in hint.addresses:
                if address:
                    wanted[(hint.store_id, channel)].add(policy.normalise(address))
        for (store_id, channel), addresses in wanted.items():
            for chunk in _chunks(sorted(addresses)):
                rows = Suppression.objects.filter(
                    store_id=store_id, channel=channel, address__in=chunk
                ).values_list("address", "reason")
                for address, reason in rows:
                    self._suppressions[(store_id, channel, address)] = reason
            self._checked.update((store_id, channel, a) for a in addresses)

    def suppression(self, *, store: Store, channel: str, address: str) -> str:
        self._once("suppressions", self._load_suppressions)
        key = (store.pk, channel, policy.normalise(address))
        if key in self._checked:
            return self._suppressions.get(key, "")
        return super().suppression(store=store, channel=channel, address=address)

    def _load_throttles(self) -> None:
        for chunk in _chunks(sorted(self._customer_ids)):
            self._throttles.update(
                ContactThrottle.objects.filter(customer_id__in=chunk).values_list(
                    "customer_id", "channel"
                )
            )

    def has_throttle(self, *, customer_id: int, channel: str) -> bool | None:
        self._once("throttles", self._load_throttles)
        if customer_id not in self._customer_ids:
            return None
        return (customer_id, channel) in self._throttles

    def remember_throttle(self, *, customer_id: int, channel: str) -> None:
        if (customer_id, channel) not in self._throttles:
            self._throttles.add((customer_id, channel))
            self._journal.append(lambda: self._throttles.discard((customer_id, channel)))

    # -- the order, its products, the customer's figures ---------------------------------------

    def _load_orders(self) -> None:
        by_store: dict[int, list[int]] = defaultdict(list)
        for hint in self._hints:
            if hint.order_id is not None:
                by_store[hint.store_id].append(hint.order_id)
        for store_id, ids in by_store.items():
            for chunk in _chunks(ids):
                for order in Order.objects.filter(store_id=store_id, pk__in=chunk).prefetch_related(
                    "lines"
                ):
                    self._orders[order.pk] = order

    def order(self, *, store: Store, order_id: int) -> Order | None:
        self._once("orders", self._load_orders)
        if (store.pk, order_id) in self._order_ids:
            found = self._orders.get(order_id)
            return found if found is not None and found.store_id == store.pk else None
        return super().order(store=store, order_id=order_id)

    def _load_products(self) -> None:
        self._once("orders", self._load_orders)
        by_store: dict[int, set[int]] = defaultdict(set)
        for order in self._orders.values():
            for line in order.lines.all():
                if line.product_external_id:
                    by_store[order.store_id].add(line.product_external_id)
        for store_id, ids in by_store.items():
            for chunk in _chunks(sorted(ids)):
                for product in Product.objects.filter(
                    store_id=store_id, external_id__in=chunk, deleted_at__isnull=True
                ):
                    self._products[(store_id, product.external_id)] = product
        self._product_keys = {(s, i) for s, ids in by_store.items() for i in ids}

    def products(self, *, store: Store, external_ids: Iterable[int]) -> dict[int, Product]:
        self._once("products", self._load_products)
        found: dict[int, Product] = {}
        missing = []
        for external_id in external_ids:
            key = (store.pk, external_id)
            if key in self._products:
                found[external_id] = self._products[key]
            elif key not in self._product_keys:
                missing.append(external_id)
        if missing:
            found.update(super().products(store=store, external_ids=missing))
        return found

    def _load_figures(self) -> None:
        for chunk in _chunks(sorted(self._customer_ids)):
            rows = CustomerStats.objects.filter(customer_id__in=chunk).values_list(
                "customer_id", "orders_count", "total_spent"
            )
            for customer_id, count, spent in rows:
                self._figures[customer_id] = (int(count), Decimal(spent))

    def customer_figures(self, *, customer_id: int) -> tuple[int, Decimal]:
        self._once("figures", self._load_figures)
        if customer_id in self._customer_ids:
            return self._figures.get(customer_id, (0, Decimal(0)))
        return super().customer_figures(customer_id=customer_id)

    def template(
        self, *, store: Store, key: str, locale: str | None, channel: str
    ) -> TemplateSource:
        memo = (store.pk, key, locale, channel)
        if memo not in self._templates:
            self._templates[memo] = super().template(
                store=store, key=key, locale=locale, channel=channel
            )
        return self._templates[memo]

    # -- recommendations -----------------------------------------------------------------------

    def _load_purchasable(self) -> None:
        """Every cross-sell and upsell of the batch's ordered products, in one query a store."""
        self._once("products", self._load_products)
        wanted: dict[int, set[int]] = defaultdict(set)
        for (store_id, _), product in self._products.items():
            for field in ("cross_sell_ids", "upsell_ids"):
                ids = getattr(product, field)
                if isinstance(ids, list):
                    wanted[store_id].update(i for i in ids if isinstance(i, int))
        for store_id, ids in wanted.items():
            for chunk in _chunks(sorted(ids)):
                for product in purchasable(store_id).filter(external_id__in=chunk):
                    self._purchasable[(store_id, product.external_id)] = product
            self._purchasable_checked.update((store_id, i) for i in ids)

    def purchasable_by_external_id(
        self, *, store: Store, external_ids: Sequence[int]
    ) -> dict[int, Product]:
        self._once("purchasable", self._load_purchasable)
        found: dict[int, Product] = {}
        missing = []
        for external_id in external_ids:
            key = (store.pk, external_id)
            if key in self._purchasable:
                found[external_id] = self._purchasable[key]
            elif key not in self._purchasable_checked:
                missing.append(external_id)
        if missing:
            found.update(super().purchasable_by_external_id(store=store, external_ids=missing))
        return found

    def purchasable_by_pk(self, *, store: Store, pks: Sequence[int]) -> dict[int, Product]:
        # The best sellers: a batch's mails draw on a few dozen products, each read once.
        missing = [pk for pk in pks if (store.pk, pk) not in self._pk_checked]
        if missing:
            self._by_pk.update(
                ((store.pk, pk), p)
                for pk, p in super().purchasable_by_pk(store=store, pks=missing).items()
            )
            self._pk_checked.update((store.pk, pk) for pk in missing)
        return {pk: self._by_pk[(store.pk, pk)] for pk in pks if (store.pk, pk) in self._by_pk}

    def _load_categories(self) -> None:
        self._once("products", self._load_products)
        pks = sorted(p.pk for p in self._products.values())
        through = Product.categories.through
        for chunk in _chunks(pks):
            rows = through.objects.filter(product_id__in=chunk).values_list(
                "product_id", "category_id"
            )
            for product_id, category_id in rows:
                self._categories[product_id].add(category_id)
        self._category_checked = set(pks)

    def category_ids(self, *, product_pks: Iterable[int]) -> frozenset[int]:
        self._once("categories", self._load_categories)
        pks = list(product_pks)
        if all(pk in self._category_checked for pk in pks):
            return frozenset(c for pk in pks for c in self._categories.get(pk, ()))
        return super().category_ids(product_pks=pks)
