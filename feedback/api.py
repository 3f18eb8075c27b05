"""The participation API: submit like the site does, read the aggregates.

Submissions pass the same pipeline as the site's forms
(``feedback.pipeline``: size 413, cross-site 403, identity, limits 429);
then views validate (400 with field messages, also for the services' own
errors, through the project's DRF exception handler), call one service or
selector and serialise. The resident is the same signed cookie as on the
site; the first submission sets it.

The public reads (approved comments, stored aggregates) are the same for
everyone and come from the page cache while their data is unchanged
(``indicators.cache.CachedReadView``): each names the tags of what it shows.
"""

import copy

from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist
from django.http import Http404
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers as drf_serializers
from rest_framework import status
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import PageNumberPagination
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import APIView

from feedback import selectors, serializers
from feedback.caching import SURVEY_SCHEDULE
from feedback.models import AggregateScope, Rating
from feedback.my_data import resident_data_delete
from feedback.pipeline import cross_site_check, submission_close, submission_open, submission_source_get
from feedback.replies import reply_rate
from feedback.residents import COOKIE_NAME, client_address_hash, resident_cookie_delete, resident_identity
from feedback.sms import mask_phone
from feedback.submissions import (
    AnswerInput,
    TargetRef,
    comment_submit,
    rating_submit,
    survey_response_submit,
)
from feedback.verification import (
    phone_normalise,
    verification_confirm,
    verification_revoke,
    verification_start,
)
from indicators.cache import (
    REPORT,
    REPORT_SCHEDULE,
    SURVEYS,
    CachedReadView,
    aggregate_tag,
    comments_tag,
)
from indicators.memo import settings_memo

RESIDENT_COOKIE = OpenApiParameter(
    name=COOKIE_NAME,
    type=OpenApiTypes.STR,
    location=OpenApiParameter.COOKIE,
    required=False,
    description=(
        "Signed resident cookie (HttpOnly, SameSite=Lax). Set by the first submission; "
        "send it back to replace an earlier rating, change a survey response, or read and "
        "delete your data. Only a keyed hash of the id it holds is stored."
    ),
)
ERRORS = {
    400: OpenApiResponse(description="Invalid input: field messages; nothing stored."),
    403: OpenApiResponse(
        description="Cross-site request: the resident cookie was sent without the CSRF token "
        "(X-CSRFToken header echoing the csrftoken cookie). Nothing stored."
    ),
    413: OpenApiResponse(description="Request body larger than DATA_UPLOAD_MAX_MEMORY_SIZE."),
    429: OpenApiResponse(description="Too many submissions (提交过于频繁，请稍后再试)."),
}


# DRF's negotiation answers these Accept headers with its first renderer (JSON) and that
# renderer's media type, when the URL asks for no format.
_ANY_OR_JSON = frozenset({"*/*", "application/json"})


class SubmissionView(APIView):
    """POSTs pass the submission pipeline; a new resident gets their cookie."""

    limit_kind = ""

    def perform_content_negotiation(self, request: Request, force: bool = False):
        """DRF's choice, without parsing the Accept header into media types, for the
        usual submission (no Accept header, ``*/*`` or ``application/json``, no format
        asked); any other request is negotiated by DRF."""
        renderer = self.renderer_classes[0]
        if (
            renderer is JSONRenderer
            and request.META.get("HTTP_ACCEPT", "*/*") in _ANY_OR_JSON
            and not self.format_kwarg
            # Without a query string there is no ``?format=``: the query's dict is not built.
            and (
                not request.META.get("QUERY_STRING")
                or api_settings.URL_FORMAT_OVERRIDE not in request.query_params
            )
        ):
            return renderer(), renderer.media_type
        return super().perform_content_negotiation(request, force)

    def initial(self, request: Request, *args, **kwargs) -> None:
        super().initial(request, *args, **kwargs)
        if request.method == "POST":
            self.identity = submission_open(request._request, kind=self.limit_kind)
            self.source = submission_source_get(request._request)

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        return submission_close(request._request, response)


class _RatingInput(serializers.RatingInputSerializer):
    """``RatingInputSerializer`` (same fields, messages and schema) that names the target
    without reading it: ``rating_submit`` checks it, for a new resident within the
    statement that stores the rating (an unknown or unpublished one: the same 400)."""

    def get_fields(self) -> dict:
        # DRF deep-copies the declared fields for each serializer (re-creating each from its
        # arguments, the district field's queryset included). Binding a field only sets
        # attributes on it, so a shallow copy of each, unbound, serves this request alone.
        return {name: copy.copy(field) for name, field in self._declared_fields.items()}

    def validate(self, attrs: dict) -> dict:
        attrs["target"] = TargetRef(kind=attrs["target_type"], pk=attrs["target_id"])
        return attrs


_TARGET_KINDS = frozenset(kind for kind, _label in serializers.TARGET_TYPES)


def _rating_input_plain(data: object) -> dict | None:
    """The validated fields of a rating body that ``_RatingInput`` would take as it is (a
    JSON object with a known target type, a positive integer id, an integer score of 1–5
    and no district); None for anything else, which the serializer then validates with
    its messages. What a new resident's rating costs is mostly the framework's: this is
    the serializer's answer for the common body, without building its fields."""
    if type(data) is not dict or data.get("district") is not None:
        return None
    kind, pk, score = data.get("target_type"), data.get("target_id"), data.get("score")
    if not (isinstance(kind, str) and kind in _TARGET_KINDS and type(pk) is int and type(score) is int):
        return None
    if pk < 1 or not 1 <= score <= 5:
        return None
    return {"target": TargetRef(kind=kind, pk=pk), "score": score}


# Unbound, it formats as a serializer's field would (ISO 8601 in the current time zone).
_UPDATED_AT = drf_serializers.DateTimeField()


def _rating_payload(rating: Rating) -> dict:
    """``serializers.RatingSerializer(rating).data`` written out: a ModelSerializer builds its
    fields from the model on every call, a tenth of a rating POST. The schema still names
    the serializer; tests/feedback/test_rating_payload.py compares the two."""
    return {
        "id": rating.pk,
        "target_type": "indicator" if rating.indicator_id else "story",
        "target_id": rating.indicator_id or rating.story_id,
        "score": rating.score,
        "district": rating.district_id,
        "updated_at": _UPDATED_AT.to_representation(rating.updated_at),
    }


class RatingCreateApi(SubmissionView):
    """One current 1–5 rating per resident and item; a new one replaces the old."""

    # The browsable API's title and text of the page, in the page's language (DRF's
    # ``get_view_name`` and ``get_view_description``); the docstring is the OpenAPI one.
    name = gettext_lazy("提交评分")
    description = gettext_lazy("每位居民对每项内容保留一个 1–5 分的当前评分；新的评分替换旧的。")

    limit_kind = "rating"

    @extend_schema(
        operation_id="rating_submit",
        summary="Rate an indicator or story 1–5 (replaces your earlier rating of it)",
        tags=["participation"],
        parameters=[RESIDENT_COOKIE],
        request=serializers.RatingInputSerializer,
        responses={201: serializers.RatingSerializer, **ERRORS},
    )
    def post(self, request: Request) -> Response:
        validated = _rating_input_plain(request.data)
        if validated is None:
            data = _RatingInput(data=request.data)
            data.is_valid(raise_exception=True)
            validated = data.validated_data
        rating = rating_submit(
            resident_key_hash=self.identity.key_hash,
            target=validated["target"],
            score=validated["score"],
            district=validated.get("district"),
            source=self.source,
        )
        return Response(_rating_payload(rating), status=status.HTTP_201_CREATED)


class CommentPagination(PageNumberPagination):
    page_size = 20
    max_page_size = 100
    page_size_query_param = "page_size"

    def get_page_size(self, request: Request) -> int:
        # Strict, as the schema says: DRF would quietly use 20 for page_size=abc or 0.
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        if not raw.isdigit() or not 1 <= int(raw) <= self.max_page_size:
            message = _("每页条数须为 1 到 %(max)d 的整数。") % {"max": self.max_page_size}
            raise ValidationError({self.page_size_query_param: [message]})
        return int(raw)

    def get_schema_operation_parameters(self, view) -> list[dict]:
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_size_query_param:
                parameter["schema"].update(minimum=1, maximum=self.max_page_size)
        return parameters


class CommentApi(CachedReadView, SubmissionView):
    """Approved comments of an item (with official replies); submit a comment (moderated)."""

    name = gettext_lazy("留言")
    description = gettext_lazy("某项内容已公开的留言（附官方答复）；提交留言（经审核后公开）。")

    limit_kind = "comment"
    # The GET's pages: the schema shows the response as this paginator's envelope.
    pagination_class = CommentPagination
    page_params = ("target_type", "target_id", "page", "page_size")
    page_store_empty = True  # an unknown item is a 404: the keys are bounded by the items

    @classmethod
    def page_tags(cls, request, *args, **kwargs):
        kind, pk = request.GET.get("target_type", ""), request.GET.get("target_id", "")
        if kind in ("indicator", "story") and pk.isdigit():
            return REPORT, comments_tag(kind, int(pk))
        return (REPORT,)  # a 400 or 404, never stored

    @extend_schema(
        operation_id="comment_list",
        summary="Approved comments of an item, newest first, with their official replies",
        tags=["participation"],
        parameters=[serializers.CommentListQuerySerializer],
        responses={200: serializers.CommentSerializer(many=True), 400: ERRORS[400], 404: None},
    )
    def get(self, request: Request) -> Response:
        query = serializers.CommentListQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        target = selectors.target_public_get(
            kind=query.validated_data["target_type"], pk=query.validated_data["target_id"]
        )
        if target is None:
            raise Http404
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(selectors.comments_public_for_target(target), request, view=self)
        return paginator.get_paginated_response(serializers.CommentSerializer(page, many=True).data)

    @extend_schema(
        operation_id="comment_submit",
        summary="Comment on an indicator or story (public once approved)",
        tags=["participation"],
        parameters=[RESIDENT_COOKIE],
        request=serializers.CommentInputSerializer,
        responses={201: serializers.MyCommentSerializer, **ERRORS},
    )
    def post(self, request: Request) -> Response:
        data = serializers.CommentInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        comment = comment_submit(
            resident_key_hash=self.identity.key_hash,
            target=data.validated_data["target"],
            body=data.validated_data["body"],
            nickname=data.validated_data["nickname"],
            district=data.validated_data.get("district"),
            source=self.source,
        )
        return Response(serializers.MyCommentSerializer(comment).data, status=status.HTTP_201_CREATED)


class SurveyResponseCreateApi(SubmissionView):
    """One response per resident per survey, changeable until the survey closes."""

    name = gettext_lazy("提交问卷")
    description = gettext_lazy("每位居民每份问卷一份答卷，问卷截止前可以修改。")

    limit_kind = "survey"

    @extend_schema(
        operation_id="survey_response_submit",
        summary="Answer the satisfaction survey (or change your answers until it closes)",
        tags=["participation"],
        parameters=[RESIDENT_COOKIE],
        request=serializers.SurveyResponseInputSerializer,
        responses={201: serializers.SurveyResponseSerializer, **ERRORS},
    )
    def post(self, request: Request) -> Response:
        data = serializers.SurveyResponseInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        answers = [
            AnswerInput(question_id=a["question"], score=a["score"], comment=a["comment"])
            for a in data.validated_data["answers"]
        ]
        response = survey_response_submit(
            resident_key_hash=self.identity.key_hash,
            survey=data.validated_data["survey"],
            answers=answers,
            district=data.validated_data.get("district"),
            source=self.source,
        )
        response = selectors.survey_response_for(key_hash=self.identity.key_hash, survey=response.survey)
        return Response(serializers.SurveyResponseSerializer(response).data, status=status.HTTP_201_CREATED)


# --- Aggregates ------------------------------------------------------------------------

VERIFIED = OpenApiParameter(
    name="verified",
    type=OpenApiTypes.BOOL,
    location=OpenApiParameter.QUERY,
    required=False,
    description=(
        "true: figures of the verified tier only (ratings of residents who verified a mobile "
        "number): count, raters, mean, interval and distribution from those ratings, with the "
        "same minimum of distinct raters, also withheld when the residents left out are fewer "
        "than the minimum but not none (subtracting would show their scores); no per-district "
        "breakdown. held_count, verified_count and verified_share always describe all ratings. "
        "Default false."
    ),
)
AGGREGATE_RESPONSES = {400: OpenApiResponse(description="Invalid query parameter."), 404: None}


def _verified_only(request: Request) -> bool:
    if not request.META.get("QUERY_STRING"):
        return False  # the serializer's default, without building it
    query = serializers.AggregateQuerySerializer(data=request.query_params)
    query.is_valid(raise_exception=True)
    return query.validated_data["verified"]


@settings_memo(maxsize=1)
def _summary_serializer() -> serializers.ScoreSummarySerializer:
    """One ``ScoreSummarySerializer`` per process (per settings) for the item aggregates: a
    serializer deep-copies its declared fields for every instance (a fifth of a cold
    aggregate read, by ``bench/profile --cprofile aggregate``); its fields, once bound,
    keep no state of a call."""
    return serializers.ScoreSummarySerializer()


def _target_aggregate(scope: str, object_id: int, *, verified_only: bool) -> Response:
    """The stored aggregate of the public indicator, story or chapter ``object_id``, as
    ``TargetAggregateSerializer`` gives it (the schema names that serializer); 404 when
    no such item is public."""
    summary = selectors.aggregate_public(scope=scope, pk=object_id, verified_only=verified_only)
    if summary is None:
        raise Http404
    score = _summary_serializer().to_representation(summary)
    return Response({"scope": str(scope), "object_id": object_id, "score": score})


class ItemAggregateApi(CachedReadView, APIView):
    kind = ""
    page_params = ("verified",)

    @classmethod
    def page_tags(cls, request, *args, pk: int, **kwargs):
        return REPORT, aggregate_tag(cls.kind, pk)

    def get(self, request: Request, pk: int) -> Response:
        return _target_aggregate(self.kind, pk, verified_only=_verified_only(request))


class IndicatorAggregateApi(ItemAggregateApi):
    name = gettext_lazy("指标评分汇总")

    kind = AggregateScope.INDICATOR

    @extend_schema(
        tags=["aggregates"],
        parameters=[VERIFIED],
        responses={200: serializers.TargetAggregateSerializer, **AGGREGATE_RESPONSES},
        operation_id="aggregate_indicator",
        summary="Stored score aggregate of an indicator",
    )
    def get(self, request: Request, pk: int) -> Response:
        return super().get(request, pk)


class StoryAggregateApi(ItemAggregateApi):
    name = gettext_lazy("亮点故事评分汇总")

    kind = AggregateScope.STORY

    @extend_schema(
        tags=["aggregates"],
        parameters=[VERIFIED],
        responses={200: serializers.TargetAggregateSerializer, **AGGREGATE_RESPONSES},
        operation_id="aggregate_story",
        summary="Stored score aggregate of a story",
    )
    def get(self, request: Request, pk: int) -> Response:
        return super().get(request, pk)


class ChapterAggregateApi(CachedReadView, APIView):
    name = gettext_lazy("章节评分汇总")

    page_params = ("verified",)

    @classmethod
    def page_tags(cls, request, *args, pk: int, **kwargs):
        return REPORT, aggregate_tag(AggregateScope.CHAPTER, pk)

    @extend_schema(
        operation_id="aggregate_chapter",
        summary="Stored score aggregate of a chapter (ratings of its indicators and stories)",
        tags=["aggregates"],
        parameters=[VERIFIED],
        responses={200: serializers.TargetAggregateSerializer, **AGGREGATE_RESPONSES},
    )
    def get(self, request: Request, pk: int) -> Response:
        return _target_aggregate(AggregateScope.CHAPTER, pk, verified_only=_verified_only(request))


class SurveyAggregateApi(CachedReadView, APIView):
    name = gettext_lazy("问卷结果汇总")

    page_params = ("verified",)
    page_schedules = (REPORT_SCHEDULE, SURVEY_SCHEDULE)

    @classmethod
    def page_tags(cls, request, *args, pk: int, **kwargs):
        return (
            REPORT,
            SURVEYS,
            aggregate_tag(AggregateScope.SURVEY, pk),
            aggregate_tag(AggregateScope.QUESTION),
        )

    @extend_schema(
        operation_id="aggregate_survey",
        summary="Stored aggregates of a survey and of each of its questions",
        tags=["aggregates"],
        parameters=[VERIFIED],
        responses={200: serializers.SurveyAggregateSerializer, **AGGREGATE_RESPONSES},
    )
    def get(self, request: Request, pk: int) -> Response:
        verified_only = _verified_only(request)
        survey = selectors.survey_public_get(pk=pk)
        if survey is None:
            raise Http404
        payload = selectors.survey_aggregate_payload(survey, verified_only=verified_only)
        return Response(serializers.SurveyAggregateSerializer(payload).data)


def _district_payload(district, summary) -> dict:
    return {"district": district.pk, "name": district.display_name, "score": summary}


class DistrictAggregateListApi(CachedReadView, APIView):
    name = gettext_lazy("各区评分汇总")

    page_params = ("verified",)

    @classmethod
    def page_tags(cls, request, *args, **kwargs):
        return REPORT, aggregate_tag(AggregateScope.DISTRICT)

    @extend_schema(
        operation_id="aggregate_district_list",
        summary="Stored aggregates of the ratings given by residents of each district",
        tags=["aggregates"],
        parameters=[VERIFIED],
        responses={
            200: serializers.DistrictAggregateSerializer(many=True),
            400: AGGREGATE_RESPONSES[400],
        },
    )
    def get(self, request: Request) -> Response:
        summaries = selectors.district_aggregates(verified_only=_verified_only(request))
        rows = [_district_payload(d, s) for d, s in summaries]
        return Response(serializers.DistrictAggregateSerializer(rows, many=True).data)


class DistrictAggregateApi(CachedReadView, APIView):
    name = gettext_lazy("区评分汇总")

    page_params = ("verified",)

    @classmethod
    def page_tags(cls, request, *args, pk: int, **kwargs):
        return REPORT, aggregate_tag(AggregateScope.DISTRICT, pk)

    @extend_schema(
        operation_id="aggregate_district",
        summary="Stored aggregate of the ratings given by residents of one district",
        tags=["aggregates"],
        parameters=[VERIFIED],
        responses={200: serializers.DistrictAggregateSerializer, **AGGREGATE_RESPONSES},
    )
    def get(self, request: Request, pk: int) -> Response:
        verified_only = _verified_only(request)
        district = selectors.district_list().filter(pk=pk).first()
        if district is None:
            raise Http404
        summary = selectors.aggregates_by_object(
            scope=AggregateScope.DISTRICT, object_ids=[pk], verified_only=verified_only
        )[pk]
        return Response(serializers.DistrictAggregateSerializer(_district_payload(district, summary)).data)


# --- My data -----------------------------------------------------------------------------


class MyDataApi(APIView):
    name = gettext_lazy("我的数据")

    @extend_schema(
        operation_id="my_data",
        summary="Everything submitted with this resident cookie",
        tags=["participation"],
        parameters=[RESIDENT_COOKIE],
        responses={200: serializers.MyDataSerializer},
    )
    def get(self, request: Request) -> Response:
        identity = resident_identity(request._request)
        data = selectors.resident_data(key_hash=identity.key_hash) if identity else None
        if data is None:
            data = selectors.ResidentData(resident=None, ratings=[], responses=[], comments=[], replies=[])
        return Response(serializers.MyDataSerializer(data).data)

    @extend_schema(
        operation_id="my_data_delete",
        summary="Delete everything submitted with this resident cookie; aggregates follow",
        tags=["participation"],
        parameters=[RESIDENT_COOKIE],
        responses={204: None, 403: ERRORS[403]},
    )
    def delete(self, request: Request) -> Response:
        cross_site_check(request._request)
        identity = resident_identity(request._request)
        if identity is not None:
            resident_data_delete(resident_key_hash=identity.key_hash)
        return resident_cookie_delete(Response(status=status.HTTP_204_NO_CONTENT))


class ReplyRatingApi(SubmissionView):
    """The author of a piece of feedback rates the official answer to it (only them)."""

    name = gettext_lazy("评价答复")
    description = gettext_lazy("留言者评价对其留言的官方答复（仅限本人）。")

    limit_kind = None  # not a new submission: no limit, and no new resident

    @extend_schema(
        operation_id="reply_rate",
        summary="Rate the official reply to your feedback: satisfied / fairly / unsatisfied, solved or not",
        description="One rating per reply; posting again changes it. Only the resident whose cookie "
        "submitted the answered feedback may rate it: anyone else gets 404.",
        tags=["participation"],
        parameters=[RESIDENT_COOKIE],
        request=serializers.ReplyRatingInputSerializer,
        responses={200: serializers.ReplyRatingSerializer, 404: None, **ERRORS},
    )
    def post(self, request: Request, pk: int) -> Response:
        data = serializers.ReplyRatingInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        if self.identity is None:
            raise Http404
        identity = self.identity
        try:
            rating = reply_rate(resident_key_hash=identity.key_hash, reply_id=pk, **data.validated_data)
        except ObjectDoesNotExist:
            raise Http404 from None
        return Response(serializers.ReplyRatingSerializer(rating).data)


# --- Phone verification (后台实名, optional) ------------------------------------------------

VERIFICATION_ERRORS = {
    **ERRORS,
    429: OpenApiResponse(
        description="Too many requests: a code for this number was sent less than "
        "VERIFICATION_RESEND_INTERVAL seconds ago, or too many codes for this number "
        "(VERIFICATION_PHONE_RATE) or from this address (VERIFICATION_ADDRESS_RATE), or too many "
        "verification requests (RATE_LIMIT_VERIFICATION). A Retry-After header gives the seconds "
        "to wait when known. Nothing sent."
    ),
    503: OpenApiResponse(
        description="The SMS could not be sent (短信发送失败，请稍后再试): the provider is down or "
        "refused the message. No code was kept; try again later."
    ),
}


class VerificationApi(SubmissionView):
    """Send a code to a number (POST), or remove the verified number (DELETE)."""

    name = gettext_lazy("手机号验证")
    description = gettext_lazy("向手机号发送验证码（POST），或删除已验证的手机号（DELETE）。")

    limit_kind = "verification"

    @extend_schema(
        operation_id="verification_start",
        summary="Send a one-time SMS code to verify a mainland mobile number (optional)",
        description="Step 1 of the verified tier (后台实名). Only keyed hashes of the number and "
        "of the code are stored; confirm with POST /api/v1/verification/confirm/.",
        tags=["participation"],
        parameters=[RESIDENT_COOKIE],
        request=serializers.VerificationStartInputSerializer,
        responses={201: serializers.VerificationSentSerializer, **VERIFICATION_ERRORS},
    )
    def post(self, request: Request) -> Response:
        data = serializers.VerificationStartInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        verification = verification_start(
            resident_key_hash=self.identity.key_hash,
            phone=data.validated_data["phone"],
            source_hash=client_address_hash(request._request),
        )
        payload = {
            "phone_masked": mask_phone(phone_normalise(data.validated_data["phone"])),
            "expires_at": verification.expires_at,
            "resend_after": settings.VERIFICATION_RESEND_INTERVAL,
        }
        return Response(serializers.VerificationSentSerializer(payload).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        operation_id="verification_revoke",
        summary="Remove the verified number (its hash) and any pending code of this resident cookie",
        tags=["participation"],
        parameters=[RESIDENT_COOKIE],
        responses={204: None, 403: ERRORS[403], 413: ERRORS[413]},
    )
    def delete(self, request: Request) -> Response:
        # Not a new submission: the size and cross-site steps, no new identity, no limit.
        identity = submission_open(request._request, kind=None)
        if identity is not None:
            verification_revoke(resident_key_hash=identity.key_hash)
        return Response(status=status.HTTP_204_NO_CONTENT)


class VerificationConfirmApi(SubmissionView):
    """Check the code; the resident cookie is then verified with that number."""

    name = gettext_lazy("确认验证码")
    description = gettext_lazy("核对验证码；核对通过后，居民 Cookie 即以该手机号验证。")

    limit_kind = "verification"

    @extend_schema(
        operation_id="verification_confirm",
        summary="Confirm the SMS code; a resident verified with this number before loses it",
        description="Each wrong code counts; after VERIFICATION_MAX_ATTEMPTS the code is dead and a "
        "new one must be asked for. An expired code gets 400 as well.",
        tags=["participation"],
        parameters=[RESIDENT_COOKIE],
        request=serializers.VerificationConfirmInputSerializer,
        responses={200: serializers.VerificationStatusSerializer, **ERRORS},
    )
    def post(self, request: Request) -> Response:
        data = serializers.VerificationConfirmInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        resident = verification_confirm(
            resident_key_hash=self.identity.key_hash,
            phone=data.validated_data["phone"],
            code=data.validated_data["code"],
        )
        return Response(serializers.VerificationStatusSerializer(resident).data)
