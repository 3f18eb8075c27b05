"""The compiled reads as prepared statements on PostgreSQL (``indicators.compiled``): prepared
once per connection in the round trip that first runs them, run with EXECUTE afterwards, the
same rows as the plain SQL, prepared again on a new connection, and never believed prepared
when they are not, whatever a transaction's rollback or a failed round trip left behind."""

from datetime import UTC, datetime

import pytest
from django.db import DataError, connection, transaction
from django.db.models import ExpressionWrapper, F, IntegerField, Value
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from feedback import selectors as feedback_selectors
from indicators import selectors
from indicators.compiled import Compiled, rows_together
from indicators.models import Indicator
from tests.factories import ChapterFactory, EditionFactory, IndicatorFactory, SectionFactory, StoryFactory

pytestmark = pytest.mark.django_db

PAGE_QUERIES = (
    selectors._chapter_query,
    selectors._sections_query,
    selectors._indicators_query,
    selectors._values_query,
    selectors._stories_query,
    selectors._edition_years_query,
)
# What ``chapter_page`` sends: its own reads, then those registered with it (feedback's
# aggregates of the chapter and its items, ``page_reads``).
PAGE_READ = (
    *PAGE_QUERIES,
    feedback_selectors._chapter_aggregate_query,
    feedback_selectors._item_aggregates_query,
)


@pytest.fixture
def chapter():
    chapter = ChapterFactory(edition=EditionFactory(year=2023), slug="green")
    section = SectionFactory(chapter=chapter, number=1)
    for n in range(3):
        IndicatorFactory(chapter=chapter, section=section, order=n, values=[(2022, n), (2023, n + 1, "约")])
    IndicatorFactory(chapter=chapter, draft=True)
    StoryFactory(chapter=chapter, rank=1)
    StoryFactory(chapter=chapter, draft=True)
    return chapter


def _page_read() -> tuple[list[str], selectors.ChapterPage]:
    """The SQL the chapter page's read sent (one round trip) and the page."""
    with CaptureQueriesContext(connection) as sent:
        page = selectors.chapter_page(year=2023, slug="green")
    return [query["sql"] for query in sent.captured_queries], page


def _prepared_on_server() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT name FROM pg_prepared_statements WHERE name LIKE 'portal_c%%' ORDER BY name")
        return [name for (name,) in cursor.fetchall()]


def _names(*queries: Compiled) -> set[str]:
    """The names the queries are prepared under (compiled: run already)."""
    return {query._compiled.name for query in queries}


def _shown(page: selectors.ChapterPage) -> list:
    return [
        page.chapter.pk,
        [s.pk for s in page.sections],
        [(i.pk, i.code, [(v.year, v.value, v.qualifier) for v in i.series]) for i in page.indicators],
        [(s.pk, s.title) for s in page.stories],
        [e.year for e in page.editions],
    ]


@pytest.mark.django_db(transaction=True)
def test_a_page_read_prepares_once_per_connection_and_again_on_a_new_one(chapter):
    connection.close()
    first, page = _page_read()
    assert len(first) == 1  # one round trip, the PREPAREs in it
    names = [query._compiled.name for query in PAGE_READ]
    assert [line.split()[1] for line in first[0].split(";\n") if line.startswith("PREPARE ")] == names
    assert set(_prepared_on_server()) >= set(names)
    shown = _shown(page)

    again, page = _page_read()
    assert len(again) == 1 and "PREPARE" not in again[0]
    assert again[0].count("EXECUTE portal_c") == len(PAGE_READ)
    assert _shown(page) == shown

    # A new connection (CONN_MAX_AGE, a failed health check) has nothing prepared: it prepares again.
    connection.close()
    assert _prepared_on_server() == []
    after, page = _page_read()
    assert after[0].count("PREPARE portal_c") == len(PAGE_READ)
    assert _shown(page) == shown


def test_prepared_statements_return_the_rows_of_the_plain_sql(chapter):
    now = timezone.now()
    reads = [
        (query, {"year": 2023, "slug": slug, "now": now})
        for slug in ("green", "no-such-chapter")
        for query in PAGE_QUERIES
    ]
    reads = [(query, {name: values[name] for name in query.params}) for query, values in reads]
    with (
        override_settings(DATABASE_PREPARED_STATEMENTS=False),
        CaptureQueriesContext(connection) as plain_sql,
    ):
        plain = _lists(rows_together(*reads))
    assert "EXECUTE" not in plain_sql.captured_queries[0]["sql"]
    assert _lists(rows_together(*reads)) == plain
    assert all(plain[:6]) and not any(plain[6:11])  # the chapter's rows; none for no chapter
    # Prepared already: run again with other values, the same rows as the plain SQL's.
    assert _lists(rows_together(*reads[6:])) == plain[6:]
    assert _lists(rows_together(*reads[:6])) == plain[:6]


def _lists(results: list) -> list:
    return [[list(row) for row in rows] for rows in results]


def test_a_rolled_back_transaction_leaves_its_statements_prepared(chapter):
    """PREPARE is not transactional in PostgreSQL: what a rolled-back transaction (every test's
    here, an ``atomic`` block that raised, a savepoint's) prepared is still prepared, and the
    process, which believes it prepared, is right."""

    class RolledBack(Exception):
        pass

    codes = Compiled(
        lambda chapter: Indicator.objects.filter(chapter_id=chapter).values_list("code"), chapter=int
    )
    with pytest.raises(RolledBack), transaction.atomic():
        with CaptureQueriesContext(connection) as sent:
            inside = codes.rows(chapter=chapter.pk)
        prepare = f"PREPARE {codes._compiled.name} (bigint) AS SELECT"
        assert sent.captured_queries[0]["sql"].startswith(prepare)
        raise RolledBack
    assert codes._compiled.name in _prepared_on_server()
    with CaptureQueriesContext(connection) as sent:
        assert codes.rows(chapter=chapter.pk) == inside
    assert sent.captured_queries[0]["sql"] == f"EXECUTE {codes._compiled.name}({chapter.pk})"
    assert sorted(inside) == sorted(Indicator.objects.filter(chapter=chapter).values_list("code"))


def test_a_round_trip_that_fails_part_way_is_not_believed_and_prepares_afresh(chapter):
    """The PREPAREs before a failed EXECUTE of the same round trip ran, those after it did not:
    the next round trip on the connection drops them all (DEALLOCATE ALL) and prepares what it
    runs, never a PREPARE of a name that exists (an error that would abort the transaction)."""
    ratios = Compiled(
        lambda chapter, by: (
            Indicator.objects.filter(chapter_id=chapter)
            .annotate(ratio=ExpressionWrapper(F("order") / Value(by), output_field=IntegerField()))
            .order_by("pk")
            .values_list("code", "ratio")
        ),
        chapter=int,
        by=int,
    )
    sections = (selectors._sections_query, {"year": 2023, "slug": "green"})
    expected = [(i.code, i.order) for i in Indicator.objects.filter(chapter=chapter).order_by("pk")]
    first = rows_together((ratios, {"chapter": chapter.pk, "by": 1}))  # prepared, known
    assert [tuple(row) for row in first[0]] == expected
    with pytest.raises(DataError, match="division by zero"), transaction.atomic():
        # The sections' statement is prepared in this round trip, then the ratios' EXECUTE fails.
        rows_together(sections, (ratios, {"chapter": chapter.pk, "by": 0}))
    with CaptureQueriesContext(connection) as sent:
        rows = rows_together((ratios, {"chapter": chapter.pk, "by": 1}), sections)
    assert [tuple(row) for row in rows[0]] == expected
    assert [row[0] for row in rows[1]] == list(chapter.sections.values_list("pk", flat=True))
    assert sent.captured_queries[0]["sql"].startswith("DEALLOCATE ALL;\nPREPARE ")
    assert sorted(_prepared_on_server()) == sorted(_names(ratios, selectors._sections_query))
    with CaptureQueriesContext(connection) as sent:
        rows_together((ratios, {"chapter": chapter.pk, "by": 1}))
    assert sent.captured_queries[0]["sql"] == f"EXECUTE {ratios._compiled.name}(1, {chapter.pk})"


def test_a_query_compiled_again_is_prepared_under_a_new_name(chapter):
    _page_read()
    before = _names(*PAGE_READ)
    # The time zone is one of the settings the queries were compiled under.
    with override_settings(TIME_ZONE="Asia/Shanghai"):
        sent, page = _page_read()
        after = _names(*PAGE_READ)
    assert not before & after
    assert sent[0].count("PREPARE portal_c") == len(PAGE_READ)
    assert page.chapter.slug == "green"


def test_the_setting_turns_prepared_statements_off(chapter):
    with override_settings(DATABASE_PREPARED_STATEMENTS=False):
        sent, page = _page_read()
    assert "PREPARE" not in sent[0] and "EXECUTE" not in sent[0]
    assert page.chapter.slug == "green"


def test_a_parameter_of_each_kind_reaches_the_prepared_statement(chapter):
    # int (a small integer field's Int2), str, a datetime: each typed by its place in the SQL.
    later = datetime(2100, 1, 1, tzinfo=UTC)
    found = selectors._chapter_query.rows(year=2023, slug="green", now=later)
    assert len(found) == 1
    assert selectors._chapter_query.rows(year=2023, slug="green'; --", now=later) == []
    assert selectors._chapter_query.rows(year=2022, slug="green", now=later) == []


@pytest.mark.parametrize("prepared", [True, False])
def test_values_out_of_their_columns_range_are_a_404_prepared_or_not(client, chapter, prepared):
    # The plain SQL compares a literal out of the column's range and finds nothing; the prepared
    # statement's integers are bigints (not the column's smallint), a larger one runs the plain SQL.
    with override_settings(DATABASE_PREPARED_STATEMENTS=prepared):
        for path in (
            "/99999999999999/chapters/green/",
            f"/{10**30}/chapters/green/",
            f"/2023/chapters/{'g' * 300}/",
        ):
            assert client.get(path).status_code == 404, path
        assert client.get("/2023/chapters/green/").status_code == 200


def test_a_literal_percent_and_a_query_without_parameters_are_prepared_as_they_read(chapter):
    # Django writes the modulo operator %% (a literal % once the parameters are bound).
    odd = Compiled(
        lambda chapter: (
            Indicator.objects.filter(chapter_id=chapter)
            .annotate(odd=F("order") % 2)
            .order_by("pk")
            .values_list("code", "odd")
        ),
        chapter=int,
    )
    codes = Compiled(lambda: Indicator.objects.order_by("pk").values_list("code"))
    with override_settings(DATABASE_PREPARED_STATEMENTS=False):
        plain = _lists(rows_together((odd, {"chapter": chapter.pk}), (codes, {})))
    with CaptureQueriesContext(connection) as sent:
        prepared = _lists(rows_together((odd, {"chapter": chapter.pk}), (codes, {})))
    assert prepared == plain and plain[0] and plain[1]
    sql = sent.captured_queries[0]["sql"]
    assert f"PREPARE {codes._compiled.name} AS SELECT" in sql
    assert sql.endswith(f"EXECUTE {codes._compiled.name}")  # no parentheses: no parameters
    assert [row[1] for row in prepared[0]] == [
        i.order % 2 for i in Indicator.objects.filter(chapter=chapter).order_by("pk")
    ]
    assert _lists([odd.rows(chapter=chapter.pk), codes.rows()]) == plain
