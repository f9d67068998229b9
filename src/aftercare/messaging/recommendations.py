"""Products to suggest in a mail after an order: `recommended_products` and the product grid.

    cards = recommendations.for_order(store=s, ordered=[…products…], locale="ja", currency="JPY")

The cross-sells, then the upsells, of the ordered products (in the shop's order, purchasable
only: published, in stock, not a variation, not already bought); when fewer than three, the
best sellers of the ordered products' categories over the last 90 days (units in paid orders;
ranked per category, two queries per store, cached for ten minutes in this process). The
catalogue is read through a `lookups.Lookups`, so a batch of mails reads it once
(lookups.BatchLookups).
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from datetime import timedelta

from django.db.models import Sum

from aftercare.catalog.models import Product
from aftercare.core import clock
from aftercare.core.money_format import format_money
from aftercare.messaging.lookups import Lookups, purchasable
from aftercare.orders.models import PAID_STATUSES, LineItem
from aftercare.stores.models import Store

RECOMMENDATIONS = 3
BEST_SELLER_DAYS = 90
_BEST_SELLER_TTL = 600.0  # seconds
_BEST_SELLER_DEPTH = 24  # ids kept per cache entry, so exclusions still leave enough


def image_url(product: Product | None) -> str:
    """The product's first image, "" without one."""
    if product is None or not isinstance(product.images, list) or not product.images:
        return ""
    first = product.images[0]
    return str(first.get("src") or "") if isinstance(first, dict) else ""


def product_card(product: Product, *, locale: str, currency: str) -> dict[str, str]:
    price = product.price
    return {
        "name": product.name,
        "price": format_money(price, currency, locale=locale) if price is not None else "",
        "url": product.permalink,
        "image_url": image_url(product),
    }


# store id → (expires, {category id: [(-units, name, product pk), …] best first, at most DEPTH})
_ranking_cache: dict[int, tuple[float, dict[int, list[tuple[int, str, int]]]]] = {}
_ranking_lock = threading.Lock()


def _ranking(store: Store) -> dict[int, list[tuple[int, str, int]]]:
    """Each category's best sellers in the store (units in paid orders over the last 90 days,
    purchasable products only): two queries per store, cached for ten minutes. Ranking per
    category — not per set of categories, whose combinations are as many as the orders —
    keeps the cache small and hit; a set's ranking is the merge of its categories' (below)."""
    now = time.monotonic()
    with _ranking_lock:
        cached = _ranking_cache.get(store.pk)
    if cached is not None and cached[0] > now:
        return cached[1]
    since = clock.now() - timedelta(days=BEST_SELLER_DAYS)
    units = dict(
        LineItem.objects.filter(
            order__store=store,
            order__status__in=list(PAID_STATUSES),
            order__date_created__gte=since,
            product_external_id__isnull=False,
        )
        .values("product_external_id")
        .annotate(units=Sum("quantity"))
        .values_list("product_external_id", "units")
    )
    by_category: dict[int, list[tuple[int, str, int]]] = defaultdict(list)
    sold = sorted(
        int(external_id)
        for external_id, count in units.items()
        if external_id is not None and (count or 0) > 0
    )
    for start in range(0, len(sold), 900):
        rows = (
            purchasable(store.pk)
            .filter(external_id__in=sold[start : start + 900], categories__isnull=False)
            .values_list("pk", "external_id", "name", "categories")
        )
        for pk, external_id, name, category_id in rows:
            by_category[category_id].append((-int(units[external_id]), name, pk))
    ranking = {c: sorted(set(entries))[:_BEST_SELLER_DEPTH] for c, entries in by_category.items()}
    with _ranking_lock:
        if len(_ranking_cache) > 1024:
            _ranking_cache.clear()
        _ranking_cache[store.pk] = (now + _BEST_SELLER_TTL, ranking)
    return ranking


def best_sellers(*, store: Store, category_ids: frozenset[int]) -> list[int]:
    """Product ids of the categories' best sellers (units in paid orders, last 90 days), best
    first (ties: name, then id), at most 24."""
    ranking = _ranking(store)
    merged = sorted({entry for c in category_ids for entry in ranking.get(c, ())})
    return [pk for _, _, pk in merged[:_BEST_SELLER_DEPTH]]


def forget_best_sellers() -> None:
    """Empty the best-seller cache (tests, and after a catalogue import)."""
    with _ranking_lock:
        _ranking_cache.clear()


def for_order(
    *,
    store: Store,
    ordered: list[Product],
    locale: str,
    currency: str,
    lookups: Lookups | None = None,
) -> list[dict[str, str]]:
    """Up to three product cards to suggest after an order of `ordered` (module docstring)."""
    lookups = lookups or Lookups()
    bought = {product.external_id for product in ordered}
    wanted: list[int] = []
    for field in ("cross_sell_ids", "upsell_ids"):
        for product in ordered:
            ids = getattr(product, field)
            for external_id in ids if isinstance(ids, list) else []:
                if isinstance(external_id, int) and external_id not in bought | set(wanted):
                    wanted.append(external_id)
    chosen: list[Product] = []
    if wanted:
        found = lookups.purchasable_by_external_id(store=store, external_ids=wanted)
        chosen = [found[i] for i in wanted if i in found][:RECOMMENDATIONS]
    if len(chosen) < RECOMMENDATIONS and ordered:
        categories = lookups.category_ids(product_pks=[p.pk for p in ordered])
        if categories:
            taken = bought | {p.external_id for p in chosen}
            ranked = best_sellers(store=store, category_ids=categories)
            rows = lookups.purchasable_by_pk(store=store, pks=ranked)
            for pk in ranked:
                candidate = rows.get(pk)
                if candidate is not None and candidate.external_id not in taken:
                    chosen.append(candidate)
                    taken.add(candidate.external_id)
                if len(chosen) == RECOMMENDATIONS:
                    break
    return [product_card(p, locale=locale, currency=currency) for p in chosen]
