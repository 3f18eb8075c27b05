"""Staff create planner accounts and assign their areas here.

A planner account is an ordinary, non-staff user with a ``PlannerProfile``:
the add form of "责任规划师" creates both at once (username, e-mail,
password, public title, districts, streets). Planners cannot sign in to the
admin; they work at ``/review/``. Cases are readable here for staff, but every
change to a case goes through the workspace (and its history).
"""

from django import forms
from django.contrib import admin, messages
from django.contrib.auth import get_user_model, password_validation
from django.db import transaction
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from review.models import (
    AccountabilityFigure,
    CaseEvent,
    DigestLog,
    Holiday,
    PlannerProfile,
    ReplySignature,
    ReplyTemplate,
    ReviewCase,
)
from review.routing import due_times_recount


class PlannerProfileForm(forms.ModelForm):
    class Meta:
        model = PlannerProfile
        fields = ["user", "title", "districts", "streets", "city_scope"]

    def clean_user(self):
        user = self.cleaned_data["user"]
        if user.is_staff or user.is_superuser:
            raise forms.ValidationError(
                _("规划师账号不能是工作人员账号：规划师不得进入管理后台。请另建一个普通账号。"),
                code="planner_is_staff",
            )
        return user

    def clean(self) -> dict:
        data = super().clean()
        if not data.get("districts") and not data.get("streets") and not data.get("city_scope"):
            raise forms.ValidationError(_("请至少指定一个行政区或街道/乡镇。"), code="no_area")
        return data


class PlannerCreationForm(PlannerProfileForm):
    """Creates the (non-staff) user account together with the profile."""

    username = forms.CharField(label=_("用户名"), max_length=150)
    email = forms.EmailField(label=_("电子邮箱"), help_text=_("用于指派通知和每日摘要。"))
    first_name = forms.CharField(label=_("姓名"), max_length=150, required=False)
    password1 = forms.CharField(label=_("密码"), widget=forms.PasswordInput, strip=False)
    password2 = forms.CharField(label=_("确认密码"), widget=forms.PasswordInput, strip=False)

    class Meta(PlannerProfileForm.Meta):
        fields = ["title", "districts", "streets", "city_scope"]

    def clean_username(self) -> str:
        username = self.cleaned_data["username"]
        if get_user_model().objects.filter(username__iexact=username).exists():
            raise forms.ValidationError(_("该用户名已被使用。"), code="duplicate_username")
        return username

    def clean(self) -> dict:
        data = super().clean()
        if data.get("password1") != data.get("password2"):
            self.add_error("password2", _("两次输入的密码不一致。"))
        elif data.get("password1"):
            user = get_user_model()(username=data.get("username", ""), email=data.get("email", ""))
            try:
                password_validation.validate_password(data["password1"], user)
            except forms.ValidationError as error:
                self.add_error("password1", error)
        return data

    @transaction.atomic
    def save(self, commit: bool = True) -> PlannerProfile:
        user = get_user_model().objects.create_user(
            username=self.cleaned_data["username"],
            email=self.cleaned_data["email"],
            password=self.cleaned_data["password1"],
            first_name=self.cleaned_data.get("first_name", ""),
            is_staff=False,
        )
        self.instance.user = user
        return super().save(commit=commit)


@admin.register(PlannerProfile)
class PlannerProfileAdmin(admin.ModelAdmin):
    list_display = ["user", "title", "area", "city_scope", "email", "is_active"]
    list_filter = ["districts", "city_scope", "user__is_active"]
    search_fields = ["user__username", "user__email", "user__first_name", "title"]
    filter_horizontal = ["districts", "streets"]
    autocomplete_fields = ["user"]
    form = PlannerProfileForm

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            kwargs["form"] = PlannerCreationForm
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fields(self, request, obj=None):
        if obj is None:
            return [
                "username",
                "first_name",
                "email",
                "password1",
                "password2",
                "title",
                "districts",
                "streets",
                "city_scope",
            ]
        return ["user", "title", "districts", "streets", "city_scope"]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("user").prefetch_related("districts", "streets")

    @admin.display(description=_("负责区域"))
    def area(self, profile: PlannerProfile) -> str:
        names = [d.name for d in profile.districts.all()] + [str(s) for s in profile.streets.all()]
        return "、".join(names) or "—"

    @admin.display(description=_("电子邮箱"))
    def email(self, profile: PlannerProfile) -> str:
        return profile.user.email

    @admin.display(description=_("启用"), boolean=True)
    def is_active(self, profile: PlannerProfile) -> bool:
        return profile.user.is_active


class CaseEventInline(admin.TabularInline):
    model = CaseEvent
    extra = 0
    can_delete = False
    fields = ["created_at", "actor", "action", "before", "after"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(ReviewCase)
class ReviewCaseAdmin(admin.ModelAdmin):
    """Read-only: cases change through the workspace, which keeps the history."""

    list_display = [
        "id",
        "kind",
        "status",
        "district",
        "chapter",
        "assignee",
        "route",
        "received_at",
        "due_at",
        "first_reply_at",
    ]
    list_filter = ["kind", "status", "route", "resolution", "district"]
    list_select_related = ["district", "chapter", "chapter__edition", "assignee"]
    search_fields = ["comment__body", "survey_answer__comment"]
    date_hierarchy = "received_at"
    inlines = [CaseEventInline]
    readonly_fields = [
        "kind",
        "comment",
        "survey_answer",
        "rating",
        "district",
        "street",
        "chapter",
        "indicator",
        "story",
        "question",
        "status",
        "route",
        "assignee",
        "reply",
        "resolution",
        "received_at",
        "due_at",
        "first_reply_at",
        "closed_at",
        "score_snapshot",
        "feedback_deleted_at",
        "created_at",
        "updated_at",
    ]
    fields = readonly_fields

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(DigestLog)
class DigestLogAdmin(admin.ModelAdmin):
    list_display = ["digest_date", "user", "case_count", "sent_at"]
    list_filter = ["digest_date"]
    list_select_related = ["user"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(ReplySignature)
class ReplySignatureAdmin(admin.ModelAdmin):
    """The public title staff sign replies with; planners sign with their profile's title."""

    list_display = ["title", "user"]
    search_fields = ["title", "user__username"]
    autocomplete_fields = ["user"]
    list_select_related = ["user"]


@admin.register(ReplyTemplate)
class ReplyTemplateAdmin(admin.ModelAdmin):
    list_display = ["title", "district", "is_active", "updated_at"]
    list_filter = ["is_active", "district"]
    search_fields = ["title", "body"]
    list_select_related = ["district"]


@admin.register(Holiday)
class HolidayAdmin(admin.ModelAdmin):
    """The calendar the reply time limit is counted on.

    New cases count on it; saving or deleting a day counts again the due time of
    the cases still waiting for their first reply (``routing.due_times_recount``),
    and says how many changed.
    """

    list_display = ["date", "name", "is_workday"]
    list_filter = ["is_workday"]
    date_hierarchy = "date"
    search_fields = ["name"]

    def save_model(self, request, obj, form, change) -> None:
        before = Holiday.objects.filter(pk=obj.pk).values_list("date", flat=True) if change else []
        days = {obj.date, *before}
        super().save_model(request, obj, form, change)
        self._recounted(request, sum(due_times_recount(day) for day in days))

    def delete_model(self, request, obj) -> None:
        super().delete_model(request, obj)
        self._recounted(request, due_times_recount(obj.date))

    def delete_queryset(self, request, queryset) -> None:
        days = list(queryset.values_list("date", flat=True))
        super().delete_queryset(request, queryset)
        self._recounted(request, sum(due_times_recount(day) for day in days))

    def _recounted(self, request, changed: int) -> None:
        if changed:
            message = ngettext(
                "%(count)d 件待答复反馈的答复时限已按新日历重新计算。",
                "%(count)d 件待答复反馈的答复时限已按新日历重新计算。",
                changed,
            ) % {"count": changed}
            self.message_user(request, message, messages.INFO)


@admin.register(AccountabilityFigure)
class AccountabilityFigureAdmin(admin.ModelAdmin):
    """Read-only: recomputed from the cases by Celery."""

    list_display = [
        "month",
        "district",
        "received",
        "responded_in_time",
        "closed",
        "solved",
        "rated",
        "satisfied",
    ]
    list_filter = ["district"]
    list_select_related = ["district"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
