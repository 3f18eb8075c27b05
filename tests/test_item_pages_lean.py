"""The indicator and story pages read their rows in one round trip of compiled queries
(``indicators.selectors.indicator_page``, ``story_page``; the indicator's other editions with
them, or a second one, ``indicator_others``), however much the item links to, and those rows are what
the querysets they are compiled from return: the same objects, related objects, values and
order, the publication rule applied to every row (drafts, scheduled items and unpublished
editions hidden, a 404 for a hidden item). On SQLite, the embedded mode README's command
serves, the same pages."""

from collections.abc import Sequence

import pytest
from django.db import connection
from django.http import Http404
from django.test.utils import CaptureQueriesContext

from indicators import selectors
from indicators.models import Indicator, IndicatorValue, Story, public_q
from tests.factories import (
    ChapterFactory,
    DistrictFactory,
    EditionFactory,
    IndicatorFactory,
    PhotoFactory,
    SectionFactory,
    StoryFactory,
    StreetFactory,
)
from tests.test_settings_guard import EMBEDDED_SETUP, run, serve_environment

pytestmark = pytest.mark.django_db

CODE = "park-green-share"


def build(size: int) -> dict:
    """An indicator of 2023 whose code is in 2021 and 2022 too (and in a draft 2024 and a
    scheduled 2025), with ``size`` stories of several editions (and hidden ones), and a story
    with ``size`` photos and ``size`` indicators (and hidden ones)."""
    editions = {year: EditionFactory(year=year) for year in (2021, 2022, 2023)}
    editions[2024] = EditionFactory(year=2024, draft=True)
    editions[2025] = EditionFactory(year=2025, scheduled=True)
    chapters = {year: ChapterFactory(edition=edition, number=3) for year, edition in editions.items()}
    section = SectionFactory(chapter=chapters[2023], number=2)
    indicator = IndicatorFactory(
        chapter=chapters[2023],
        section=section,
        code=CODE,
        note="说明。",
        values=[(2021, "1.5"), (2022, 2), (2023, "3.25", "约"), {"year": 2023, "month": 6, "value": 3}],
    )
    for year, chapter in chapters.items():
        if year != 2023:
            IndicatorFactory(chapter=chapter, code=CODE, values=[(year, year - 2000)])
    IndicatorFactory(chapter=chapters[2023], code="draft-one", draft=True)
    street = StreetFactory(district=DistrictFactory())
    stories = []
    for n in range(size):
        edition = editions[2022] if n % 3 == 0 else editions[2023]
        stories.append(
            StoryFactory(
                edition=edition,
                chapter=chapters[2023] if n % 2 else None,
                street=street if n % 2 else None,
                rank=n % 4 or None,
                indicators=[indicator],
            )
        )
    StoryFactory(edition=editions[2023], draft=True, indicators=[indicator])
    StoryFactory(edition=editions[2023], scheduled=True, indicators=[indicator])
    StoryFactory(edition=editions[2024], indicators=[indicator])
    story = StoryFactory(edition=editions[2023], chapter=chapters[2023], street=street, rank=1)
    linked = [IndicatorFactory(chapter=chapters[2023], order=size - n) for n in range(size)]
    linked += [IndicatorFactory(chapter=chapters[2022])]
    linked += [IndicatorFactory(chapter=chapters[2023], draft=True), IndicatorFactory(chapter=chapters[2024])]
    story.indicators.add(*linked)
    for n in range(size):
        PhotoFactory(story=story, order=size - n)
    return {"indicator": indicator, "story": story}


def fields(obj) -> dict:
    """The values of the fields an instance has loaded (those deferred left out)."""
    return {name: value for name, value in obj.__dict__.items() if not name.startswith("_")}


def same_rows(made: Sequence, expected: Sequence) -> None:
    assert [type(obj) for obj in made] == [type(obj) for obj in expected]
    assert [obj.pk for obj in made] == [obj.pk for obj in expected]
    for obj, other in zip(made, expected, strict=True):
        loaded = fields(obj)
        assert loaded == {name: value for name, value in fields(other).items() if name in loaded}


@pytest.mark.parametrize("size", [1, 8])
def test_the_indicator_page_reads_in_one_round_trip_what_its_queryset_says(size):
    indicator = build(size)["indicator"]

    with CaptureQueriesContext(connection) as captured:
        page = selectors.indicator_page(year=2023, code=CODE)
        made = page.indicator
        # Every related object the page shows came with it: reading them runs no query.
        shown = (made.edition.title, made.chapter.edition.year, made.section.title, made.series)
        stories = [(s.edition.year, s.district, s.street) for s in page.stories]
    assert len(captured) == 1
    assert shown[1] == 2023
    assert len(stories) == size

    expected = (
        Indicator.objects.filter(public_q(), public_q("edition__"))
        .select_related("edition", "chapter__edition", "section")
        .get(pk=indicator.pk)
    )
    same_rows([made], [expected])
    same_rows(
        [made.edition, made.chapter, made.section], [expected.edition, expected.chapter, expected.section]
    )
    assert "source_text" in fields(made) and "note" in fields(made)  # the page quotes them
    same_rows(made.series, list(indicator.values.order_by("year", "month")))
    public_stories = (
        Story.objects.filter(public_q(), public_q("edition__"), indicators=indicator)
        .select_related("edition", "district", "street")
        .order_by("kind", "rank", "order", "id")
    )
    same_rows(page.stories, list(public_stories))
    for story, other in zip(page.stories, public_stories, strict=True):
        same_rows([story.edition], [other.edition])
        assert (story.district_id, story.street_id) == (other.district_id, other.street_id)
        if story.street_id:
            same_rows([story.district, story.street], [other.district, other.street])
    assert [edition.year for edition in page.editions] == [2023, 2022, 2021]

    # The other editions, from the rows read with the page (no query) or read on their own.
    with CaptureQueriesContext(connection) as captured:
        read_with = selectors.indicator_others(made, page.editions, page.others)
        series_with = [other.series for other in read_with]
    assert len(captured) == 0
    with CaptureQueriesContext(connection) as captured:
        others = selectors.indicator_others(made, page.editions)
        series = [other.series for other in others]
    assert len(captured) == 1
    for found, values in ((read_with, series_with), (others, series)):
        assert [other.edition.year for other in found] == [
            2021,
            2022,
        ]  # not the draft 2024, the scheduled 2025
        same_rows(found, list(Indicator.objects.published().filter(code=CODE, edition__year__lt=2023)))
        assert [[value.year for value in points] for points in values] == [[2021], [2022]]


def test_an_indicator_in_the_only_public_edition_looks_for_no_other(indicator):
    page = selectors.indicator_page(year=2023, code=indicator.code)
    with CaptureQueriesContext(connection) as captured:
        assert selectors.indicator_others(page.indicator, page.editions) == []
    assert len(captured) == 0


@pytest.mark.parametrize("size", [1, 8])
def test_the_story_page_reads_in_one_round_trip_what_its_queryset_says(size):
    story = build(size)["story"]

    with CaptureQueriesContext(connection) as captured:
        page = selectors.story_page(year=2023, slug=story.slug)
        made = page.story
        shown = (
            made.edition.title,
            made.chapter.edition.year,
            made.district.name,
            made.street.name,
            made.body,
        )
        rows = [(i.edition.year, i.current_and_previous()) for i in page.indicators]
    assert len(captured) == 1
    assert shown[1] == 2023

    expected = Story.objects.select_related("edition", "chapter__edition", "district", "street").get(
        pk=story.pk
    )
    same_rows([made], [expected])
    same_rows(
        [made.edition, made.chapter, made.chapter.edition, made.district, made.street],
        [expected.edition, expected.chapter, expected.chapter.edition, expected.district, expected.street],
    )
    same_rows(page.photos, list(story.photos.order_by("order", "id")))
    assert all(photo.story is made for photo in page.photos)
    public = (
        Indicator.objects.filter(public_q(), public_q("edition__"), stories=story)
        .select_related("edition")
        .order_by("chapter__number", "order", "id")
    )
    same_rows(page.indicators, list(public))  # not the draft, nor the draft edition's
    assert len(rows) == size + 1
    for made_indicator in page.indicators:
        same_rows(made_indicator.series, list(IndicatorValue.objects.filter(indicator=made_indicator)))


def test_a_story_without_chapter_district_or_street():
    story = StoryFactory(edition=EditionFactory(year=2023))
    with CaptureQueriesContext(connection) as captured:
        page = selectors.story_page(year=2023, slug=story.slug)
        assert (page.story.chapter, page.story.district, page.story.street) == (None, None, None)
        assert (page.photos, page.indicators) == ([], [])
    assert len(captured) == 1


def test_hidden_items_are_404s_and_their_pages_too(client):
    chapter = ChapterFactory(edition=EditionFactory(year=2023))
    hidden = {
        "draft": IndicatorFactory(chapter=chapter, draft=True),
        "scheduled": IndicatorFactory(chapter=chapter, scheduled=True),
        "draft edition": IndicatorFactory(
            chapter=ChapterFactory(edition=EditionFactory(year=2024, draft=True))
        ),
        "scheduled edition": IndicatorFactory(
            chapter=ChapterFactory(edition=EditionFactory(year=2025, scheduled=True))
        ),
    }
    shown = IndicatorFactory(chapter=chapter)
    for indicator in hidden.values():
        with pytest.raises(Http404):
            selectors.indicator_page(year=indicator.edition.year, code=indicator.code)
        assert client.get(f"/{indicator.edition.year}/indicators/{indicator.code}/").status_code == 404
    huge = (99_999_999_999_999, 10**20)  # a bigint; beyond one
    for year, code in ((2022, shown.code), (2023, "no-such-code"), *((year, shown.code) for year in huge)):
        assert client.get(f"/{year}/indicators/{code}/").status_code == 404
    assert client.get(shown.get_absolute_url()).status_code == 200

    stories = {
        "draft": StoryFactory(chapter=chapter, draft=True),
        "scheduled": StoryFactory(chapter=chapter, scheduled=True),
        "draft edition": StoryFactory(edition=hidden["draft edition"].edition),
        "scheduled edition": StoryFactory(edition=hidden["scheduled edition"].edition),
    }
    for story in stories.values():
        with pytest.raises(Http404):
            selectors.story_page(year=story.edition.year, slug=story.slug)
        assert client.get(f"/{story.edition.year}/stories/{story.slug}/").status_code == 404
    for year in huge:
        assert client.get(f"/{year}/stories/x/").status_code == 404


@pytest.mark.parametrize("size", [1, 8])
def test_the_pages_queries_do_not_grow_with_what_the_item_links_to(client, django_assert_num_queries, size):
    items = build(size)
    # The indicator page: one round trip, with its other editions and the participation
    # panel's reads (feedback's: the stored satisfaction of it and of those).
    with django_assert_num_queries(1):
        response = client.get(items["indicator"].get_absolute_url())
    assert response.status_code == 200
    assert len(response.context["stories"]) == size
    assert [i.edition.year for i in response.context["across_editions"]] == [2021, 2022, 2023]
    # The story page: its round trip, the participation panel's reads with it.
    with django_assert_num_queries(1):
        response = client.get(items["story"].get_absolute_url())
    assert response.status_code == 200
    assert len(response.context["photos"]) == size
    assert len(response.context["indicators"]) == size + 1


def test_embedded_mode_serves_the_indicator_and_story_pages(tmp_path):
    # SQLite: one statement per execute, the parameters adapted as its backend adapts them.
    code = (
        EMBEDDED_SETUP + "from tests.factories import ChapterFactory, EditionFactory, IndicatorFactory,"
        " StoryFactory, PhotoFactory\n"
        "older = IndicatorFactory(chapter=ChapterFactory(edition=EditionFactory(year=2022)), code='c')\n"
        "item = IndicatorFactory(chapter=ChapterFactory(edition=EditionFactory(year=2023)), code='c')\n"
        "story = StoryFactory(edition=item.edition, chapter=item.chapter, indicators=[item, older])\n"
        "PhotoFactory(story=story)\n"
        "hidden = IndicatorFactory(chapter=item.chapter, draft=True)\n"
        "client = Client(HTTP_HOST='127.0.0.1')\n"
        "page = client.get(item.get_absolute_url(), secure=True).content.decode()\n"
        "print(client.get(item.get_absolute_url(), secure=True).status_code,"
        " story.title in page, older.get_absolute_url() in page)\n"
        "page = client.get(story.get_absolute_url(), secure=True)\n"
        "print(page.status_code, item.name in page.content.decode(), older.name in page.content.decode())\n"
        "print(client.get(hidden.get_absolute_url(), secure=True).status_code)\n"
        # A year SQLite cannot bind (beyond 64 bits): a 404, as on PostgreSQL, not a 500.
        "for kind in ('indicators', 'stories', 'chapters'):\n"
        "    print(client.get(f'/{10**20}/{kind}/c/', secure=True).status_code)\n"
    )
    started = run(code, **serve_environment(), DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}")
    assert started.returncode == 0, started.stderr
    assert started.stdout.split() == [
        "200",
        "True",
        "True",
        "200",
        "True",
        "True",
        "404",
        "404",
        "404",
        "404",
    ]
