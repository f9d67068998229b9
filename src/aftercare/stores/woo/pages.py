"""Pages of a WooCommerce collection and the sliding window that fetches them concurrently.

    pages = fetch_concurrently(
        submit=lambda n: pool.submit(get_page, n), numbers=iter(range(2, 10)), window=8
    )
    for page in pages:
        apply(page.items)

Why a window instead of submitting every page at once: the caller applies pages to the database
in one thread; if the shop is faster than the database, unbounded submission would hold the
whole store in memory. At most `window` pages are in flight or waiting to be applied.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, wait
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Page:
    number: int  # 1-based, as WooCommerce counts
    items: list[dict[str, Any]]
    total: int | None  # X-WP-Total (None if a proxy stripped it)
    total_pages: int | None  # X-WP-TotalPages
    extra: Any = None  # what list_pages(enrich=…) fetched for this page, in the same worker

    def __iter__(self) -> Iterator[Any]:
        """`for number, items in client.list_pages(...)` works too."""
        return iter((self.number, self.items))


def fetch_concurrently(
    *, submit: Callable[[int], Future[Page]], numbers: Iterator[int], window: int
) -> Iterator[Page]:
    """Yield pages in the order they complete. A failed page raises (after the client's own
    retries) once it is reached; the pages still in flight are then cancelled."""
    pending: set[Future[Page]] = set()

    def refill() -> None:
        while len(pending) < window:
            number = next(numbers, None)
            if number is None:
                return
            pending.add(submit(number))

    try:
        refill()
        while pending:
            done, _ = wait(pending, return_when=FIRST_COMPLETED)
            pending.difference_update(done)
            refill()  # keep the shop busy while the caller applies what arrived
            for future in done:
                if future.exception() is not None:
                    future.result()  # raises the page's WooError
            for future in sorted(done, key=lambda f: f.result().number):
                yield future.result()
    finally:
        for future in pending:
            future.cancel()
