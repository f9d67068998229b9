"""Store-scoped reads of exports."""

from __future__ import annotations

from aftercare.core.errors import NotFound
from aftercare.exports.models import Export
from aftercare.stores.models import Store


def recent_exports(*, store: Store, limit: int = 20) -> list[Export]:
    return list(
        Export.objects.filter(store=store)
        .select_related("requested_by")
        .order_by("-created_at", "-id")[:limit]
    )


def get_export(*, store: Store, export_id: int) -> Export:
    export = Export.objects.filter(store=store, pk=export_id).first()
    if export is None:
        raise NotFound(f"no export {export_id} in this store")
    return export
