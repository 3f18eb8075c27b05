"""Drop the single-column indexes of six foreign keys that longer indexes begin with.

A rating's indicator and story lead its anomaly-rule indexes (partial on the key
being set, which a lookup by key implies), its resident the unique (resident,
indicator) index and its district ``rating_district_score_idx``; a comment's
indicator and story lead its list indexes. Each single-column index was one more
index to write with every rating (thirteen for an indicator's, now nine) and
about as large as the table's key column at a million ratings.

Only the indexes go. Django's own ``AlterField`` would also drop and add again
each foreign-key constraint, checking every row under a lock that stops the
ratings; here the fields change in the migration state alone and the database
loses the indexes with ``DROP INDEX CONCURRENTLY`` on PostgreSQL, which waits for
the queries using them and blocks none (so not in a transaction: ``atomic``).
The indexes are found by their column, whatever their name.
"""

import django.db.models.deletion
from django.db import migrations, models

# (model, column) of each foreign key whose own index goes.
KEYS = [
    ("comment", "indicator_id"),
    ("comment", "story_id"),
    ("rating", "district_id"),
    ("rating", "indicator_id"),
    ("rating", "resident_id"),
    ("rating", "story_id"),
]


def _own_indexes(schema_editor, table: str, column: str, meta_names: set[str]) -> list[str]:
    """The plain indexes on exactly ``column`` of ``table``, not declared in the model's Meta."""
    with schema_editor.connection.cursor() as cursor:
        constraints = schema_editor.connection.introspection.get_constraints(cursor, table)
    return [
        name
        for name, info in constraints.items()
        if info["index"]
        and not info["unique"]
        and not info["primary_key"]
        and info["columns"] == [column]
        and name not in meta_names
    ]


def indexes_drop(apps, schema_editor) -> None:
    concurrently = " CONCURRENTLY" if schema_editor.connection.vendor == "postgresql" else ""
    for model_name, column in KEYS:
        model = apps.get_model("feedback", model_name)
        table = model._meta.db_table
        meta_names = {index.name for index in model._meta.indexes}
        for name in _own_indexes(schema_editor, table, column, meta_names):
            schema_editor.execute(f"DROP INDEX{concurrently} IF EXISTS {schema_editor.quote_name(name)}")


def indexes_create(apps, schema_editor) -> None:
    concurrently = " CONCURRENTLY" if schema_editor.connection.vendor == "postgresql" else ""
    for model_name, column in KEYS:
        table = apps.get_model("feedback", model_name)._meta.db_table
        name = schema_editor.quote_name(f"{table}_{column}_fk_idx")
        schema_editor.execute(
            f"CREATE INDEX{concurrently} IF NOT EXISTS {name} "
            f"ON {schema_editor.quote_name(table)} ({schema_editor.quote_name(column)})"
        )


def _key_without_index(model_name: str, name: str, **options) -> migrations.AlterField:
    """The field as it now is in the model: ``db_index=False``, the rest unchanged."""
    return migrations.AlterField(
        model_name=model_name,
        name=name,
        field=models.ForeignKey(db_index=False, **options),
    )


_TARGET = {
    "blank": True,
    "null": True,
    "on_delete": django.db.models.deletion.CASCADE,
    "related_name": "%(class)ss",
}
_INDICATOR = {"to": "indicators.indicator", "verbose_name": "指标", **_TARGET}
_STORY = {"to": "indicators.story", "verbose_name": "亮点故事", **_TARGET}


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("feedback", "0006_rating_anomaly_screen_indexes"),
        ("indicators", "0002_value_source"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[migrations.RunPython(indexes_drop, indexes_create, elidable=False)],
            state_operations=[
                _key_without_index("comment", "indicator", **_INDICATOR),
                _key_without_index("comment", "story", **_STORY),
                _key_without_index("rating", "indicator", **_INDICATOR),
                _key_without_index("rating", "story", **_STORY),
                _key_without_index(
                    "rating",
                    "district",
                    to="indicators.district",
                    blank=True,
                    null=True,
                    on_delete=django.db.models.deletion.SET_NULL,
                    related_name="ratings",
                    verbose_name="自报所在区",
                ),
                _key_without_index(
                    "rating",
                    "resident",
                    to="feedback.resident",
                    on_delete=django.db.models.deletion.CASCADE,
                    related_name="ratings",
                    verbose_name="市民",
                ),
            ],
        ),
    ]
