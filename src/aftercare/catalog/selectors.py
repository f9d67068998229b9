"""Store-scoped reads of the catalogue."""

from __future__ import annotations

from django.db.models import QuerySet

from aftercare.catalog.models import Product
from aftercare.core.errors import NotFound
from aftercare.stores.models import Store


def products_for_store(
    *, store: Store, sku: str | None = None, external_id: int | None = None
) -> QuerySet[Product]:
    products = Product.objects.filter(store=store, deleted_at__isnull=True)
    if sku:
        products = products.filter(sku=sku)
    if external_id is not None:
        products = products.filter(external_id=external_id)
    return products.prefetch_related("categories").order_by("name", "id")


def get_product(*, store: Store, product_id: int) -> Product:
    product = Product.objects.filter(store=store, pk=product_id).prefetch_related("categories")
    found = product.first()
    if found is None:
        raise NotFound(f"no product {product_id} in this store")
    return found
