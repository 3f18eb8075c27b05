"""Staff tools for participation: moderation, sensitive words, surveys.

Residents are shown only by the first characters of their cookie hash; no
other identifier exists. Moderation actions go through
``feedback.moderation.comment_moderate``, the rule the workspace uses too: only
pending comments are decided, and a rejection asks for the reason its author
will see. Aggregates are read-only: they are
computed by Celery from the raw rows.
"""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.views.main import ChangeList
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from feedback.caching import comment_pages_changed, surveys_changed
from feedback.models import (
    MODERATION_REASON_MAX_LENGTH,
    AggregateScope,
    Comment,
    OfficialReply,
    Rating,
    Resident,
    ScoreAggregate,
    SensitiveWord,
    Survey,
    SurveyAnswer,
    SurveyQuestion,
    SurveyResponse,
    TrustState,
)
from feedback.moderation import comment_moderate
from feedback.trust import TRUST_NOTE_MAX_LENGTH, ratings_hold_decide
from indicators.models import Chapter, District, Indicator, Story


def _resident_prefix(obj) -> str:
    return f"{obj.resident.key_hash[:8]}…"


class HeldFilter(admin.SimpleListFilter):
    title = _("是否被拦截")
    parameter_name = "held"

    def lookups(self, request, model_admin):
        return [("yes", _("命中敏感词或链接")), ("no", _("否"))]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.exclude(held_reason="")
        if self.value() == "no":
            return queryset.filter(held_reason="")
        return queryset


class OfficialReplyInline(admin.StackedInline):
    """Read-only: replies are written in the planners' workspace, which signs them with a
    title and records them in the case's history."""

    model = OfficialReply
    extra = 0
    fields = ["body", "closing_note", "author_title", "author", "created_at", "updated_at"]
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


@admin.register(Comment)
class CommentAdmin(admin.ModelAdmin):
    list_display = [
        "short_body",
        "target_display",
        "moderation_state",
        "held_reason",
        "district",
        "resident_prefix",
        "created_at",
    ]
    list_filter = ["moderation_state", HeldFilter, "district", "created_at"]
    search_fields = ["body", "nickname"]
    date_hierarchy = "created_at"
    list_select_related = ["indicator", "story", "district", "resident"]
    readonly_fields = [
        "resident_prefix",
        "indicator",
        "story",
        "body",
        "nickname",
        "district",
        "moderation_state",
        "held_reason",
        "moderated_by",
        "moderated_at",
        "created_at",
    ]
    readonly_fields = [*readonly_fields[:-3], "moderation_reason", *readonly_fields[-3:]]
    fields = readonly_fields
    inlines = [OfficialReplyInline]
    actions = ["approve", "reject"]

    @admin.display(description=_("内容"))
    def short_body(self, obj: Comment) -> str:
        return obj.body[:60]

    @admin.display(description=_("评论对象"))
    def target_display(self, obj: Comment) -> str:
        return str(obj.target)

    @admin.display(description=_("市民（摘要前缀）"))
    def resident_prefix(self, obj: Comment) -> str:
        return _resident_prefix(obj)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def delete_model(self, request: HttpRequest, obj: Comment) -> None:
        comment_pages_changed(obj)  # the page cache: its item's pages no longer show it
        super().delete_model(request, obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Comment]) -> None:
        for comment in queryset:
            comment_pages_changed(comment)
        super().delete_queryset(request, queryset)

    def _moderate(
        self, request: HttpRequest, queryset: QuerySet[Comment], approve: bool, reason: str = ""
    ) -> None:
        done = 0
        for comment in queryset:
            try:
                comment_moderate(comment=comment, approve=approve, moderator=request.user, reason=reason)
            except ValidationError as error:
                self.message_user(
                    request, f"{comment.body[:30]}：{'；'.join(error.messages)}", messages.WARNING
                )
            else:
                done += 1
        self.message_user(
            request,
            ngettext("已处理 %(n)d 条留言。", "已处理 %(n)d 条留言。", done) % {"n": done},
            messages.SUCCESS,
        )

    @admin.action(description=_("通过所选留言（公开显示）"), permissions=["change"])
    def approve(self, request: HttpRequest, queryset: QuerySet[Comment]) -> None:
        self._moderate(request, queryset, approve=True)

    @admin.action(description=_("拒绝所选留言（不公开，须填写理由）"), permissions=["change"])
    def reject(self, request: HttpRequest, queryset: QuerySet[Comment]):
        form = RejectReasonForm(request.POST if "reason" in request.POST else None)
        if form.is_bound and form.is_valid():
            self._moderate(request, queryset, approve=False, reason=form.cleaned_data["reason"])
            return None
        context = {
            **self.admin_site.each_context(request),
            "title": _("拒绝留言：填写理由"),
            "opts": self.model._meta,
            "queryset": queryset,
            "form": form,
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, "admin/feedback/comment/reject_reason.html", context)


class RejectReasonForm(forms.Form):
    reason = forms.CharField(
        label=_("不通过的理由（留言者可见）"),
        max_length=MODERATION_REASON_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


@admin.register(OfficialReply)
class OfficialReplyAdmin(admin.ModelAdmin):
    """Read-only: written only through the workspace (one path, one signature rule, one history)."""

    list_display = ["short_body", "target_kind", "author_title", "author", "updated_at"]
    list_filter = ["target_kind"]
    search_fields = ["body", "closing_note", "author_title"]
    list_select_related = ["author"]

    @admin.display(description=_("答复"))
    def short_body(self, obj: OfficialReply) -> str:
        return (obj.body or obj.closing_note)[:60]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


@admin.register(SensitiveWord)
class SensitiveWordAdmin(admin.ModelAdmin):
    list_display = ["word", "created_at"]
    search_fields = ["word"]


class SurveyQuestionInline(admin.TabularInline):
    model = SurveyQuestion
    extra = 1
    fields = ["order", "dimension", "dimension_en", "text", "text_en", "allow_comment"]


@admin.register(Survey)
class SurveyAdmin(admin.ModelAdmin):
    list_display = ["title", "edition", "status", "published_at", "opens_at", "closes_at"]
    list_filter = ["edition", "status"]
    search_fields = ["title", "slug"]
    inlines = [SurveyQuestionInline]

    # The survey pages come from the page cache: each change renews them.
    def save_model(self, request: HttpRequest, obj: Survey, form, change: bool) -> None:
        super().save_model(request, obj, form, change)
        surveys_changed()

    def delete_model(self, request: HttpRequest, obj: Survey) -> None:
        super().delete_model(request, obj)
        surveys_changed()

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Survey]) -> None:
        super().delete_queryset(request, queryset)
        surveys_changed()


class SurveyAnswerInline(admin.TabularInline):
    model = SurveyAnswer
    extra = 0
    fields = ["question", "score", "comment"]
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


@admin.register(SurveyResponse)
class SurveyResponseAdmin(admin.ModelAdmin):
    inlines = [SurveyAnswerInline]
    list_display = ["id", "survey", "district", "resident_prefix", "updated_at"]
    list_filter = ["survey", "district"]
    list_select_related = ["survey", "district", "resident"]
    readonly_fields = ["survey", "resident_prefix", "district", "created_at", "updated_at"]
    exclude = ["resident"]

    @admin.display(description=_("市民（摘要前缀）"))
    def resident_prefix(self, obj: SurveyResponse) -> str:
        return _resident_prefix(obj)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


class HoldReasonFilter(admin.SimpleListFilter):
    title = _("待核实原因")
    parameter_name = "hold_reason"

    def lookups(self, request, model_admin):
        # Reasons are few; the partial index on not-counted ratings finds them.
        reasons = (
            Rating.objects.exclude(trust=TrustState.COUNTED)
            .exclude(hold_reason="")
            .order_by("hold_reason")
            .values_list("hold_reason", flat=True)
            .distinct()
        )
        return [(reason, gettext(reason)) for reason in reasons]

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(hold_reason=self.value())
        return queryset


class HoldDecisionForm(forms.Form):
    note = forms.CharField(
        label=_("说明（剔除时必填，记入处理记录）"),
        required=False,
        max_length=TRUST_NOTE_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


@admin.register(Rating)
class RatingAdmin(admin.ModelAdmin):
    """Ratings, read-only; held ones are released or discarded through ``feedback.trust``."""

    list_display = [
        "id",
        "indicator",
        "story",
        "score",
        "district",
        "trust",
        "hold_reason_display",
        "resident_prefix",
        "updated_at",
    ]
    list_filter = ["trust", HoldReasonFilter, "score", "district"]
    list_select_related = ["indicator", "story", "district", "resident"]
    show_full_result_count = False
    exclude = ["resident"]
    readonly_fields = [
        "indicator",
        "story",
        "score",
        "district",
        "resident_prefix",
        "trust",
        "hold_reason",
        "trust_decided_by",
        "trust_decided_at",
        "trust_note",
        "created_at",
        "updated_at",
    ]
    actions = ["release", "discard"]

    @admin.display(description=_("市民（摘要前缀）"))
    def resident_prefix(self, obj: Rating) -> str:
        return _resident_prefix(obj)

    @admin.display(description=_("待核实原因"), ordering="hold_reason")
    def hold_reason_display(self, obj: Rating) -> str:
        return gettext(obj.hold_reason) if obj.hold_reason else ""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_decide_permission(self, request: HttpRequest) -> bool:
        # The rows stay read-only; deciding a hold is the model's change right.
        return request.user.has_perm("feedback.change_rating")

    def _decide(self, request: HttpRequest, queryset: QuerySet[Rating], *, release: bool, action: str):
        form = HoldDecisionForm(request.POST if "confirm" in request.POST else None)
        if form.is_bound and form.is_valid():
            selected = queryset.count()
            try:
                decided = ratings_hold_decide(
                    ratings=queryset, release=release, actor=request.user, note=form.cleaned_data["note"]
                )
            except ValidationError as error:
                form.add_error("note", error)
            else:
                skipped = selected - decided
                self.message_user(
                    request,
                    ngettext("已处理 %(n)d 条待核实评分。", "已处理 %(n)d 条待核实评分。", decided)
                    % {"n": decided},
                    messages.SUCCESS,
                )
                if skipped:
                    self.message_user(
                        request,
                        ngettext(
                            "%(n)d 条不是待核实状态，未改动。", "%(n)d 条不是待核实状态，未改动。", skipped
                        )
                        % {"n": skipped},
                        messages.WARNING,
                    )
                return None
        context = {
            **self.admin_site.each_context(request),
            "title": _("释放评分（计入统计）") if release else _("剔除评分"),
            "opts": self.model._meta,
            "queryset": queryset,
            "form": form,
            "action": action,
            "release": release,
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, "admin/feedback/rating/hold_decision.html", context)

    @admin.action(description=_("释放（计入统计）"), permissions=["decide"])
    def release(self, request: HttpRequest, queryset: QuerySet[Rating]):
        return self._decide(request, queryset, release=True, action="release")

    @admin.action(description=_("剔除"), permissions=["decide"])
    def discard(self, request: HttpRequest, queryset: QuerySet[Rating]):
        return self._decide(request, queryset, release=False, action="discard")


class VerifiedFilter(admin.SimpleListFilter):
    title = _("手机号验证")
    parameter_name = "verified"

    def lookups(self, request, model_admin):
        return [("yes", _("已验证")), ("no", _("未验证"))]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(verified_at__isnull=False)
        if self.value() == "no":
            return queryset.filter(verified_at__isnull=True)
        return queryset


# The phone hash is never shown, not even a prefix: staff need only know whether a
# resident is verified. PhoneVerification is not registered: its rows are codes in
# flight (hashes, attempts, expiry) that no person has anything to decide about.
@admin.register(Resident)
class ResidentAdmin(admin.ModelAdmin):
    list_display = ["id", "hash_prefix", "district", "verified", "verified_at", "created_at"]
    list_filter = [VerifiedFilter, "district"]
    exclude = ["key_hash"]
    readonly_fields = ["hash_prefix", "district", "verified", "verified_at", "created_at"]

    @admin.display(description=_("标识摘要（前缀）"))
    def hash_prefix(self, obj: Resident) -> str:
        return f"{obj.key_hash[:8]}…"

    @admin.display(description=_("已验证手机号"), boolean=True, ordering="verified_at")
    def verified(self, obj: Resident) -> bool:
        return obj.is_verified

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


# --- Aggregates: listed by the item they are about ----------------------------------------------


def _edition_context(year: int, part: str = "") -> str:
    edition = gettext("%(year)s 年度") % {"year": year}
    return f"{edition} · {part}" if part else edition


# Per scope: the rows to fetch, and (item, context) for each. Chapters and editions are
# joined in, so a page costs one query per scope on it, however many rows it shows.
_SCOPE_TARGETS = {
    AggregateScope.INDICATOR: (
        lambda ids: Indicator.objects.filter(pk__in=ids).select_related("chapter", "edition"),
        lambda i: (i.name, _edition_context(i.edition.year, str(i.chapter))),
    ),
    AggregateScope.STORY: (
        lambda ids: Story.objects.filter(pk__in=ids).select_related("chapter", "edition"),
        lambda s: (s.title, _edition_context(s.edition.year, str(s.chapter) if s.chapter else "")),
    ),
    AggregateScope.CHAPTER: (
        lambda ids: Chapter.objects.filter(pk__in=ids).select_related("edition"),
        lambda c: (str(c), _edition_context(c.edition.year)),
    ),
    AggregateScope.QUESTION: (
        lambda ids: SurveyQuestion.objects.filter(pk__in=ids).select_related("survey"),
        lambda q: (str(q), q.survey.title),
    ),
    AggregateScope.SURVEY: (
        lambda ids: Survey.objects.filter(pk__in=ids).select_related("edition"),
        lambda s: (s.title, _edition_context(s.edition.year)),
    ),
    AggregateScope.DISTRICT: (lambda ids: District.objects.filter(pk__in=ids), lambda d: (d.name, "")),
}


def aggregates_label(aggregates: list[ScoreAggregate]) -> None:
    """Set ``target_label`` and ``target_context`` on each aggregate, one query per scope present.

    An aggregate whose item is gone (deleted since) keeps its number: "已删除（编号 21）".
    """
    wanted: dict[str, set[int]] = {}
    for aggregate in aggregates:
        wanted.setdefault(aggregate.scope, set()).add(aggregate.object_id)
    found: dict[tuple[str, int], tuple[str, str]] = {}
    for scope, ids in wanted.items():
        fetch, describe = _SCOPE_TARGETS[scope]
        found.update(((scope, target.pk), describe(target)) for target in fetch(ids))
    for aggregate in aggregates:
        missing = (gettext("已删除（编号 %(id)s）") % {"id": aggregate.object_id}, "")
        aggregate.target_label, aggregate.target_context = found.get(
            (aggregate.scope, aggregate.object_id), missing
        )


class ScoreAggregateChangeList(ChangeList):
    def get_results(self, request: HttpRequest) -> None:
        super().get_results(request)
        aggregates_label(self.result_list)


@admin.register(ScoreAggregate)
class ScoreAggregateAdmin(admin.ModelAdmin):
    list_display = ["scope", "item", "context", "raters", "count", "mean", "ci_low", "ci_high", "updated_at"]
    list_display_links = ["item"]
    list_filter = ["scope"]
    readonly_fields = ["item", "context", *(f.name for f in ScoreAggregate._meta.fields)]

    def get_changelist(self, request: HttpRequest, **kwargs) -> type[ChangeList]:
        return ScoreAggregateChangeList

    def get_object(self, request: HttpRequest, object_id: str, from_field: str | None = None):
        aggregate = super().get_object(request, object_id, from_field)
        if aggregate is not None:
            aggregates_label([aggregate])
        return aggregate

    @admin.display(description=_("评价对象"))
    def item(self, obj: ScoreAggregate) -> str:
        return obj.target_label

    @admin.display(description=_("所属"))
    def context(self, obj: ScoreAggregate) -> str:
        return obj.target_context or "—"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False
