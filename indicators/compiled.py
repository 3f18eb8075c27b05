"""Querysets compiled to SQL once per process, then run with each request's values.

Building a queryset and compiling it to SQL costs the ORM 1,500 to 3,500 Python
calls whatever the rows (cloning, resolving every lookup, quoting every column);
on a page of a few small queries that is most of its cost, and the SQL itself a
fraction of a millisecond. The SQL of a query whose shape never changes differs
from one request to the next only in its parameters, so ``Compiled`` builds the
queryset once, with a stand-in for each parameter, keeps the SQL and the places
the stand-ins went, and then runs that SQL with the request's values.

The queryset stays the one description of the query: its filters (the
publication rule, ``public_q``), joins and columns come from the ORM, never
from SQL written by hand, so a change to a model or to the rule reaches these
queries as it reaches every other. Compiling fails loudly when a stand-in does
not reach the SQL as it was given (a lookup that transforms its value): such a
parameter cannot be substituted and its query must stay an ordinary queryset.

On PostgreSQL each compiled query is also a server-side prepared statement, so
that PostgreSQL plans it once per connection instead of on every request (the
chapter page's six joins cost it more to plan than to run). Django's psycopg
backend binds parameters on the client (no ``prepare=``), so this is SQL: the
first use on a connection sends ``PREPARE portal_c<n> AS <the SQL, $1…$n>``
in the same round trip as its ``EXECUTE portal_c<n>(<the values>)``, later
uses only the ``EXECUTE`` (the values rendered as literals as before). Each
parameter takes the type of its place, but an integer is a bigint: a smallint
parameter (a year) would refuse a value the plain SQL compares and finds
nothing for (a 500 for a URL's 14-digit year, not a 404), and a round trip with
an integer beyond bigint runs the plain SQL (SQLite, which binds no such integer, gets
its digits, which it compares as a number too). What has been prepared is
kept per psycopg connection (a new connection, after ``CONN_MAX_AGE``, a failed
health check or a test's ``connection.close()``, prepares again), and a query
compiled again (``setting_changed``) gets a new name, never a stale statement.

What PostgreSQL 15 does, checked on it: PREPARE is not transactional. A
statement prepared inside a transaction that is then rolled back (every test's
``TestCase``, an ``atomic`` block that raised, ``ROLLBACK TO SAVEPOINT``) or
aborted by a later error stays prepared for the session, so a rollback never
makes the process wrong about what is prepared, and it is recorded as prepared
once its round trip has gone through, inside a transaction or not. What can
make the process wrong is a round trip that fails part way: the statements of
one ``execute`` run in order and stop at the first error, so after
``PREPARE a; PREPARE b; EXECUTE a(…); EXECUTE b(…)`` failed (a division by
zero, a timeout, a cancelled query) some of its PREPAREs may have run; a
PREPARE of a name that exists is an error, and inside ``atomic`` it would
abort the transaction. So a connection whose round trip
failed is marked unsure, and its next round trip begins with ``DEALLOCATE ALL``
and prepares what it runs: no extra round trip, nothing prepared twice under
one name, no statements left behind per error (as new names after each error
would leave, each holding its plan for the connection's life), and a statement
whose plan went bad (a migration changing a column's type under a live
connection: "cached plan must not change result type") is prepared afresh
instead of failing until the connection closes.
``DEALLOCATE ALL`` drops only this connection's statements, and nothing else
prepares on it: Django's psycopg backend binds on the client, and psycopg
prepares only with server-side binding (``OPTIONS["server_side_binding"]``),
which ``rows_together``'s several statements per ``execute`` cannot use anyway.

Plans, checked with ``EXPLAIN ANALYZE EXECUTE`` on the 2023 report: after its
fifth run PostgreSQL keeps a generic plan for each of the chapter page's seven
statements (``pg_prepared_statements``: generic plans counted from the sixth),
with the same index scans as the plain SQL's; their planning went from 1.86 ms
to 0.11 ms a page, their execution unchanged (0.99 and 0.92 ms), and the page's
two round trips from 3.4 to 1.3 ms (median, in process; parsing is saved too).
The SQL a connection logs or a test captures is then ``EXECUTE portal_c<n>(…)``:
the tables a compiled read touches are in its PREPARE, sent once per connection.

``DATABASE_PREPARED_STATEMENTS`` (default on) turns this off: a connection
pooler in transaction mode (PgBouncer's ``pool_mode = transaction``) hands each
transaction any server connection, on which a statement prepared by another
may be missing or one of that name may exist.
"""

import itertools
import re
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple
from weakref import WeakKeyDictionary

from django.conf import settings
from django.core.signals import setting_changed
from django.db import connections
from django.db.models import Model, QuerySet
from django.db.models.base import ModelState
from django.db.models.signals import post_init, pre_init

# The values a parameter of each kind stands in with while its query is compiled, one
# per parameter so that each can be told from the others and from the query's own
# constants (the lookups' strings): an integer any integer field accepts (Django
# compiles a value out of a field's range to "no rows", without a parameter), a date
# before any edition, a string no slug can be.
_STAND_INS: dict[type, Callable[[int], Any]] = {
    int: lambda n: 32_123 + n,
    datetime: lambda n: datetime(1111, 1, 1, tzinfo=UTC) + timedelta(seconds=n),
    str: lambda n: f"\x00stand-in-{n}\x00",
}


class Statement(NamedTuple):
    """A query compiled for its database: its SQL, where its parameters go (``slots``)
    and its columns' conversions; on PostgreSQL also the statements that prepare it
    under ``name`` and that run it prepared."""

    using: str
    sql: str
    slots: list
    converters: list
    integers: list[int]
    name: str
    prepare: str
    execute: str


class Compiled:
    """``build(**params)``'s query, compiled once: ``rows(**params)`` runs it.

    ``params`` name each parameter with its type (``int``, ``str`` or ``datetime``);
    ``build`` returns a ``values_list()`` queryset, and ``rows`` returns its rows as
    the queryset would (the fields' conversions from the database applied).
    """

    def __init__(self, build: Callable[..., QuerySet], **params: type) -> None:
        self.build = build
        self.params = params
        self._compiled: Statement | None = None
        _every.append(self)

    def _compile(self) -> Statement:
        stand_ins = {name: _STAND_INS[kind](n) for n, (name, kind) in enumerate(self.params.items())}
        queryset = self.build(**stand_ins)
        compiler = queryset.query.get_compiler(queryset.db)
        sql, params = compiler.as_sql()
        ops = connections[queryset.db].ops
        slots = [_slot(value, stand_ins, ops) for value in params]
        missing = set(stand_ins) - {name for name, _, _ in slots}
        if missing:
            raise ValueError(f"{sql}: {sorted(missing)} did not reach the SQL as given")
        columns = [column for column, _, _ in compiler.select[: compiler.col_count]]
        converters = [
            (index, funcs, expression)
            for index, (funcs, expression) in compiler.get_converters(columns).items()
        ]
        # A new name each time: a query compiled again (other settings) is never run as
        # the statement its former SQL was prepared as on a connection still open.
        # An integer parameter is a bigint, whatever its column: as in the plain SQL, where
        # it is a literal, a value out of the column's range matches nothing (a smallint
        # parameter would refuse it: a 500 for a year of 14 digits in a URL). The others
        # take the type of their place.
        integers = [index for index, (slot, _, _) in enumerate(slots) if self.params.get(slot) is int]
        types = ["bigint" if index in integers else "unknown" for index in range(len(slots))]
        self._compiled = Statement(queryset.db, sql, slots, converters, integers, *_prepared_as(sql, types))
        return self._compiled

    def statement(self, values: dict[str, Any]) -> tuple[Statement, list]:
        """The compiled statement and its parameters for ``values``."""
        statement = self._compiled or self._compile()
        params = [
            constant if name is None else wrap(values[name]) if wrap else values[name]
            for name, wrap, constant in statement.slots
        ]
        return statement, params

    def rows(self, **values: Any) -> list[Sequence]:
        statement, params = self.statement(values)
        return _run(statement.using, [(statement, params)])[0]


def sql_statement(using: str, sql: str, types: Sequence[str], *, integers: Sequence[int] = ()) -> Statement:
    """SQL written with Django's placeholders (``%s``), run as the compiled queries are
    (``statement_rows``): prepared once per connection on PostgreSQL. ``types``: each
    parameter's type for PREPARE (``unknown`` lets PostgreSQL take its place's);
    ``integers``: the parameters that are bigints (a larger value runs the plain SQL)."""
    return Statement(using, sql, [], [], list(integers), *_prepared_as(sql, types))


def _prepared_as(sql: str, types: Sequence[str]) -> tuple[str, str, str]:
    """A new name for ``sql`` (a query compiled again, under other settings, is never run
    as the statement its former SQL was prepared as on a connection still open), and the
    statements that prepare it under that name and that run it."""
    name = f"portal_c{next(_names)}"
    if not types:
        return name, f"PREPARE {name} AS {sql}", f"EXECUTE {name}"
    prepare = f"PREPARE {name} ({', '.join(types)}) AS {_numbered(sql)}"
    return name, prepare, f"EXECUTE {name}({', '.join(['%s'] * len(types))})"


def statement_rows(statement: Statement, params: list) -> list[Sequence]:
    """The rows of ``sql_statement``'s ``statement`` run with ``params``."""
    return _run(statement.using, [(statement, params)])[0]


def rows_together(*queries: tuple[Compiled, dict[str, Any]]) -> list[list[Sequence]]:
    """The rows of each ``(query, values)``, the statements sent in one round trip.

    A page's reads that do not depend on each other's results need not wait for each
    other's answer: the statements go to PostgreSQL together (psycopg binds the
    parameters on the client, so several statements can share one ``execute``) and
    their results are read one after the other (``nextset``).
    """
    runs = [query.statement(values) for query, values in queries]
    using = runs[0][0].using
    if any(statement.using != using for statement, _ in runs):
        raise ValueError("rows_together: the queries use different databases")
    return _run(using, runs)


# What each psycopg connection has prepared (names), or None when a round trip that may
# have prepared some failed: its next one begins with DEALLOCATE ALL.
_prepared: WeakKeyDictionary[Any, set[str] | None] = WeakKeyDictionary()
_names = itertools.count(1)


def _run(using: str, runs: list[tuple[Statement, list]]) -> list[list[Sequence]]:
    """The rows of each ``(statement, params)``, in one round trip on PostgreSQL."""
    connection = connections[using]
    with connection.cursor() as cursor:
        if connection.vendor != "postgresql":
            # SQLite (the embedded default) runs one statement per execute.
            results = []
            for statement, params in runs:
                bound = params if _fits((statement, params)) else _as_text(statement, params)
                cursor.execute(statement.sql, bound)
                results.append(_converted(cursor.fetchall(), statement.converters, connection))
            return results
        if not settings.DATABASE_PREPARED_STATEMENTS or not all(map(_fits, runs)):
            return _fetched(cursor, [], [statement.sql for statement, _ in runs], runs, connection)
        session = connection.connection
        known = _prepared.get(session, set())
        first = [] if known is not None else ["DEALLOCATE ALL"]
        prepared = known or set()
        new = {statement.name: statement.prepare for statement, _ in runs if statement.name not in prepared}
        # Unsure until the round trip has gone through (see the module's docstring).
        _prepared[session] = None
        results = _fetched(
            cursor, [*first, *new.values()], [statement.execute for statement, _ in runs], runs, connection
        )
        _prepared[session] = prepared.union(new)
        return results


def _fetched(
    cursor: Any, first: list[str], sql: list[str], runs: list, connection: Any
) -> list[list[Sequence]]:
    """Run ``first`` (statements without rows), then ``sql`` (one per run), in one
    ``execute``, and return the converted rows of each of ``sql``."""
    cursor.execute(";\n".join([*first, *sql]), [param for _, params in runs for param in params])
    for _ in first:
        cursor.nextset()
    results = []
    for index, (statement, _) in enumerate(runs):
        if index:
            cursor.nextset()
        results.append(_converted(cursor.fetchall(), statement.converters, connection))
    return results


def _fits(run: tuple[Statement, list]) -> bool:
    """Whether the integers of ``run`` are bigints (a larger one, which the plain SQL
    compares as a numeric, matching nothing, is not one of the prepared statement's)."""
    statement, params = run
    return all(_bigint(params[index]) for index in statement.integers)


def _bigint(value: int) -> bool:
    """Whether ``value`` fits a 64-bit integer (PostgreSQL's bigint, SQLite's integer)."""
    return -(2**63) <= value < 2**63


def _as_text(statement: Statement, params: list) -> list:
    """``params`` with each integer beyond 64 bits as its digits, for SQLite, which binds no
    such integer (an OverflowError: a 500 for a URL's 20-digit year, not a 404). A column of
    integers compares the text as the number it is, as PostgreSQL's plain SQL compares a
    numeric: it equals no row's value."""
    params = list(params)
    for index in statement.integers:
        if not _bigint(params[index]):
            params[index] = str(params[index])
    return params


_PLACEHOLDER = re.compile(r"%(.)")


def _numbered(sql: str) -> str:
    """``sql`` with Django's placeholders (``%s``) numbered as PREPARE wants them (``$1``…);
    a literal ``%`` stays ``%%``, the statement being sent with parameters."""
    numbers = itertools.count(1)

    def number(match: re.Match) -> str:
        if match[1] == "%":
            return "%%"
        if match[1] == "s":
            return f"${next(numbers)}"
        raise ValueError(f"{sql}: unexpected placeholder %{match[1]}")

    return _PLACEHOLDER.sub(number, sql)


def _converted(rows: list[Sequence], converters: list, connection: Any) -> list[Sequence]:
    """``rows`` with the fields' conversions from the database applied (``from_db_value``)."""
    if not converters:
        return rows
    converted = []
    for row in rows:
        row = list(row)  # noqa: PLW2901 - the converted copy of the row
        for index, funcs, expression in converters:
            value = row[index]
            for func in funcs:
                value = func(value, expression, connection)
            row[index] = value
        converted.append(row)
    return converted


def _slot(value: Any, stand_ins: dict[str, Any], ops: Any) -> tuple[str | None, Callable | None, Any]:
    """``(None, None, value)`` for a constant of the query; ``(name, wrap, None)`` for the
    parameter ``name``, ``wrap`` being what the database backend made of its value, which
    each value then gets, or None: the type it gave it (psycopg's ``Int2`` for a small
    integer field), or its adaptation of a date and time (SQLite's is a string)."""
    for name, stand_in in stand_ins.items():
        if isinstance(value, type(stand_in)) and value == stand_in:
            return name, None if type(value) is type(stand_in) else type(value), None
        if isinstance(stand_in, datetime) and value == ops.adapt_datetimefield_value(stand_in):
            return name, ops.adapt_datetimefield_value, None
    return None, None, value


class Columns:
    """The fields of ``model`` a query selects (``names``, attnames in the model's
    order): ``model_from(values)`` makes the instance the ORM would have made of them."""

    def __init__(self, model: type[Model], *, exclude: Sequence[str] = ()) -> None:
        self.model = model
        self.names = [f.attname for f in model._meta.concrete_fields if f.name not in exclude]
        # ``maker()``'s functions, by database and whether the model's signals had receivers.
        self._makers: dict[tuple[str, bool], Callable[[Sequence, dict[str, Model | None]], Model]] = {}

    def lookups(self, prefix: str = "") -> list[str]:
        """The names to give ``values_list()`` for these fields, from ``prefix``'s model."""
        return [f"{prefix}{name}" for name in self.names]

    def model_from(self, values: Sequence, using: str = "default") -> Model:
        return self.maker(using)(values, {})

    def maker(self, using: str = "default") -> Callable[[Sequence, dict[str, Model | None]], Model]:
        """``make(values, related)``: the instance of ``values``, its related objects
        ``related`` (by field name, a new dict each time) cached as ``attach`` caches
        them. What depends on the model alone (whether its ``__init__`` signals have
        receivers, where each related object is cached) is looked up here, once for the
        rows of a list, not once per row; the function is made once per database and
        answer (a receiver connected later is seen by the next call)."""
        listened = pre_init.has_listeners(self.model) or post_init.has_listeners(self.model)
        make = self._makers.get((using, listened))
        if make is None:
            make = self._makers[using, listened] = self._maker(using, listened=listened)
        return make

    def _maker(self, using: str, *, listened: bool) -> Callable[[Sequence, dict[str, Model | None]], Model]:
        model, names = self.model, self.names
        if listened:

            def make_listened(values: Sequence, related: dict[str, Model | None]) -> Model:
                instance = model.from_db(using, names, values)
                for name, obj in related.items():
                    attach(instance, name, obj)
                return instance

            return make_listened
        # A foreign key keeps its object under its name (``set_cached_value``: its ``cache_name``).
        renamed = {
            field.name: field.cache_name
            for field in model._meta.concrete_fields
            if field.is_relation and field.cache_name != field.name
        }
        new = object.__new__

        def make(values: Sequence, related: dict[str, Model | None]) -> Model:
            # What ``from_db`` makes, without ``Model.__init__``'s walk over every field:
            # with no receiver of its signals, ``__init__`` only sets each value given as
            # an attribute (a foreign key's through a descriptor that clears a cached
            # object, which a new instance has none of) and the state of a row read from
            # ``using``; ``related`` becomes the cache of related objects (the dict itself:
            # a new one each time, keyed by field name, which is the cache's key of every
            # foreign key of the report's models). The instance's and the state's attributes
            # are given as one dict each rather than set one by one.
            instance = new(model)
            fields = dict(zip(names, values, strict=True))
            state = fields["_state"] = new(ModelState)
            if not related:
                state.__dict__ = {"adding": False, "db": using}
            elif renamed:
                cache = {renamed.get(name, name): obj for name, obj in related.items()}
                state.__dict__ = {"adding": False, "db": using, "fields_cache": cache}
            else:
                state.__dict__ = {"adding": False, "db": using, "fields_cache": related}
            instance.__dict__ = fields
            return instance

        return make


def joined(
    make: Callable[[Sequence, dict[str, Model | None]], Model],
    values: Sequence,
    related: dict[str, Model | None] | None = None,
) -> Model | None:
    """``make(values, related)`` (a ``Columns.maker()``) for the columns of a LEFT JOIN, or
    None when the join found no row: its primary key, the first column, is NULL."""
    return make(values, related or {}) if values[0] is not None else None


def attach(instance: Model, name: str, related: Model | None) -> None:
    """Give ``instance`` its related object ``name`` (a foreign key, whose value it has),
    as ``select_related`` does: the object is cached, the key left as it is."""
    instance._meta.get_field(name).set_cached_value(instance, related)


# Every compiled query, so that a test changing the settings they were compiled under
# (the database, the time zone) has them compiled again.
_every: list[Compiled] = []


def _forget(**kwargs: Any) -> None:
    if kwargs["setting"] in {"DATABASES", "USE_TZ", "TIME_ZONE"}:
        for compiled in _every:
            compiled._compiled = None


setting_changed.connect(_forget)
