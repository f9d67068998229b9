"""`aftercare demo [--store demo] [--customers 1500] [--seed 42] [--name "…"] [--anchor …]
[--no-flows] [--dry-run]`: a demo store with two years of believable history — and a "today"
that shows flows at work.

Creates the store when it does not exist (US dollars, New York time). The history ends at the
anchor — by default the store's creation time, to the hour — so running the command again, on
any day, rebuilds the same history and changes nothing. History never starts a flow, so then
(unless `--no-flows`) the usual presets are switched on and a few live orders are placed,
completed and refunded in the hours before the anchor (`demo.live_activity`): once the worker
runs, mails land in the outbox and steps wait in the queue. A second run adds no second
"today". Users are left to `aftercare createsuperuser` / the staff commands.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from aftercare.analytics import rebuild as analytics_rebuild
from aftercare.core import clock
from aftercare.core.errors import DomainError
from aftercare.demo import builder, live_activity
from aftercare.stores import services as store_services
from aftercare.stores.models import Store

DEFAULT_NAME = "Ember & Leaf Coffee Co."


def _to_the_hour(at: datetime) -> datetime:
    return at.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def _parse_anchor(raw: str) -> datetime:
    if raw == "now":
        return _to_the_hour(clock.now())
    try:
        parsed = datetime.fromisoformat(raw)
    except ValueError as exc:
        raise CommandError(f"--anchor: not an ISO date or time: {raw!r}") from exc
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


class _Bars:
    """tqdm bars per stage for `builder.Progress` (silent when stderr is not a terminal)."""

    def __init__(self) -> None:
        self.bars: dict[str, tqdm[Any]] = {}

    def __call__(self, *, stage: str, done: int, total: int) -> None:
        bar = self.bars.get(stage)
        if bar is None:
            bar = self.bars[stage] = tqdm(total=total, desc=stage, unit="", disable=None)
        bar.update(done - bar.n)

    def close(self) -> None:
        for bar in self.bars.values():
            bar.close()


class Command(BaseCommand):
    help = "Fill a store with two years of demo customers and orders (idempotent)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--store", default="demo", help="store slug (created if missing)")
        parser.add_argument("--customers", type=int, default=1500)
        parser.add_argument("--seed", type=int, default=42)
        parser.add_argument("--name", default=DEFAULT_NAME, help="name of a new store")
        parser.add_argument("--currency", default="USD", help="currency of a new store")
        parser.add_argument(
            "--time-zone", default="America/New_York", help="time zone of a new store"
        )
        parser.add_argument(
            "--anchor",
            help="when the history ends: ISO date/time (UTC unless given) or 'now' "
            "(default: the store's creation time, to the hour)",
        )
        parser.add_argument(
            "--no-flows",
            action="store_true",
            help="history only: switch no presets on and add no live orders today",
        )
        parser.add_argument("--dry-run", action="store_true", help="plan and count, write nothing")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["customers"] < 0:
            raise CommandError("--customers must not be negative")
        store = Store.objects.filter(slug=options["store"]).first()
        if store is not None and builder.has_shop_orders(store=store):
            raise CommandError(
                f"store {store.slug!r} holds orders from a shop; the demo only fills demo stores"
            )
        if options["dry_run"]:
            self._dry_run(store=store, options=options)
            return
        if store is None:
            try:
                store = store_services.create_store(
                    slug=options["store"],
                    name=options["name"],
                    currency=options["currency"],
                    time_zone=options["time_zone"],
                )
            except DomainError as exc:
                raise CommandError(str(exc)) from exc
            self.stdout.write(f"created store {store.slug} ({store.name})")
        anchor = self._anchor(store=store, options=options)
        planned = builder.marker(customers=options["customers"], seed=options["seed"], now=anchor)
        held = builder.existing_history(store=store)
        if held is not None and held != planned:
            raise CommandError(
                f"store {store.slug!r} already holds another demo history ({held}); "
                "run with those parameters or use another --store"
            )
        bars = _Bars()
        started = clock.now()
        try:
            summary = builder.build_demo_store(
                store=store,
                now=anchor,
                customers=options["customers"],
                seed=options["seed"],
                progress=bars,
            )
        finally:
            bars.close()
        seconds = (clock.now() - started).total_seconds()
        self._print(summary)
        if summary.unchanged:
            self.stdout.write(f"nothing to do: {store.slug} already holds this history")
        else:
            created = ", ".join(f"{n} {kind}" for kind, n in summary.created.items())
            self.stdout.write(f"created {created} in {seconds:.1f} s")
        analytics_rebuild.rebuild_store(store=store)  # the overview's figures, at once
        if not options["no_flows"]:
            today = live_activity.add_today(
                store=store, now=anchor, customers=options["customers"], seed=options["seed"]
            )
            self._print_today(today)

    def _anchor(self, *, store: Store, options: dict[str, Any]) -> datetime:
        if options["anchor"]:
            return _parse_anchor(options["anchor"])
        return _to_the_hour(store.created_at)

    def _dry_run(self, *, store: Store | None, options: dict[str, Any]) -> None:
        anchor = (
            _parse_anchor(options["anchor"])
            if options["anchor"]
            else _to_the_hour(store.created_at if store else clock.now())
        )
        currency = store.currency if store else options["currency"]
        plan = builder.plan_demo_store(
            customers=options["customers"], seed=options["seed"], now=anchor, currency=currency
        )
        self._print(builder.summarise(plan=plan, store=options["store"], seed=options["seed"]))
        if not options["no_flows"]:
            self.stdout.write(
                f"then:      presets {', '.join(live_activity.PRESETS)} switched on, and a few "
                "live orders today (--no-flows: none)"
            )
        self.stdout.write("dry run: nothing written")

    def _print_today(self, today: live_activity.Today) -> None:
        if not today.added:
            if today.placed or today.completed:
                self.stdout.write("today:     already there (presets and live orders added before)")
            return
        if today.presets:
            self.stdout.write(f"flows:     switched on {', '.join(today.presets)}")
        self.stdout.write(
            f"today:     {today.placed} orders placed, {today.completed} completed, "
            f"{today.refunded} refunded, as live events: the worker (aftercare serve) sends "
            "their mails and queues the later steps"
        )

    def _print(self, summary: builder.DemoSummary) -> None:
        statuses = ", ".join(f"{status} {n}" for status, n in summary.statuses.items())
        self.stdout.write(
            f"store {summary.store}: history to {summary.anchor:%Y-%m-%d %H:%M} UTC "
            f"(seed {summary.seed})\n"
            f"  catalogue: {summary.products} products, {summary.coupons} coupons\n"
            f"  customers: {summary.customers} ({summary.accounts} with accounts)\n"
            f"  orders:    {summary.orders} ({statuses})\n"
            f"  refunds:   {summary.partial_refunds} partial, {summary.full_refunds} full\n"
            f"  repeat:    {summary.one_time_share:.0%} bought once, "
            f"{summary.loyal} bought {builder.LOYAL_ORDERS}+ times"
        )
