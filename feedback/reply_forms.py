"""The resident's forms about answers: rate a reply, leave an address for notices."""

from django import forms
from django.utils.translation import gettext_lazy as _

from feedback.models import ReplyVerdict

SOLVED_CHOICES = [("", _("不回答")), ("yes", _("已解决")), ("no", _("未解决"))]


class ReplyRatingForm(forms.Form):
    verdict = forms.ChoiceField(
        label=_("您对这条答复满意吗？"),
        choices=ReplyVerdict.choices,
        widget=forms.RadioSelect,
        error_messages={"required": _("请选择满意、基本满意或不满意。")},
    )
    solved = forms.TypedChoiceField(
        label=_("问题解决了吗？（可选）"),
        choices=SOLVED_CHOICES,
        coerce=lambda value: value == "yes",
        empty_value=None,
        required=False,
        widget=forms.RadioSelect,
    )


class NotifyEmailForm(forms.Form):
    email = forms.EmailField(
        label=_("答复通知邮箱（可选）"),
        required=False,
        help_text=_(
            "仅用于在您的反馈收到答复时发一封通知邮件（不含反馈和答复内容）；留空并保存即删除。删除全部数据时一并删除。"
        ),
    )
