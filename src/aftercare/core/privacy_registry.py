"""Who holds personal data, and how to export or erase it: the parts of a GDPR request.

    from aftercare.core import privacy_registry

    def export_points(*, store, customer_ids, email):      # JSON-serialisable data
        return [{"delta": e.delta, ...} for e in LedgerEntry.objects.filter(...)]

    def erase_points(*, store, customer_ids, email):       # {what: rows changed}
        return {"ledger_notes": LedgerEntry.objects.filter(...).update(note="")}

    privacy_registry.register_exporter("loyalty", export_points)
    privacy_registry.register_eraser("loyalty", erase_points)

Every module that keeps something about a person (messaging, loyalty, reviews, help desk…)
registers its own exporter and eraser in its `AppConfig.ready()`, so `aftercare.privacy` never
needs to know them; the built-in parts (customers, orders, events, webhook deliveries, shop
reviews, analytics) are registered the same way by `aftercare.privacy`.

Arguments are keyword-only: `store` (the Store), `customer_ids` (the ids of every customer row
with that email, registered or guest, found *before* anything was erased) and `email` (the
normalised address). Erasers run inside the erasure's transaction, lowest `order` first; the
built-in customer eraser runs last (order 1000) because it rewrites the email the others may
still search for. An eraser must be idempotent: a second erasure of the same person finds
nothing and changes nothing. It anonymises, it does not delete rows that aggregates count.

This module sits in `core` (the lowest layer) so any app may register without importing
`privacy`; hence `store` is typed loosely here.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

Exporter = Callable[..., Any]  # (*, store, customer_ids, email) -> JSON-serialisable data
Eraser = Callable[..., Mapping[str, int]]  # (*, store, customer_ids, email) -> {what: rows}


@dataclass(frozen=True)
class Part:
    name: str
    func: Callable[..., Any]
    order: int


_exporters: dict[str, Part] = {}
_erasers: dict[str, Part] = {}


def register_exporter(name: str, func: Exporter, *, order: int = 100) -> None:
    """Add (or replace, by `name`) an exporter; its data appears under `name` in the export."""
    _exporters[name] = Part(name=name, func=func, order=order)


def register_eraser(name: str, func: Eraser, *, order: int = 100) -> None:
    """Add (or replace, by `name`) an eraser; its counts appear under `name` in the record."""
    _erasers[name] = Part(name=name, func=func, order=order)


def exporters() -> list[Part]:
    return sorted(_exporters.values(), key=lambda part: (part.order, part.name))


def erasers() -> list[Part]:
    return sorted(_erasers.values(), key=lambda part: (part.order, part.name))
