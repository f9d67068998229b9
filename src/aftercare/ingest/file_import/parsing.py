"""Turning raw chunks into `OrderRecord`s and rejections — pure CPU work with no database, so it
can run in worker processes while the importing process writes the previous batch:

    for parsed in parsing.parsed_chunks(source.chunks(orders_per_chunk=2000),
                                        file_format="ndjson", columns=None, workers=1):
        parsed.records, parsed.rejections

With `workers=0` everything runs inline (small files, tests). Chunks come back in file order, so
batches land in file order and a crash leaves a prefix of the file imported. At most
`2 * workers + 1` chunks are in flight: memory stays bounded however large the file is."""

from __future__ import annotations

import copyreg
import io
import json
import multiprocessing
import pickle
from collections import deque
from collections.abc import Generator, Iterator
from dataclasses import dataclass, field, fields
from multiprocessing.pool import AsyncResult
from typing import Any

from aftercare.ingest import woo_records
from aftercare.ingest.file_import.checks import check_order
from aftercare.ingest.file_import.generic_columns import Columns, to_woo_order
from aftercare.ingest.file_import.readers import RawChunk, Rejection
from aftercare.ingest.woo_mapping import MappingError, parse_order
from aftercare.ingest.woo_records import OrderRecord

# A chunk parses in well under a second; a worker silent for this long has died (the pool
# replaces a dead worker but loses its task).
_WORKER_TIMEOUT = 600
# What garbage input can raise inside parse_order besides MappingError (e.g. int() of a dict in a
# refund line): one bad order must not end a million-row import, so these become rejections too.
_BAD_INPUT = (ValueError, TypeError, AttributeError, KeyError, ArithmeticError, RecursionError)


@dataclass(slots=True)
class ParsedChunk:
    records: list[OrderRecord] = field(default_factory=list)
    lines: list[int] = field(default_factory=list)  # first line of each record
    row_counts: list[int] = field(default_factory=list)  # file rows of each record
    rejections: list[Rejection] = field(default_factory=list)
    rows: int = 0
    end_offset: int = 0


def _json_reason(exc: Exception) -> str:
    if isinstance(exc, json.JSONDecodeError):
        return f"invalid JSON: {exc.msg} (column {exc.colno})"
    if isinstance(exc, UnicodeDecodeError):
        return "not valid UTF-8"
    return "invalid JSON: nested too deeply"


def _order(payload: Any) -> OrderRecord:
    if isinstance(payload, list):
        raise MappingError(
            "a JSON array, not an order object: put one order per line (jq -c '.[]' page.json)"
        )
    if not isinstance(payload, dict):
        raise MappingError(f"expected an order object, got {type(payload).__name__}")
    record = parse_order(payload)
    check_order(record, payload)
    return record


def _parse_ndjson(chunk: RawChunk, parsed: ParsedChunk) -> None:
    for line, raw in chunk.items:
        try:
            payload = json.loads(raw)
        except (ValueError, RecursionError) as exc:
            parsed.rejections.append(Rejection(line=line, reason=_json_reason(exc)))
            continue
        try:
            record = _order(payload)
        except _BAD_INPUT as exc:
            parsed.rejections.append(Rejection(line=line, reason=str(exc) or repr(exc)))
            continue
        parsed.records.append(record)
        parsed.lines.append(line)
        parsed.row_counts.append(1)


def _describe(order_id: str, lines: list[int]) -> str:
    if len(lines) == 1:
        return f"order {order_id}"
    if lines == list(range(lines[0], lines[0] + len(lines))):
        return f"order {order_id} (lines {lines[0]}-{lines[-1]})"
    return f"order {order_id} (lines {', '.join(map(str, lines))})"


def _parse_csv(chunk: RawChunk, parsed: ParsedChunk, columns: Columns) -> None:
    for order_id, rows in chunk.items:
        lines = [line for line, _ in rows]
        try:
            record = _order(to_woo_order(columns, rows))
        except _BAD_INPUT as exc:
            reason = f"{_describe(order_id, lines)}: {exc}"
            parsed.rejections.append(Rejection(line=lines[0], reason=reason, rows=len(rows)))
            continue
        parsed.records.append(record)
        parsed.lines.append(lines[0])
        parsed.row_counts.append(len(rows))


def parse_chunk(chunk: RawChunk, file_format: str, columns: Columns | None) -> ParsedChunk:
    """Parse one chunk. Positional arguments: it is sent to worker processes as is."""
    parsed = ParsedChunk(
        rejections=list(chunk.rejections), rows=chunk.rows, end_offset=chunk.end_offset
    )
    if file_format == "csv":
        assert columns is not None
        _parse_csv(chunk, parsed, columns)
    else:
        _parse_ndjson(chunk, parsed)
    parsed.rejections.sort(key=lambda rejection: rejection.line)
    return parsed


def _reducer(cls: type) -> Any:
    names = tuple(f.name for f in fields(cls))

    def reduce(record: Any) -> tuple[type, tuple[Any, ...]]:
        return cls, tuple([getattr(record, name) for name in names])

    return reduce


# The records go back to the importing process as `cls(*values)`: the default pickling of slots
# dataclasses runs Python-level __getstate__/__setstate__ field by field (measured: 80 µs per
# order to dump, 20 to load; with these 66 and 13). Set on our own Pickler only, not globally.
_DISPATCH: dict[type, Any] = {
    **copyreg.dispatch_table,
    **{
        cls: _reducer(cls)
        for cls in (
            woo_records.OrderRecord,
            woo_records.CustomerIdentity,
            woo_records.LineRecord,
            woo_records.RefundRecord,
            woo_records.RefundLineRecord,
        )
    },
    ParsedChunk: _reducer(ParsedChunk),
}


def parse_packed(chunk: RawChunk, file_format: str, columns: Columns | None) -> bytes:
    """`parse_chunk`, pickled for the trip back from a worker process."""
    buffer = io.BytesIO()
    pickler = pickle.Pickler(buffer, protocol=pickle.HIGHEST_PROTOCOL)
    pickler.dispatch_table = _DISPATCH
    pickler.dump(parse_chunk(chunk, file_format, columns))
    return buffer.getvalue()


def _unpack(packed: bytes) -> ParsedChunk:
    # Bytes our own forked worker just pickled, never anything read from outside.
    parsed: ParsedChunk = pickle.loads(packed)  # noqa: S301
    return parsed


def parsed_chunks(
    chunks: Iterator[RawChunk], *, file_format: str, columns: Columns | None, workers: int
) -> Generator[ParsedChunk, None, None]:
    """Parse `chunks` in order, inline or on `workers` processes. Close the generator (or let
    it finish) to stop the workers."""
    if workers <= 0 or "fork" not in multiprocessing.get_all_start_methods():
        for chunk in chunks:
            yield parse_chunk(chunk, file_format, columns)
        return
    # fork: the workers start in milliseconds with everything imported, and never re-run the
    # caller's __main__ (spawn and forkserver do, which breaks any script without a main guard).
    # They touch no database connection they inherit and leave through os._exit.
    context = multiprocessing.get_context("fork")
    with context.Pool(processes=workers) as pool:
        pending: deque[AsyncResult[bytes]] = deque()
        for chunk in chunks:
            pending.append(pool.apply_async(parse_packed, (chunk, file_format, columns)))
            if len(pending) > 2 * workers:
                yield _unpack(pending.popleft().get(timeout=_WORKER_TIMEOUT))
        while pending:
            yield _unpack(pending.popleft().get(timeout=_WORKER_TIMEOUT))
