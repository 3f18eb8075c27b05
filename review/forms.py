"""Forms of the case page: each one posts to one action view."""

from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from feedback.models import MODERATION_REASON_MAX_LENGTH as REASON_MAX_LENGTH
from feedback.models import REPLY_MAX_LENGTH
from feedback.trust import TRUST_NOTE_MAX_LENGTH
from review.language import WrittenSelect, written_fields_mark
from review.models import CaseResolution, CaseStatus, ReviewCase
from review.selectors import planners_for_case

NOTE_MAX_LENGTH = 2000


def _labelled(name: str, detail: str) -> str:
    """``东城区责任规划师（colleague_a）``; ``… (colleague_a)`` on an English page."""
    return gettext("%(name)s（%(detail)s）") % {"name": name, "detail": detail}


class WrittenForm(forms.Form):
    """A form whose text fields (``written``) show what someone wrote: each is marked Chinese
    on an English page when its text is written in Chinese (``written_fields_mark``)."""

    written: tuple[str, ...] = ()

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        written_fields_mark(self, *self.written)


class PlannerLoginForm(AuthenticationForm):
    """Django's login form, with the error worded for the workspace."""

    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": _("用户名或密码不正确。连续输错多次后账号将被暂时锁定。"),
    }


class TransitionForm(forms.Form):
    to_status = forms.ChoiceField(label=_("改为"), choices=CaseStatus.choices)


class AssignForm(forms.Form):
    assignee = forms.ModelChoiceField(
        label=_("指派给"),
        queryset=None,
        widget=WrittenSelect,
        help_text=_("只能指派给负责该区域的规划师。"),
    )

    def __init__(self, *args, case: ReviewCase, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["assignee"].queryset = planners_for_case(case)
        self.fields["assignee"].label_from_instance = lambda user: _labelled(
            user.planner_profile.title, user.get_full_name() or user.get_username()
        )


class NoteForm(WrittenForm):
    written = ("body",)
    body = forms.CharField(
        label=_("内部备注"),
        max_length=NOTE_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("仅工作台内可见，绝不公开。"),
    )


class ReplyForm(WrittenForm):
    written = ("body",)
    body = forms.CharField(
        label=_("答复"),
        max_length=REPLY_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text=_(
            "以您的公开署名发出：留言的答复公开显示在留言下方；问卷意见和评分的答复只有反馈者本人在“我的数据”中可见。"
        ),
    )


class TemplatePickForm(forms.Form):
    """Pick a reply template: a GET to the case page that pre-fills the reply (works without JS)."""

    template = forms.ModelChoiceField(
        label=_("答复模板"), queryset=None, empty_label=_("选择模板…"), widget=WrittenSelect
    )

    def __init__(self, *args, templates, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["template"].queryset = templates
        city_wide = _("全市通用")
        self.fields["template"].label_from_instance = lambda template: _labelled(
            template.title, template.district.display_name if template.district_id else city_wide
        )


class CloseForm(WrittenForm):
    written = ("note",)
    resolution = forms.ChoiceField(
        label=_("办结结果"), choices=CaseResolution.choices, widget=forms.RadioSelect
    )
    note = forms.CharField(
        label=_("办结说明（反馈者可见）"),
        max_length=REPLY_MAX_LENGTH,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("尚未答复就办结时必填：说明为何办结，反馈者会在“我的数据”中看到。"),
    )


class ModerateForm(WrittenForm):
    written = ("reason",)
    decision = forms.ChoiceField(
        label=_("审核结果"),
        choices=[("approve", _("通过")), ("reject", _("不通过"))],
        widget=forms.RadioSelect,
    )
    reason = forms.CharField(
        label=_("理由"),
        max_length=REASON_MAX_LENGTH,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("不通过时必填。"),
    )

    def clean(self) -> dict:
        data = super().clean()
        if data.get("decision") == "reject" and not (data.get("reason") or "").strip():
            self.add_error("reason", _("不通过时必须填写理由。"))
        return data


class IdListField(forms.Field):
    """Several ids of one name (checkboxes), as a sorted list of distinct integers."""

    widget = forms.MultipleHiddenInput

    def to_python(self, value) -> list[int]:
        try:
            return sorted({int(item) for item in value or []})
        except (TypeError, ValueError):
            raise forms.ValidationError(_("编号无效。"), code="invalid") from None


class HoldDecisionForm(WrittenForm):
    """Release or discard held ratings; the service checks the note."""

    written = ("note",)

    ratings = IdListField(error_messages={"required": _("请至少选择一条评分。")})
    decision = forms.ChoiceField(choices=[("release", _("释放（计入统计）")), ("discard", _("剔除"))])
    note = forms.CharField(
        label=_("说明"),
        required=False,
        max_length=TRUST_NOTE_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("剔除时必填；记入处理记录，不公开。"),
    )
