"""What an import demands of an order beyond what `woo_mapping.parse_order` checks.

The webhook path is lenient on purpose (the shop already took the order; dropping it would lose
a sale), but an import is a person's file that can be fixed and re-run, so doubtful values are
rejected with a reason instead of being quietly blanked or truncated:

    check_order(record, payload)   # raises MappingError("currency 'EUO' is not …")

Also rejected here: values the database would refuse (ids beyond 64 bits, duplicate line or
refund ids within one order), because one such row would otherwise fail its whole batch."""

from __future__ import annotations

from typing import Any

from aftercare.ingest.file_import.currencies import CURRENCY_CODES
from aftercare.ingest.woo_mapping import MappingError
from aftercare.ingest.woo_records import OrderRecord

MAX_ID = 2**63 - 1  # BIGINT
MAX_QUANTITY = 2**31 - 1  # INTEGER


def _country(raw: Any, what: str) -> None:
    if raw in (None, ""):
        return
    text = str(raw).strip()
    if text and (len(text) != 2 or not text.isalpha()):
        raise MappingError(f"{what} {raw!r} is not a 2-letter ISO 3166 country code")


def check_order(record: OrderRecord, payload: dict[str, Any]) -> None:
    """Raise `MappingError` when the import should not take `record` (parsed from `payload`)."""
    if record.currency not in CURRENCY_CODES:
        raise MappingError(f"currency {record.currency!r} is not an ISO 4217 code")
    billing = payload.get("billing") or {}
    shipping = payload.get("shipping") or {}
    raw_email = billing.get("email")
    if not record.customer.email and raw_email not in (None, "") and str(raw_email).strip():
        raise MappingError(f"email {raw_email!r} is not a valid address")
    _country(billing.get("country"), "billing country")
    _country(shipping.get("country"), "shipping country")
    if record.external_id > MAX_ID or (record.customer.external_id or 0) > MAX_ID:
        raise MappingError("id too large (more than 64 bits)")
    seen: set[int] = set()
    for line in record.lines:
        if line.external_id in seen:
            raise MappingError(f"line id {line.external_id} appears twice in the order")
        seen.add(line.external_id)
        if max(line.external_id, line.product_external_id or 0, line.variation_external_id or 0) > (
            MAX_ID
        ):
            raise MappingError(f"line {line.external_id}: id too large (more than 64 bits)")
        if not 0 <= line.quantity <= MAX_QUANTITY:
            raise MappingError(f"line {line.external_id}: quantity {line.quantity} out of range")
    refund_ids = [refund.external_id for refund in record.refunds]
    if len(set(refund_ids)) != len(refund_ids):
        raise MappingError("a refund id appears twice in the order")
    if any(refund_id > MAX_ID for refund_id in refund_ids):
        raise MappingError("refund id too large (more than 64 bits)")
