"""The row writer: model instances read and written by hand-written SQL, for the few statements run on every API
request.

Building a query with the ORM costs more CPU than the database spends answering it (about 1 ms against 0.1 ms for
a lookup by a unique key). ``ModelColumns`` names a model's columns once, for a select list, and turns a row back
into an instance with the same converters the ORM would apply, on any backend; ``insert_row`` and ``update_row``
write an instance as ``save()`` would. Besides this module, raw SQL lives only in an app's ``sql.py``, built with
``ModelColumns`` (names from model metadata, values always parameters).
"""

import functools
from collections.abc import Callable, Sequence
from typing import Any, Generic, TypeVar

from django.db import DatabaseError, connection
from django.db.models import Field, Model

M = TypeVar("M", bound=Model)
Converter = Callable[[Any, Any, Any], Any]


class ModelColumns(Generic[M]):
    """``fields`` (attribute names; all concrete fields when omitted) of ``model``, selected under ``alias``."""

    def __init__(self, model: type[M], alias: str, fields: Sequence[str] | None = None) -> None:
        self.model = model
        self.alias = alias
        self._by_attname = {field.attname: field for field in model._meta.concrete_fields if isinstance(field, Field)}
        unknown = sorted(set(fields or ()) - set(self._by_attname))
        if unknown or (fields is not None and not fields):
            raise ValueError(f"{model.__name__} has no fields {unknown}" if unknown else "Name at least one field.")
        self.fields = [field for name, field in self._by_attname.items() if fields is None or name in fields]
        self.attnames = [field.attname for field in self.fields]
        self._converters: dict[str, list[tuple[int, list[Converter], Any]]] = {}

    @property
    def table(self) -> str:
        return f"{connection.ops.quote_name(str(self.model._meta.db_table))} {self.alias}"

    @property
    def table_name(self) -> str:
        """The quoted table without the alias (for INSERT and UPDATE)."""
        return connection.ops.quote_name(str(self.model._meta.db_table))

    def name(self, attname: str) -> str:
        """A column of the model, unqualified (for an INSERT's column list or an UPDATE's SET)."""
        return connection.ops.quote_name(str(self._by_attname[attname].column))

    @property
    def select_list(self) -> str:
        quote = connection.ops.quote_name
        return ", ".join(f"{self.alias}.{quote(str(field.column))}" for field in self.fields)

    def column(self, attname: str) -> str:
        """A column of the model under the alias, by attribute name (``merchant_id``, not ``merchant``)."""
        return f"{self.alias}.{connection.ops.quote_name(str(self._by_attname[attname].column))}"

    def _converters_for_connection(self) -> list[tuple[int, list[Converter], Any]]:
        key = connection.vendor
        found = self._converters.get(key)
        if found is None:
            found = []
            for index, field in enumerate(self.fields):
                expression = field.get_col(self.alias)
                functions = connection.ops.get_db_converters(expression) + expression.get_db_converters(connection)
                if functions:
                    found.append((index, functions, expression))
            self._converters[key] = found
        return found

    def instance(self, row: Sequence[Any], offset: int = 0) -> M:
        """The instance from ``row[offset:offset + len(fields)]``, as if the ORM had loaded it."""
        values = list(row[offset : offset + len(self.fields)])
        for index, functions, expression in self._converters_for_connection():
            value = values[index]
            for function in functions:
                value = function(value, expression, connection)
            values[index] = value
        return self.model.from_db(connection.alias, self.attnames, values)


@functools.cache
def _insert_sql(model: type[Model], vendor: str) -> tuple[str, list[Field]]:
    quote = connection.ops.quote_name
    meta = model._meta
    pk = meta.pk
    assert pk is not None
    fields = [field for field in meta.concrete_fields if field is not pk or not getattr(field, "db_returning", False)]
    columns = ", ".join(quote(str(field.column)) for field in fields)
    placeholders = ", ".join(["%s"] * len(fields))
    returning = f" RETURNING {quote(str(pk.column))}" if connection.features.can_return_columns_from_insert else ""
    return f"INSERT INTO {quote(str(meta.db_table))} ({columns}) VALUES ({placeholders}){returning}", fields  # noqa: S608 (names only)


def insert_row(instance: Model) -> None:
    """INSERT a new instance as ``save()`` would (defaults, ``auto_now_add``, JSON) and set its primary key.

    No signals are sent: for models that no receiver listens to, on paths where the ORM's query building is the
    larger part of the cost.
    """
    sql, fields = _insert_sql(type(instance), connection.vendor)
    values = [field.get_db_prep_save(field.pre_save(instance, True), connection) for field in fields]
    with connection.cursor() as cursor:
        cursor.execute(sql, values)
        pk = cursor.fetchone()[0] if connection.features.can_return_columns_from_insert else cursor.lastrowid
    instance.pk = pk
    instance._state.adding = False
    instance._state.db = connection.alias


def update_row(instance: Model, attnames: Sequence[str]) -> None:
    """UPDATE these columns of a saved instance as ``save(update_fields=...)`` would (``auto_now`` included), without
    signals."""
    quote = connection.ops.quote_name
    meta = instance._meta
    fields = [meta.get_field(name) for name in attnames]
    assignments = ", ".join(f"{quote(str(field.column))} = %s" for field in fields)  # type: ignore[union-attr]
    values = [field.get_db_prep_save(field.pre_save(instance, False), connection) for field in fields]  # type: ignore[union-attr]
    assert meta.pk is not None
    sql = f"UPDATE {quote(str(meta.db_table))} SET {assignments} WHERE {quote(str(meta.pk.column))} = %s"  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(sql, [*values, instance.pk])
        if cursor.rowcount != 1:
            raise DatabaseError(f"{meta.object_name} {instance.pk}: the UPDATE changed {cursor.rowcount} rows, not 1.")
