"""Input and output shapes of the participation API.

Input serializers check types and ranges and resolve the target; the rules
live in the services. Output serializers read only what the selectors
already loaded (no query per row). Resident text is returned as plain text.
"""

from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from feedback import selectors
from feedback.models import (
    COMMENT_MAX_LENGTH,
    NICKNAME_MAX_LENGTH,
    Comment,
    ModerationState,
    OfficialReply,
    Rating,
    ReplyRating,
    ReplyVerdict,
    SurveyAnswer,
)
from indicators.models import District

TARGET_TYPES = [("indicator", _("指标")), ("story", _("亮点故事"))]


class TargetInputSerializer(serializers.Serializer):
    target_type = serializers.ChoiceField(choices=TARGET_TYPES, help_text=_("indicator 或 story。"))
    target_id = serializers.IntegerField(min_value=1, help_text=_("指标或亮点故事的编号（id）。"))
    district = serializers.PrimaryKeyRelatedField(
        queryset=District.objects.all(),
        required=False,
        allow_null=True,
        help_text=_("自报所在区的编号（可选）。"),
    )

    def validate(self, attrs: dict) -> dict:
        target = selectors.target_public_get(kind=attrs["target_type"], pk=attrs["target_id"])
        if target is None:
            raise serializers.ValidationError(
                {"target_id": [_("没有这个已发布的指标或亮点故事。")]}, code="unknown_target"
            )
        attrs["target"] = target
        return attrs


class RatingInputSerializer(TargetInputSerializer):
    score = serializers.IntegerField(
        min_value=1,
        max_value=5,
        help_text=_("1–5 的整数。"),
        error_messages={
            "invalid": _("评分须为 1 到 5 的整数。"),
            "min_value": _("评分须为 1 到 5 的整数。"),
            "max_value": _("评分须为 1 到 5 的整数。"),
        },
    )


class CommentInputSerializer(TargetInputSerializer):
    body = serializers.CharField(
        max_length=COMMENT_MAX_LENGTH,
        help_text=_("1–1000 字，纯文本。"),
        error_messages={"max_length": _("留言最多 1000 字。"), "blank": _("请填写留言内容。")},
    )
    nickname = serializers.CharField(
        max_length=NICKNAME_MAX_LENGTH, required=False, allow_blank=True, default=""
    )


class AnswerInputSerializer(serializers.Serializer):
    question = serializers.IntegerField(min_value=1, help_text=_("题目编号。"))
    score = serializers.IntegerField(
        min_value=1,
        max_value=5,
        error_messages={
            "invalid": _("评分须为 1 到 5 的整数。"),
            "min_value": _("评分须为 1 到 5 的整数。"),
            "max_value": _("评分须为 1 到 5 的整数。"),
        },
    )
    comment = serializers.CharField(
        max_length=COMMENT_MAX_LENGTH, required=False, allow_blank=True, default=""
    )


class SurveyResponseInputSerializer(serializers.Serializer):
    survey = serializers.IntegerField(min_value=1, help_text=_("问卷编号。"))
    district = serializers.PrimaryKeyRelatedField(
        queryset=District.objects.all(), required=False, allow_null=True
    )
    answers = AnswerInputSerializer(many=True, allow_empty=False)

    def validate_survey(self, value: int):
        survey = selectors.survey_public_get(pk=value)
        if survey is None:
            raise serializers.ValidationError(_("没有这个已发布的问卷。"), code="unknown_survey")
        return survey


class CommentListQuerySerializer(serializers.Serializer):
    target_type = serializers.ChoiceField(choices=TARGET_TYPES)
    target_id = serializers.IntegerField(min_value=1)


# --- Output -------------------------------------------------------------------------


class TargetOutputMixin(serializers.Serializer):
    target_type = serializers.SerializerMethodField()
    target_id = serializers.SerializerMethodField()

    def get_target_type(self, obj) -> str:
        return "indicator" if obj.indicator_id else "story"

    def get_target_id(self, obj) -> int:
        return obj.indicator_id or obj.story_id


class RatingSerializer(TargetOutputMixin, serializers.ModelSerializer):
    class Meta:
        model = Rating
        fields = ["id", "target_type", "target_id", "score", "district", "updated_at"]


class OfficialReplySerializer(serializers.ModelSerializer):
    class Meta:
        model = OfficialReply
        fields = ["body", "author_title", "created_at"]


class CommentSerializer(TargetOutputMixin, serializers.ModelSerializer):
    district_name = serializers.SerializerMethodField()
    official_reply = serializers.SerializerMethodField()

    class Meta:
        model = Comment
        fields = [
            "id",
            "target_type",
            "target_id",
            "body",
            "nickname",
            "district",
            "district_name",
            "created_at",
            "official_reply",
        ]

    def get_district_name(self, obj: Comment) -> str | None:
        return obj.district.display_name if obj.district_id else None

    @extend_schema_field(OfficialReplySerializer(allow_null=True))
    def get_official_reply(self, obj: Comment) -> dict | None:
        reply = getattr(obj, "official_reply", None)
        return OfficialReplySerializer(reply).data if reply and reply.is_public else None


class MyCommentSerializer(CommentSerializer):
    moderation_reason = serializers.SerializerMethodField(help_text=_("未通过审核的理由（仅未通过时有值）。"))

    class Meta(CommentSerializer.Meta):
        fields = [*CommentSerializer.Meta.fields, "moderation_state", "moderation_reason"]

    def get_moderation_reason(self, obj: Comment) -> str:
        return obj.moderation_reason if obj.moderation_state == ModerationState.REJECTED else ""


class ReplyRatingSerializer(serializers.ModelSerializer):
    class Meta:
        model = ReplyRating
        fields = ["verdict", "solved", "updated_at"]


class ReplyRatingInputSerializer(serializers.Serializer):
    verdict = serializers.ChoiceField(choices=ReplyVerdict.choices)
    solved = serializers.BooleanField(required=False, allow_null=True, default=None)


class MyReplySerializer(serializers.Serializer):
    """An answer to one of the resident's comments, survey answers or ratings."""

    id = serializers.IntegerField()
    target_kind = serializers.CharField(help_text=_("comment、survey_answer 或 rating。"))
    comment = serializers.IntegerField(source="comment_id", allow_null=True)
    survey_answer = serializers.IntegerField(source="survey_answer_id", allow_null=True)
    rating = serializers.IntegerField(source="rating_id", allow_null=True)
    body = serializers.CharField(help_text=_("答复；仅办结说明时为空。"))
    closing_note = serializers.CharField(help_text=_("办结说明（如有）。"))
    author_title = serializers.CharField(help_text=_("署名，如“东城区责任规划师”。"))
    public = serializers.BooleanField(source="is_public", help_text=_("是否公开显示在留言下方。"))
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()
    my_rating = serializers.SerializerMethodField(help_text=_("您对答复的评价；未评价时为 null。"))
    rate_url = serializers.SerializerMethodField(help_text=_("POST 到此地址评价答复。"))

    @extend_schema_field(ReplyRatingSerializer(allow_null=True))
    def get_my_rating(self, obj: OfficialReply) -> dict | None:
        rating = getattr(obj, "resident_rating", None)
        return ReplyRatingSerializer(rating).data if rating else None

    def get_rate_url(self, obj: OfficialReply) -> str:
        return reverse("feedback-reply-rating", kwargs={"pk": obj.pk})


class SurveyAnswerSerializer(serializers.ModelSerializer):
    dimension = serializers.CharField(source="question.display_dimension")

    class Meta:
        model = SurveyAnswer
        fields = ["question", "dimension", "score", "comment"]


class SurveyResponseSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    survey = serializers.IntegerField(source="survey_id")
    district = serializers.IntegerField(source="district_id", allow_null=True)
    updated_at = serializers.DateTimeField()
    answers = SurveyAnswerSerializer(many=True, source="answers.all")


class MyDataSerializer(serializers.Serializer):
    ratings = RatingSerializer(many=True)
    survey_responses = SurveyResponseSerializer(many=True, source="responses")
    comments = MyCommentSerializer(many=True)
    replies = MyReplySerializer(many=True, help_text=_("收到的答复（含只给您看的答复和办结说明）。"))
    notify_email = serializers.SerializerMethodField(help_text=_("答复通知邮箱；未留时为空。"))
    verified = serializers.SerializerMethodField(help_text=_("是否已通过短信验证手机号（后台实名）。"))
    verified_at = serializers.SerializerMethodField(help_text=_("验证时间；未验证时为 null。"))

    def get_notify_email(self, obj: selectors.ResidentData) -> str:
        return obj.resident.notify_email if obj.resident else ""

    def get_verified(self, obj: selectors.ResidentData) -> bool:
        return bool(obj.resident and obj.resident.is_verified)

    @extend_schema_field(serializers.DateTimeField(allow_null=True))
    def get_verified_at(self, obj: selectors.ResidentData) -> str | None:
        at = obj.resident.verified_at if obj.resident else None
        return serializers.DateTimeField().to_representation(at) if at else None


class DistrictStatSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    mean = serializers.FloatField(allow_null=True, help_text=_("少于最低人数时为 null。"))
    distribution = serializers.ListField(
        child=serializers.IntegerField(),
        min_length=5,
        max_length=5,
        allow_null=True,
        help_text=_("少于最低人数时为 null。"),
    )


class AggregateQuerySerializer(serializers.Serializer):
    verified = serializers.BooleanField(
        required=False,
        default=False,
        help_text=_("为 true 时只统计实名验证市民的评分。"),
    )


class ScoreSummarySerializer(serializers.Serializer):
    count = serializers.IntegerField(
        help_text=_("计入统计的评分条数（问卷为答题数）；待核实和已剔除的不计入。")
    )
    raters = serializers.IntegerField(
        help_text=_(
            "给出这些评分的不同市民人数（一人评同一章的多项只算一人）；"
            "少于 min_count 时不给出平均分、区间和分布。"
        )
    )
    mean = serializers.DecimalField(
        max_digits=5,
        decimal_places=3,
        allow_null=True,
        help_text=_("平均分；评价人数少于 min_count 时为 null（评价人数不足）。"),
    )
    ci_low = serializers.DecimalField(
        max_digits=5,
        decimal_places=3,
        allow_null=True,
        help_text=_(
            "95% 区间下限：均值 − 1.96·s/√n，n 为评价人数（raters，不是评分条数），"
            "不低于 1；评价人数少于 min_count 时为 null。"
        ),
    )
    ci_high = serializers.DecimalField(
        max_digits=5,
        decimal_places=3,
        allow_null=True,
        help_text=_(
            "95% 区间上限：均值 + 1.96·s/√n，n 为评价人数（raters，不是评分条数），"
            "不高于 5；评价人数少于 min_count 时为 null。"
        ),
    )
    distribution = serializers.ListField(
        child=serializers.IntegerField(),
        allow_null=True,
        help_text=_("评 1、2、3、4、5 分的人数；评价人数少于 min_count 时为 null，以免露出个人的评分。"),
    )
    by_district = serializers.DictField(
        child=DistrictStatSerializer(),
        help_text=_(
            "行政区编号 → 统计。人数少于 min_count 的区只给出人数；若扣除已显示的区后余下不足 min_count 人，"
            "人数最少的已显示区也只给出人数。"
        ),
    )
    min_count = serializers.IntegerField(help_text=_("显示平均分、区间和分布所需的最少人数。"))
    held_count = serializers.IntegerField(
        help_text=_("已保存但待人工核实、未计入上述统计的评分条数（不分实名与否）。")
    )
    verified_count = serializers.IntegerField(help_text=_("计入的评分中来自实名验证市民的条数。"))
    verified_raters = serializers.IntegerField(help_text=_("计入的评分来自多少位不同的实名验证市民。"))
    verified_share = serializers.FloatField(
        allow_null=True,
        help_text=_("实名验证市民的评分占全部计入评分的比例（0–1）；没有计入的评分时为 null。"),
    )
    verified_only = serializers.BooleanField(
        help_text=_(
            "为 true（请求带 ?verified=true）时，count、raters、平均分、区间和分布只统计实名验证市民，"
            "门槛相同；未实名的人数不为 0 但少于 min_count 时也不给出，以免与全部评分相减露出个人的评分；"
            "不分区（by_district 为空）；held_count、verified_count、verified_share 仍指全部评分。"
        )
    )
    updated_at = serializers.DateTimeField(allow_null=True)


class TargetAggregateSerializer(serializers.Serializer):
    scope = serializers.CharField()
    object_id = serializers.IntegerField()
    score = ScoreSummarySerializer()


class QuestionAggregateSerializer(serializers.Serializer):
    question = serializers.IntegerField()
    dimension = serializers.CharField()
    text = serializers.CharField()
    score = ScoreSummarySerializer()


class SurveyAggregateSerializer(serializers.Serializer):
    survey = serializers.IntegerField()
    title = serializers.CharField()
    score = ScoreSummarySerializer()
    questions = QuestionAggregateSerializer(many=True)


class DistrictAggregateSerializer(serializers.Serializer):
    district = serializers.IntegerField()
    name = serializers.CharField()
    score = ScoreSummarySerializer()


# --- Phone verification (后台实名) ------------------------------------------------------------

# What feedback.verification reads as a mainland mobile number and as a code, for the
# schema: NFKC folds full-width digits and signs, separators may sit anywhere, and a
# +86 / 0086 / 86 prefix may lead. tests/test_schema_contract.py holds these to the
# services' own normalisers.
_SEPARATORS = "[\\s().\\-\u2010-\u2015\uff08\uff09\uff0d\uff0e]*"


def _digit(digits: str) -> str:
    return "[" + "".join(d + chr(0xFF10 + int(d)) for d in digits) + "]"


PHONE_PATTERN = (
    f"^{_SEPARATORS}(?:(?:[+\uff0b]{_SEPARATORS}|{_digit('0')}{_SEPARATORS}{_digit('0')}{_SEPARATORS})?"
    f"{_digit('8')}{_SEPARATORS}{_digit('6')}{_SEPARATORS})?"
    f"{_digit('1')}{_SEPARATORS}{_digit('3456789')}(?:{_SEPARATORS}{_digit('0123456789')}){{9}}{_SEPARATORS}$"
)
CODE_PATTERN = f"^\\s*(?:{_digit('0123456789')}\\s*){{6}}$"


@extend_schema_field({"type": "string", "maxLength": 40, "pattern": PHONE_PATTERN})
class PhoneField(serializers.CharField):
    """A mobile number as typed; the service normalises and checks it."""


@extend_schema_field({"type": "string", "maxLength": 20, "pattern": CODE_PATTERN})
class CodeField(serializers.CharField):
    """The code as typed (spaces and full-width digits allowed); the service checks it."""


class VerificationStartInputSerializer(serializers.Serializer):
    phone = PhoneField(
        max_length=40,
        help_text=_("中国大陆手机号；可带 +86、空格或短横线。只保存其加密摘要。"),
        error_messages={"blank": _("请填写手机号。"), "required": _("请填写手机号。")},
    )


class VerificationConfirmInputSerializer(VerificationStartInputSerializer):
    code = CodeField(
        max_length=20,
        help_text=_("短信中的 6 位数字验证码。"),
        error_messages={
            "blank": _("请填写短信中的 6 位数字验证码。"),
            "required": _("请填写短信中的 6 位数字验证码。"),
        },
    )


class VerificationSentSerializer(serializers.Serializer):
    phone_masked = serializers.CharField(help_text=_("收到验证码的号码，部分隐去，如 138****5678。"))
    expires_at = serializers.DateTimeField(help_text=_("验证码失效时间。"))
    resend_after = serializers.IntegerField(help_text=_("多少秒后才能为这个号码再次获取验证码。"))


class VerificationStatusSerializer(serializers.Serializer):
    verified = serializers.BooleanField(source="is_verified")
    verified_at = serializers.DateTimeField(allow_null=True)
