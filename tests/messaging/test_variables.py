"""The variable set built from the mirror: plain values, formatted per language, every key
present; names as each language writes them; recommendations without N+1."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
import time_machine

from aftercare.catalog.models import Category, Product
from aftercare.customers.models import Customer
from aftercare.messaging import recommendations, rendering, template_catalog, variables
from aftercare.orders.models import Order
from aftercare.stores.models import Store, WooConnection
from tests.mirror_factories import (
    CustomerFactory,
    CustomerStatsFactory,
    LineItemFactory,
    OrderFactory,
)

NOW = datetime(2026, 3, 20, 12, 0, tzinfo=UTC)
LINKS = {
    "order_url": "https://aftercare.example/c/tok/order",
    "unsubscribe_url": "https://aftercare.example/c/tok/unsubscribe",
    "preferences_url": "https://aftercare.example/c/tok/preferences",
}


def product(store: Store, external_id: int, **fields: Any) -> Product:
    categories = fields.pop("categories", [])
    defaults: dict[str, Any] = {
        "name": f"Product {external_id}",
        "permalink": f"https://shop.example/product/p{external_id}/",
        "price": Decimal("10.00"),
        "stock_status": "instock",
        "images": [{"src": f"https://shop.example/img/{external_id}.jpg", "alt": ""}],
    }
    created = Product.objects.create(store=store, external_id=external_id, **(defaults | fields))
    created.categories.set(categories)
    return created


def category(store: Store, external_id: int) -> Category:
    return Category.objects.create(store=store, external_id=external_id, name=f"C{external_id}")


def order_of(customer: Customer, *lines: tuple[int, int], **fields: Any) -> Order:
    """An order with (product external id, quantity) lines."""
    order = OrderFactory(store=customer.store, customer=customer, **fields)
    for product_id, quantity in lines:
        LineItemFactory(
            order=order,
            product_external_id=product_id,
            name=f"Line of {product_id}",
            quantity=quantity,
            unit_price=Decimal("12000"),
            total=Decimal(12000 * quantity),
        )
    return order


def walk(value: Any) -> list[Any]:
    """Every leaf of a variable set."""
    if isinstance(value, dict):
        return [leaf for item in value.values() for leaf in walk(item)]
    if isinstance(value, list):
        return [leaf for item in value for leaf in walk(item)]
    return [value]


# --- names ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("first", "last", "locale", "full", "greeting"),
    [
        ("Ann", "Lee", "en", "Ann Lee", "Ann"),
        ("", "Lee", "en", "Lee", "there"),
        ("", "", "en", "", "there"),
        ("", "", "fr", "", "there"),
        ("민준", "김", "ko", "김민준", "김민준"),
        ("Ann", "Lee", "ko", "Ann Lee", "Ann"),
        ("", "", "ko", "", "고객"),
        ("花子", "山田", "ja", "山田 花子", "山田"),
        ("Ann", "Lee", "ja-JP", "Ann Lee", "Lee"),
        ("花子", "", "ja", "花子", "花子"),
        ("", "", "ja", "", "お客"),
    ],
)
def test_names_follow_each_languages_habits(
    first: str, last: str, locale: str, full: str, greeting: str
) -> None:
    assert variables.names(first_name=first, last_name=last, locale=locale) == (full, greeting)


# --- build ----------------------------------------------------------------------------------


@pytest.mark.django_db
@time_machine.travel(NOW, tick=False)
def test_build_gives_plain_formatted_values_in_the_customers_language(
    store: Store, django_assert_max_num_queries: Any
) -> None:
    store.currency = "KRW"
    store.time_zone = "Asia/Seoul"
    store.reply_to_email = "help@acme.example"
    store.save()
    WooConnection.objects.create(
        store=store,
        url="https://shop.example/",
        consumer_key="ck",
        consumer_secret="cs",
        connected_at=NOW,
    )
    customer = CustomerFactory(store=store, first_name="민준", last_name="김", locale="ko_KR")
    CustomerStatsFactory(customer=customer, orders_count=4, total_spent=Decimal("250000"))
    product(store, 11)
    order = order_of(
        customer,
        (11, 2),
        (99, 1),  # a product the mirror does not know (deleted in the shop)
        currency="KRW",
        number="1042",
        status="processing",
        subtotal=Decimal("36000"),
        discount_total=Decimal("3000"),
        shipping_total=Decimal("2500"),
        total=Decimal("35500"),
        coupon_codes=["WELCOME"],
        date_created=datetime(2026, 3, 1, 16, 30, tzinfo=UTC),  # 2 March in Seoul
    )
    with django_assert_max_num_queries(8):
        built = variables.build(
            store=store, customer=customer, order=order, locale="ko", links=LINKS
        )
    assert built["store"] == {
        "name": "Acme Outfitters",
        "url": "https://shop.example",
        "logo_url": "",
        "support_email": "help@acme.example",
    }
    assert built["customer"] == {
        "first_name": "민준",
        "last_name": "김",
        "full_name": "김민준",
        "greeting_name": "김민준",
        "email": customer.email,
        "orders_count": 4,
        "total_spent": "₩250,000",
    }
    order_vars = built["order"]
    assert order_vars["date"] == "2026년 3월 2일"
    assert order_vars["status"] == "상품 준비 중"
    assert (order_vars["total"], order_vars["subtotal"]) == ("₩35,500", "₩36,000")
    assert (order_vars["discount"], order_vars["shipping"]) == ("-₩3,000", "₩2,500")
    assert order_vars["currency"] == "KRW" and order_vars["item_count"] == 3
    assert order_vars["coupon_codes"] == ["WELCOME"]
    first, unknown = order_vars["items"]
    assert first == {
        "name": "Line of 11",
        "sku": "MUG-BLUE",
        "quantity": 2,
        "price": "₩12,000",
        "total": "₩24,000",
        "image_url": "https://shop.example/img/11.jpg",
        "product_url": "https://shop.example/product/p11/",
        "review_url": "https://shop.example/product/p11/#reviews",
    }
    assert (
        unknown["product_url"] == "" and unknown["review_url"] == "" and unknown["image_url"] == ""
    )
    links = built["links"]
    assert links["order_url"] == LINKS["order_url"]
    assert links["shop_url"] == "https://shop.example"
    assert links["review_url"] == "https://shop.example/product/p11/#reviews"
    assert links["survey_url"] == ""
    assert None not in walk(built)
    assert all(isinstance(leaf, str | int) for leaf in walk(built))


@pytest.mark.django_db
def test_build_without_an_order_still_has_every_key(store: Store) -> None:
    customer = CustomerFactory(store=store, first_name="", last_name="")
    built = variables.build(store=store, customer=customer, locale="ja", links={})
    sample = variables.sample(locale="ja")
    assert set(built) == set(sample)
    for section in ("store", "customer", "order", "coupon", "points", "links"):
        assert set(built[section]) == set(sample[section]), section
    assert built["order"]["items"] == [] and built["recommended_products"] == []
    assert built["customer"]["greeting_name"] == "お客"
    assert built["customer"]["total_spent"] == "$0.00"
    assert built["store"]["url"] == "" and built["links"]["shop_url"] == ""
    assert None not in walk(built)


@pytest.mark.django_db
def test_an_unsaved_stand_in_customer_gives_blanks(store: Store) -> None:
    built = variables.build(store=store, customer=Customer(store=store), locale="ko", links={})
    assert built["customer"]["greeting_name"] == "고객" and built["customer"]["orders_count"] == 0
    assert built["customer"]["email"] == ""


@pytest.mark.django_db
def test_extra_adds_what_later_modules_fill(store: Store) -> None:
    customer = CustomerFactory(store=store)
    coupon = variables.coupon(
        code="BDAY-20",
        discount_type="fixed_cart",
        amount=Decimal(5000),
        currency="JPY",
        expires_at=datetime(2026, 4, 30, 20, 0, tzinfo=UTC),
        locale="ja",
        time_zone="Asia/Tokyo",
    )
    assert coupon == {"code": "BDAY-20", "value": "￥5,000割引", "expires_at": "2026年5月1日"}
    built = variables.build(
        store=store, customer=customer, locale="ja", links={}, extra={"coupon": coupon}
    )
    assert built["coupon"] == coupon
    percent = variables.coupon(
        code="X",
        discount_type="percent",
        amount=Decimal(15),
        currency="KRW",
        expires_at=None,
        locale="ko",
    )
    assert percent == {"code": "X", "value": "15% 할인", "expires_at": ""}


# --- recommendations ----------------------------------------------------------------------------


@pytest.mark.django_db
def test_recommendations_are_cross_sells_then_upsells_in_stock_not_bought(
    store: Store, django_assert_max_num_queries: Any
) -> None:
    product(store, 1, cross_sell_ids=[2, 3, 20], upsell_ids=[4])
    product(store, 20, cross_sell_ids=[5], upsell_ids=[])  # bought too
    product(store, 2, stock_status="outofstock")
    product(store, 3)
    product(store, 4)
    product(store, 5, deleted_at=datetime(2026, 1, 1, tzinfo=UTC))
    ordered = list(Product.objects.filter(store=store, external_id__in=[1, 20]).order_by("pk"))
    with django_assert_max_num_queries(2):  # the suggestions, the categories to fill up
        cards = recommendations.for_order(store=store, ordered=ordered, locale="en", currency="USD")
    assert [card["name"] for card in cards] == ["Product 3", "Product 4"]
    assert cards[0] == {
        "name": "Product 3",
        "price": "$10.00",
        "url": "https://shop.example/product/p3/",
        "image_url": "https://shop.example/img/3.jpg",
    }


@pytest.mark.django_db
@time_machine.travel(NOW, tick=False)
def test_recommendations_fall_back_to_best_sellers_of_the_same_categories(
    store: Store, other_store: Store, django_assert_max_num_queries: Any
) -> None:
    recommendations.forget_best_sellers()
    shoes, hats = category(store, 1), category(store, 2)
    bought = product(store, 1, categories=[shoes])
    product(store, 2, categories=[shoes], name="Runner")  # sells 5
    product(store, 3, categories=[shoes], name="Sandal")  # sells 9
    product(store, 4, categories=[shoes], name="Boot", stock_status="outofstock")  # sells 50
    product(store, 5, categories=[hats], name="Hat")  # other category: sells 99
    product(store, 6, categories=[shoes], name="Slipper")  # never sold
    product(store, 7, categories=[shoes], name="Clog", cross_sell_ids=[])  # sells 1, long ago
    buyer = CustomerFactory(store=store)
    recent = NOW - timedelta(days=10)
    order_of(buyer, (2, 5), (3, 9), (4, 50), (5, 99), (1, 30), date_created=recent)
    order_of(buyer, (7, 1), date_created=NOW - timedelta(days=200))
    order_of(buyer, (6, 80), date_created=recent, status="cancelled")  # not paid
    # Another store's sales of the same external id do not count.
    outsider = CustomerFactory(store=other_store)
    order_of(outsider, (2, 500), date_created=recent)

    # Categories, the store's ranking (units, products), the chosen products.
    with django_assert_max_num_queries(4):
        cards = recommendations.for_order(
            store=store, ordered=[bought], locale="en", currency="USD"
        )
    assert [card["name"] for card in cards] == ["Sandal", "Runner"]
    # Cached for the next message: no best-seller query.
    with django_assert_max_num_queries(2):
        again = recommendations.for_order(
            store=store, ordered=[bought], locale="en", currency="USD"
        )
    assert again == cards
    # The ranking is per category: an order of another set of categories reuses it, and the
    # sets' rankings merge by units sold.
    cap = product(store, 8, categories=[hats], name="Cap")
    with django_assert_max_num_queries(2):
        mixed = recommendations.for_order(
            store=store, ordered=[bought, cap], locale="en", currency="USD"
        )
    assert [card["name"] for card in mixed] == ["Hat", "Sandal", "Runner"]


@pytest.mark.django_db
@time_machine.travel(NOW, tick=False)
def test_a_built_order_renders_the_shipped_thank_you(store: Store) -> None:
    store.currency = "JPY"
    store.save()
    customer = CustomerFactory(store=store, first_name="花子", last_name="山田")
    product(store, 11, name="リネンシャツ")
    order = order_of(customer, (11, 2), currency="JPY", number="77", total=Decimal(24000))
    built = variables.build(store=store, customer=customer, order=order, locale="ja", links=LINKS)
    source = template_catalog.get(store=store, key="thank-you", locale="ja")
    email = rendering.render_email(
        source=source, variables=built, brand=variables.brand(store=store), marketing=False
    )
    assert email.subject == "ご注文ありがとうございます（注文番号 #77）"  # noqa: RUF001
    assert email.text.startswith("山田様\n")
    assert "￥24,000" in email.html and "￥24,000" in email.text
    assert 'src="https://shop.example/img/11.jpg"' in email.html
    assert LINKS["order_url"] in email.text


def test_recommendations_only_for_templates_that_can_show_them() -> None:
    assert variables.uses_recommendations("", "{{ product_grid() }}")
    assert variables.uses_recommendations(
        "{% for p in recommended_products %}{{ p.name }}{% endfor %}"
    )
    assert not variables.uses_recommendations(
        "Thanks {{ customer.greeting_name }}", "{{ order_items() }}"
    )
