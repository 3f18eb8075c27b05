"""The ratings' and comments' indexes: every foreign key still served by one, none kept twice.

Migration 0007 dropped the single-column indexes of six foreign keys that longer
indexes begin with (a rating is written with nine indexes instead of thirteen).
What must hold after it: a lookup by any of those keys (an item's ratings, a
resident's data deleted, the cascade of a deleted indicator or story) still finds
its rows through an index; the foreign-key constraints stay as they were, never
dropped and added again (which would check every rating under a lock); and the
migration goes both ways on a database that has ratings.
"""

import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from django.db import connection

from feedback.models import Comment, Rating
from tests.services import suite_database_url, suite_environment

ROOT = Path(__file__).resolve().parent.parent.parent

# Every foreign key of the two tables, and the columns whose own index 0007 dropped.
FOREIGN_KEYS = {
    Rating: ["indicator_id", "story_id", "resident_id", "district_id", "trust_decided_by_id"],
    Comment: ["indicator_id", "story_id", "resident_id", "district_id", "moderated_by_id"],
}
DROPPED = {
    "feedback_rating": ["district_id", "indicator_id", "resident_id", "story_id"],
    "feedback_comment": ["indicator_id", "story_id"],
}


def _plan(sql: str) -> str:
    with connection.cursor() as cursor:
        # On a nearly empty table a scan is cheapest: ask whether an index can serve at all.
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(f"EXPLAIN {sql}")
        return "\n".join(row[0] for row in cursor.fetchall())


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("model", "column"),
    [(model, column) for model, columns in FOREIGN_KEYS.items() for column in columns],
    ids=lambda value: getattr(value, "__name__", value),
)
def test_a_lookup_by_every_foreign_key_uses_an_index(model, column):
    # As Django's deletion collector asks for the rows of deleted objects (``key IN (…)``).
    table = model._meta.db_table
    plan = _plan(f"SELECT id FROM {table} WHERE {column} IN (1, 2, 3)")  # noqa: S608 - our names
    assert "Seq Scan" not in plan, plan
    assert "Index" in plan, plan


@pytest.mark.django_db
def test_the_dropped_single_column_indexes_are_gone_and_the_rest_remain():
    with connection.cursor() as cursor:
        for table, columns in DROPPED.items():
            constraints = connection.introspection.get_constraints(cursor, table)
            single = {
                tuple(info["columns"])
                for info in constraints.values()
                if info["index"] and not info["unique"] and len(info["columns"]) == 1
            }
            assert not single & {(column,) for column in columns}, (table, single)
        names = set(connection.introspection.get_constraints(cursor, "feedback_rating"))
    # The Meta indexes the lookups rely on are all there.
    assert {index.name for index in Rating._meta.indexes} <= names
    assert {"rating_one_per_resident_indicator", "rating_one_per_resident_story"} <= names


# --- The migration, both ways, on a database of its own ----------------------------------------


def _admin_url() -> str:
    return suite_database_url().rsplit("/", 1)[0] + "/postgres"


@pytest.fixture
def scratch_database() -> Iterator[str]:
    """An empty database on the suite's PostgreSQL, dropped afterwards."""
    name = f"migration_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(_admin_url(), autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield suite_database_url().rsplit("/", 1)[0] + f"/{name}"
    finally:
        with psycopg.connect(_admin_url(), autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _state(url: str) -> tuple[dict[str, list[str]], dict[str, tuple[int, bool]]]:
    """Each table's single-column plain indexes (by column), and its foreign-key
    constraints (by name: their object id and whether they are validated)."""
    with psycopg.connect(url) as db:
        indexes = db.execute(
            """
            SELECT t.relname, a.attname
              FROM pg_index i
              JOIN pg_class t ON t.oid = i.indrelid
              JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = i.indkey[0]
             WHERE t.relname IN ('feedback_rating', 'feedback_comment')
               AND i.indnatts = 1 AND NOT i.indisunique AND i.indpred IS NULL
            """
        ).fetchall()
        keys = db.execute(
            """
            SELECT c.conname, c.oid, c.convalidated
              FROM pg_constraint c JOIN pg_class t ON t.oid = c.conrelid
             WHERE t.relname IN ('feedback_rating', 'feedback_comment') AND c.contype = 'f'
            """
        ).fetchall()
    by_table: dict[str, list[str]] = {}
    for table, column in indexes:
        by_table.setdefault(table, []).append(column)
    return {table: sorted(columns) for table, columns in by_table.items()}, {
        name: (oid, validated) for name, oid, validated in keys
    }


def _manage(url: str, *argv: str) -> None:
    result = subprocess.run(  # noqa: S603 - our own interpreter and manage.py
        [sys.executable, "manage.py", *argv],
        cwd=ROOT,
        env={**suite_environment(), "DATABASE_URL": url},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def _ratings_add(url: str) -> int:
    """Ten residents each rating every published indicator, in SQL; the ratings' count."""
    with psycopg.connect(url) as db:
        db.execute(
            "INSERT INTO feedback_resident (key_hash, district_id, created_at, phone_hash, notify_email)"
            " SELECT 'migration' || r, NULL, now(), '', '' FROM generate_series(1, 10) AS r"
        )
        db.execute(
            """
            INSERT INTO feedback_rating (resident_id, indicator_id, score, created_at, updated_at,
                                         trust, hold_reason, source_hash, trust_note)
            SELECT r.id, i.id, 1 + r.id % 5, now(), now(), 'counted', '', '', ''
              FROM feedback_resident r CROSS JOIN indicators_indicator i
            """
        )
        return db.execute("SELECT count(*) FROM feedback_rating").fetchone()[0]


def _ratings_count(url: str) -> int:
    with psycopg.connect(url) as db:
        return db.execute("SELECT count(*) FROM feedback_rating").fetchone()[0]


@pytest.mark.django_db
def test_the_migration_drops_only_the_indexes_and_goes_back(scratch_database):
    _manage(scratch_database, "migrate", "--noinput")
    migrated_indexes, migrated_keys = _state(scratch_database)
    assert migrated_indexes["feedback_rating"] == ["trust_decided_by_id"]

    # Back to 0006: the indexes come back; the constraints are untouched.
    _manage(scratch_database, "migrate", "--noinput", "feedback", "0006")
    before_indexes, before_keys = _state(scratch_database)
    assert before_indexes["feedback_rating"] == [
        "district_id",
        "indicator_id",
        "resident_id",
        "story_id",
        "trust_decided_by_id",
    ]
    assert before_indexes["feedback_comment"] == [
        "district_id",
        "indicator_id",
        "moderated_by_id",
        "resident_id",
        "story_id",
    ]
    assert before_keys == migrated_keys

    # Forward again on a database with the report and ratings in it.
    _manage(scratch_database, "load_report", "indicators/data/report_2023.yaml")
    ratings = _ratings_add(scratch_database)
    assert ratings > 1000
    _manage(scratch_database, "migrate", "--noinput", "feedback", "0007")
    after_indexes, after_keys = _state(scratch_database)
    for table, columns in DROPPED.items():
        assert sorted(set(before_indexes[table]) - set(after_indexes[table])) == columns
    assert after_indexes == migrated_indexes
    # The same constraints (same object ids: none dropped and added again), all validated.
    assert after_keys == before_keys
    assert all(validated for _oid, validated in after_keys.values())
    assert _ratings_count(scratch_database) == ratings
