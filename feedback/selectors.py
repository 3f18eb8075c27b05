"""Every non-trivial read of the participation app.

Public reads go to the stored aggregates (``ScoreAggregate``) and to approved
comments; no public request scans raw ratings. The only rating a public page
reads is the visitor's own (one unique-index lookup by their cookie hash).
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import NamedTuple

from django.conf import settings
from django.db.models import F, Prefetch, Q, QuerySet
from django.utils import timezone

from feedback.aggregation import statistics
from feedback.models import (
    AggregateScope,
    Comment,
    ModerationState,
    OfficialReply,
    Rating,
    ReplyTarget,
    Resident,
    ScoreAggregate,
    Survey,
    SurveyAnswer,
    SurveyQuestion,
    SurveyResponse,
)
from indicators.compiled import Columns, Compiled, attach, joined, rows_together
from indicators.memo import settings_memo
from indicators.models import Chapter, District, Indicator, Story
from indicators.selectors import public_q

Target = Indicator | Story
TARGET_MODELS: dict[str, type[Indicator] | type[Story]] = {"indicator": Indicator, "story": Story}


# --- Targets ---------------------------------------------------------------------------


def target_public_get(*, kind: str, pk: int) -> Target | None:
    """A published indicator or story of a published edition, or None."""
    model = TARGET_MODELS.get(kind)
    if model is None:
        return None
    # Public itself, and in a public edition: the same rule as the site's pages, checked
    # on the one row (``is_public``, the in-memory form of ``public_q``). Fetched by its
    # key alone, without ORDER BY (``get``): with one, Django hashes every selected
    # column to match it, which costs more than the rest of this query.
    try:
        target = model.objects.select_related("edition").get(pk=pk)
    except model.DoesNotExist:
        return None
    return target if target.is_public and target.edition.is_public else None


def district_list() -> QuerySet[District]:
    return District.objects.order_by("order", "name")


# --- Aggregates --------------------------------------------------------------------------


# Figures of a score that one resident's rating could be read from; withheld below the minimum.
WITHHELD_FIELDS = ("mean", "ci_low", "ci_high", "distribution")


def _breakdown_public(by_district: dict, *, count: int, raters: int, minimum: int) -> dict[str, dict]:
    """The per-district breakdown with every district below ``minimum`` raters reduced to its count.

    Withholding the small districts is not enough on its own: the total minus the
    districts shown is the rest (small districts and raters who named none), and
    when the rest comes from a small group, subtracting gives its scores away.
    The rest has rows left (``count`` minus the rows shown) from at least
    ``raters`` minus the raters shown (a person rating in two districts makes
    that a lower bound, never more); when rows are left and that bound is
    below the minimum, the smallest district shown is withheld too, which
    makes the rest come from at least ``minimum`` people (that district alone
    had as many). An entry without ``raters`` (stored before they were
    counted) is withheld. A withheld entry keeps only ``count``: anything
    stored beside it can never slip through.
    """

    def people(key: str) -> int:
        return by_district[key].get("raters", 0)

    shown = {key for key in by_district if people(key) >= minimum}
    rest_rows = count - sum(by_district[key]["count"] for key in shown)
    rest_people = raters - sum(people(key) for key in shown)
    if shown and rest_rows > 0 and rest_people < minimum:
        shown.discard(min(shown, key=lambda key: (people(key), by_district[key]["count"], key)))
    return {
        key: dict(entry) if key in shown else {"count": entry["count"], "mean": None, "distribution": None}
        for key, entry in by_district.items()
    }


@dataclass(frozen=True)
class ScoreSummary:
    """What a page or the API may show of an aggregate.

    The counts are always shown: ``count`` (counted ratings), ``raters`` (the
    distinct residents behind them), ``held_count`` (held for review, not
    counted) and the verified share. The mean, the interval and the
    distribution — overall and per district — only from ``min_count``
    *raters* up: below it they would give away one resident's score
    ("2 分 100% 1 人"), and one resident's five ratings of a chapter are still
    one resident. ``others`` is, for a figure that is part of a larger one
    (the verified tier), the people of the whole left out of it: when they
    are fewer than the minimum (but some), subtracting this figure from the
    whole would give their scores away, so it is withheld too. The
    withholding happens here, on construction, for every page and serializer
    that reads a summary, so none of them can show what it was never handed.
    A new figure added to the summary must be withheld here as well.
    """

    count: int = 0
    mean: Decimal | None = None
    ci_low: Decimal | None = None
    ci_high: Decimal | None = None
    distribution: list[int] | None = None
    by_district: dict[str, dict] = field(default_factory=dict)
    updated_at: datetime | None = None
    min_count: int = 5
    raters: int = 0
    others: int = 0
    held_count: int = 0
    verified_count: int = 0
    verified_raters: int = 0
    verified_share: float | None = None
    verified_only: bool = False

    def __post_init__(self) -> None:
        # Frozen, so the withheld figures cannot be put back by a caller.
        if not self.enough:
            for name in WITHHELD_FIELDS:
                object.__setattr__(self, name, None)
        if self.by_district:
            breakdown = _breakdown_public(
                self.by_district, count=self.count, raters=self.raters, minimum=self.min_count
            )
            object.__setattr__(self, "by_district", breakdown)

    @property
    def enough(self) -> bool:
        others_safe = self.others == 0 or self.others >= self.min_count
        return self.raters >= self.min_count and others_safe

    @property
    def bars(self) -> list[dict]:
        """Score, count and percentage for the 1–5 distribution bar (none while withheld)."""
        if self.distribution is None:
            return []
        return [
            {
                "score": score,
                "count": n,
                "percent": round(100 * n / self.count, 1) if self.count else 0,
            }
            for score, n in enumerate(self.distribution, start=1)
        ]


def score_summary(aggregate: ScoreAggregate | None, *, verified_only: bool = False) -> ScoreSummary:
    """The public summary of a stored aggregate; with ``verified_only``, of its verified tier.

    The verified tier has the same statistics and the same threshold, judged
    on its distinct verified raters, and no per-district breakdown (none is
    stored for it). ``held_count`` and the verified share describe the whole
    aggregate in both cases. Everything comes from the one stored row.
    """
    minimum = settings.AGGREGATE_MIN_COUNT
    if aggregate is None:
        return ScoreSummary(min_count=minimum, verified_only=verified_only)
    counts = _summary_counts(aggregate, minimum=minimum, verified_only=verified_only)
    if verified_only:
        distribution = list(aggregate.verified_distribution or [0] * 5)
        stats = statistics(distribution, aggregate.verified_raters)
        return ScoreSummary(
            count=stats["count"],
            mean=stats["mean"],
            ci_low=stats["ci_low"],
            ci_high=stats["ci_high"],
            distribution=distribution,
            raters=aggregate.verified_raters,
            others=max(aggregate.raters - aggregate.verified_raters, 0),
            **counts,
        )
    return ScoreSummary(
        count=aggregate.count,
        mean=aggregate.mean,
        ci_low=aggregate.ci_low,
        ci_high=aggregate.ci_high,
        distribution=list(aggregate.distribution or [0] * 5),
        by_district=aggregate.by_district or {},
        raters=aggregate.raters,
        **counts,
    )


def _verified_share(verified: int, count: int) -> float | None:
    return round(verified / count, 4) if count else None


def _summary_counts(aggregate: ScoreAggregate, *, minimum: int, verified_only: bool) -> dict:
    """What a summary says of the whole aggregate, whichever tier it describes."""
    return {
        "updated_at": aggregate.updated_at,
        "min_count": minimum,
        "held_count": aggregate.held_count,
        "verified_count": aggregate.verified_count,
        "verified_raters": aggregate.verified_raters,
        "verified_share": _verified_share(aggregate.verified_count, aggregate.count),
        "verified_only": verified_only,
    }


def aggregate_get(*, scope: str, object_id: int) -> ScoreAggregate | None:
    return ScoreAggregate.objects.filter(scope=scope, object_id=object_id).first()


def aggregate_for_target(target: Target) -> ScoreSummary:
    scope = AggregateScope.INDICATOR if isinstance(target, Indicator) else AggregateScope.STORY
    return score_summary(aggregate_get(scope=scope, object_id=target.pk))


def aggregates_by_object(
    *, scope: str, object_ids: list[int], verified_only: bool = False
) -> dict[int, ScoreSummary]:
    rows = ScoreAggregate.objects.filter(scope=scope, object_id__in=object_ids)
    found = {row.object_id: score_summary(row, verified_only=verified_only) for row in rows}
    return {pk: found.get(pk) or score_summary(None, verified_only=verified_only) for pk in object_ids}


def district_aggregates(*, verified_only: bool = False) -> list[tuple[District, ScoreSummary]]:
    districts = list(district_list())
    summaries = aggregates_by_object(
        scope=AggregateScope.DISTRICT, object_ids=[d.pk for d in districts], verified_only=verified_only
    )
    return [(d, summaries[d.pk]) for d in districts]


# --- Comments ---------------------------------------------------------------------------


def comments_public() -> QuerySet[Comment]:
    """Approved comments, newest first, with their official reply and district."""
    return (
        Comment.objects.filter(moderation_state=ModerationState.APPROVED)
        .select_related("official_reply", "district")
        .order_by("-created_at", "-id")
    )


def comments_public_for_target(target: Target) -> QuerySet[Comment]:
    """Approved comments of an item, newest first, with their official reply and district."""
    return comments_public().for_target(target)


# --- The resident's own data ---------------------------------------------------------------


def resident_rating_for_target(*, key_hash: str, target: Target) -> Rating | None:
    return Rating.objects.for_target(target).filter(resident__key_hash=key_hash).only("score").first()


def resident_get(*, key_hash: str) -> Resident | None:
    return Resident.objects.filter(key_hash=key_hash).select_related("district").first()


def new_reply_count(*, key_hash: str) -> int:
    """Replies to this resident's feedback written or changed since they last opened "my data".

    One query on the reply's resident index; the badge on every page reads it.
    """
    return (
        OfficialReply.objects.filter(resident__key_hash=key_hash)
        .filter(Q(resident__replies_seen_at__isnull=True) | Q(updated_at__gt=F("resident__replies_seen_at")))
        .count()
    )


@dataclass
class ResidentData:
    resident: Resident | None
    ratings: list[Rating]
    responses: list[SurveyResponse]
    comments: list[Comment]
    replies: list[OfficialReply] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.ratings or self.responses or self.comments)

    @property
    def private_replies(self) -> list[OfficialReply]:
        """Answers to survey answers and ratings: shown only here, to their author."""
        return [reply for reply in self.replies if reply.target_kind != ReplyTarget.COMMENT]


def resident_data(*, key_hash: str) -> ResidentData:
    """Everything submitted from one cookie, in a fixed number of queries."""
    resident = resident_get(key_hash=key_hash)
    if resident is None:
        return ResidentData(resident=None, ratings=[], responses=[], comments=[])
    ratings = list(
        resident.ratings.select_related(
            "indicator__edition", "story__edition", "district", "official_reply__resident_rating"
        ).order_by("-updated_at")
    )
    responses = list(
        resident.survey_responses.select_related("survey", "district")
        .prefetch_related(
            Prefetch(
                "answers",
                queryset=SurveyAnswer.objects.select_related(
                    "question", "official_reply__resident_rating"
                ).order_by("question__order"),
            )
        )
        .order_by("-updated_at")
    )
    comments = list(
        resident.comments.select_related(
            "indicator__edition", "story__edition", "district", "official_reply__resident_rating"
        ).order_by("-created_at")
    )
    replies = list(
        OfficialReply.objects.filter(resident=resident)
        .select_related(
            "resident_rating",
            "comment__indicator",
            "comment__story",
            "rating__indicator",
            "rating__story",
            "survey_answer__question__survey",
        )
        .order_by("-updated_at")
    )
    return ResidentData(
        resident=resident, ratings=ratings, responses=responses, comments=comments, replies=replies
    )


# --- Surveys ----------------------------------------------------------------------------------


def survey_list_public() -> QuerySet[Survey]:
    return (
        Survey.objects.filter(public_q(), public_q("edition__"))
        .select_related("edition")
        .order_by("-opens_at")
    )


def survey_current() -> Survey | None:
    """The survey open now, else the latest published one."""
    now = timezone.now()
    surveys = survey_list_public()
    return surveys.filter(opens_at__lte=now, closes_at__gt=now).first() or surveys.first()


def survey_public_get(*, pk: int) -> Survey | None:
    return survey_list_public().filter(pk=pk).first()


def survey_questions(survey: Survey) -> list[SurveyQuestion]:
    return list(survey.questions.order_by("order", "id"))


def survey_response_for(*, key_hash: str, survey: Survey) -> SurveyResponse | None:
    return (
        SurveyResponse.objects.filter(survey=survey, resident__key_hash=key_hash)
        .prefetch_related("answers")
        .first()
    )


def survey_results(
    questions: list[SurveyQuestion], *, verified_only: bool = False
) -> list[tuple[SurveyQuestion, ScoreSummary]]:
    """Each question with its stored aggregate (one query)."""
    by_question = aggregates_by_object(
        scope=AggregateScope.QUESTION, object_ids=[q.pk for q in questions], verified_only=verified_only
    )
    return [(q, by_question[q.pk]) for q in questions]


def survey_aggregate_payload(survey: Survey, *, verified_only: bool = False) -> dict:
    """The survey's stored aggregate and each question's, as the API shows them (three queries)."""
    questions = survey_questions(survey)
    summaries = aggregates_by_object(
        scope=AggregateScope.SURVEY, object_ids=[survey.pk], verified_only=verified_only
    )
    return {
        "survey": survey.pk,
        "title": survey.display_title,
        "score": summaries[survey.pk],
        "questions": [
            {
                "question": q.pk,
                "dimension": q.display_dimension,
                "text": q.display_text,
                "score": summary,
            }
            for q, summary in survey_results(questions, verified_only=verified_only)
        ],
    }


# The approved comments an item's panel shows (the newest); a link leads to the rest.
PANEL_COMMENTS = 20


@dataclass(frozen=True)
class ParticipationData:
    """Everything the participation panel of an item page shows (one round trip, and one
    lookup more for a visitor's own rating)."""

    districts: list[District]
    summary: ScoreSummary
    my_rating: Rating | None
    comments: list[Comment]
    more_comments: bool


# The panel's reads, compiled once per process and sent in one round trip
# (``indicators.compiled``): the districts for the forms' select, the item's approved
# comments with their official replies and districts (as ``comments_public_for_target``,
# whose queryset stays the description of the public comments) and, unless the page read
# it already, the item's aggregate. The item is named as its page names it, by its edition's
# year and its key (an indicator's code, a story's slug), so that the page can send them with
# its own rows (``indicators.selectors.page_reads``, registered by this app's config) before
# it knows the item's id; the panel sends them itself when the page's are not shown.
_DISTRICT = Columns(District)
_COMMENT = Columns(Comment)
_REPLY = Columns(OfficialReply)
_AGGREGATE = Columns(ScoreAggregate)
_AGGREGATE_OBJECT = _AGGREGATE.names.index("object_id")

_districts_query = Compiled(lambda: district_list().values_list(*_DISTRICT.lookups()))

ItemModel = type[Indicator] | type[Story]


def _public_item_query(model: ItemModel) -> Compiled:
    """The id of the indicator or story (``model``) ``pk`` if it and its edition are public
    (``target_public_get``'s rule), else no row."""
    return Compiled(
        lambda pk, now: model.objects.filter(
            public_q(now=now), public_q("edition__", now=now), pk=pk
        ).values_list("pk"),
        pk=int,
        now=datetime,
    )


# The aggregate API's reads of an indicator, story or chapter: whether it is public (its id,
# or no row; a chapter is public when its edition is) and its stored aggregate (or no row:
# nothing counted yet), compiled once per process and sent together.
_PUBLIC_ITEM_QUERIES = {
    AggregateScope.INDICATOR: _public_item_query(Indicator),
    AggregateScope.STORY: _public_item_query(Story),
    AggregateScope.CHAPTER: Compiled(
        lambda pk, now: Chapter.objects.filter(public_q("edition__", now=now), pk=pk).values_list("pk"),
        pk=int,
        now=datetime,
    ),
}
_aggregate_query = Compiled(
    lambda scope, pk: (
        ScoreAggregate.objects.filter(scope=scope, object_id=pk).order_by().values_list(*_AGGREGATE.lookups())
    ),
    scope=str,
    pk=int,
)


def aggregate_public(*, scope: str, pk: int, verified_only: bool = False) -> ScoreSummary | None:
    """The summary of the stored aggregate of the public indicator, story or chapter ``pk``
    (``scope``), an empty one before anything of it is counted; None when no such item is
    public. One round trip: a cold request of the aggregate API (after each refresh of it)
    built two querysets and compiled them, the most of its cost."""
    public, found = rows_together(
        (_PUBLIC_ITEM_QUERIES[scope], {"pk": pk, "now": timezone.now()}),
        (_aggregate_query, {"scope": str(scope), "pk": pk}),
    )
    return summary_from_rows(found, pk, verified_only=verified_only) if public else None


def _item_of_key(model: ItemModel, year: int, key: str) -> QuerySet:
    lookup = "code" if model is Indicator else "slug"
    return model.objects.filter(edition__year=year, **{lookup: key})


def _key_of(target: Target) -> tuple[int, str]:
    """The (year, key) that name ``target`` as its page does."""
    return target.edition.year, target.code if isinstance(target, Indicator) else target.slug


@settings_memo(maxsize=8)
def _comments_query(model: ItemModel, limit: int) -> Compiled:
    """The approved comments of the item of ``model`` named by (year, key), ``limit`` at most."""
    target = "indicator__in" if model is Indicator else "story__in"
    return Compiled(
        lambda year, key: (
            comments_public()
            .filter(**{target: _item_of_key(model, year, key).values("pk")})[:limit]
            .values_list(
                *_COMMENT.lookups(), *_REPLY.lookups("official_reply__"), *_DISTRICT.lookups("district__")
            )
        ),
        year=int,
        key=str,
    )


def _aggregates_of(scope: str, items: QuerySet) -> QuerySet:
    """The stored aggregates of ``items`` (of ``scope``), as ``_AGGREGATE``'s columns."""
    return (
        ScoreAggregate.objects.filter(scope=scope, object_id__in=items.values("pk"))
        .order_by()
        .values_list(*_AGGREGATE.lookups())
    )


# The aggregates of the items whose satisfaction the page of the item (year, key) shows: an
# indicator's in every edition, by its code alone (stable from one edition to the next; the
# page shows each edition's), a story's own.
_indicator_aggregates_query = Compiled(
    lambda key: _aggregates_of(AggregateScope.INDICATOR, Indicator.objects.filter(code=key)), key=str
)
_story_aggregates_query = Compiled(
    lambda year, key: _aggregates_of(AggregateScope.STORY, _item_of_key(Story, year, key)), year=int, key=str
)


def _aggregates_read(model: ItemModel, year: int, key: str) -> tuple[Compiled, dict]:
    if model is Indicator:
        return _indicator_aggregates_query, {"key": key}
    return _story_aggregates_query, {"year": year, "key": key}


def _panel_queries(
    model: ItemModel, year: int, key: str, *, comments: int = PANEL_COMMENTS, aggregates: bool = True
) -> list[tuple[Compiled, dict]]:
    """The panel's reads of the item (year, key): the districts, its approved comments
    (``comments`` and one more, to know whether there are more) and, with ``aggregates``,
    its aggregates (an indicator's with those of its other editions)."""
    queries = [(_districts_query, {}), (_comments_query(model, comments + 1), {"year": year, "key": key})]
    if aggregates:
        queries.append(_aggregates_read(model, year, key))
    return queries


def panel_reads(model: ItemModel) -> Callable[[int, str], list[tuple[Compiled, dict]]]:
    """The reads of the participation panel of ``model``'s page, for ``page_reads``: the
    rows ``participation_for_target`` takes."""
    return lambda year, key: _panel_queries(model, year, key)


def summary_from_rows(rows: list, object_id: int, *, verified_only: bool = False) -> ScoreSummary:
    """The summary of the item ``object_id`` among aggregates read as the panel reads them:
    its row, or none (no rating yet)."""
    row = next((row for row in rows if row[_AGGREGATE_OBJECT] == object_id), None)
    return score_summary(_AGGREGATE.model_from(row) if row is not None else None, verified_only=verified_only)


def target_summary(target: Target) -> ScoreSummary:
    """``aggregate_for_target`` through the panel's compiled query (one statement, built and
    compiled once per process)."""
    query, values = _aggregates_read(type(target), *_key_of(target))
    return summary_from_rows(query.rows(**values), target.pk)


def _comments_from(rows: list) -> list[Comment]:
    """The comments of ``_comments_query``'s rows, each with its reply (or none) and its
    district (or none) cached as ``select_related`` caches them."""
    comment_end = len(_COMMENT.names)
    reply_end = comment_end + len(_REPLY.names)
    make_comment, make_reply, make_district = _COMMENT.maker(), _REPLY.maker(), _DISTRICT.maker()
    comments = []
    for row in rows:
        comment = make_comment(row[:comment_end], {})
        reply_row, district_row = row[comment_end:reply_end], row[reply_end:]
        # A comment without a reply or a district: its LEFT JOIN's columns are all NULL.
        reply = joined(make_reply, reply_row, {"comment": comment})
        district = joined(make_district, district_row)
        attach(comment, "district", district)
        comment._state.fields_cache["official_reply"] = reply
        comments.append(comment)
    return comments


def participation_for_target(
    *,
    target: Target,
    key_hash: str | None,
    comments_shown: int = PANEL_COMMENTS,
    summary: ScoreSummary | None = None,
    rows: Sequence[list] | None = None,
) -> ParticipationData:
    """Districts, the stored aggregate, the approved comments and — for a
    visitor who already has a resident cookie — their own rating.

    ``summary``: the target's aggregate when the page already read it (not read again).
    ``rows``: the rows of ``panel_reads`` when the page read them with its own (the
    comments ``comments_shown`` and one more); then no query but the visitor's rating."""
    if rows is None:
        queries = _panel_queries(
            type(target), *_key_of(target), comments=comments_shown, aggregates=summary is None
        )
        rows = rows_together(*queries)
    district_rows, comment_rows, *aggregate_rows = rows
    if summary is None:
        summary = summary_from_rows(aggregate_rows[0], target.pk)
    make_district = _DISTRICT.maker()
    comments = _comments_from(comment_rows)
    return ParticipationData(
        districts=[make_district(row, {}) for row in district_rows],
        summary=summary,
        my_rating=resident_rating_for_target(key_hash=key_hash, target=target) if key_hash else None,
        comments=comments[:comments_shown],
        more_comments=len(comments) > comments_shown,
    )


def chapter_summary(chapter: Chapter) -> ScoreSummary:
    """The stored satisfaction of a chapter (ratings of its indicators and stories); one query."""
    return aggregates_by_object(scope=AggregateScope.CHAPTER, object_ids=[chapter.pk])[chapter.pk]


def chapter_item_summaries(
    *, indicators: list[Indicator], stories: list[Story]
) -> list[tuple[Indicator | Story, ScoreSummary]]:
    """The chapter chart's items: each indicator and story with its stored aggregate, in the
    order given, keeping only those with enough raters to show a mean (one query)."""
    if not indicators and not stories:
        return []
    rows = ScoreAggregate.objects.filter(
        Q(scope=AggregateScope.INDICATOR, object_id__in=[i.pk for i in indicators])
        | Q(scope=AggregateScope.STORY, object_id__in=[s.pk for s in stories])
    )
    found = {(row.scope, row.object_id): score_summary(row) for row in rows}
    items: list[tuple[Indicator | Story, ScoreSummary]] = []
    for scope, targets in ((AggregateScope.INDICATOR, indicators), (AggregateScope.STORY, stories)):
        for target in targets:
            summary = found.get((scope, target.pk))
            if summary is not None and summary.mean is not None:
                items.append((target, summary))
    return items


# The chapter page's satisfaction: the chapter's aggregate and its items', two queries
# compiled once per process (``indicators.compiled``) that go to the database with the
# page's own reads (``indicators.selectors.page_reads``, registered by this app's
# config): like those, they name the chapter by its edition's year and its slug. The items
# are those of the chapter (drafts included: the page keeps those it lists), read without
# their distributions and breakdown by district, which the chart does not show (a few kB of
# JSON decoded per page otherwise).
_chapter_aggregate_query = Compiled(
    lambda year, slug: (
        ScoreAggregate.objects.filter(
            scope=AggregateScope.CHAPTER,
            object_id__in=Chapter.objects.filter(edition__year=year, slug=slug).values("pk"),
        )
        .order_by()
        .values_list(*_AGGREGATE.lookups())
    ),
    year=int,
    slug=str,
)


class _ChartRow(NamedTuple):
    """An item's aggregate as the chapter chart reads it: the figures it shows, what
    ``ScoreSummary`` needs to withhold them and the counts every summary carries (read as
    values, a few dozen rows a page: no instance made of them)."""

    scope: str
    object_id: int
    count: int
    mean: Decimal | None
    ci_low: Decimal | None
    ci_high: Decimal | None
    raters: int
    held_count: int
    verified_count: int
    verified_raters: int


_item_aggregates_query = Compiled(
    lambda year, slug: (
        ScoreAggregate.objects.filter(
            Q(
                scope=AggregateScope.INDICATOR,
                object_id__in=Indicator.objects.filter(
                    chapter__edition__year=year, chapter__slug=slug
                ).values("pk"),
            )
            | Q(
                scope=AggregateScope.STORY,
                object_id__in=Story.objects.filter(chapter__edition__year=year, chapter__slug=slug).values(
                    "pk"
                ),
            )
        )
        .order_by()
        .values_list(*_ChartRow._fields)
    ),
    year=int,
    slug=str,
)


def chapter_score_reads(year: int, slug: str) -> tuple[tuple[Compiled, dict], ...]:
    """The queries of ``chapter_scores`` for the chapter ``slug`` of edition ``year``, to be
    sent with the chapter page's own (``indicators.selectors.page_reads``)."""
    values = {"year": year, "slug": slug}
    return (_chapter_aggregate_query, values), (_item_aggregates_query, values)


def _chart_summary(row: _ChartRow, *, minimum: int) -> ScoreSummary:
    """The summary of an item's aggregate as the chapter chart shows it (mean, interval,
    raters): without the distribution and the breakdown by district, and without
    ``updated_at`` (none of them read). Withheld below the minimum by ``ScoreSummary`` as
    every summary."""
    return ScoreSummary(
        count=row.count,
        mean=row.mean,
        ci_low=row.ci_low,
        ci_high=row.ci_high,
        raters=row.raters,
        min_count=minimum,
        held_count=row.held_count,
        verified_count=row.verified_count,
        verified_raters=row.verified_raters,
        verified_share=_verified_share(row.verified_count, row.count),
    )


def chapter_scores(
    chapter: Chapter,
    *,
    indicators: list[Indicator],
    stories: list[Story],
    rows: Sequence[list[Sequence]] | None = None,
) -> tuple[ScoreSummary, list[tuple[Indicator | Story, ScoreSummary]]]:
    """``chapter_summary`` and ``chapter_item_summaries`` of the chapter page, the items'
    summaries without their distributions and breakdowns (``_chart_summary``): from
    ``rows``, the rows of ``chapter_score_reads``' queries already read with the page's, or
    else read now (one round trip)."""
    if rows is None:
        rows = rows_together(*chapter_score_reads(chapter.edition.year, chapter.slug))
    chapter_rows, item_rows = rows
    summary = score_summary(_AGGREGATE.model_from(chapter_rows[0]) if chapter_rows else None)
    # (scope, id) → row; an item's mean is shown from the minimum of raters up
    # (``ScoreSummary``): the summaries of the others, which would show none, are not made.
    found = {(row[0], row[1]): _ChartRow._make(row) for row in item_rows}
    minimum = settings.AGGREGATE_MIN_COUNT
    items: list[tuple[Indicator | Story, ScoreSummary]] = []
    for scope, targets in ((AggregateScope.INDICATOR, indicators), (AggregateScope.STORY, stories)):
        for target in targets:
            # ``id``: the primary key of both (``pk`` is a property that looks it up).
            row = found.get((scope, target.id))
            if row is not None and row.raters >= minimum and row.mean is not None:
                item = _chart_summary(row, minimum=minimum)
                if item.mean is not None:
                    items.append((target, item))
    return summary, items
