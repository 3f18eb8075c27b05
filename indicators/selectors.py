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

from django.db.models import Count, IntegerField, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.http import Http404

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


def edition_list_published() -> QuerySet[Edition]:
    return Edition.objects.filter(public_q()).order_by("-year")


def edition_published_latest() -> Edition | None:
    return edition_list_published().first()


def edition_get_published(*, year: int) -> Edition:
    """The public edition of ``year``; 404 for a draft, a future one or no such year."""
    edition = edition_list_published().filter(year=year).first()
    if edition is None:
        raise Http404("No such edition")
    return edition


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


def chapter_get_published(*, year: int, slug: str) -> Chapter:
    # ``get``: (year, slug) names one chapter, so no ORDER BY (with one Django hashes
    # every selected column to match it, a cost that shows on the busiest pages).
    try:
        return (
            Chapter.objects.filter(public_q("edition__"), edition__year=year, slug=slug)
            .select_related("edition")
            .prefetch_related(Prefetch("sections", queryset=Section.objects.order_by("number")))
            .get()
        )
    except Chapter.DoesNotExist:
        raise Http404("No such chapter") from None


def chapter_list_published() -> QuerySet[Chapter]:
    """The chapters of every public edition, newest edition first, each with its sections."""
    return (
        Chapter.objects.filter(public_q("edition__"))
        .select_related("edition")
        .prefetch_related(Prefetch("sections", queryset=Section.objects.order_by("number")))
        .order_by("-edition__year", "number")
    )


# --- Indicators -------------------------------------------------------------------------


def _values_prefetch() -> Prefetch:
    # ``Indicator.current_value`` and friends read ``values.all()``; ordered
    # here so the series runs from the oldest point to the newest.
    return Prefetch("values", queryset=IndicatorValue.objects.order_by("year", "month"))


def indicator_list_published() -> QuerySet[Indicator]:
    """Every public indicator of every public edition, ready to be listed."""
    return (
        Indicator.objects.filter(public_q(), public_q("edition__"))
        .select_related("edition", "chapter__edition", "section")
        .prefetch_related(_values_prefetch())
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


def _in_public_chapter(chapter: Chapter, rows: QuerySet) -> list:
    """The public ``rows`` of ``chapter`` (a queryset of its indicators or stories),
    each with its chapter and edition set from ``chapter`` rather than joined.

    Every row of a chapter is in its chapter's edition (``edition=`` below makes
    sure), so the edition's half of the publication rule is checked once, on the
    chapter's edition in memory (``is_public``), and not joined and selected
    again for every row: on a chapter page those joins cost more than the rows.
    """
    edition = chapter.edition
    if not edition.is_public:
        return []
    # ``chapter.<related>`` already sets each row's ``chapter`` to this one.
    found = list(rows.filter(public_q(), edition=edition))
    for row in found:
        row.edition = edition
    return found


def indicator_list_for_chapter(*, chapter: Chapter) -> list[Indicator]:
    """The chapter's public indicators in report order, with their values (``_in_public_chapter``),
    without the texts only their own pages show."""
    return _in_public_chapter(
        chapter,
        # The quoted sentence and the note are for the indicator's own page.
        chapter.indicators.defer("source_text", "note").prefetch_related(_values_prefetch()),
    )


def indicator_get_published(*, year: int, code: str) -> Indicator:
    """The indicator's page: the indicator, its values and its public stories (as list rows)."""
    # ``get``: (year, code) names one indicator, so no ORDER BY (see chapter_get_published).
    stories = (
        _story_public().select_related(None).select_related("edition", "district", "street").defer("body")
    )
    try:
        return (
            indicator_list_published()
            .filter(edition__year=year, code=code)
            .prefetch_related(Prefetch("stories", queryset=stories.order_by("kind", "rank", "order")))
            .get()
        )
    except Indicator.DoesNotExist:
        raise Http404("No such indicator") from None


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


def story_list_for_chapter(*, chapter: Chapter) -> list[Story]:
    """The chapter's public stories in list order (``_in_public_chapter``), without their body text."""
    return _in_public_chapter(
        chapter,
        chapter.stories.select_related("district", "street")
        # The list shows the summary; the body can be long and is for the story's own page.
        .defer("body")
        .order_by("kind", "rank", "order", "id"),
    )


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


def story_get_published(*, year: int, slug: str) -> Story:
    """The story's page: the story, its photos and its public indicators (as list rows)."""
    # The rows show an indicator's name, figures and change, and link to its page.
    indicators = (
        indicator_list_published().select_related(None).select_related("edition").defer("source_text", "note")
    )
    # ``get``: (year, slug) names one story, so no ORDER BY (see chapter_get_published).
    try:
        return (
            _story_public()
            .filter(edition__year=year, slug=slug)
            .prefetch_related(
                Prefetch("photos", queryset=Photo.objects.order_by("order", "id")),
                Prefetch("indicators", queryset=indicators.order_by("chapter__number", "order", "id")),
            )
            .get()
        )
    except Story.DoesNotExist:
        raise Http404("No such story") from None


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
