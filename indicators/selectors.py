"""Reads of the published report.

Every public read goes through here, so that "what a resident may see" is
decided in one place: an indicator or story is public when it is published,
its publish date has come, and its edition is public in the same sense
(``public_q``, defined with the models and re-exported here for the apps
that build on the report).
Each selector returns a queryset that already joins or prefetches what the
page will touch, so a page runs the same number of queries however much the
report holds.
"""

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count, IntegerField, Model, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.http import Http404
from django.utils import timezone

from indicators.compiled import Columns, Compiled, joined, rows_together
from indicators.models import (
    Chapter,
    District,
    Edition,
    Indicator,
    IndicatorValue,
    Photo,
    Section,
    Story,
    Street,
    public_q,
)

# A search term shorter than this matches too much to be useful; longer than
# this is not a search a person typed.
SEARCH_MIN_LENGTH = 2
SEARCH_MAX_LENGTH = 50
SEARCH_RESULT_LIMIT = 50
STORY_PAGE_SIZE = 30


# --- Editions and chapters -------------------------------------------------------


def edition_list_published(*, now: datetime | None = None) -> QuerySet[Edition]:
    return Edition.objects.filter(public_q(now=now)).order_by("-year")


_edition_years_query = Compiled(
    lambda now: edition_list_published(now=now).values_list("id", "year"),
    now=datetime,
)


def edition_list_published_years() -> list[Edition]:
    """The public editions, newest first, with their ``id`` and ``year`` only (the
    other fields deferred): the header's switcher on every page of an edition, so a
    query compiled once (``indicators.compiled``)."""
    return _edition_years(_edition_years_query.rows(now=timezone.now()))


def _edition_years(rows: list) -> list[Edition]:
    # What ``Edition.from_db("default", ("id", "year"), row)`` makes (the rest deferred).
    make = _EDITION_YEAR.maker()
    return [make(row, {}) for row in rows]


def edition_published_latest() -> Edition | None:
    """The latest public edition, whole; a query compiled once (``_latest_edition_query``)."""
    rows = _latest_edition_query.rows(now=timezone.now())
    return _EDITION_WHOLE.model_from(rows[0]) if rows else None


def edition_get_published(*, year: int) -> Edition:
    """The public edition of ``year``, whole; 404 for a draft, a future one or no such year.
    A query compiled once (``_edition_of_year_query``)."""
    rows = _edition_of_year_query.rows(year=year, now=timezone.now())
    if not rows:
        raise Http404("No such edition")
    return _EDITION_WHOLE.model_from(rows[0])


def edition_list_published_with_chapters() -> QuerySet[Edition]:
    """Public editions, newest first, each with its chapters in order."""
    return edition_list_published().prefetch_related(
        Prefetch("chapters", queryset=Chapter.objects.order_by("number"))
    )


def _count_of(model, field: str, extra: Q) -> Coalesce:
    """A correlated ``COUNT`` subquery: one query for all chapters, no row explosion."""
    counted = (
        model.objects.filter(extra, **{field: OuterRef("pk")})
        .order_by()
        .values(field)
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(counted, output_field=IntegerField()), 0)


def chapter_list_for_edition(*, edition: Edition) -> QuerySet[Chapter]:
    """The edition's chapters with the number of public indicators and stories of each."""
    return (
        Chapter.objects.filter(edition=edition)
        .select_related("edition")
        .annotate(
            indicator_count=_count_of(Indicator, "chapter", public_q()),
            story_count=_count_of(Story, "chapter", public_q()),
        )
        .order_by("number")
    )


def chapter_list_published() -> QuerySet[Chapter]:
    """The chapters of every public edition, newest edition first, each with its sections."""
    return (
        Chapter.objects.filter(public_q("edition__"))
        .select_related("edition")
        .prefetch_related(Prefetch("sections", queryset=Section.objects.order_by("number")))
        .order_by("-edition__year", "number")
    )


# --- Indicators -------------------------------------------------------------------------


# An indicator's series runs from the oldest point to the newest: the order of every read of
# values (``Indicator.current_value`` and friends take the last annual one as the current).
# The id makes it total: a read of several indicators' values has rows of the same year,
# which two plans of one statement (a prepared one's generic plan) may interleave differently.
_SERIES_ORDER = ("year", "month", "id")


def values_prefetch() -> Prefetch:
    """Each indicator's values in series order, as ``Indicator.current_value`` and friends read them
    (``values.all()``): the pages' reads, the admin's list and the export."""
    return Prefetch("values", queryset=IndicatorValue.objects.order_by(*_SERIES_ORDER))


def _value_rows(values: QuerySet[IndicatorValue]) -> QuerySet:
    """The rows of ``values`` in series order, of the columns ``_values_of`` makes them from."""
    return values.order_by(*_SERIES_ORDER).values_list(*_VALUE.lookups())


def indicator_list_published() -> QuerySet[Indicator]:
    """Every public indicator of every public edition, ready to be listed."""
    return (
        Indicator.objects.filter(public_q(), public_q("edition__"))
        .select_related("edition", "chapter__edition", "section")
        .prefetch_related(values_prefetch())
    )


def indicator_list_headline(*, edition: Edition) -> QuerySet[Indicator]:
    return indicator_list_published().filter(edition=edition, headline=True)


def indicator_list_published_newest_first() -> QuerySet[Indicator]:
    """Every public indicator, the newest edition first and each edition in report order,
    as the list API shows them: with the edition's year, the chapter's and section's
    references, and the values.

    Each row joins its edition, chapter and section; the long texts of those (a
    preface, a summary, a section's body) are left out, since they would be read
    once per row and shown nowhere in the list.
    """
    return (
        indicator_list_published()
        .select_related(None)
        .select_related("edition", "chapter", "section")
        .defer(
            "edition__title",
            "edition__title_en",
            "edition__preface",
            "edition__preface_en",
            "chapter__title",
            "chapter__title_en",
            "chapter__summary",
            "section__body",
        )
        .order_by("-edition__year", "chapter__number", "order", "id")
    )


def indicator_list_for_edition(*, edition: Edition) -> QuerySet[Indicator]:
    return indicator_list_published().filter(edition=edition)


# --- Stories ------------------------------------------------------------------------------


def _story_public() -> QuerySet[Story]:
    return Story.objects.filter(public_q(), public_q("edition__")).select_related(
        "edition", "district", "street", "chapter__edition"
    )


def story_list_published(
    *, edition: Edition | None = None, kind: str = "", district: str = ""
) -> QuerySet[Story]:
    """Public stories, optionally of one edition, one kind (``StoryKind``) and one district slug."""
    stories = _story_public()
    if edition is not None:
        stories = stories.filter(edition=edition)
    if kind:
        stories = stories.filter(kind=kind)
    if district:
        stories = stories.filter(district__slug=district)
    return stories.order_by("kind", "rank", "order", "id")


def story_list_published_with_photos() -> QuerySet[Story]:
    """Public stories, newest edition first, with their photos and the codes of their public indicators."""
    return (
        story_list_published()
        .prefetch_related(
            Prefetch("photos", queryset=Photo.objects.order_by("order", "id")),
            Prefetch(
                "indicators",
                queryset=indicator_list_published()
                .select_related(None)
                .prefetch_related(None)
                .order_by("chapter__number", "order", "id")
                .only("id", "code"),
            ),
        )
        .order_by("-edition__year", "kind", "rank", "order", "id")
    )


def district_list_with_stories(*, edition: Edition) -> QuerySet[District]:
    """Districts that have at least one public story in the edition (the filter's options)."""
    return (
        District.objects.filter(Q(stories__edition=edition) & public_q("stories__"))
        .distinct()
        .order_by("order", "name")
    )


def district_list_with_streets() -> QuerySet[District]:
    """Beijing's districts, each with its streets by name."""
    return District.objects.prefetch_related(Prefetch("streets", queryset=Street.objects.order_by("name")))


# --- The chapter page ---------------------------------------------------------------------
#
# The chapter page is the report's busiest uncached page: a chapter with a few dozen
# indicators and stories. Its reads are the querysets below, each compiled to SQL once
# per process (``indicators.compiled``) and run with the page's chapter and the time
# of the request, so the publication rule (``public_q``) is the ORM's as everywhere
# else; the rows become the model instances the ORM would make, without its building,
# compiling and prefetching per request (most of what the page cost).


# Each row's publication (checked by the queries) and time of change are not shown; the
# edition's preface, an indicator's quoted sentence and note, a story's body are for
# other pages. (Deferred: read on access, as with ``defer()``.)
_UNSHOWN = ("status", "published_at", "updated_at")
_EDITION = Columns(Edition, exclude=("preface", "preface_en"))
# An edition's ``id`` and ``year`` (``_edition_years_query``'s columns), the rest deferred.
_EDITION_YEAR = Columns(
    Edition, exclude=[f.name for f in Edition._meta.concrete_fields if f.attname not in {"id", "year"}]
)
_CHAPTER = Columns(Chapter)
_SECTION = Columns(Section)
_INDICATOR = Columns(Indicator, exclude=(*_UNSHOWN, "source_text", "note"))
_VALUE = Columns(IndicatorValue)
_STORY = Columns(Story, exclude=(*_UNSHOWN, "body"))
_DISTRICT = Columns(District)
_STREET = Columns(Street)

# By (year, slug), which name one chapter: no ORDER BY (with one, Django hashes every
# selected column to match it). Its edition must be public.
_chapter_query = Compiled(
    lambda year, slug, now: (
        Chapter.objects.filter(public_q("edition__", now=now), edition__year=year, slug=slug)
        .order_by()
        .values_list(*_CHAPTER.lookups(), *_EDITION.lookups("edition__"))
    ),
    year=int,
    slug=str,
    now=datetime,
)
# The other reads name the chapter as the page's URL does (edition year and slug), so
# that all of them go to the database together with the chapter's (``rows_together``);
# when the chapter is not public they are not used (404).
_sections_query = Compiled(
    lambda year, slug: (
        Section.objects.filter(chapter__edition__year=year, chapter__slug=slug)
        .order_by("number")
        .values_list(*_SECTION.lookups())
    ),
    year=int,
    slug=str,
)
# Every row of a chapter is in its chapter's edition (the same year, which names one
# edition), whose half of the publication rule the chapter's query checks. In report
# order: the model's ``chapter__number, order, id``, the chapter's number being the same for all.
_indicators_query = Compiled(
    lambda year, slug, now: (
        Indicator.objects.filter(
            public_q(now=now), edition__year=year, chapter__edition__year=year, chapter__slug=slug
        )
        .order_by("order", "id")
        .values_list(*_INDICATOR.lookups())
    ),
    year=int,
    slug=str,
    now=datetime,
)
# The values of the chapter's indicators (those of its drafts are dropped in Python),
# each indicator's from the oldest point to the newest, as ``values_prefetch``.
_values_query = Compiled(
    lambda year, slug: _value_rows(
        IndicatorValue.objects.filter(indicator__chapter__edition__year=year, indicator__chapter__slug=slug)
    ),
    year=int,
    slug=str,
)
_stories_query = Compiled(
    lambda year, slug, now: (
        Story.objects.filter(
            public_q(now=now), edition__year=year, chapter__edition__year=year, chapter__slug=slug
        )
        .order_by("kind", "rank", "order", "id")
        .values_list(*_STORY.lookups(), *_DISTRICT.lookups("district__"), *_STREET.lookups("street__"))
    ),
    year=int,
    slug=str,
    now=datetime,
)


class FetchedRows(QuerySet):
    """Rows a page fetched with their parent, as a prefetch leaves them: read, counted,
    iterated. A further query from them (``filter``, ``order_by``…) would not be limited to
    the parent, so it is refused."""

    def _chain(self) -> QuerySet:
        raise TypeError("rows fetched with their parent: query the model instead")


@functools.cache
def _fetched_state(model: type[Model]) -> dict:
    """A ``FetchedRows(model)``'s attributes before its rows: its query is never changed
    (``_chain`` refuses), so one per model serves every parent's rows."""
    return dict(FetchedRows(model).__dict__)


def _fetched(instance: Model, name: str, model: type[Model], rows: list) -> None:
    """Put ``rows`` where ``prefetch_related(name)`` puts them (``instance.<name>.all()`` reads them)."""
    fetched = FetchedRows.__new__(FetchedRows)
    # The model's attributes with the per-queryset mutable state, fresh for each.
    fetched.__dict__ = {
        **_fetched_state(model),
        "_hints": {},
        "_known_related_objects": {},
        "_result_cache": rows,
        "_prefetch_done": True,
    }
    instance._prefetched_objects_cache = {name: fetched}


@dataclass(frozen=True)
class ChapterPage:
    """What the chapter page shows: the chapter (with its edition), its sections in
    order, its public indicators in report order (with their values, ``Indicator.series``)
    and its public stories in list order (with district and street); every row's
    ``chapter`` and ``edition`` are those above."""

    chapter: Chapter
    sections: list[Section]
    indicators: list[Indicator]
    stories: list[Story]
    # The public editions (``edition_list_published_years``), for the header's switcher.
    editions: list[Edition]
    # The rows of the reads other apps send with the page's (``page_reads``), by name.
    added: dict[str, list[list[Sequence]]]


def _story_maker(chapter: Chapter) -> Callable[[Sequence], Story]:
    """A story of the chapter from its row (the story's columns, its district's, its
    street's), with its chapter, edition, district and street."""
    make_story, make_district, make_street = _STORY.maker(), _DISTRICT.maker(), _STREET.maker()
    edition = chapter.edition

    def make(row: Sequence) -> Story:
        own, district_values, street_values = _cut(row, _STORY, _DISTRICT, _STREET)
        district, street = joined(make_district, district_values), joined(make_street, street_values)
        related = {"chapter": chapter, "edition": edition, "district": district, "street": street}
        return make_story(own, related)

    return make


# Reads of other apps that go to the database with a page's own, in its one round trip: for
# each page ("chapter", "indicator", "story"), name → a function of the page's (year, key)
# giving the compiled queries to run with those values (the key: the chapter's or the
# story's slug, the indicator's code). An app that builds on the report (``feedback``: the
# stored satisfaction of the chapter and its items, an item's participation panel)
# registers them when it is ready; ``indicators`` cannot import it. Like the page's other
# reads, they name the page's object by year and key (its id is not known before the round
# trip), and their rows are unused when it is not public (404).
PageRead = Callable[[int, str], Sequence[tuple[Compiled, dict]]]
_page_reads: dict[str, dict[str, PageRead]] = {"chapter": {}, "indicator": {}, "story": {}}


def page_reads(page: str, name: str, read: PageRead) -> None:
    """Send ``read(year, key)``'s queries with every ``page`` page's (``chapter``,
    ``indicator`` or ``story``); their rows come back in its ``added[name]``, one list per
    query. Registering a name again replaces it."""
    _page_reads[page][name] = read


def _rows_with_reads(page: str, year: int, key: str, *own: tuple[Compiled, dict]) -> tuple[list, dict]:
    """The rows of the page's ``own`` queries and of those registered for ``page``
    (``page_reads``), in one round trip: the former in order, the latter by name."""
    added = [(name, list(read(year, key))) for name, read in _page_reads[page].items()]
    rows = rows_together(*own, *[query for _, queries in added for query in queries])
    by_name, added_rows = {}, rows[len(own) :]
    for name, queries in added:
        by_name[name], added_rows = added_rows[: len(queries)], added_rows[len(queries) :]
    return rows[: len(own)], by_name


def chapter_page(*, year: int, slug: str) -> ChapterPage:
    """The chapter ``slug`` of the public edition ``year`` (404 otherwise) and what its page lists:
    six statements in one round trip to the database, whatever the chapter holds (the
    sixth: the public editions, which the header's switcher shows), with those registered
    by other apps (``page_reads``)."""
    now = timezone.now()
    own, added = _rows_with_reads(
        "chapter",
        year,
        slug,
        (_chapter_query, {"year": year, "slug": slug, "now": now}),
        (_sections_query, {"year": year, "slug": slug}),
        (_indicators_query, {"year": year, "slug": slug, "now": now}),
        (_values_query, {"year": year, "slug": slug}),
        (_stories_query, {"year": year, "slug": slug, "now": now}),
        (_edition_years_query, {"now": now}),
    )
    found, section_rows, indicator_rows, value_rows, story_rows, edition_rows = own
    if not found:
        raise Http404("No such chapter")
    chapter_values, edition_values = _cut(found[0], _CHAPTER, _EDITION)
    edition = _EDITION.model_from(edition_values)
    chapter = _CHAPTER.maker()(chapter_values, {"edition": edition})
    make_section = _SECTION.maker()
    sections = [make_section(row, {}) for row in section_rows]
    make_indicator = _INDICATOR.maker()
    indicators = [make_indicator(row, {"chapter": chapter, "edition": edition}) for row in indicator_rows]
    _values_of(indicators, value_rows)  # a draft's values are dropped
    make_story = _story_maker(chapter)
    stories = [make_story(row) for row in story_rows]
    return ChapterPage(
        chapter=chapter,
        sections=sections,
        indicators=indicators,
        stories=stories,
        editions=_edition_years(edition_rows),
        added=added,
    )


# --- The edition page (home and ``/<year>/``) ----------------------------------------------
#
# Read as the chapter page is, once the edition is known (the view finds it first: the home
# page's latest public edition, or ``/<year>/``'s): its chapters with their public indicator
# and story counts, its headline indicators with their chapters and values, and the public
# editions for the header's switcher, in one round trip whatever the edition holds.

# ``chapter_list_for_edition``'s rows: the chapters in order with the correlated COUNT
# subqueries of their public indicators and stories.
_edition_chapters_query = Compiled(
    lambda edition, now: (
        Chapter.objects.filter(edition_id=edition)
        .annotate(
            indicator_count=_count_of(Indicator, "chapter", public_q(now=now)),
            story_count=_count_of(Story, "chapter", public_q(now=now)),
        )
        .order_by("number")
        .values_list(*_CHAPTER.lookups(), "indicator_count", "story_count")
    ),
    edition=int,
    now=datetime,
)
# ``indicator_list_headline``'s rows (the edition's public headline indicators in report
# order, the model's ``chapter__number, order, id``), with their chapters and the chapters'
# editions; the edition itself is public (the view found it so).
_headlines_query = Compiled(
    lambda edition, now: (
        Indicator.objects.filter(public_q(now=now), edition_id=edition, headline=True)
        .order_by("chapter__number", "order", "id")
        .values_list(
            *_INDICATOR.lookups(), *_CHAPTER.lookups("chapter__"), *_EDITION.lookups("chapter__edition__")
        )
    ),
    edition=int,
    now=datetime,
)
# Their values, each indicator's from the oldest point to the newest (a draft's dropped in Python).
_headline_values_query = Compiled(
    lambda edition: _value_rows(
        IndicatorValue.objects.filter(indicator__edition_id=edition, indicator__headline=True)
    ),
    edition=int,
)


# The edition a page shows, whole (the edition page's preface is the page's): the latest
# public one or the public one of a year (``edition_published_latest``,
# ``edition_get_published``), compiled once.
_EDITION_WHOLE = Columns(Edition)
_latest_edition_query = Compiled(
    lambda now: edition_list_published(now=now).values_list(*_EDITION_WHOLE.lookups())[:1],
    now=datetime,
)
_edition_of_year_query = Compiled(
    lambda year, now: (
        edition_list_published(now=now).filter(year=year).values_list(*_EDITION_WHOLE.lookups())[:1]
    ),
    year=int,
    now=datetime,
)


@dataclass(frozen=True)
class EditionPage:
    """What an edition's page shows: its chapters in order (each with its edition and
    ``indicator_count``, ``story_count``: its public ones), its public headline indicators in
    report order (with edition, chapter and values) and the public editions, for the switcher."""

    chapters: list[Chapter]
    headlines: list[Indicator]
    editions: list[Edition]


def edition_page(*, edition: Edition) -> EditionPage:
    """The lists of the public ``edition``'s page: four statements in one round trip."""
    now = timezone.now()
    chapter_rows, headline_rows, value_rows, edition_rows = rows_together(
        (_edition_chapters_query, {"edition": edition.id, "now": now}),
        (_headlines_query, {"edition": edition.id, "now": now}),
        (_headline_values_query, {"edition": edition.id}),
        (_edition_years_query, {"now": now}),
    )
    make_chapter = _CHAPTER.maker()
    counted = len(_CHAPTER.names)
    chapters = []
    for row in chapter_rows:
        chapter = make_chapter(row[:counted], {"edition": edition})
        chapter.indicator_count, chapter.story_count = row[counted:]
        chapters.append(chapter)
    make_indicator, editions = _INDICATOR.maker(), _Editions(edition)
    chapter_of: dict[int, Chapter] = {chapter.id: chapter for chapter in chapters}
    headlines = []
    for row in headline_rows:
        own, chapter_values, chapter_edition_values = _cut(row, _INDICATOR, _CHAPTER, _EDITION)
        chapter = chapter_of.get(chapter_values[0]) or make_chapter(
            chapter_values, {"edition": editions.get(chapter_edition_values)}
        )
        headlines.append(make_indicator(own, {"edition": edition, "chapter": chapter}))
    _values_of(headlines, value_rows)
    return EditionPage(chapters=chapters, headlines=headlines, editions=_edition_years(edition_rows))


# --- The indicator and story pages --------------------------------------------------------
#
# The pages of one item, read as the chapter page is (``Compiled`` queries, the rows made
# into the instances the ORM would make): each page's reads go to the database in one
# round trip, whatever the item links to. The indicator page's other editions are read
# in a second one, after the page has said it depends on them (``indicators.cache``:
# a tag's version before the rows it guards), and only when another edition is public.

# The item itself is shown whole (an indicator's quoted sentence and note, a story's body).
_INDICATOR_PAGE = Columns(Indicator, exclude=_UNSHOWN)
_STORY_PAGE = Columns(Story, exclude=_UNSHOWN)
_PHOTO = Columns(Photo)

# By (year, code), which name one indicator: no ORDER BY (see ``_chapter_query``). With its
# edition, its chapter (and the chapter's edition, for its URL) and its section, if any.
_indicator_query = Compiled(
    lambda year, code, now: (
        Indicator.objects.filter(
            public_q(now=now), public_q("edition__", now=now), edition__year=year, code=code
        )
        .order_by()
        .values_list(
            *_INDICATOR_PAGE.lookups(),
            *_EDITION.lookups("edition__"),
            *_CHAPTER.lookups("chapter__"),
            *_EDITION.lookups("chapter__edition__"),
            *_SECTION.lookups("section__"),
        )
    ),
    year=int,
    code=str,
    now=datetime,
)
# The values of the indicator named by (year, code), from the oldest point to the newest
# (``values_prefetch``); not used when the indicator is not public (404).
_indicator_values_query = Compiled(
    lambda year, code: _value_rows(
        IndicatorValue.objects.filter(indicator__edition__year=year, indicator__code=code)
    ),
    year=int,
    code=str,
)
# Its public stories (of any public edition), in list order, with edition, district and street.
_indicator_stories_query = Compiled(
    lambda year, code, now: (
        Story.objects.filter(
            public_q(now=now),
            public_q("edition__", now=now),
            indicators__edition__year=year,
            indicators__code=code,
        )
        .order_by("kind", "rank", "order", "id")
        .values_list(
            *_STORY.lookups(),
            *_EDITION.lookups("edition__"),
            *_DISTRICT.lookups("district__"),
            *_STREET.lookups("street__"),
        )
    ),
    year=int,
    code=str,
    now=datetime,
)
# The same indicator (its code) in the other public editions, oldest first, and their values
# (those of drafts dropped in Python); by the page's (year, code), which names one indicator
# per edition (``indicator_unique_code``): every other edition's is one of those.
_others_query = Compiled(
    lambda year, code, now: (
        Indicator.objects.filter(public_q(now=now), public_q("edition__", now=now), code=code)
        .exclude(edition__year=year)
        .order_by("edition__year")
        .values_list(*_INDICATOR.lookups(), *_EDITION.lookups("edition__"))
    ),
    year=int,
    code=str,
    now=datetime,
)
_others_values_query = Compiled(
    lambda year, code: _value_rows(
        IndicatorValue.objects.filter(indicator__code=code).exclude(indicator__edition__year=year)
    ),
    year=int,
    code=str,
)


@dataclass(frozen=True)
class IndicatorPage:
    """What the indicator page shows: the indicator (with its edition, chapter, section
    and values), its public stories in list order (with edition, district and street) and
    the public editions (``edition_list_published_years``), for the header's switcher and
    for ``indicator_others``."""

    indicator: Indicator
    stories: list[Story]
    editions: list[Edition]
    # The rows of the reads other apps send with the page's (``page_reads``), by name.
    added: dict[str, list[list[Sequence]]]
    # The rows of ``indicator_others``, read with the page's: shown when the versions of the
    # other editions' tags were read before them (``indicators.cache.read_before``).
    others: tuple[list[Sequence], list[Sequence]]


def _cut(row: Sequence, *columns: Columns) -> list[Sequence]:
    """``row`` cut into the columns of each of ``columns``, in order."""
    parts, start = [], 0
    for part in columns:
        end = start + len(part.names)
        parts.append(row[start:end])
        start = end
    return parts


class _Editions:
    """Editions made from rows of ``columns``, one instance per edition (the page's own reused)."""

    def __init__(self, *known: Edition, columns: Columns = _EDITION) -> None:
        self.make = columns.maker()
        self.by_id = {edition.id: edition for edition in known}

    def get(self, values: Sequence) -> Edition:
        edition = self.by_id.get(values[0])
        if edition is None:
            edition = self.by_id[values[0]] = self.make(values, {})
        return edition


def _values_of(indicators: list[Indicator], value_rows: list) -> None:
    """Give each of ``indicators`` its values among ``value_rows`` (``Indicator.series``
    reads them as it reads prefetched ones); the rows of other indicators are dropped."""
    # Each indicator with the list its values go to.
    by_id = {indicator.id: (indicator, []) for indicator in indicators}
    make_value = _VALUE.maker()
    indicator_at = _VALUE.names.index("indicator_id")
    for row in value_rows:
        found = by_id.get(row[indicator_at])
        if found is not None:
            found[1].append(make_value(row, {"indicator": found[0]}))
    for indicator in indicators:
        _fetched(indicator, "values", IndicatorValue, by_id[indicator.id][1])


# The list API's rows (``indicators_from_list_rows``): what it serialises of an indicator, of
# its edition (the year), chapter and section (a LEFT JOIN: NULLs without one); the long
# texts of those left out, as ``indicator_list_published_newest_first`` defers them.
_LIST_INDICATOR = Columns(Indicator, exclude=("status",))
_LIST_CHAPTER = Columns(Chapter, exclude=("title", "title_en", "summary"))
_LIST_SECTION = Columns(Section, exclude=("body",))
_LIST_PARTS = (_LIST_INDICATOR, _EDITION_YEAR, _LIST_CHAPTER, _LIST_SECTION)
LIST_COLUMNS = (
    *_LIST_INDICATOR.lookups(),
    *_EDITION_YEAR.lookups("edition__"),
    *_LIST_CHAPTER.lookups("chapter__"),
    *_LIST_SECTION.lookups("section__"),
)


def indicators_from_list_rows(rows: Sequence[Sequence]) -> list[Indicator]:
    """The indicators of rows of ``LIST_COLUMNS`` (a page of the list API), each with its
    edition, chapter and section as ``select_related`` gives them, made without
    ``Model.__init__`` and ``select_related``'s populators (200 instances a page), and with
    their values (``_values_given``)."""
    make_indicator, editions = _LIST_INDICATOR.maker(), _Editions(columns=_EDITION_YEAR)
    make_chapter, make_section = _LIST_CHAPTER.maker(), _LIST_SECTION.maker()
    indicators = []
    for row in rows:
        own, edition_values, chapter_values, section_values = _cut(row, *_LIST_PARTS)
        related = {
            "edition": editions.get(edition_values),
            "chapter": make_chapter(chapter_values, {}),
            "section": joined(make_section, section_values),
        }
        indicators.append(make_indicator(own, related))
    _values_given(indicators)
    return indicators


def _values_given(indicators: list[Indicator]) -> None:
    """Give each of ``indicators``, read without ``values_prefetch`` (a page of the list
    API), its values as that prefetch would: one query of the values' columns, in the same
    order, each value made without ``Model.__init__``; the prefetch also made a related
    manager and a queryset per indicator."""
    if not indicators:
        return
    rows = _value_rows(
        IndicatorValue.objects.filter(indicator_id__in=[indicator.pk for indicator in indicators])
    )
    _values_of(indicators, list(rows))


def _indicators_with_values(rows: list, value_rows: list, editions: _Editions) -> list[Indicator]:
    """The indicators of rows of their columns and their edition's, with their values."""
    make = _INDICATOR.maker()
    indicators = []
    for row in rows:
        own, edition_values = _cut(row, _INDICATOR, _EDITION)
        indicators.append(make(own, {"edition": editions.get(edition_values)}))
    _values_of(indicators, value_rows)
    return indicators


def _indicator_from(row: Sequence) -> Indicator:
    """The indicator of ``_indicator_query``'s row, with its edition, chapter and section."""
    own, edition_values, chapter_values, chapter_edition_values, section_values = _cut(
        row, _INDICATOR_PAGE, _EDITION, _CHAPTER, _EDITION, _SECTION
    )
    editions = _Editions()
    edition = editions.get(edition_values)
    chapter = _CHAPTER.maker()(chapter_values, {"edition": editions.get(chapter_edition_values)})
    section = joined(_SECTION.maker(), section_values)
    return _INDICATOR_PAGE.maker()(own, {"edition": edition, "chapter": chapter, "section": section})


def _list_story_maker(editions: _Editions) -> Callable[[Sequence], Story]:
    """A story from its row (its columns, its edition's, its district's, its street's)."""
    make_story, make_district, make_street = _STORY.maker(), _DISTRICT.maker(), _STREET.maker()

    def make(row: Sequence) -> Story:
        own, edition_values, district_values, street_values = _cut(row, _STORY, _EDITION, _DISTRICT, _STREET)
        district, street = joined(make_district, district_values), joined(make_street, street_values)
        related = {"edition": editions.get(edition_values), "district": district, "street": street}
        return make_story(own, related)

    return make


def indicator_page(*, year: int, code: str) -> IndicatorPage:
    """The indicator ``code`` of the public edition ``year`` (404 otherwise) and what its page
    lists: six statements in one round trip, whatever the indicator links to, with those
    registered by other apps (``page_reads``); the last two, the same indicator in the other
    public editions, for ``indicator_others``."""
    now = timezone.now()
    (found, value_rows, story_rows, edition_rows, other_rows, other_value_rows), added = _rows_with_reads(
        "indicator",
        year,
        code,
        (_indicator_query, {"year": year, "code": code, "now": now}),
        (_indicator_values_query, {"year": year, "code": code}),
        (_indicator_stories_query, {"year": year, "code": code, "now": now}),
        (_edition_years_query, {"now": now}),
        (_others_query, {"year": year, "code": code, "now": now}),
        (_others_values_query, {"year": year, "code": code}),
    )
    if not found:
        raise Http404("No such indicator")
    indicator = _indicator_from(found[0])
    _values_of([indicator], value_rows)
    make_story = _list_story_maker(_Editions(indicator.edition))
    return IndicatorPage(
        indicator=indicator,
        stories=[make_story(row) for row in story_rows],
        editions=_edition_years(edition_rows),
        added=added,
        others=(other_rows, other_value_rows),
    )


def indicator_others(
    indicator: Indicator, editions: list[Edition], rows: tuple[list[Sequence], list[Sequence]] | None = None
) -> list[Indicator]:
    """The same indicator (its code) in the other public editions, oldest first, with
    their editions and values: from ``rows`` (``IndicatorPage.others``, read with the page)
    or one round trip; none when ``editions`` (the public ones, read with the page) hold
    only the indicator's own, where its code names no other."""
    if all(edition.id == indicator.edition_id for edition in editions):
        return []
    if rows is None:
        now = timezone.now()
        values = {"year": indicator.edition.year, "code": indicator.code}
        rows = rows_together((_others_query, {**values, "now": now}), (_others_values_query, values))
    other_rows, value_rows = rows
    return _indicators_with_values(other_rows, value_rows, _Editions(indicator.edition))


# By (year, slug), which name one story: no ORDER BY. With its edition, its chapter (and the
# chapter's edition, for its URL), its district and its street, each if any.
_story_query = Compiled(
    lambda year, slug, now: (
        Story.objects.filter(public_q(now=now), public_q("edition__", now=now), edition__year=year, slug=slug)
        .order_by()
        .values_list(
            *_STORY_PAGE.lookups(),
            *_EDITION.lookups("edition__"),
            *_CHAPTER.lookups("chapter__"),
            *_EDITION.lookups("chapter__edition__"),
            *_DISTRICT.lookups("district__"),
            *_STREET.lookups("street__"),
        )
    ),
    year=int,
    slug=str,
    now=datetime,
)
_photos_query = Compiled(
    lambda year, slug: (
        Photo.objects.filter(story__edition__year=year, story__slug=slug)
        .order_by("order", "id")
        .values_list(*_PHOTO.lookups())
    ),
    year=int,
    slug=str,
)
# Its public indicators (of any public edition) in report order, with their editions.
_story_indicators_query = Compiled(
    lambda year, slug, now: (
        Indicator.objects.filter(
            public_q(now=now), public_q("edition__", now=now), stories__edition__year=year, stories__slug=slug
        )
        .order_by("chapter__number", "order", "id")
        .values_list(*_INDICATOR.lookups(), *_EDITION.lookups("edition__"))
    ),
    year=int,
    slug=str,
    now=datetime,
)
# The values of the story's indicators (those of drafts dropped in Python).
_story_values_query = Compiled(
    lambda year, slug: _value_rows(
        IndicatorValue.objects.filter(indicator__stories__edition__year=year, indicator__stories__slug=slug)
    ),
    year=int,
    slug=str,
)


@dataclass(frozen=True)
class StoryPage:
    """What the story page shows: the story (with its edition, chapter, district and
    street), its photos in order, its public indicators in report order (with edition and
    values) and the public editions, for the header's switcher."""

    story: Story
    photos: list[Photo]
    indicators: list[Indicator]
    editions: list[Edition]
    # The rows of the reads other apps send with the page's (``page_reads``), by name.
    added: dict[str, list[list[Sequence]]]


def _story_from(row: Sequence) -> Story:
    """The story of ``_story_query``'s row, with its edition, chapter, district and street."""
    own, edition_values, chapter_values, chapter_edition_values, district_values, street_values = _cut(
        row, _STORY_PAGE, _EDITION, _CHAPTER, _EDITION, _DISTRICT, _STREET
    )
    editions = _Editions()
    chapter = None
    if chapter_values[0] is not None:
        chapter = _CHAPTER.maker()(chapter_values, {"edition": editions.get(chapter_edition_values)})
    related = {
        "edition": editions.get(edition_values),
        "chapter": chapter,
        "district": joined(_DISTRICT.maker(), district_values),
        "street": joined(_STREET.maker(), street_values),
    }
    return _STORY_PAGE.maker()(own, related)


def story_page(*, year: int, slug: str) -> StoryPage:
    """The story ``slug`` of the public edition ``year`` (404 otherwise) and what its page
    lists: five statements in one round trip, whatever the story links to, with those
    registered by other apps (``page_reads``)."""
    now = timezone.now()
    (found, photo_rows, indicator_rows, value_rows, edition_rows), added = _rows_with_reads(
        "story",
        year,
        slug,
        (_story_query, {"year": year, "slug": slug, "now": now}),
        (_photos_query, {"year": year, "slug": slug}),
        (_story_indicators_query, {"year": year, "slug": slug, "now": now}),
        (_story_values_query, {"year": year, "slug": slug}),
        (_edition_years_query, {"now": now}),
    )
    if not found:
        raise Http404("No such story")
    story = _story_from(found[0])
    make_photo = _PHOTO.maker()
    photos = [make_photo(row, {"story": story}) for row in photo_rows]
    indicators = _indicators_with_values(indicator_rows, value_rows, _Editions(story.edition))
    return StoryPage(
        story=story,
        photos=photos,
        indicators=indicators,
        editions=_edition_years(edition_rows),
        added=added,
    )


# --- Search -------------------------------------------------------------------------------------


def search_normalize(query: str) -> str:
    """The term actually searched: trimmed, capped at ``SEARCH_MAX_LENGTH`` characters."""
    return " ".join(query.split())[:SEARCH_MAX_LENGTH]


def search_indicators(*, query: str) -> QuerySet[Indicator]:
    """Public indicators whose name or source sentence contains ``query`` (any language)."""
    return (
        indicator_list_published()
        .filter(Q(name__icontains=query) | Q(name_en__icontains=query) | Q(source_text__icontains=query))
        .order_by("-edition__year", "chapter__number", "order", "id")[:SEARCH_RESULT_LIMIT]
    )


def search_stories(*, query: str) -> QuerySet[Story]:
    """Public stories whose title, summary or body contains ``query``."""
    return (
        _story_public()
        .filter(
            Q(title__icontains=query)
            | Q(title_en__icontains=query)
            | Q(summary__icontains=query)
            | Q(body__icontains=query)
        )
        .order_by("-edition__year", "kind", "rank", "order", "id")[:SEARCH_RESULT_LIMIT]
    )
