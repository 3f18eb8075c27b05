"""Querysets compiled once per process (``indicators.compiled``) and the chapter page's reads
built on them: the same rows, instances and publication rule as the ORM's, each request's
values substituted, and a parameter the ORM would transform refused when compiling."""

from datetime import datetime, timedelta

import pytest
from django.http import Http404
from django.template import Context, Template
from django.test import override_settings
from django.urls import set_script_prefix
from django.utils import timezone, translation

from indicators import selectors
from indicators.compiled import Columns, Compiled
from indicators.models import Indicator, Story, public_q
from tests.factories import ChapterFactory, EditionFactory, IndicatorFactory, SectionFactory, StoryFactory

pytestmark = pytest.mark.django_db


def _public_indicators(chapter: int, now: datetime):
    return Indicator.objects.filter(public_q(now=now), chapter_id=chapter).order_by("order", "id")


def test_a_compiled_query_runs_with_each_requests_values():
    first, second = ChapterFactory(), ChapterFactory()
    a = IndicatorFactory(chapter=first, order=2)
    b = IndicatorFactory(chapter=first, order=1)
    later = IndicatorFactory(chapter=first, order=3, scheduled=True)
    c = IndicatorFactory(chapter=second)
    IndicatorFactory(chapter=second, draft=True)
    query = Compiled(
        lambda chapter, now: _public_indicators(chapter, now).values_list("id", "code"),
        chapter=int,
        now=datetime,
    )

    now = timezone.now()
    assert query.rows(chapter=first.pk, now=now) == [(b.pk, b.code), (a.pk, a.code)]
    assert query.rows(chapter=second.pk, now=now) == [(c.pk, c.code)]
    # The scheduled one is public once its time has come: the rule is public_q's, with the time given.
    rows = query.rows(chapter=first.pk, now=later.published_at + timedelta(seconds=1))
    assert [pk for pk, _ in rows] == [b.pk, a.pk, later.pk]
    for chapter in (first, second):
        expected = list(_public_indicators(chapter.pk, now).values_list("id", "code"))
        assert [tuple(row) for row in query.rows(chapter=chapter.pk, now=now)] == expected


def test_a_parameter_the_orm_transforms_is_refused_when_compiling():
    # icontains wraps the value in %…%: it cannot be substituted into the SQL.
    query = Compiled(lambda name: Indicator.objects.filter(name__icontains=name).values_list("id"), name=str)
    with pytest.raises(ValueError, match="did not reach the SQL"):
        query.rows(name="公园")


def test_rows_become_the_instances_the_orm_makes():
    indicator = IndicatorFactory(values=[(2022, 1), (2023, 2)])
    columns = Columns(Indicator, exclude=("source_text", "note"))
    row = Indicator.objects.filter(pk=indicator.pk).values_list(*columns.lookups()).get()
    made = columns.model_from(row)
    orm = Indicator.objects.defer("source_text", "note").get(pk=indicator.pk)
    assert {name: getattr(made, name) for name in columns.names} == {
        name: getattr(orm, name) for name in columns.names
    }
    assert (made._state.adding, made._state.db) == (False, "default")
    assert made.get_deferred_fields() == {"source_text", "note"}
    assert made.source_text == orm.source_text  # deferred: read on access, as with defer()


def test_the_chapter_page_reads_what_the_orm_would_read():
    edition = EditionFactory(year=2023)
    chapter = ChapterFactory(edition=edition)
    section = SectionFactory(chapter=chapter, number=1)
    shown = [
        IndicatorFactory(chapter=chapter, section=section, order=n, values=[(2022, n), (2023, n + 1, "约")])
        for n in range(3)
    ]
    IndicatorFactory(chapter=chapter, draft=True)
    IndicatorFactory(chapter=chapter, scheduled=True)
    stories = [StoryFactory(chapter=chapter, rank=n + 1) for n in range(2)]
    StoryFactory(chapter=chapter, draft=True)

    page = selectors.chapter_page(year=2023, slug=chapter.slug)

    assert page.chapter.pk == chapter.pk and page.chapter.edition.pk == edition.pk
    assert [s.pk for s in page.sections] == [section.pk]
    assert [i.pk for i in page.indicators] == [i.pk for i in shown]
    assert [s.pk for s in page.stories] == [
        s.pk
        for s in Story.objects.published().filter(chapter=chapter).order_by("kind", "rank", "order", "id")
    ]
    assert {s.pk for s in page.stories} == {s.pk for s in stories}
    for made in page.indicators:
        orm = Indicator.objects.prefetch_related("values").get(pk=made.pk)
        assert [(v.year, v.value, v.qualifier) for v in made.series] == [
            (v.year, v.value, v.qualifier) for v in orm.series
        ]
        assert made.current_value.value == orm.current_value.value
        assert made.get_absolute_url() == orm.get_absolute_url()
        # The values came with the indicator: asking them for more is refused, not run unfiltered.
        with pytest.raises(TypeError):
            made.values.filter(year=2022)


def test_the_chapter_page_is_a_404_unless_its_edition_is_public():
    draft = ChapterFactory(edition=EditionFactory(year=2024, draft=True))
    scheduled = ChapterFactory(edition=EditionFactory(year=2025, scheduled=True))
    for chapter in (draft, scheduled):
        with pytest.raises(Http404):
            selectors.chapter_page(year=chapter.edition.year, slug=chapter.slug)
    with pytest.raises(Http404):
        selectors.chapter_page(year=2024, slug="no-such-chapter")


def test_fixed_chrome_follows_the_language_and_the_variables_named():
    page = Template("{% load chrome i18n %}{% fixed nav %}{% translate '首页' %}:{{ nav }}{% endfixed %}")
    assert page.render(Context({"nav": "home"})) == "首页:home"
    assert page.render(Context({"nav": "search"})) == "首页:search"
    with translation.override("en"):
        assert page.render(Context({"nav": "home"})) == "Home:home"
    assert page.render(Context({"nav": "home"})) == "首页:home"


def test_fixed_chrome_is_rendered_again_after_a_setting_changes():
    page = Template("{% load chrome %}{% fixed %}{% url 'indicators:search' %}{% endfixed %}")
    assert page.render(Context()) == "/search/"
    with override_settings(FORCE_SCRIPT_NAME="/portal/"):
        # The prefix a request would set is part of the key too.
        set_script_prefix("/portal/")
        try:
            assert page.render(Context()) == "/portal/search/"
        finally:
            set_script_prefix("/")
    assert page.render(Context()) == "/search/"
