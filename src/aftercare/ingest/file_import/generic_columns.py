"""The generic CSV column set (docs/import-format.md), turned into the WooCommerce order shape so
that CSV rows go through `woo_mapping.parse_order` exactly like REST and webhook orders do.

    columns = Columns.from_header(["order_id", "status", …])     # raises HeaderError
    payload = to_woo_order(columns, [(12, row12), (13, row13)])  # raises MappingError
    record = woo_mapping.parse_order(payload)

One row per line item; the rows of an order share `order_id` and repeat (or leave blank) the
order-level columns. Values are checked here, in the file's own column names, so a reason reads
"order_total: not an amount: '12,50'" rather than naming a WooCommerce field the file never had."""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from aftercare.core.clock import parse_gmt
from aftercare.core.money import InvalidAmount, to_decimal
from aftercare.ingest.woo_mapping import MappingError

ORDER_COLUMNS = (
    "order_id", "order_number", "status", "currency", "date_created", "date_modified",
    "date_paid", "date_completed", "customer_id", "customer_email", "first_name", "last_name",
    "phone", "billing_country", "billing_postcode", "shipping_country", "shipping_postcode",
    "payment_method", "created_via", "customer_note", "coupon_codes", "discount_total",
    "shipping_total", "total_tax", "order_total", "refund_id", "refund_total", "refund_reason",
    "refund_date",
)  # fmt: skip
LINE_COLUMNS = (
    "line_id", "product_id", "variation_id", "sku", "product_name", "quantity", "unit_price",
    "line_subtotal", "line_total", "line_tax",
)  # fmt: skip
REQUIRED_COLUMNS = ("order_id", "status", "currency", "date_created", "order_total")
_STATUS = re.compile(r"[a-z0-9][a-z0-9_-]{0,31}")
_COUPON_SPLIT = re.compile(r"[,;]")


class HeaderError(ValueError):
    """The header row makes the whole file unusable."""


@dataclass(frozen=True, slots=True)
class Columns:
    """Where each known column sits in a row; picklable, so parse workers get a copy."""

    index: dict[str, int]
    width: int
    ignored: tuple[str, ...]  # header names we do not know (kept out of the import, reported)

    @classmethod
    def from_header(cls, header: list[str]) -> Columns:
        names = [name.strip().lower().replace(" ", "_") for name in header]
        duplicates = sorted({name for name in names if name and names.count(name) > 1})
        if duplicates:
            raise HeaderError(f"the header repeats column(s): {', '.join(duplicates)}")
        missing = [name for name in REQUIRED_COLUMNS if name not in names]
        if missing:
            raise HeaderError(
                f"the header lacks required column(s): {', '.join(missing)} "
                f"(found: {', '.join(n for n in names if n) or 'nothing'})"
            )
        known = set(ORDER_COLUMNS) | set(LINE_COLUMNS)
        return cls(
            index={name: i for i, name in enumerate(names) if name in known},
            width=len(names),
            ignored=tuple(name for name in names if name and name not in known),
        )


def _int(value: str, column: str, *, minimum: int) -> int:
    try:
        number = int(value)
    except ValueError as exc:
        raise MappingError(f"{column}: not a whole number: {value!r}") from exc
    if number < minimum:
        raise MappingError(f"{column}: must be at least {minimum}, got {value!r}")
    return number


def _amount(value: str, column: str) -> Decimal:
    try:
        return to_decimal(value)
    except InvalidAmount as exc:
        raise MappingError(f"{column}: {exc}") from exc


def _date(value: str, column: str) -> str | None:
    """ISO 8601; no offset means UTC (WooCommerce's `*_gmt` convention)."""
    if not value:
        return None
    try:
        parsed = parse_gmt(value)
    except ValueError as exc:
        raise MappingError(f"{column}: not an ISO 8601 date: {value!r}") from exc
    assert parsed is not None
    return parsed.isoformat()


def _status(value: str) -> str:
    """'Completed', 'wc-completed' and 'on hold' are the slugs 'completed' and 'on-hold'."""
    slug = value.strip().lower().removeprefix("wc-").replace(" ", "-")
    if not _STATUS.fullmatch(slug):
        raise MappingError(f"status: not a WooCommerce status: {value!r}")
    return slug


def _order_fields(columns: Columns, rows: list[tuple[int, list[str]]]) -> dict[str, str]:
    """The order-level values: the first non-blank of each column. Later rows may leave a column
    blank; a different non-blank value means the rows are not one order."""
    merged: dict[str, str] = {}
    first_at: dict[str, int] = {}
    for name in ORDER_COLUMNS:
        position = columns.index.get(name)
        if position is None:
            continue
        for line, row in rows:
            value = row[position].strip()
            if not value:
                continue
            if name not in merged:
                merged[name], first_at[name] = value, line
            elif value != merged[name]:
                raise MappingError(
                    f"rows disagree on {name}: {merged[name]!r} (line {first_at[name]}) "
                    f"vs {value!r} (line {line})"
                )
    return merged


def _line(columns: Columns, row: list[str], position: int) -> dict[str, Any] | None:
    """The WooCommerce line item of one row, or None when the row carries no line."""
    values = {
        name: row[columns.index[name]].strip() for name in LINE_COLUMNS if name in columns.index
    }
    if not any(values.values()):
        return None
    name, sku = values.get("product_name", ""), values.get("sku", "")
    product_id = (
        _int(values["product_id"], "product_id", minimum=0) if values.get("product_id") else 0
    )
    if not (name or sku or product_id):
        raise MappingError("a line needs product_name, sku or product_id")
    if not values.get("quantity"):
        raise MappingError("a line needs quantity")
    quantity = _int(values["quantity"], "quantity", minimum=0)
    unit = _amount(values["unit_price"], "unit_price") if values.get("unit_price") else None
    total = _amount(values["line_total"], "line_total") if values.get("line_total") else None
    if unit is None and total is None:
        raise MappingError("a line needs line_total or unit_price")
    if total is None:
        assert unit is not None
        total = unit * quantity
    if unit is None:
        unit = total / quantity if quantity else total
    subtotal = (
        _amount(values["line_subtotal"], "line_subtotal") if values.get("line_subtotal") else total
    )
    line_id = values.get("line_id")
    return {
        "id": _int(line_id, "line_id", minimum=1) if line_id else position,
        "name": name or sku,
        "product_id": product_id,
        "variation_id": _int(values["variation_id"], "variation_id", minimum=0)
        if values.get("variation_id")
        else 0,
        "sku": sku,
        "quantity": quantity,
        "price": str(unit),
        "subtotal": str(subtotal),
        "total": str(total),
        "total_tax": str(_amount(values.get("line_tax", ""), "line_tax")),
    }


def _lines(columns: Columns, rows: list[tuple[int, list[str]]]) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    for line, row in rows:
        try:
            item = _line(columns, row, position=len(items) + 1)
        except MappingError as exc:
            raise MappingError(f"line {line}: {exc}") from exc
        if item is not None:
            items.append(item)
    return items


def _refunds(order_id: int, fields: dict[str, str]) -> list[dict[str, Any]]:
    if not fields.get("refund_total"):
        return []
    amount = abs(_amount(fields["refund_total"], "refund_total"))
    if not amount:
        return []
    refund_id = fields.get("refund_id")
    return [
        {
            # Without refund_id the order's own id stands in: stable across re-imports, and
            # refund ids only need to be unique within their order.
            "id": _int(refund_id, "refund_id", minimum=1) if refund_id else order_id,
            "total": f"-{amount}",
            "reason": fields.get("refund_reason", ""),
            "date_created_gmt": _date(fields.get("refund_date", ""), "refund_date"),
        }
    ]


def to_woo_order(columns: Columns, rows: list[tuple[int, list[str]]]) -> dict[str, Any]:
    """The WooCommerce REST v3 order object the rows of one order describe. `rows` are
    `(line_number, fields)`, all with the same `order_id`."""
    for line, row in rows:
        if len(row) != columns.width:
            raise MappingError(
                f"line {line} has {len(row)} columns, the header has {columns.width}"
            )
        try:
            "\x1f".join(row).encode()
        except UnicodeEncodeError as exc:
            raise MappingError(f"line {line} is not valid UTF-8") from exc
    fields = _order_fields(columns, rows)
    order_id = _int(fields.get("order_id", ""), "order_id", minimum=1)
    for name in REQUIRED_COLUMNS:
        if not fields.get(name):
            raise MappingError(f"{name} is empty")
    coupons = [c.strip() for c in _COUPON_SPLIT.split(fields.get("coupon_codes", "")) if c.strip()]
    return {
        "id": order_id,
        "number": fields.get("order_number", ""),
        "status": _status(fields["status"]),
        "currency": fields["currency"].upper(),
        "date_created_gmt": _date(fields["date_created"], "date_created"),
        "date_modified_gmt": _date(fields.get("date_modified", ""), "date_modified"),
        "date_paid_gmt": _date(fields.get("date_paid", ""), "date_paid"),
        "date_completed_gmt": _date(fields.get("date_completed", ""), "date_completed"),
        "customer_id": _int(fields["customer_id"], "customer_id", minimum=0)
        if fields.get("customer_id")
        else 0,
        "billing": {
            "email": fields.get("customer_email", ""),
            "first_name": fields.get("first_name", ""),
            "last_name": fields.get("last_name", ""),
            "phone": fields.get("phone", ""),
            "country": fields.get("billing_country", ""),
            "postcode": fields.get("billing_postcode", ""),
        },
        "shipping": {
            "country": fields.get("shipping_country", ""),
            "postcode": fields.get("shipping_postcode", ""),
        },
        "payment_method": fields.get("payment_method", ""),
        "created_via": fields.get("created_via", ""),
        "customer_note": fields.get("customer_note", ""),
        "discount_total": str(_amount(fields.get("discount_total", ""), "discount_total")),
        "shipping_total": str(_amount(fields.get("shipping_total", ""), "shipping_total")),
        "total_tax": str(_amount(fields.get("total_tax", ""), "total_tax")),
        "total": str(_amount(fields["order_total"], "order_total")),
        "coupon_lines": [{"code": code} for code in coupons],
        "line_items": _lines(columns, rows),
        "refunds": _refunds(order_id, fields),
    }
