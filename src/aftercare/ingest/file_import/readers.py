"""Reading an import file into chunks of raw orders, with line numbers and the bytes consumed
(for progress), without parsing them: parsing happens in `parsing`, possibly in a worker
process, so this side stays cheap.

    source = readers.open_source(path, file_format="ndjson")    # raises ImportFileError
    for chunk in source.chunks(orders_per_chunk=2000):
        chunk.items        # NDJSON: [(line, b"{…}\\n")]; CSV: [(order_id, [(line, row), …])]

NDJSON is read as bytes (json.loads takes bytes; no decode pass). CSV rows of one order may be
scattered through the file: a first pass finds the orders whose rows are not consecutive, and
the second pass holds only those orders' rows until their last row has been read, so a file
grouped by order streams in constant memory."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

from aftercare.ingest.file_import.errors import ImportErrorCode, ImportFileError
from aftercare.ingest.file_import.generic_columns import Columns, HeaderError

FORMATS = ("ndjson", "csv")
_EXTENSIONS = {".ndjson": "ndjson", ".jsonl": "ndjson", ".csv": "csv"}
_BUFFER = 1 << 20


@dataclass(slots=True)
class Rejection:
    """A row (or the rows of one order) that will not be imported, and why."""

    line: int
    reason: str
    rows: int = 1  # file rows it accounts for (a CSV order spans several)

    def as_json(self) -> dict[str, Any]:
        return {"line": self.line, "reason": self.reason}


@dataclass(slots=True)
class RawChunk:
    items: list[Any]
    rows: int  # data rows read for this chunk (its items + its rejections)
    end_offset: int  # bytes of the file consumed once this chunk was read
    rejections: list[Rejection] = field(default_factory=list)


def detect_format(path: Path, file_format: str | None) -> str:
    if file_format is not None:
        if file_format not in FORMATS:
            raise ImportFileError(
                f"unknown format {file_format!r} (use one of: {', '.join(FORMATS)})",
                code=ImportErrorCode.UNKNOWN_FORMAT,
            )
        return file_format
    detected = _EXTENSIONS.get(path.suffix.lower())
    if detected is None:
        raise ImportFileError(
            f"cannot tell the format of {path.name!r} from its extension (.ndjson, .jsonl or "
            ".csv); pass the format explicitly",
            code=ImportErrorCode.UNKNOWN_FORMAT,
        )
    return detected


class NdjsonSource:
    file_format = "ndjson"
    columns: Columns | None = None

    def __init__(self, path: Path) -> None:
        self.path = path
        self.size = path.stat().st_size

    def chunks(self, *, orders_per_chunk: int) -> Iterator[RawChunk]:
        items: list[tuple[int, bytes]] = []
        offset = 0
        with self.path.open("rb", buffering=_BUFFER) as handle:
            for number, raw in enumerate(handle, start=1):
                offset += len(raw)
                if raw.isspace():
                    continue
                items.append((number, raw))
                if len(items) >= orders_per_chunk:
                    yield RawChunk(items=items, rows=len(items), end_offset=offset)
                    items = []
        if items:
            yield RawChunk(items=items, rows=len(items), end_offset=offset)


def _records(handle: io.TextIOWrapper) -> Iterator[tuple[int, list[str] | None, str]]:
    """(first line, fields or None, error) per CSV record, skipping blank lines."""
    reader = csv.reader(handle)
    previous_end = 0
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            yield previous_end + 1, None, f"unreadable CSV: {exc}"
            previous_end = reader.line_num
            continue
        start, previous_end = previous_end + 1, reader.line_num
        if row:
            yield start, row, ""


class CsvSource:
    file_format = "csv"

    def __init__(self, path: Path) -> None:
        self.path = path
        self.size = path.stat().st_size
        with self._open() as handle:
            for _, row, _error in _records(handle):
                if row is None:
                    continue
                try:
                    self.columns = Columns.from_header(row)
                except HeaderError as exc:
                    raise ImportFileError(str(exc), code=ImportErrorCode.BAD_HEADER) from exc
                return
        raise ImportFileError(
            f"{path.name} is empty (a CSV import needs a header row)",
            code=ImportErrorCode.BAD_HEADER,
        )

    def _open(self) -> io.TextIOWrapper:
        # surrogateescape: a row with invalid UTF-8 is rejected on its own (generic_columns),
        # instead of a decode error ending the whole import.
        raw = self.path.open("rb", buffering=_BUFFER)
        return io.TextIOWrapper(raw, encoding="utf-8-sig", errors="surrogateescape", newline="")

    def _rows(self, handle: io.TextIOWrapper) -> Iterator[tuple[int, list[str] | None, str]]:
        records = _records(handle)
        next(records, None)  # the header
        return records

    def _order_id(self, row: list[str]) -> str:
        position = self.columns.index["order_id"]
        return row[position].strip() if position < len(row) else ""

    def _scattered(self) -> dict[str, int]:
        """order_id → line of its last row, for the orders whose rows are not consecutive."""
        finished: set[str] = set()
        scattered: dict[str, int] = {}
        current: str | None = None
        with self._open() as handle:
            for line, row, _error in self._rows(handle):
                order_id = self._order_id(row) if row is not None else ""
                if not order_id:
                    continue
                if order_id != current:
                    if current is not None:
                        finished.add(current)
                    current = order_id
                    if order_id in finished:
                        scattered[order_id] = line
                elif order_id in scattered:
                    scattered[order_id] = line
        return scattered

    def chunks(self, *, orders_per_chunk: int) -> Iterator[RawChunk]:
        scattered = self._scattered()
        held: dict[str, list[tuple[int, list[str]]]] = {}
        chunk = RawChunk(items=[], rows=0, end_offset=0)
        group_id: str | None = None
        group: list[tuple[int, list[str]]] = []
        with self._open() as handle:
            for line, row, error in self._rows(handle):
                chunk.rows += 1
                order_id = self._order_id(row) if row is not None else ""
                if row is None or not order_id:
                    reason = error or (
                        f"order_id is empty ({len(row)} columns, the header has "
                        f"{self.columns.width})"
                        if row is not None and len(row) != self.columns.width
                        else "order_id is empty"
                    )
                    chunk.rejections.append(Rejection(line=line, reason=reason))
                    continue
                if order_id in scattered:
                    held.setdefault(order_id, []).append((line, row))
                    if line == scattered[order_id]:
                        chunk.items.append((order_id, held.pop(order_id)))
                elif order_id == group_id:
                    group.append((line, row))
                else:
                    if group:
                        chunk.items.append((group_id, group))
                    group_id, group = order_id, [(line, row)]
                if len(chunk.items) >= orders_per_chunk:
                    chunk.end_offset = cast(io.BufferedReader, handle.buffer).tell()
                    yield chunk
                    chunk = RawChunk(items=[], rows=0, end_offset=0)
            if group:
                chunk.items.append((group_id, group))
            chunk.end_offset = self.size
        yield chunk


Source = NdjsonSource | CsvSource


def open_source(path: Path, *, file_format: str | None) -> Source:
    """Check that `path` can be imported at all; raises ImportFileError when it cannot."""
    if not path.is_file():
        raise ImportFileError(f"no such file: {path}", code=ImportErrorCode.FILE_NOT_FOUND)
    detected = detect_format(path, file_format)
    try:
        return NdjsonSource(path) if detected == "ndjson" else CsvSource(path)
    except OSError as exc:
        raise ImportFileError(f"cannot read {path}: {exc}") from exc
