"""Pulling a store from WooCommerce's REST API into the mirror: the first full sync, and the
periodic reconcile that catches what webhooks missed.

    run = sync.sync_store(store=store)                               # everything (backfill)
    run = sync.sync_store(store=store, since=yesterday, resources=("orders",))
    sync.reconcile_store(store=store)                                # from the watermarks
    sync.reconcile_all_stores()                                      # the worker's schedule

Pages are fetched concurrently (`WooClient.list_pages`) and applied here, one at a time, as they
arrive. Each page is applied and recorded in `SyncRun.checkpoint` in one transaction, so a run
that fails or is killed resumes with the pages it had not applied, and no page is applied twice.

Why the watermark has an overlap: with concurrent pages, an object created or modified while the
run is under way may land on a page already fetched. At the end of a successful run each
resource's watermark becomes the run's start minus `SAFETY_OVERLAP`, and the next reconcile asks
for everything modified after it; the mirror ignores what it already has (newest wins).

What WooCommerce can filter by modification date: orders, products and coupons
(`modified_after`, WC_REST_CRUD_Controller). Customers and reviews cannot: an incremental sync
pulls customers registered since the watermark and reviews posted since it; profile edits and
moderation changes arrive by webhook (customers) or by the next full sync.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from django.db import transaction

from aftercare.core import clock
from aftercare.core.errors import Conflict, DomainError, InvalidInput
from aftercare.ingest import mirror, woo_mapping
from aftercare.ingest.models import SyncRun, SyncStatus, SyncWatermark
from aftercare.stores import connection
from aftercare.stores.models import Store, WooConnection
from aftercare.stores.woo.client import WooClient
from aftercare.stores.woo.pages import Page

logger = logging.getLogger(__name__)

RESOURCES = ("customers", "products", "orders", "coupons", "reviews")
SAFETY_OVERLAP = timedelta(minutes=10)
STALE_AFTER = timedelta(minutes=10)  # a running run without a page applied for this long died
MAX_REJECTIONS = 200  # bad objects listed in SyncRun.counts (all are counted)
HEARTBEAT = "_heartbeat"

Progress = Callable[[str, int, int | None], None]


class SyncErrorCode(StrEnum):
    ALREADY_RUNNING = "sync_already_running"
    UNKNOWN_RESOURCE = "sync_unknown_resource"


@dataclass(frozen=True)
class _Resource:
    route: str
    parse: Callable[[dict[str, Any]], Any]
    apply: Callable[..., Any]
    filter: str  # how "since" is asked for: modified_after | registered | after


def _resources() -> dict[str, _Resource]:
    return {
        "customers": _Resource(
            "customers", woo_mapping.parse_customer, mirror.apply_customers, "registered"
        ),
        "products": _Resource(
            "products", woo_mapping.parse_product, mirror.apply_products, "modified_after"
        ),
        "orders": _Resource("orders", woo_mapping.parse_order, _apply_orders, "modified_after"),
        "coupons": _Resource(
            "coupons", woo_mapping.parse_coupon, mirror.apply_coupons, "modified_after"
        ),
        "reviews": _Resource(
            "products/reviews", woo_mapping.parse_review, mirror.apply_reviews, "after"
        ),
    }


def _apply_orders(*, store: Store, records: list[Any], backfill: bool) -> Any:
    return mirror.apply_orders(
        store=store, records=records, source="woocommerce", backfill=backfill
    )


def sync_store(
    *,
    store: Store,
    since: datetime | None = None,
    resources: Sequence[str] = RESOURCES,
    progress: Progress | None = None,
) -> SyncRun:
    """Pull `resources` (modified after `since`, or everything) into the mirror.

    Resumes the store's last failed or dead run when it asked for the same `since`. Raises
    Conflict while another run of the store is alive, and re-raises whatever stopped the run
    (usually a WooError) after marking it failed. `backfill` (no flows for history) is on when
    `since` is None. Does network I/O: call it from a job or a command, not from a request."""
    unknown = sorted(set(resources) - set(RESOURCES))
    if unknown:
        raise InvalidInput(
            f"unknown resources {', '.join(unknown)}; choose from {', '.join(RESOURCES)}",
            code=SyncErrorCode.UNKNOWN_RESOURCE,
        )
    ordered = [name for name in RESOURCES if name in resources]
    run = _claim_run(store=store, since=since)
    specs = _resources()
    try:
        with connection.client_for_store(store=store) as woo:
            woo.discover()
            for name in ordered:
                if not run.checkpoint.get(name, {}).get("done"):
                    _sync_resource(run=run, woo=woo, name=name, spec=specs[name], progress=progress)
    except BaseException as exc:  # also Ctrl-C: mark it failed so the next call resumes at once
        error = str(exc) if isinstance(exc, DomainError) else f"{type(exc).__name__}: {exc}"
        SyncRun.objects.filter(pk=run.pk).update(status=SyncStatus.FAILED, error=error)
        run.status, run.error = SyncStatus.FAILED, error
        raise
    _finish(run=run, resources=ordered)
    return run


def _claim_run(*, store: Store, since: datetime | None) -> SyncRun:
    """The run to work on: the last one if it failed or died with the same `since`, else new.
    The store row lock makes two concurrent calls agree on one answer."""
    now = clock.now()
    with transaction.atomic():
        Store.objects.select_for_update().filter(pk=store.pk).first()
        latest = SyncRun.objects.filter(store=store).order_by("-pk").first()
        if latest is not None and latest.status == SyncStatus.RUNNING:
            beat = latest.checkpoint.get(HEARTBEAT)
            last_sign_of_life = datetime.fromisoformat(beat) if beat else latest.started_at
            if now - last_sign_of_life < STALE_AFTER:
                raise Conflict(
                    f"A sync of {store.slug} is already running (started "
                    f"{latest.started_at:%Y-%m-%d %H:%M} UTC). Wait for it to finish.",
                    code=SyncErrorCode.ALREADY_RUNNING,
                )
        if latest is not None and latest.status != SyncStatus.SUCCEEDED and latest.since == since:
            logger.info("store %s: resuming sync run %s", store.slug, latest.pk)
            latest.status, latest.error = SyncStatus.RUNNING, ""
            latest.checkpoint[HEARTBEAT] = now.isoformat()
            latest.save(update_fields=["status", "error", "checkpoint"])
            return latest
        if latest is not None and latest.status == SyncStatus.RUNNING:  # dead, other `since`
            latest.status, latest.error = SyncStatus.FAILED, "abandoned: its process stopped"
            latest.save(update_fields=["status", "error"])
        return SyncRun.objects.create(
            store=store,
            since=since,
            status=SyncStatus.RUNNING,
            started_at=now,
            checkpoint={HEARTBEAT: now.isoformat()},
            counts={},
        )


def _pages(
    *, woo: WooClient, name: str, spec: _Resource, since: datetime | None, done: set[int]
) -> Iterator[Page]:
    # Refund details ride along with their page, fetched by the worker that fetched it.
    enrich = (lambda page: _refunds(woo=woo, items=page.items)) if name == "orders" else None
    if since is None:  # a full listing is usually long: ask for the first round at once
        return woo.list_pages(spec.route, skip=done, prefetch=woo.concurrency, enrich=enrich)
    if spec.filter == "modified_after":
        return woo.list_pages(spec.route, since=since, skip=done, enrich=enrich)
    if spec.filter == "after":
        query = {"after": since.strftime("%Y-%m-%dT%H:%M:%S"), "dates_are_gmt": "true"}
        return woo.list_pages(spec.route, query, skip=done, enrich=enrich)
    return _registered_since(woo=woo, route=spec.route, since=since)


def _registered_since(*, woo: WooClient, route: str, since: datetime) -> Iterator[Page]:
    """Customers have no modified filter: walk the newest registrations until one is older than
    `since`. Sequential and not skippable on resume (newer sign-ups shift the pages)."""
    query = {"orderby": "registered_date", "order": "desc", "per_page": 100}
    number = 1
    while True:
        page = woo.get_page(route, query, number)
        fresh = [o for o in page.items if _created_after(o, since)]
        yield Page(number=number, items=fresh, total=None, total_pages=None)
        if len(fresh) < len(page.items) or len(page.items) < 100:
            return
        number += 1


def _created_after(obj: dict[str, Any], since: datetime) -> bool:
    created = clock.parse_gmt(obj.get("date_created_gmt"))
    return created is None or created > since


def _sync_resource(
    *, run: SyncRun, woo: WooClient, name: str, spec: _Resource, progress: Progress | None
) -> None:
    state = run.checkpoint.setdefault(name, {"pages_done": [], "total_pages": None, "done": False})
    counts = run.counts.setdefault(
        name, {"created": 0, "updated": 0, "unchanged": 0, "stale": 0, "rejected": 0}
    )
    skippable = run.since is None or spec.filter != "registered"
    done = set(state["pages_done"]) if skippable else set()
    if not skippable:  # starts over: newer sign-ups shift its pages
        state["pages_done"], state["items_done"] = [], 0
    backfill = run.since is None
    for page in _pages(woo=woo, name=name, spec=spec, since=run.since, done=done):
        records, rejected = _parse(spec=spec, items=page.items)
        refunds: dict[int, list[Any]] = page.extra or {}
        with transaction.atomic():
            result = spec.apply(store=run.store, records=records, backfill=backfill)
            for order_id, refund_records in refunds.items():
                mirror.apply_refund_details(
                    store=run.store, order_external_id=order_id, refunds=refund_records
                )
            for outcome in ("created", "updated", "unchanged", "stale"):
                counts[outcome] += int(getattr(result, outcome, 0) or 0)
            _reject(run=run, name=name, counts=counts, rejected=rejected)
            state["pages_done"] = sorted({*state["pages_done"], page.number})
            if page.total_pages is not None:
                state["total_pages"] = page.total_pages
            if page.total is not None:
                state["total"] = page.total
            state["items_done"] = state.get("items_done", 0) + len(page.items)
            run.checkpoint[HEARTBEAT] = clock.now().isoformat()
            run.save(update_fields=["checkpoint", "counts"])
        if progress is not None:
            progress(name, state["items_done"], state.get("total"))
    state["done"] = True
    run.save(update_fields=["checkpoint"])


def _parse(
    *, spec: _Resource, items: Iterable[dict[str, Any]]
) -> tuple[list[Any], list[dict[str, Any]]]:
    """Parse a page; an object the mapping cannot read is set aside, the others still apply."""
    records: list[Any] = []
    rejected: list[dict[str, Any]] = []
    for obj in items:
        try:
            records.append(spec.parse(obj))
        except woo_mapping.MappingError as exc:
            rejected.append({"id": obj.get("id"), "reason": str(exc)})
    return records, rejected


def _refunds(*, woo: WooClient, items: list[dict[str, Any]]) -> dict[int, list[Any]]:
    """Refund details for the orders of a page that have any (the order only carries a summary).
    Runs in the pool worker that fetched the page, one GET after another: asking the pool from
    inside the pool could wait on itself."""
    details: dict[int, list[Any]] = {}
    for order in items:
        order_id = order.get("id")
        if not order.get("refunds") or not isinstance(order_id, int):
            continue
        parsed = []
        for refund in woo.get(f"orders/{order_id}/refunds", {"per_page": 100}) or []:
            try:
                parsed.append(woo_mapping.parse_refund(refund))
            except woo_mapping.MappingError as exc:
                logger.warning("order %s refund %s: %s", order_id, refund.get("id"), exc)
        details[order_id] = parsed
    return details


def _reject(
    *, run: SyncRun, name: str, counts: dict[str, int], rejected: list[dict[str, Any]]
) -> None:
    if not rejected:
        return
    counts["rejected"] += len(rejected)
    listed: list[dict[str, Any]] = run.counts.setdefault("rejected_objects", [])
    room = MAX_REJECTIONS - len(listed)
    listed.extend({"resource": name, **bad} for bad in rejected[: max(room, 0)])
    total = sum(c.get("rejected", 0) for c in run.counts.values() if isinstance(c, dict))
    run.error = f"{total} objects could not be read; see counts['rejected_objects']"
    run.save(update_fields=["error"])


def _finish(*, run: SyncRun, resources: Sequence[str]) -> None:
    now = clock.now()
    watermark = run.started_at - SAFETY_OVERLAP
    with transaction.atomic():
        run.status, run.finished_at = SyncStatus.SUCCEEDED, now
        run.checkpoint.pop(HEARTBEAT, None)
        run.save(update_fields=["status", "finished_at", "checkpoint"])
        for resource in resources:
            mark, created = SyncWatermark.objects.select_for_update().get_or_create(
                store=run.store, resource=resource, defaults={"synced_until": watermark}
            )
            if not created and mark.synced_until < watermark:
                mark.synced_until = watermark
                mark.save(update_fields=["synced_until"])
        WooConnection.objects.filter(store=run.store).update(last_checked_at=now, last_error="")


def reconcile_store(*, store: Store) -> SyncRun | None:
    """The periodic catch-up: pull everything modified since the watermarks (a full sync if one
    has never completed), which catches the deliveries WooCommerce dropped. Returns None when
    another sync of the store is still running. (The reconcile job also re-activates disabled
    webhooks: `stores.connection.reactivate_disabled_webhooks`.)"""
    marks = dict(SyncWatermark.objects.filter(store=store).values_list("resource", "synced_until"))
    since = min(marks[r] for r in RESOURCES) if all(r in marks for r in RESOURCES) else None
    try:
        return sync_store(store=store, since=since)
    except Conflict:
        logger.info("store %s: a sync is already running; reconcile skipped", store.slug)
        return None


def reconcile_all_stores() -> dict[str, str]:
    """Reconcile every connected store, one after another; one shop failing does not stop the
    others. Returns {slug: "ok" | "skipped" | "<error code>: <message>"} for the job's log."""
    outcomes: dict[str, str] = {}
    for store in Store.objects.filter(woo__isnull=False).order_by("pk"):
        try:
            run = reconcile_store(store=store)
            connection.reactivate_disabled_webhooks(store=store)
        except Exception as exc:  # one shop (or one bug) must not stop the others
            code = exc.code if isinstance(exc, DomainError) else type(exc).__name__
            WooConnection.objects.filter(store=store).update(
                last_checked_at=clock.now(), last_error=str(exc)
            )
            outcomes[store.slug] = f"{code}: {exc}"
            logger.warning("store %s: reconcile failed: %s", store.slug, exc, exc_info=True)
            continue
        outcomes[store.slug] = "skipped" if run is None else "ok"
    return outcomes
