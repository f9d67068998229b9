"""Writing many rows without building model instances: one statement per call.

    insert_rows(model=LineItem, rows=[{"order_id": 7, "external_id": 1, "name": "Mug", …}, …])
    insert_tuples(model=LineItem, columns=("order_id", "external_id", …), rows=[(7, 1, …), …])
    ids = insert_returning(model=Order, columns=(…, "external_id", …), rows=…, key="external_id")
    insert_instance(message)            # one unsaved instance, INSERT … RETURNING its id
    new = insert_or_skip(model=FlowRun, columns=…, rows=…, conflict=("flow_id", "subject_key"),
                         returning=("id", "flow_id", "subject_key"))
    update_rows(model=Order, fields=["status", "total"], rows=[{"id": 7, "status": …}, …])

Django's `bulk_create` spends ~90 % of its time compiling SQL value by value (measured on the
order mirror: 7.7 s of 9.4 s for 2,000 orders). Here the statement is built once per model and
column set, and only the values the driver cannot take as they are get adapted in Python
(SQLite: aware datetimes → naive UTC text, JSON → text; PostgreSQL: JSON → text). Only for plain
rows: no signals, no `save()`. Columns not given take the field's default (computed once per
call; "" for blank text fields, None for nullable ones); `auto_now`/`auto_now_add` columns take
the current time; any other missing column is a KeyError.

On PostgreSQL, calls of `COPY_MIN_ROWS` rows or more go through `COPY … FROM STDIN` (psycopg's
`cursor.copy()`), several times faster than `executemany` for the mirror's batches; smaller ones
use `executemany`. `insert_returning` hands out the ids first (`nextval` of the table's
sequence, one round trip) so it can COPY too; on SQLite it uses `INSERT … RETURNING`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime
from functools import cache
from operator import itemgetter
from typing import Any

from django.db import connection, models
from django.db.models.fields import AutoFieldMixin
from django.utils import timezone

_Adapter = Callable[[Any], Any]
# PostgreSQL: from this many rows on, COPY instead of executemany. The bare ceiling writes the
# same 100k orders' rows in 12.8 s with COPY vs 25.9 s with executemany (bench/README.md); below
# a few dozen rows the difference is lost in round trips.
COPY_MIN_ROWS = 50
# SQLite: at most this many bound values per INSERT … RETURNING statement (SQLite ≥ 3.32 allows
# 32,766).
_SQLITE_MAX_VALUES = 30_000


def _sqlite_datetime(v: datetime) -> str:
    # Django keeps aware datetimes in SQLite as naive UTC text ("YYYY-MM-DD HH:MM:SS.ffffff").
    if v.tzinfo is not UTC:
        v = v.astimezone(UTC)
    return v.replace(tzinfo=None).isoformat(" ")


def _adapter(field: models.Field, vendor: str) -> _Adapter | None:  # type: ignore[type-arg]
    """How a non-None value of `field` is passed to the driver; None when it goes as it is
    (sqlite3 takes Decimal, date and bool through Django's registered adapters; psycopg takes
    everything but dicts and lists)."""
    if isinstance(field, models.JSONField):
        if field.encoder is None:
            return json.dumps
        # One encoder for every value: json.dumps(cls=…) would build a new one per call.
        return field.encoder().encode
    if vendor == "sqlite" and isinstance(field, models.DateTimeField):
        return _sqlite_datetime
    return None


def _none() -> None:
    return None


def _empty() -> str:
    return ""


@cache
def _columns(
    model: type[models.Model],
) -> dict[str, tuple[models.Field, Callable[[], Any] | None]]:  # type: ignore[type-arg]
    """attname → (field, default maker or None when required), without an auto primary key."""
    out: dict[str, tuple[models.Field, Callable[[], Any] | None]] = {}  # type: ignore[type-arg]
    for field in model._meta.concrete_fields:
        if field.primary_key and isinstance(field, AutoFieldMixin):
            continue
        if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
            default: Callable[[], Any] | None = timezone.now
        elif field.has_default():
            default = field.get_default
        elif field.null:
            default = _none
        elif field.blank and field.empty_strings_allowed:
            default = _empty
        else:
            default = None  # required: a missing value is a KeyError, on purpose
        out[field.attname] = (field, default)
    return out


class _Plan:
    """An INSERT for one model, vendor and set of given columns; the other columns get their
    defaults."""

    def __init__(self, model: type[models.Model], vendor: str, given: tuple[str, ...]) -> None:
        known = _columns(model)
        pk = model._meta.pk
        assert pk is not None
        self.fields = {**known, pk.attname: (pk, None)}
        unknown = [name for name in given if name not in self.fields]
        if unknown:
            raise KeyError(f"{model.__name__} has no column {', '.join(unknown)}")
        self.given = given
        self.missing = [(name, make) for name, (_, make) in known.items() if name not in given]
        required = [name for name, default in self.missing if default is None]
        if required:
            raise KeyError(f"{', '.join(required)} is required")
        names = [*given, *(name for name, _ in self.missing)]
        self.names = tuple(names)
        self.adapters = [
            (index, adapt)
            for index, name in enumerate(names)
            if (adapt := _adapter(self.fields[name][0], vendor)) is not None
        ]
        quote = connection.ops.quote_name
        self.table = quote(model._meta.db_table)
        self.column_sql = ", ".join(quote(self.fields[name][0].column) for name in names)
        self.pk_column = quote(pk.column)
        placeholders = ", ".join(["%s"] * len(names))
        self.row_sql = f"({placeholders})"
        # Identifiers come from the model's own metadata, quoted; values are parameters.
        self.sql = f"INSERT INTO {self.table} ({self.column_sql}) VALUES {self.row_sql}"  # noqa: S608

    def values(self, rows: Iterable[Sequence[Any]]) -> list[Sequence[Any]]:
        """The rows with defaults appended and values adapted for the driver."""
        tail = tuple(default() for _, default in self.missing)  # type: ignore[misc]
        adapters = self.adapters
        if not adapters:
            return [(*row, *tail) if tail else row for row in rows]
        out: list[Sequence[Any]] = []
        for row in rows:
            values = [*row, *tail]
            for index, adapt in adapters:
                value = values[index]
                if value is not None:
                    values[index] = adapt(value)
            out.append(values)
        return out


@cache
def _plan(model: type[models.Model], vendor: str, given: tuple[str, ...]) -> _Plan:
    return _Plan(model, vendor, given)


def _write(plan: _Plan, values: list[Sequence[Any]]) -> None:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql" and len(values) >= COPY_MIN_ROWS:
            statement = f"COPY {plan.table} ({plan.column_sql}) FROM STDIN"
            with cursor.cursor.copy(statement) as copy:
                for row in values:
                    copy.write_row(row)
        else:
            cursor.executemany(plan.sql, values)


def insert_tuples(
    *, model: type[models.Model], columns: Sequence[str], rows: Sequence[Sequence[Any]]
) -> int:
    """Insert `rows` (tuples of values in the order of `columns`, attribute names such as
    `order_id`) into `model`'s table in the current transaction. Returns how many rows."""
    if not rows:
        return 0
    plan = _plan(model, connection.vendor, tuple(columns))
    _write(plan, plan.values(rows))
    return len(rows)


def insert_rows(*, model: type[models.Model], rows: Iterable[Mapping[str, Any]]) -> int:
    """Insert `rows` (dicts keyed by attribute name, e.g. `order_id`) into `model`'s table in the
    current transaction. All rows must have the same keys. Returns how many rows were written."""
    rows = list(rows)
    if not rows:
        return 0
    columns = tuple(rows[0])
    getter = itemgetter(*columns)
    if len(columns) == 1:
        return insert_tuples(model=model, columns=columns, rows=[(getter(r),) for r in rows])
    return insert_tuples(model=model, columns=columns, rows=[getter(r) for r in rows])


def insert_returning(
    *, model: type[models.Model], columns: Sequence[str], rows: Sequence[Sequence[Any]], key: str
) -> dict[Any, int]:
    """`insert_tuples`, returning {value of column `key`: new primary key}. `key` must be unique
    among `rows` (e.g. an order's external id within its store)."""
    position = list(columns).index(key)
    ids = insert_returning_ids(model=model, columns=columns, rows=rows)
    found = {row[position]: pk for row, pk in zip(rows, ids, strict=True)}
    if len(found) != len(rows):
        raise ValueError(f"{key} is not unique among the rows")
    return found


def insert_returning_ids(
    *, model: type[models.Model], columns: Sequence[str], rows: Sequence[Sequence[Any]]
) -> list[int]:
    """`insert_tuples`, returning the new primary keys in the order of `rows`.

    PostgreSQL: the ids are drawn from the table's sequence first (`nextval`, one round trip),
    then the rows are written with them (COPY for big calls). SQLite: `INSERT … RETURNING`, whose
    rows come back in insertion order for a plain multi-row VALUES (Django's `bulk_create`
    relies on the same)."""
    if not rows:
        return []
    pk = model._meta.pk
    assert pk is not None
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
                [model._meta.db_table, pk.column, len(rows)],
            )
            ids = [pk_value for (pk_value,) in cursor.fetchall()]
        plan = _plan(model, connection.vendor, (pk.attname, *columns))
        _write(plan, plan.values((pk_value, *row) for pk_value, row in zip(ids, rows, strict=True)))
        return ids
    plan = _plan(model, connection.vendor, tuple(columns))
    values = plan.values(rows)
    per_statement = max(1, _SQLITE_MAX_VALUES // len(plan.names))
    ids = []
    with connection.cursor() as cursor:
        for start in range(0, len(values), per_statement):
            chunk = values[start : start + per_statement]
            sql = (
                f"INSERT INTO {plan.table} ({plan.column_sql}) VALUES "  # noqa: S608 - see _Plan
                f"{', '.join([plan.row_sql] * len(chunk))} RETURNING {plan.pk_column}"
            )
            cursor.execute(sql, [value for row in chunk for value in row])
            ids.extend(pk_value for (pk_value,) in cursor.fetchall())
    return ids


def insert_instance(instance: models.Model) -> int:
    """Insert one unsaved instance — every concrete column as `save()` would store it, but an
    auto primary key — with `INSERT … RETURNING` its new key, set on the instance. What
    `save(force_insert=True)` does for a plain row, without signals and with the statement
    built once per model (the outbox writes one message per mail: ~1 ms through the ORM)."""
    model = type(instance)
    known = _columns(model)
    columns = tuple(known)
    plan = _plan(model, connection.vendor, columns)
    # pre_save: what save() would store (auto_now fields take the current time).
    row = tuple(known[name][0].pre_save(instance, True) for name in columns)
    (values,) = plan.values([row])
    with connection.cursor() as cursor:
        cursor.execute(f"{plan.sql} RETURNING {plan.pk_column}", values)
        (pk,) = cursor.fetchone()
    instance.pk = pk
    instance._state.adding = False
    instance._state.db = connection.alias
    return int(pk)


def _array_type(field: models.Field) -> str:  # type: ignore[type-arg]
    """The PostgreSQL array type of `field`'s values, without a length or precision: an explicit
    cast to varchar(n) would truncate silently, where the INSERT's own cast raises."""
    base = str(field.db_type(connection)).split("(")[0].strip()
    return f"{base}[]"


def insert_or_skip(
    *,
    model: type[models.Model],
    columns: Sequence[str],
    rows: Sequence[Sequence[Any]],
    conflict: Sequence[str],
    returning: Sequence[str],
) -> list[tuple[Any, ...]]:
    """Insert `rows`, skipping those that break the unique constraint on `conflict` (attribute
    names), and return `returning` (attribute names) of the rows actually inserted —
    `INSERT … ON CONFLICT (…) DO NOTHING RETURNING …`, which both PostgreSQL and SQLite ≥ 3.35
    run. The returned rows come in no promised order: include a key among `returning`. Values
    come back as the driver gives them (no datetime conversion: return ids and keys)."""
    if not rows:
        return []
    plan = _plan(model, connection.vendor, tuple(columns))
    values = plan.values(rows)
    quote = connection.ops.quote_name
    meta = model._meta

    def column_of(name: str) -> str:
        field = meta.get_field(name)
        assert isinstance(field, models.Field)
        return quote(field.column)

    on = ", ".join(column_of(name) for name in conflict)
    back = ", ".join(column_of(name) for name in returning)
    out: list[tuple[Any, ...]] = []
    if connection.vendor == "postgresql":
        # One array parameter per column (`unnest`), not one placeholder per value: psycopg
        # parses a statement's placeholders on the client, and a VALUES list of thousands of
        # them cost more than the insert itself (bench/flows_matching.py on PostgreSQL).
        arrays = ", ".join(f"%s::{_array_type(plan.fields[name][0])}" for name in plan.names)
        columns_of = list(zip(*values, strict=True))
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {plan.table} ({plan.column_sql}) "  # noqa: S608 - see _Plan
                f"SELECT * FROM unnest({arrays}) "
                f"ON CONFLICT ({on}) DO NOTHING RETURNING {back}",
                [list(column) for column in columns_of],
            )
            return [tuple(row) for row in cursor.fetchall()]
    per_statement = max(1, _SQLITE_MAX_VALUES // len(plan.names))
    with connection.cursor() as cursor:
        for start in range(0, len(values), per_statement):
            chunk = values[start : start + per_statement]
            sql = (
                f"INSERT INTO {plan.table} ({plan.column_sql}) VALUES "  # noqa: S608 - see _Plan
                f"{', '.join([plan.row_sql] * len(chunk))} "
                f"ON CONFLICT ({on}) DO NOTHING RETURNING {back}"
            )
            cursor.execute(sql, [value for row in chunk for value in row])
            out.extend(tuple(row) for row in cursor.fetchall())
    return out


@cache
def _update_plan(
    model: type[models.Model], vendor: str, fields: tuple[str, ...]
) -> tuple[str, list[tuple[str, _Adapter | None]]]:
    chosen: list[models.Field] = []  # type: ignore[type-arg]
    for name in fields:
        field = model._meta.get_field(name)
        assert isinstance(field, models.Field)
        chosen.append(field)
    quote = connection.ops.quote_name
    assignments = ", ".join(f"{quote(f.column)} = %s" for f in chosen)
    pk = model._meta.pk
    assert pk is not None
    sql = (
        f"UPDATE {quote(model._meta.db_table)} SET {assignments} "  # noqa: S608 - see _Plan
        f"WHERE {quote(pk.column)} = %s"
    )
    columns = [(f.attname, _adapter(f, vendor)) for f in chosen]
    columns.append((pk.attname, _adapter(pk, vendor)))
    return sql, columns


def update_rows(
    *, model: type[models.Model], fields: Iterable[str], rows: Iterable[Mapping[str, Any]]
) -> int:
    """Set `fields` on each row, identified by its primary key (`id`). `auto_now` fields among
    `fields` are not filled in: pass them. Returns how many rows were given."""
    sql, columns = _update_plan(model, connection.vendor, tuple(fields))
    values: list[tuple[Any, ...]] = []
    for row in rows:
        cells = []
        for name, adapt in columns:
            value = row[name]
            cells.append(value if adapt is None or value is None else adapt(value))
        values.append(tuple(cells))
    if values:
        with connection.cursor() as cursor:
            cursor.executemany(sql, values)
    return len(values)


_SQLITE_IN_CHUNK = 900


def select_in(
    *,
    model: type[models.Model],
    columns: Sequence[str],
    where: Mapping[str, Any],
    column: str,
    values: Sequence[Any],
) -> list[tuple[Any, ...]]:
    """`columns` (attribute names) of the rows whose `column` is one of `values` and whose other
    columns equal `where` — a `filter(**where, column__in=values).values_list(*columns)` without
    compiling one SQL parameter per value: `= ANY(%s)` on PostgreSQL (one array parameter),
    chunks of `IN (…)` on SQLite. Datetimes come back aware (UTC), as the ORM returns them."""
    if not values:
        return []
    meta = model._meta
    quote = connection.ops.quote_name
    fields: list[models.Field] = []  # type: ignore[type-arg]
    for name in (*columns, *where, column):
        field = meta.get_field(name)
        assert isinstance(field, models.Field)
        fields.append(field)
    names = [quote(f.column) for f in fields]
    select = ", ".join(names[: len(columns)])
    conditions = [f"{name} = %s" for name in names[len(columns) : -1]]
    table = quote(meta.db_table)
    out: list[tuple[Any, ...]] = []
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            condition = " AND ".join([*conditions, f"{names[-1]} = ANY(%s)"])
            cursor.execute(
                f"SELECT {select} FROM {table} WHERE {condition}",  # noqa: S608 - see _Plan
                [*where.values(), list(values)],
            )
            return [tuple(row) for row in cursor.fetchall()]
        aware = [
            index
            for index, field in enumerate(fields[: len(columns)])
            if isinstance(field, models.DateTimeField)
        ]
        for start in range(0, len(values), _SQLITE_IN_CHUNK):
            chunk = values[start : start + _SQLITE_IN_CHUNK]
            condition = " AND ".join(
                [*conditions, f"{names[-1]} IN ({', '.join(['%s'] * len(chunk))})"]
            )
            cursor.execute(
                f"SELECT {select} FROM {table} WHERE {condition}",  # noqa: S608 - see _Plan
                [*where.values(), *chunk],
            )
            for found in cursor.fetchall():
                row = list(found)
                for index in aware:
                    if row[index] is not None:
                        row[index] = row[index].replace(tzinfo=UTC)
                out.append(tuple(row))
    return out
