"""Planners, their areas and the review cases they work on (issue 4).

A *review case* is a planner's handling of one piece of resident feedback: a
comment, a survey answer with free text, or a low rating (1–2). Exactly one
case exists per feedback row (a nullable one-to-one per kind, so the database
refuses a second one). The case copies what the queue filters on (district,
street, chapter, item, the time the feedback was received) so that the queue
is one indexed query; the feedback text and current score are read through
the one-to-one join.

Every change to a case is written by ``review.services`` together with a
``CaseEvent`` row: who, when, what, before and after.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from feedback.models import Comment, OfficialReply, Rating, SurveyAnswer, SurveyQuestion
from feedback.textfilter import personal_data_mask
from indicators.models import Chapter, District, Indicator, Story, Street, is_english
from review.language import item_label


class PlannerProfile(models.Model):
    """A responsibility planner (责任规划师) and the area they answer for.

    A planner sees the cases of their districts, plus the cases located on
    any street assigned to them individually (a street planner who covers
    one street of another district). Planners are never staff.
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="planner_profile",
        verbose_name=_("账号"),
    )
    title = models.CharField(
        _("公开署名"),
        max_length=100,
        help_text=_("答复时公开显示的署名，如“东城区责任规划师”。"),
    )
    districts = models.ManyToManyField(
        District,
        blank=True,
        related_name="planners",
        verbose_name=_("负责的行政区"),
        help_text=_("规划师可查看和处理这些区的全部反馈。"),
    )
    streets = models.ManyToManyField(
        Street,
        blank=True,
        related_name="planners",
        verbose_name=_("负责的街道/乡镇"),
        help_text=_("可选：另行负责的街道/乡镇（位于这些街道的反馈也归其处理）。"),
    )
    city_scope = models.BooleanField(
        _("负责市级队列"),
        default=False,
        help_text=_("勾选后，该规划师也处理没有所属行政区的反馈（市级队列）。"),
    )
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    class Meta:
        ordering = ["user__username"]
        verbose_name = _("责任规划师")
        verbose_name_plural = _("责任规划师")

    def __str__(self) -> str:
        return f"{self.title}（{self.user.get_username()}）"


class ReplySignature(models.Model):
    """The public title a staff member signs replies with (planners sign with their profile's).

    A reply is never signed with a login name: a staff member without a
    signature (and without a planner profile) cannot reply until staff set one.
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="reply_signature",
        verbose_name=_("账号"),
    )
    title = models.CharField(
        _("公开署名"), max_length=100, help_text=_("答复时公开显示的署名，如“北京市规划和自然资源委员会”。")
    )

    class Meta:
        ordering = ["user__username"]
        verbose_name = _("答复署名")
        verbose_name_plural = _("答复署名")

    def __str__(self) -> str:
        return self.title


class CaseKind(models.TextChoices):
    COMMENT = "comment", _("留言")
    SURVEY_ANSWER = "survey_answer", _("问卷意见")
    RATING = "rating", _("低分评价")


class CaseStatus(models.TextChoices):
    NEW = "new", _("新反馈")
    IN_REVIEW = "in_review", _("处理中")
    ANSWERED = "answered", _("已答复")
    CLOSED = "closed", _("已办结")


class CaseRoute(models.TextChoices):
    """Which rule of ``review.routing`` chose the case's queue."""

    RESIDENT_DISTRICT = "resident_district", _("按市民所在区")
    ITEM_DISTRICT = "item_district", _("按反馈对象所在区")
    CITY = "city", _("市级队列（无所属区）")


class CaseResolution(models.TextChoices):
    SOLVED = "solved", _("已解决")
    EXPLAINED = "explained", _("未解决，已说明原因")


class ReviewCase(models.Model):
    """A planner's handling of one piece of feedback.

    The case outlives the feedback: when the resident deletes their data the
    link to their row becomes empty, ``feedback_deleted_at`` is set
    (居民已删除原文), and the case keeps what planners need — kind, item,
    district, the score at the time — with its history, notes and reply.
    """

    kind = models.CharField(_("类型"), max_length=16, choices=CaseKind.choices)
    comment = models.OneToOneField(
        Comment,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="review_case",
        verbose_name=_("留言"),
    )
    survey_answer = models.OneToOneField(
        SurveyAnswer,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="review_case",
        verbose_name=_("问卷意见"),
    )
    rating = models.OneToOneField(
        Rating,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="review_case",
        verbose_name=_("评分"),
    )
    reply = models.OneToOneField(
        OfficialReply,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="review_case",
        verbose_name=_("答复"),
        help_text=_("发给反馈者的答复或办结说明。"),
    )
    # Copies of where the feedback belongs, for the queue's filters and scope.
    district = models.ForeignKey(
        District,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="review_cases",
        verbose_name=_("行政区"),
        help_text=_("市民自报的区，否则反馈对象所在区；为空即市级队列。"),
    )
    route = models.CharField(
        _("分派规则"),
        max_length=20,
        choices=CaseRoute.choices,
        default=CaseRoute.CITY,
        help_text=_("立案时决定所属队列的规则（review.routing）。"),
    )
    street = models.ForeignKey(
        Street,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="review_cases",
        verbose_name=_("街道/乡镇"),
        help_text=_("反馈对象（亮点故事）所在的街道，如有。"),
    )
    chapter = models.ForeignKey(
        Chapter,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="review_cases",
        verbose_name=_("章"),
    )
    indicator = models.ForeignKey(
        Indicator,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="review_cases",
        verbose_name=_("指标"),
    )
    story = models.ForeignKey(
        Story,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="review_cases",
        verbose_name=_("亮点故事"),
    )
    question = models.ForeignKey(
        SurveyQuestion,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="review_cases",
        verbose_name=_("问卷题目"),
    )
    status = models.CharField(_("状态"), max_length=12, choices=CaseStatus.choices, default=CaseStatus.NEW)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="assigned_review_cases",
        verbose_name=_("经办人"),
    )
    received_at = models.DateTimeField(_("反馈时间"), help_text=_("市民提交该反馈的时间。"))
    first_reply_at = models.DateTimeField(
        _("首次答复时间"),
        null=True,
        blank=True,
        help_text=_("首次答复反馈者（答复或办结说明）的时间。"),
    )
    due_at = models.DateTimeField(
        _("答复时限"),
        null=True,
        blank=True,
        help_text=_("按工作日（节假日日历）计算的答复期限；见设置 CASE_REPLY_WORKING_DAYS。"),
    )
    resolution = models.CharField(_("办结结果"), max_length=12, choices=CaseResolution.choices, blank=True)
    closed_at = models.DateTimeField(_("办结时间"), null=True, blank=True)
    score_snapshot = models.PositiveSmallIntegerField(
        _("评分（立案时）"), null=True, blank=True, help_text=_("原文删除后仍保留的评分。")
    )
    feedback_deleted_at = models.DateTimeField(
        _("居民删除原文时间"),
        null=True,
        blank=True,
        help_text=_("市民删除了自己的数据：原文已清除，处理记录保留。"),
    )
    created_at = models.DateTimeField(_("立案时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        ordering = ["-received_at", "-id"]
        verbose_name = _("反馈处理")
        verbose_name_plural = _("反馈处理")
        constraints = [
            # Only the link of its kind may be set, and it is set unless the
            # resident deleted the feedback.
            models.CheckConstraint(
                condition=(
                    Q(kind=CaseKind.COMMENT, survey_answer__isnull=True, rating__isnull=True)
                    | Q(kind=CaseKind.SURVEY_ANSWER, comment__isnull=True, rating__isnull=True)
                    | Q(kind=CaseKind.RATING, comment__isnull=True, survey_answer__isnull=True)
                ),
                name="reviewcase_kind_matches_feedback",
            ),
            models.CheckConstraint(
                condition=(
                    Q(feedback_deleted_at__isnull=False)
                    | Q(comment__isnull=False)
                    | Q(survey_answer__isnull=False)
                    | Q(rating__isnull=False)
                ),
                name="reviewcase_feedback_or_deleted",
            ),
        ]
        indexes = [
            models.Index(fields=["district", "-received_at"], name="reviewcase_district_idx"),
            models.Index(fields=["status", "-received_at"], name="reviewcase_status_idx"),
            models.Index(fields=["status", "due_at"], name="reviewcase_due_idx"),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.get_kind_display()}"

    def get_absolute_url(self) -> str:
        return reverse("review:case", kwargs={"pk": self.pk})

    @property
    def feedback(self) -> Comment | SurveyAnswer | Rating | None:
        return self.comment or self.survey_answer or self.rating

    @property
    def is_overdue(self) -> bool:
        """Not yet answered and past its due time."""
        return (
            self.first_reply_at is None
            and self.due_at is not None
            and self.status in (CaseStatus.NEW, CaseStatus.IN_REVIEW)
            and self.due_at < timezone.now()
        )

    @property
    def text(self) -> str:
        """The resident's words (empty for a rating), personal data masked.

        The workspace, its export and its e-mails show this: a phone number
        or ID-card number a resident wrote is recognisable (``138****5678``)
        but not readable in full by everyone who handles the case.
        """
        if self.comment_id and not self.comment.author_deleted_at:
            return personal_data_mask(self.comment.body)
        if self.survey_answer_id:
            return personal_data_mask(self.survey_answer.comment)
        return ""

    @property
    def score(self) -> int | None:
        """The current score: a re-scored rating shows its new score."""
        if self.rating_id:
            return self.rating.score
        if self.survey_answer_id:
            return self.survey_answer.score
        return self.score_snapshot

    @property
    def item(self) -> Indicator | Story | SurveyQuestion | None:
        return self.indicator or self.story or self.question

    @property
    def item_title(self) -> str:
        """The item's name in the current language (``review.language.item_label``)."""
        return item_label(self.item, english=is_english())

    @property
    def item_url(self) -> str:
        target = self.indicator or self.story
        return target.get_absolute_url() if target else ""


class CaseAction(models.TextChoices):
    OPENED = "opened", _("立案")
    STATUS = "status", _("变更状态")
    ASSIGN = "assign", _("指派")
    NOTE = "note", _("内部备注")
    REPLY = "reply", _("公开答复")
    APPROVE = "approve", _("审核通过")
    REJECT = "reject", _("审核不通过")
    TRUST = "trust", _("核实评分")
    CLOSE = "close", _("办结")
    DELETED = "deleted", _("居民删除原文")


class CaseEvent(models.Model):
    """One entry in a case's history: who did what, when, before and after."""

    case = models.ForeignKey(
        ReviewCase, on_delete=models.CASCADE, related_name="events", verbose_name=_("反馈处理")
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("操作人"),
        help_text=_("为空表示系统自动操作（如立案）。"),
    )
    action = models.CharField(_("操作"), max_length=10, choices=CaseAction.choices)
    before = models.TextField(_("操作前"), blank=True)
    after = models.TextField(_("操作后"), blank=True, help_text=_("内部备注的内容也记在这里，绝不公开。"))
    created_at = models.DateTimeField(_("时间"), auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["case", "created_at", "id"]
        verbose_name = _("处理记录")
        verbose_name_plural = _("处理记录")

    def __str__(self) -> str:
        return f"#{self.case_id} {self.get_action_display()}"


class DigestLog(models.Model):
    """A daily digest sent to one planner; one per planner per day."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="planner_digests",
        verbose_name=_("规划师"),
    )
    digest_date = models.DateField(_("摘要日期"))
    case_count = models.PositiveIntegerField(_("新反馈数"))
    sent_at = models.DateTimeField(_("发送时间"), auto_now_add=True)

    class Meta:
        ordering = ["-digest_date", "user"]
        verbose_name = _("每日摘要记录")
        verbose_name_plural = _("每日摘要记录")
        constraints = [
            models.UniqueConstraint(fields=["user", "digest_date"], name="digestlog_one_per_planner_day")
        ]

    def __str__(self) -> str:
        return f"{self.user} {self.digest_date}: {self.case_count}"


class ReplyTemplate(models.Model):
    """A reply text staff prepare once; planners insert it in the reply form and edit it."""

    title = models.CharField(_("名称"), max_length=100, help_text=_("在答复表单的下拉框中显示。"))
    body = models.TextField(_("答复模板"), help_text=_("插入后规划师可再修改。"))
    district = models.ForeignKey(
        District,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="reply_templates",
        verbose_name=_("适用行政区"),
        help_text=_("为空表示全市通用。"),
    )
    is_active = models.BooleanField(_("启用"), default=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        ordering = ["district__order", "title", "id"]
        verbose_name = _("答复模板")
        verbose_name_plural = _("答复模板")

    def __str__(self) -> str:
        return self.title


class Holiday(models.Model):
    """A day of the holiday calendar the reply time limit is counted on.

    Weekends are days off by default. A listed day is a day off (法定节假日)
    unless ``is_workday`` marks it a working day (调休上班, often a weekend).
    """

    date = models.DateField(_("日期"), unique=True)
    name = models.CharField(_("名称"), max_length=50, help_text=_("如“春节”或“春节调休上班”。"))
    is_workday = models.BooleanField(_("调休上班"), default=False, help_text=_("勾选表示这一天上班。"))

    class Meta:
        ordering = ["date"]
        verbose_name = _("节假日")
        verbose_name_plural = _("节假日日历")

    def __str__(self) -> str:
        return f"{self.date} {self.name}"


class AccountabilityFigure(models.Model):
    """Stored figures of one queue (a district or the city) for one month (办理情况).

    Refreshed by Celery from the cases (``review.accountability``); the public
    page and API read only these rows. ``reply_hours`` keeps each replied case's
    hours to its first reply, so the median of any run of months can be taken.
    """

    district = models.ForeignKey(
        District,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="accountability_figures",
        verbose_name=_("行政区"),
        help_text=_("为空表示市级队列。"),
    )
    month = models.DateField(_("月份"), help_text=_("该月第一天；按反馈时间归月。"))
    received = models.PositiveIntegerField(_("受理数"), default=0)
    response_base = models.PositiveIntegerField(
        _("应答复数"), default=0, help_text=_("已答复或已过答复时限的件数（响应率的分母）。")
    )
    responded_in_time = models.PositiveIntegerField(_("按时答复数"), default=0)
    closed = models.PositiveIntegerField(_("办结数"), default=0)
    solved = models.PositiveIntegerField(_("解决数"), default=0)
    rated = models.PositiveIntegerField(_("评价数"), default=0)
    satisfied = models.PositiveIntegerField(_("满意数"), default=0, help_text=_("满意与基本满意。"))
    reply_hours = models.JSONField(_("答复用时（小时）"), default=list, blank=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        ordering = ["month", "district"]
        verbose_name = _("办理情况统计")
        verbose_name_plural = _("办理情况统计")
        constraints = [
            models.UniqueConstraint(
                fields=["district", "month"],
                condition=Q(district__isnull=False),
                name="accountability_one_per_district_month",
            ),
            models.UniqueConstraint(
                fields=["month"], condition=Q(district__isnull=True), name="accountability_one_city_month"
            ),
        ]

    def __str__(self) -> str:
        queue = self.district or _("市级")
        return f"{queue} {self.month:%Y-%m}"
