"""What residents give back: ratings, survey answers, comments; and the
aggregates computed from them.

Residents have no account. A resident is a random id in a signed cookie; only
a keyed hash of that id is stored (``Resident.key_hash``), and no IP address
is stored anywhere. Ratings and comments target exactly one published
indicator or story; the database enforces one current rating per resident
per item.
"""

from django.conf import settings
from django.core.validators import (
    MaxLengthValidator,
    MaxValueValidator,
    MinLengthValidator,
    MinValueValidator,
)
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from indicators.models import District, Edition, Indicator, Publishable, Story, localized

SCORE_VALIDATORS = [MinValueValidator(1), MaxValueValidator(5)]
COMMENT_MAX_LENGTH = 1000
NICKNAME_MAX_LENGTH = 30
REPLY_MAX_LENGTH = 4000
MODERATION_REASON_MAX_LENGTH = 300


class Resident(models.Model):
    """An anonymous participant, known only by a keyed hash of its cookie id."""

    key_hash = models.CharField(_("标识摘要"), max_length=64, unique=True, editable=False)
    district = models.ForeignKey(
        District,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("自报所在区"),
    )
    created_at = models.DateTimeField(_("首次参与"), auto_now_add=True)
    phone_hash = models.CharField(
        _("手机号摘要"),
        max_length=64,
        blank=True,
        editable=False,
        help_text=_("经短信验证的手机号的密钥摘要；不保存号码本身。删除数据时一并删除。"),
    )
    verified_at = models.DateTimeField(
        _("实名验证时间"), null=True, blank=True, help_text=_("通过短信验证码验证手机号的时间。")
    )
    replies_seen_at = models.DateTimeField(
        _("最近查看答复时间"),
        null=True,
        blank=True,
        help_text=_("市民最近一次打开“我的数据”的时间；此后的答复算作新答复。"),
    )
    notify_email = models.EmailField(
        _("答复通知邮箱"),
        blank=True,
        help_text=_("可选：市民留下的邮箱，仅用于通知其反馈收到了答复；删除数据时一并删除。"),
    )

    class Meta:
        verbose_name = _("市民（匿名）")
        verbose_name_plural = _("市民（匿名）")
        constraints = [
            # One number vouches for one resident at a time, so a verified
            # number cannot be spread over many cookies.
            models.UniqueConstraint(
                fields=["phone_hash"], condition=~Q(phone_hash=""), name="resident_one_per_phone"
            )
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.key_hash[:8]}…"

    @property
    def is_verified(self) -> bool:
        return self.verified_at is not None


class TargetedQuerySet(models.QuerySet):
    def for_target(self, target: Indicator | Story) -> "TargetedQuerySet":
        if isinstance(target, Indicator):
            return self.filter(indicator=target)
        return self.filter(story=target)


class Targeted(models.Model):
    """Something attached to exactly one indicator or one story.

    Neither key has an index of its own: each subclass's indexes begin with it (a
    rating's anomaly-rule indexes, a comment's list indexes), and serve the lookups
    by item and the cascades of a deleted item; a key's own index would only be one
    more to write with every row.
    """

    indicator = models.ForeignKey(
        Indicator,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        db_index=False,
        related_name="%(class)ss",
        verbose_name=_("指标"),
    )
    story = models.ForeignKey(
        Story,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        db_index=False,
        related_name="%(class)ss",
        verbose_name=_("亮点故事"),
    )

    objects = TargetedQuerySet.as_manager()

    class Meta:
        abstract = True

    @property
    def target(self) -> Indicator | Story:
        return self.indicator if self.indicator_id else self.story

    @staticmethod
    def one_target_constraint(name: str) -> models.CheckConstraint:
        return models.CheckConstraint(
            condition=(
                Q(indicator__isnull=False, story__isnull=True)
                | Q(indicator__isnull=True, story__isnull=False)
            ),
            name=name,
        )


class TrustState(models.TextChoices):
    COUNTED = "counted", _("计入统计")
    HELD = "held", _("待核实")
    DISCARDED = "discarded", _("已剔除")


class Screened(models.Model):
    """A submission that counts in public figures only while it is trusted.

    Suspicious submissions (too many new identities from one address, bursts,
    runs of one score…) are stored but *held*: never lost, never counted,
    until a person releases or discards them (``feedback.trust``).
    """

    trust = models.CharField(
        _("核实状态"),
        max_length=10,
        choices=TrustState.choices,
        default=TrustState.COUNTED,
        help_text=_("“待核实”和“已剔除”的不计入任何公开统计。"),
    )
    hold_reason = models.CharField(_("待核实原因"), max_length=200, blank=True)
    source_hash = models.CharField(
        _("来源摘要"),
        max_length=32,
        blank=True,
        editable=False,
        help_text=_("客户端地址的密钥摘要，仅用于识别异常，保留期满后清除；不保存 IP 地址。"),
    )
    trust_decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("核实人"),
    )
    trust_decided_at = models.DateTimeField(_("核实时间"), null=True, blank=True)
    trust_note = models.CharField(_("核实说明"), max_length=300, blank=True)

    class Meta:
        abstract = True


class Rating(Screened, Targeted):
    """One resident's current 1–5 score on one item; a new one replaces it."""

    # Looked up through the unique (resident, indicator) index, which begins with it.
    resident = models.ForeignKey(
        Resident, on_delete=models.CASCADE, db_index=False, related_name="ratings", verbose_name=_("市民")
    )
    score = models.PositiveSmallIntegerField(_("评分"), validators=SCORE_VALIDATORS)
    # Looked up through rating_district_score_idx, which begins with it.
    district = models.ForeignKey(
        District,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        db_index=False,
        related_name="ratings",
        verbose_name=_("自报所在区"),
    )
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        ordering = ["-updated_at"]
        verbose_name = _("评分")
        verbose_name_plural = _("评分")
        constraints = [
            Targeted.one_target_constraint("rating_exactly_one_target"),
            models.CheckConstraint(condition=Q(score__gte=1, score__lte=5), name="rating_score_1_to_5"),
            # Not partial: NULLs never collide, so (resident, indicator) only
            # binds indicator ratings, and a full unique index is what
            # ``INSERT … ON CONFLICT (resident_id, indicator_id)`` can infer.
            models.UniqueConstraint(
                fields=["resident", "indicator"], name="rating_one_per_resident_indicator"
            ),
            models.UniqueConstraint(fields=["resident", "story"], name="rating_one_per_resident_story"),
        ]
        indexes = [
            models.Index(fields=["district", "score"], name="rating_district_score_idx"),
            # Held ratings are few and looked up by staff and by the anomaly rules.
            models.Index(
                fields=["trust", "updated_at"], name="rating_not_counted_idx", condition=~Q(trust="counted")
            ),
            models.Index(fields=["source_hash", "updated_at"], name="rating_source_idx"),
            # The anomaly rules (feedback.anomaly): the ratings still counted of an item
            # (a screen's candidates), and the n-th rating of an item from one address or
            # with one score, read in order without ranking the whole window.
            *(
                models.Index(
                    fields=[kind, *columns, "updated_at", "id"],
                    name=f"rating_{kind}_{name}_idx",
                    condition=Q(**{f"{kind}__isnull": False}, **extra),
                )
                for kind in ("indicator", "story")
                for name, columns, extra in (
                    ("undecided", [], {"trust": "counted", "trust_decided_at__isnull": True}),
                    ("source", ["source_hash"], {}),
                    ("score", ["score"], {}),
                )
            ),
        ]

    def __str__(self) -> str:
        return f"{self.target} · {self.score}"


class Survey(Publishable):
    """The annual satisfaction questionnaire of an edition, defined by staff."""

    edition = models.ForeignKey(
        Edition, on_delete=models.CASCADE, related_name="surveys", verbose_name=_("年度报告")
    )
    slug = models.SlugField(_("标识"), max_length=60)
    title = models.CharField(_("标题"), max_length=200)
    title_en = models.CharField(_("英文标题"), max_length=300, blank=True)
    intro = models.TextField(_("说明"), blank=True)
    intro_en = models.TextField(_("英文说明"), blank=True)
    opens_at = models.DateTimeField(_("开始时间"))
    closes_at = models.DateTimeField(_("截止时间"))

    class Meta:
        ordering = ["-edition__year", "slug"]
        verbose_name = _("满意度问卷")
        verbose_name_plural = _("满意度问卷")
        constraints = [
            models.UniqueConstraint(fields=["edition", "slug"], name="survey_unique_slug"),
            models.CheckConstraint(
                condition=Q(closes_at__gt=models.F("opens_at")), name="survey_closes_after_opening"
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("feedback:survey_detail", kwargs={"pk": self.pk})

    @property
    def display_title(self) -> str:
        return localized(self, "title")

    @property
    def display_intro(self) -> str:
        return localized(self, "intro")


class SurveyQuestion(models.Model):
    """A 1–5 question of a survey, on one dimension the report names."""

    survey = models.ForeignKey(
        Survey, on_delete=models.CASCADE, related_name="questions", verbose_name=_("问卷")
    )
    order = models.PositiveSmallIntegerField(_("排序"), default=0)
    dimension = models.CharField(_("维度"), max_length=40, help_text=_("如：人文环境、公共交通。"))
    dimension_en = models.CharField(_("英文维度"), max_length=80, blank=True)
    text = models.CharField(_("题目"), max_length=300)
    text_en = models.CharField(_("英文题目"), max_length=400, blank=True)
    allow_comment = models.BooleanField(_("允许补充意见"), default=True)

    class Meta:
        ordering = ["survey", "order", "id"]
        verbose_name = _("问卷题目")
        verbose_name_plural = _("问卷题目")
        constraints = [
            models.UniqueConstraint(fields=["survey", "dimension"], name="surveyquestion_unique_dimension")
        ]

    def __str__(self) -> str:
        return f"{self.dimension}：{self.text}"

    @property
    def display_dimension(self) -> str:
        return localized(self, "dimension")

    @property
    def display_text(self) -> str:
        return localized(self, "text")


class SurveyResponse(Screened):
    """One resident's submission to one survey (changeable until it closes)."""

    survey = models.ForeignKey(
        Survey, on_delete=models.CASCADE, related_name="responses", verbose_name=_("问卷")
    )
    resident = models.ForeignKey(
        Resident, on_delete=models.CASCADE, related_name="survey_responses", verbose_name=_("市民")
    )
    district = models.ForeignKey(
        District,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="survey_responses",
        verbose_name=_("自报所在区"),
    )
    created_at = models.DateTimeField(_("提交时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        ordering = ["-updated_at"]
        verbose_name = _("问卷答卷")
        verbose_name_plural = _("问卷答卷")
        constraints = [
            models.UniqueConstraint(fields=["survey", "resident"], name="surveyresponse_one_per_resident")
        ]

    def __str__(self) -> str:
        return f"{self.survey} · #{self.pk}"


class SurveyAnswer(models.Model):
    response = models.ForeignKey(
        SurveyResponse, on_delete=models.CASCADE, related_name="answers", verbose_name=_("答卷")
    )
    question = models.ForeignKey(
        SurveyQuestion, on_delete=models.CASCADE, related_name="answers", verbose_name=_("题目")
    )
    score = models.PositiveSmallIntegerField(_("评分"), validators=SCORE_VALIDATORS)
    comment = models.TextField(_("补充意见"), blank=True, validators=[MaxLengthValidator(COMMENT_MAX_LENGTH)])

    class Meta:
        ordering = ["response", "question__order"]
        verbose_name = _("答题")
        verbose_name_plural = _("答题")
        constraints = [
            models.UniqueConstraint(fields=["response", "question"], name="surveyanswer_one_per_question"),
            models.CheckConstraint(condition=Q(score__gte=1, score__lte=5), name="surveyanswer_score_1_to_5"),
        ]

    def __str__(self) -> str:
        return f"{self.question.dimension} · {self.score}"


class ModerationState(models.TextChoices):
    PENDING = "pending", _("待审核")
    APPROVED = "approved", _("已通过")
    REJECTED = "rejected", _("未通过")


class Comment(Targeted):
    """A resident's words on an indicator or story; public only once approved.

    When its author deletes their data the comment stays as part of the
    public record (its reply and the planner's case refer to it) but is
    anonymised: body, nickname, district, hold reason and the link to the
    resident are cleared and ``author_deleted_at`` is set (居民已删除原文).
    """

    resident = models.ForeignKey(
        Resident,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="comments",
        verbose_name=_("市民"),
        help_text=_("市民删除数据后为空。"),
    )
    body = models.TextField(
        _("内容"),
        validators=[MinLengthValidator(1), MaxLengthValidator(COMMENT_MAX_LENGTH)],
    )
    nickname = models.CharField(_("昵称"), max_length=NICKNAME_MAX_LENGTH, blank=True)
    district = models.ForeignKey(
        District,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="comments",
        verbose_name=_("所在区"),
    )
    moderation_state = models.CharField(
        _("审核状态"),
        max_length=10,
        choices=ModerationState.choices,
        default=ModerationState.PENDING,
    )
    held_reason = models.CharField(
        _("待审原因"), max_length=200, blank=True, help_text=_("如命中敏感词或含链接。")
    )
    moderation_reason = models.CharField(_("审核意见"), max_length=MODERATION_REASON_MAX_LENGTH, blank=True)
    moderated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("审核人"),
    )
    moderated_at = models.DateTimeField(_("审核时间"), null=True, blank=True)
    created_at = models.DateTimeField(_("提交时间"), auto_now_add=True)
    author_deleted_at = models.DateTimeField(
        _("原文删除时间"),
        null=True,
        blank=True,
        help_text=_("市民删除自己数据的时间：留言内容已清除，仅保留答复与处理记录。"),
    )

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("留言")
        verbose_name_plural = _("留言")
        constraints = [Targeted.one_target_constraint("comment_exactly_one_target")]
        indexes = [
            models.Index(
                fields=["indicator", "moderation_state", "-created_at"], name="comment_indicator_idx"
            ),
            models.Index(fields=["story", "moderation_state", "-created_at"], name="comment_story_idx"),
            models.Index(fields=["moderation_state", "-created_at"], name="comment_state_idx"),
        ]

    def __str__(self) -> str:
        return self.body[:40]


class ReplyTarget(models.TextChoices):
    COMMENT = "comment", _("留言")
    SURVEY_ANSWER = "survey_answer", _("问卷意见")
    RATING = "rating", _("低分评价")


class OfficialReply(models.Model):
    """The one official answer to one piece of feedback, as its author sees it.

    It answers exactly one comment (public, shown beneath the comment), survey
    answer or rating (private, shown only on its author's "my data"). It holds
    what the resident is told: the reply ``body`` and, when the case was closed,
    the ``closing_note`` — a case closed without a reply must say why, so one of
    the two is never blank. Both are signed with a title (``author_title``),
    never a login name. The review app writes it through ``feedback.replies``.

    When the resident deletes their data, a rating or survey answer goes (the
    link becomes empty and ``source_deleted_at`` is set) but the reply stays
    with the planner's record of the case.
    """

    target_kind = models.CharField(
        _("答复对象类型"), max_length=16, choices=ReplyTarget.choices, default=ReplyTarget.COMMENT
    )
    comment = models.OneToOneField(
        Comment,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="official_reply",
        verbose_name=_("留言"),
    )
    survey_answer = models.OneToOneField(
        SurveyAnswer,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="official_reply",
        verbose_name=_("问卷意见"),
    )
    rating = models.OneToOneField(
        Rating,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="official_reply",
        verbose_name=_("评分"),
    )
    # Who the answer is for: one indexed lookup for the "new replies" badge and
    # for the rule that only the author may rate the reply.
    resident = models.ForeignKey(
        Resident,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="official_replies",
        verbose_name=_("答复对象（市民）"),
        help_text=_("反馈的作者；市民删除数据后为空。"),
    )
    body = models.TextField(_("答复"), blank=True, validators=[MaxLengthValidator(REPLY_MAX_LENGTH)])
    closing_note = models.TextField(
        _("办结说明"),
        blank=True,
        validators=[MaxLengthValidator(REPLY_MAX_LENGTH)],
        help_text=_("办结时告诉反馈者的说明；未答复就办结时必填。"),
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="official_replies",
        verbose_name=_("答复人"),
    )
    author_title = models.CharField(
        _("署名"), max_length=100, help_text=_("公开显示的署名，如“东城区责任规划师”；绝不显示登录名。")
    )
    source_deleted_at = models.DateTimeField(
        _("原文删除时间"), null=True, blank=True, help_text=_("反馈者删除自己数据的时间。")
    )
    created_at = models.DateTimeField(_("答复时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        ordering = ["-updated_at"]
        verbose_name = _("官方答复")
        verbose_name_plural = _("官方答复")
        constraints = [
            # Only the link of its kind may be set…
            models.CheckConstraint(
                condition=(
                    Q(target_kind=ReplyTarget.COMMENT, survey_answer__isnull=True, rating__isnull=True)
                    | Q(target_kind=ReplyTarget.SURVEY_ANSWER, comment__isnull=True, rating__isnull=True)
                    | Q(target_kind=ReplyTarget.RATING, comment__isnull=True, survey_answer__isnull=True)
                ),
                name="officialreply_one_target_of_kind",
            ),
            # …and it is set unless the resident deleted what it answered.
            models.CheckConstraint(
                condition=(
                    Q(source_deleted_at__isnull=False)
                    | Q(comment__isnull=False)
                    | Q(survey_answer__isnull=False)
                    | Q(rating__isnull=False)
                ),
                name="officialreply_target_or_deleted",
            ),
            models.CheckConstraint(
                condition=~Q(body="") | ~Q(closing_note=""), name="officialreply_says_something"
            ),
        ]
        indexes = [models.Index(fields=["resident", "-updated_at"], name="officialreply_resident_idx")]

    def __str__(self) -> str:
        return (self.body or self.closing_note)[:40]

    @property
    def is_public(self) -> bool:
        """Public beneath the comment; a reply to a survey answer or a rating is private."""
        return self.target_kind == ReplyTarget.COMMENT and bool(self.body)


class ReplyVerdict(models.TextChoices):
    SATISFIED = "satisfied", _("满意")
    FAIRLY = "fairly", _("基本满意")
    UNSATISFIED = "unsatisfied", _("不满意")


class ReplyRating(models.Model):
    """What the author of the feedback thinks of the official reply; one per reply, changeable."""

    reply = models.OneToOneField(
        OfficialReply, on_delete=models.CASCADE, related_name="resident_rating", verbose_name=_("官方答复")
    )
    verdict = models.CharField(_("满意程度"), max_length=12, choices=ReplyVerdict.choices)
    solved = models.BooleanField(
        _("问题是否解决"), null=True, blank=True, help_text=_("可选；为空表示市民未回答。")
    )
    created_at = models.DateTimeField(_("评价时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        ordering = ["-updated_at"]
        verbose_name = _("答复评价")
        verbose_name_plural = _("答复评价")

    def __str__(self) -> str:
        return f"#{self.reply_id} {self.get_verdict_display()}"

    @property
    def satisfied(self) -> bool:
        """满意率 counts 满意 and 基本满意, as the 12345 hotline does."""
        return self.verdict in (ReplyVerdict.SATISFIED, ReplyVerdict.FAIRLY)


class SensitiveWord(models.Model):
    """A word that holds a comment for review even under post-moderation."""

    word = models.CharField(_("敏感词"), max_length=50, unique=True)
    created_at = models.DateTimeField(_("添加时间"), auto_now_add=True)

    class Meta:
        ordering = ["word"]
        verbose_name = _("敏感词")
        verbose_name_plural = _("敏感词")

    def __str__(self) -> str:
        return self.word


class PhoneVerification(models.Model):
    """One SMS code sent to verify a resident's mobile number (后台实名).

    Only keyed hashes of the number and of the code are stored; the code
    expires, and a wrong guess counts against ``attempts``.
    """

    resident = models.ForeignKey(
        Resident, on_delete=models.CASCADE, related_name="phone_verifications", verbose_name=_("市民")
    )
    phone_hash = models.CharField(_("手机号摘要"), max_length=64, editable=False)
    code_hash = models.CharField(_("验证码摘要"), max_length=64, editable=False)
    attempts = models.PositiveSmallIntegerField(_("已尝试次数"), default=0)
    created_at = models.DateTimeField(_("发送时间"), auto_now_add=True)
    expires_at = models.DateTimeField(_("失效时间"))
    confirmed_at = models.DateTimeField(_("验证成功时间"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("手机验证")
        verbose_name_plural = _("手机验证")
        indexes = [models.Index(fields=["phone_hash", "created_at"], name="phoneverification_phone_idx")]

    def __str__(self) -> str:
        return f"#{self.pk} {self.phone_hash[:8]}…"


class AggregateScope(models.TextChoices):
    INDICATOR = "indicator", _("指标")
    STORY = "story", _("亮点故事")
    QUESTION = "question", _("问卷题目")
    SURVEY = "survey", _("问卷")
    CHAPTER = "chapter", _("章")
    DISTRICT = "district", _("行政区")


class ScoreAggregate(models.Model):
    """Stored statistics of the scores of one thing, refreshed by Celery.

    Public pages read these rows; no public request scans raw ratings.
    """

    scope = models.CharField(_("范围"), max_length=10, choices=AggregateScope.choices)
    object_id = models.PositiveBigIntegerField(_("对象编号"))
    count = models.PositiveIntegerField(_("人数"), default=0)
    total = models.PositiveBigIntegerField(_("总分"), default=0)
    mean = models.DecimalField(_("平均分"), max_digits=5, decimal_places=3, null=True, blank=True)
    distribution = models.JSONField(_("分布"), default=list, help_text=_("评 1–5 分的人数，依次排列。"))
    by_district = models.JSONField(_("分区"), default=dict, help_text=_("行政区编号 → {count, mean}。"))
    ci_low = models.DecimalField(_("95% 区间下限"), max_digits=5, decimal_places=3, null=True, blank=True)
    ci_high = models.DecimalField(_("95% 区间上限"), max_digits=5, decimal_places=3, null=True, blank=True)
    raters = models.PositiveIntegerField(
        _("评价人数（去重）"),
        default=0,
        help_text=_("给出这些评分的不同市民人数；低于最少人数时不公开结果。"),
    )
    held_count = models.PositiveIntegerField(
        _("待核实条数"), default=0, help_text=_("被拦下待人工核实、未计入本汇总的评分条数。")
    )
    verified_count = models.PositiveIntegerField(
        _("实名评分条数"), default=0, help_text=_("计入的评分中来自已验证手机号市民的条数。")
    )
    verified_distribution = models.JSONField(
        _("实名评分分布"), default=list, blank=True, help_text=_("已验证市民评 1–5 分的人数，依次排列。")
    )
    verified_raters = models.PositiveIntegerField(
        _("实名评价人数（去重）"),
        default=0,
        help_text=_("计入的评分来自多少位不同的已验证市民；低于最少人数时不公开实名评分结果。"),
    )
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        ordering = ["scope", "object_id"]
        verbose_name = _("评分汇总")
        verbose_name_plural = _("评分汇总")
        constraints = [
            models.UniqueConstraint(fields=["scope", "object_id"], name="aggregate_unique_scope_object")
        ]

    def __str__(self) -> str:
        # ``target_label`` is the item's name, set by whoever read the items (the admin
        # reads a whole page's at once): looking it up here would cost a query per row.
        item = getattr(self, "target_label", "") or f"#{self.object_id}"
        return f"{self.get_scope_display()}：{item}"
