"""Job handlers by kind, in the shape of Django's task API (`@task`, `.enqueue()`, `.call()`):

    from aftercare.jobs.registry import task

    @task(kind="ingest.fetch_order", max_attempts=5)
    def fetch_order(*, store_id: int, woo_id: int) -> None:
        ...  # idempotent: a job may run more than once (see docs/subsystems/jobs.md)

    fetch_order.enqueue(store_id=store.pk, woo_id=1001)         # a Job row, in your transaction
    fetch_order.enqueue(store_id=store.pk, woo_id=1001, delay=timedelta(minutes=5),
                        dedupe_key=f"fetch:{store.pk}:1001")
    fetch_order.call(store_id=store.pk, woo_id=1001)            # run inline (tests, shell)

Arguments are keyword-only and JSON-serialisable: they are stored in `Job.payload` and the
handler is called with them by a worker, maybe on another machine, maybe days later. `store_id`
is special: it is stored in its own column (queue views are per store) and passed back to the
handler as `store_id=`.

Handlers are looked up by `kind` when a job runs, never by import path, so code can move
without breaking queued jobs. Put them in `<app>/handlers.py`: `get()` imports those modules
of every installed app the first time it meets a kind it does not know.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ImproperlyConfigured
from django.utils.module_loading import autodiscover_modules

from aftercare.jobs.errors import UnknownJobKind

if TYPE_CHECKING:
    from aftercare.jobs.models import Job

Handler = Callable[..., object]

_tasks: dict[str, Task] = {}
_discovered = False


@dataclass(frozen=True)
class Task:
    """A registered handler. Mirrors `django.tasks.Task` closely enough to swap later."""

    kind: str
    func: Handler
    # None: settings.JOBS_MAX_ATTEMPTS at enqueue time.
    max_attempts: int | None = None

    @property
    def name(self) -> str:
        return self.func.__name__

    def enqueue(
        self,
        *,
        store_id: int | None = None,
        run_at: datetime | None = None,
        delay: timedelta | float | None = None,
        dedupe_key: str | None = None,
        **kwargs: Any,
    ) -> Job:
        """Write a Job row in the caller's transaction; see `services.enqueue`.

        With a `dedupe_key` that already has an unfinished job, that job is returned instead."""
        from aftercare.jobs import services  # services imports this module

        return services.enqueue(
            kind=self.kind,
            payload=kwargs,
            store_id=store_id,
            run_at=run_at,
            delay=delay,
            dedupe_key=dedupe_key,
            max_attempts=self.max_attempts,
        )

    def call(self, **kwargs: Any) -> object:
        """Run the handler here and now, without a Job row."""
        return self.func(**kwargs)


def task(*, kind: str, max_attempts: int | None = None) -> Callable[[Handler], Task]:
    """Register the decorated function as the handler of `kind` and return its `Task`."""
    if max_attempts is not None and max_attempts < 1:
        raise ImproperlyConfigured(f"task {kind!r}: max_attempts must be at least 1")

    def register(func: Handler) -> Task:
        existing = _tasks.get(kind)
        if existing is not None and _origin(existing.func) != _origin(func):
            # Two handlers for one kind would make which one runs depend on import order.
            raise ImproperlyConfigured(
                f"job kind {kind!r} is already handled by {_origin(existing.func)}"
            )
        registered = Task(kind=kind, func=func, max_attempts=max_attempts)
        _tasks[kind] = registered
        return registered

    return register


def get(kind: str) -> Task:
    """The task registered for `kind`; raises `UnknownJobKind`.

    On a miss, imports every installed app's `handlers` module once and looks again, so a worker
    (or an eager run) knows every handler without each app wiring itself up."""
    global _discovered  # noqa: PLW0603 - a once-per-process latch
    found = _tasks.get(kind)
    if found is None and not _discovered:
        _discovered = True
        autodiscover()
        found = _tasks.get(kind)
    if found is None:
        raise UnknownJobKind(kind=kind)
    return found


def autodiscover() -> None:
    """Import `<app>.handlers` for every installed app that has one."""
    autodiscover_modules("handlers")


def kinds() -> list[str]:
    return sorted(_tasks)


def unregister(kind: str) -> None:
    """For tests that register throwaway handlers."""
    _tasks.pop(kind, None)


def _origin(func: Handler) -> str:
    return f"{func.__module__}.{func.__qualname__}"
