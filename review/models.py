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
from django.utils.translation import gettext_lazy as _

from feedback.models import Comment, Rating, SurveyAnswer, SurveyQuestion
from feedback.textfilter import personal_data_mask
from indicators.models import Chapter, District, Indicator, Story, Street


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
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    class Meta:
        ordering = ["user__username"]
        verbose_name = _("责任规划师")
        verbose_name_plural = _("责任规划师")

    def __str__(self) -> str:
        return f"{self.title}（{self.user.get_username()}）"


class CaseKind(models.TextChoices):
    COMMENT = "comment", _("留言")
    SURVEY_ANSWER = "survey_answer", _("问卷意见")
    RATING = "rating", _("低分评价")


class CaseStatus(models.TextChoices):
    NEW = "new", _("新反馈")
    IN_REVIEW = "in_review", _("处理中")
    ANSWERED = "answered", _("已答复")
    CLOSED = "closed", _("已办结")


class ReviewCase(models.Model):
    """A planner's handling of one piece of feedback."""

    kind = models.CharField(_("类型"), max_length=16, choices=CaseKind.choices)
    comment = models.OneToOneField(
        Comment,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="review_case",
        verbose_name=_("留言"),
    )
    survey_answer = models.OneToOneField(
        SurveyAnswer,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="review_case",
        verbose_name=_("问卷意见"),
    )
    rating = models.OneToOneField(
        Rating,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="review_case",
        verbose_name=_("评分"),
    )
    # Copies of where the feedback belongs, for the queue's filters and scope.
    district = models.ForeignKey(
        District,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="review_cases",
        verbose_name=_("行政区"),
        help_text=_("留言自报的区，否则故事所在区，否则市民自报的区。"),
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
        _("首次答复时间"), null=True, blank=True, help_text=_("首次发布公开答复的时间。")
    )
    created_at = models.DateTimeField(_("立案时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        ordering = ["-received_at", "-id"]
        verbose_name = _("反馈处理")
        verbose_name_plural = _("反馈处理")
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(
                        kind=CaseKind.COMMENT,
                        comment__isnull=False,
                        survey_answer__isnull=True,
                        rating__isnull=True,
                    )
                    | Q(
                        kind=CaseKind.SURVEY_ANSWER,
                        comment__isnull=True,
                        survey_answer__isnull=False,
                        rating__isnull=True,
                    )
                    | Q(
                        kind=CaseKind.RATING,
                        comment__isnull=True,
                        survey_answer__isnull=True,
                        rating__isnull=False,
                    )
                ),
                name="reviewcase_kind_matches_feedback",
            ),
        ]
        indexes = [
            models.Index(fields=["district", "-received_at"], name="reviewcase_district_idx"),
            models.Index(fields=["status", "-received_at"], name="reviewcase_status_idx"),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.get_kind_display()}"

    def get_absolute_url(self) -> str:
        return reverse("review:case", kwargs={"pk": self.pk})

    @property
    def feedback(self) -> Comment | SurveyAnswer | Rating:
        return self.comment or self.survey_answer or self.rating

    @property
    def text(self) -> str:
        """The resident's words (empty for a rating), personal data masked.

        The workspace, its export and its e-mails show this: a phone number
        or ID-card number a resident wrote is recognisable (``138****5678``)
        but not readable in full by everyone who handles the case.
        """
        if self.comment_id:
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
        return None

    @property
    def item(self) -> Indicator | Story | SurveyQuestion | None:
        return self.indicator or self.story or self.question

    @property
    def item_title(self) -> str:
        if self.indicator_id:
            return self.indicator.display_name
        if self.story_id:
            return self.story.display_title
        if self.question_id:
            return f"{self.question.survey.title} · {self.question.dimension}"
        return ""

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
