"""Writing many rows without building model instances: one `executemany` per call.

    insert_rows(model=LineItem, rows=[{"order_id": 7, "external_id": 1, "name": "Mug", …}, …])
    update_rows(model=Order, fields=["status", "total"], rows=[{"id": 7, "status": …}, …])

Django's `bulk_create` spends ~90 % of its time compiling SQL value by value (measured on the
order mirror: 7.7 s of 9.4 s for 2,000 orders). Here the statement is built once per model and
values are adapted by a small per-type function. Only for plain rows: no signals, no `save()`,
no returned ids (callers that need ids read them back by their natural key). Columns not given
take the field's default; `auto_now`/`auto_now_add` columns take the current time.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC
from functools import cache
from typing import Any

from django.db import connection, models
from django.db.models.fields import AutoFieldMixin
from django.utils import timezone

_Adapter = Callable[[Any], Any]


def _sqlite_adapter(field: models.Field) -> _Adapter | None:  # type: ignore[type-arg]
    if isinstance(field, models.JSONField):
        return lambda v: None if v is None else json.dumps(v, cls=field.encoder)
    if isinstance(field, models.DateTimeField):
        # Django keeps aware datetimes in SQLite as naive UTC text ("YYYY-MM-DD HH:MM:SS.ffffff").
        return lambda v: (
            None if v is None else v.astimezone(UTC).replace(tzinfo=None).isoformat(" ")
        )
    if isinstance(field, models.DateField):
        return lambda v: None if v is None else v.isoformat()
    if isinstance(field, models.DecimalField):
        return lambda v: None if v is None else str(v)
    if isinstance(field, models.BooleanField):
        return lambda v: None if v is None else int(v)
    return None


def _postgres_adapter(field: models.Field) -> _Adapter | None:  # type: ignore[type-arg]
    if isinstance(field, models.JSONField):
        from psycopg.types.json import Jsonb

        return lambda v: (
            None if v is None else Jsonb(v, dumps=lambda o: json.dumps(o, cls=field.encoder))
        )
    return lambda v: v


@cache
def _plan(
    model: type[models.Model], vendor: str
) -> tuple[str, list[tuple[str, _Adapter | None, Callable[[], Any] | None]]]:
    fields = [
        f
        for f in model._meta.concrete_fields
        if not (f.primary_key and isinstance(f, AutoFieldMixin))
    ]
    adapt = _sqlite_adapter if vendor == "sqlite" else _postgres_adapter
    columns: list[tuple[str, _Adapter | None, Callable[[], Any] | None]] = []
    for field in fields:
        if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
            default: Callable[[], Any] | None = timezone.now
        elif field.has_default():
            default = field.get_default
        elif field.null:
            default = _none
        else:
            default = None  # required: a missing value is a KeyError, on purpose
        columns.append((field.attname, adapt(field), default))
    quote = connection.ops.quote_name
    names = ", ".join(quote(f.column) for f in fields)
    placeholders = ", ".join(["%s"] * len(fields))
    # Identifiers come from the model's own metadata, quoted; values are parameters.
    sql = f"INSERT INTO {quote(model._meta.db_table)} ({names}) VALUES ({placeholders})"  # noqa: S608
    return sql, columns


def _none() -> None:
    return None


_REQUIRED = object()


def _adapted(
    row: Mapping[str, Any], fills: list[tuple[str, _Adapter | None, Any]]
) -> tuple[Any, ...]:
    out = []
    for name, adapt, fill in fills:
        value = row.get(name, fill)
        if value is _REQUIRED:
            raise KeyError(f"{name} is required")
        out.append(value if adapt is None or value is None else adapt(value))
    return tuple(out)


def insert_rows(*, model: type[models.Model], rows: Iterable[Mapping[str, Any]]) -> int:
    """Insert `rows` (dicts keyed by attribute name, e.g. `order_id`) into `model`'s table in the
    current transaction. Returns how many rows were written."""
    sql, columns = _plan(model, connection.vendor)
    # Defaults are computed once per call (one `now` for the whole batch).
    fills = [(name, adapt, default() if default else _REQUIRED) for name, adapt, default in columns]
    values = [_adapted(row, fills) for row in rows]
    if values:
        with connection.cursor() as cursor:
            cursor.executemany(sql, values)
    return len(values)


@cache
def _update_plan(
    model: type[models.Model], vendor: str, fields: tuple[str, ...]
) -> tuple[str, list[tuple[str, _Adapter | None]]]:
    adapt = _sqlite_adapter if vendor == "sqlite" else _postgres_adapter
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
        f"UPDATE {quote(model._meta.db_table)} SET {assignments} "  # noqa: S608 - see _plan
        f"WHERE {quote(pk.column)} = %s"
    )
    columns = [(f.attname, adapt(f)) for f in chosen]
    columns.append((pk.attname, adapt(pk)))
    return sql, columns


def update_rows(
    *, model: type[models.Model], fields: Iterable[str], rows: Iterable[Mapping[str, Any]]
) -> int:
    """Set `fields` on each row, identified by its primary key (`id`). `auto_now` fields among
    `fields` are not filled in: pass them. Returns how many rows were given."""
    sql, columns = _update_plan(model, connection.vendor, tuple(fields))
    fills = [(name, adapt, _REQUIRED) for name, adapt in columns]
    values = [_adapted(row, fills) for row in rows]
    if values:
        with connection.cursor() as cursor:
            cursor.executemany(sql, values)
    return len(values)
