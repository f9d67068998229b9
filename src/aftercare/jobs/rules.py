"""Pure rules of the job layer (no ORM): backoff, due times, payload and error text.

rules.retry_delay(attempts=3)                        # ~40 s, ±10 %
rules.due_time(now=now, run_at=None, delay=300)      # now + 5 min
rules.checked_payload(kind="x.y", payload={"id": 1})
"""

from __future__ import annotations

import hashlib
import json
import random
from datetime import datetime, timedelta
from typing import Any

BACKOFF_BASE_SECONDS = 10
BACKOFF_CAP_SECONDS = 3600
ERROR_MAX_CHARS = 2000

_jitter = random.SystemRandom()


def retry_delay(*, attempts: int, rand: random.Random | None = None) -> timedelta:
    """Wait before retrying after `attempts` failed tries: 10 s, 20 s, 40 s … capped at 1 h,
    with ±10 % jitter so jobs that failed together (an outage) do not retry in lockstep."""
    base = min(BACKOFF_CAP_SECONDS, BACKOFF_BASE_SECONDS * 2 ** (max(attempts, 1) - 1))
    return timedelta(seconds=base * (rand or _jitter).uniform(0.9, 1.1))


def describe_error(error: BaseException) -> str:
    """Type and message, for the attempt row and the admin: never the payload or locals,
    which may hold personal data or credentials."""
    cls = type(error)
    name = cls.__qualname__ if cls.__module__ == "builtins" else f"{cls.__module__}.{cls.__name__}"
    text = f"{name}: {error}" if str(error) else name
    return text[:ERROR_MAX_CHARS]


def due_time(
    *, now: datetime, run_at: datetime | None, delay: timedelta | float | None
) -> datetime:
    """When a new job is due: `run_at`, or now + `delay` (seconds or a timedelta), or now."""
    if run_at is not None and delay is not None:
        raise TypeError("pass run_at or delay, not both")
    if run_at is not None:
        if run_at.tzinfo is None:
            raise TypeError("run_at must be timezone-aware")
        return run_at
    if delay is None:
        return now
    return now + (delay if isinstance(delay, timedelta) else timedelta(seconds=delay))


def checked_payload(*, kind: str, payload: dict[str, Any] | None) -> dict[str, Any]:
    """A copy of `payload`, refused if it would not survive the JSON column unchanged: the
    handler must get exactly what the caller passed, days later, in another process."""
    payload = dict(payload or {})
    if "store_id" in payload:
        raise TypeError(f"job {kind!r}: pass store_id as the job's store_id, not in the payload")
    try:
        round_trip = json.loads(json.dumps(payload, allow_nan=False))
    except (TypeError, ValueError) as exc:
        raise TypeError(f"job {kind!r}: the payload must be JSON-serialisable ({exc})") from exc
    if round_trip != payload:
        raise TypeError(f"job {kind!r}: the payload changes through JSON (tuples, non-str keys?)")
    return payload


def advisory_lock_id(key: str) -> int:
    """A stable signed 64-bit number for `pg_advisory_xact_lock` (hash() is salted per process)."""
    return int.from_bytes(hashlib.blake2b(key.encode(), digest_size=8).digest(), signed=True)
