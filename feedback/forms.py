"""HTML forms of the participation panel, the survey and my-data page.

Forms only parse and check shape; the rules (ranges, moderation, survey
window) live in the services, whose errors are put back on the form fields.
Every form carries a honeypot field (``website``): hidden from people and
screen readers, filled in by naive bots; a filled one stores nothing.
"""

import html
from collections.abc import Callable

from django import forms
from django.core.exceptions import ValidationError
from django.forms.renderers import DjangoTemplates, get_default_renderer
from django.utils.functional import Promise
from django.utils.safestring import SafeData, SafeString, mark_safe
from django.utils.translation import gettext_lazy as _

from feedback.models import COMMENT_MAX_LENGTH, NICKNAME_MAX_LENGTH, SurveyQuestion, SurveyResponse
from feedback.submissions import AnswerInput
from indicators.models import District, is_english, localized_in

SCORE_CHOICES = [
    (1, _("1 分 · 很不满意")),
    (2, _("2 分 · 不满意")),
    (3, _("3 分 · 一般")),
    (4, _("4 分 · 满意")),
    (5, _("5 分 · 很满意")),
]
HONEYPOT_FIELD = "website"


def apply_service_errors(form: forms.Form, error: ValidationError) -> None:
    """Attach a service's ValidationError to the matching fields (else to the form)."""
    if hasattr(error, "error_dict"):
        for field, errors in error.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, error)


# --- Widgets written in Python ------------------------------------------------------------
#
# Django renders a widget through its templates (django/forms/widgets/*.html): the district
# <select> of the participation panel, with its ~17 options each an include of an option
# and of its attributes, costs a template render per option, twice a page, and each score
# radio and the honeypot's label as much again. The templates below are written here as
# Python, byte for byte (the renderer's ``strip()`` included); a template not listed goes
# to Django as before. tests/feedback/test_panel_lean.py renders every case through both.


def escaped(value) -> str:
    """``conditional_escape(value)``: the same text (``html.escape``, as Django's ``escape``),
    without the check for lazy arguments its decorator makes on every call, a third of
    the cost of writing a widget."""
    if isinstance(value, Promise):
        value = str(value)
    if hasattr(value, "__html__"):
        return value.__html__()
    return html.escape(str(value))


def _formatted(value) -> str:
    """``{{ value|stringformat:'s' }}``: the filter keeps a safe string safe, escapes the rest."""
    text = str(value)
    return text if isinstance(value, SafeData) else html.escape(text)


def _attrs(attrs: dict) -> str:
    """django/forms/widgets/attrs.html (and django/forms/attrs.html, the same loop)."""
    return "".join(
        f" {escaped(name)}" if value is True else f' {escaped(name)}="{_formatted(value)}"'
        for name, value in attrs.items()
        if value is not False
    )


def _input(widget: dict) -> str:
    """django/forms/widgets/input.html (text.html, radio's input)."""
    value = "" if widget["value"] is None else f' value="{_formatted(widget["value"])}"'
    return (
        f'<input type="{escaped(widget["type"])}" name="{escaped(widget["name"])}"'
        f"{value}{_attrs(widget['attrs'])}>"
    )


def _input_option(widget: dict) -> str:
    """django/forms/widgets/input_option.html (radio_option.html includes it)."""
    if not widget.get("wrap_label"):
        return _input(widget) + "\n\n"
    label_id = widget["attrs"].get("id")
    label_for = f' for="{escaped(label_id)}"' if label_id else ""
    return f"<label{label_for}>{_input(widget)}\n {escaped(widget['label'])}</label>\n"


def _option(widget: dict) -> str:
    """django/forms/widgets/select_option.html."""
    return (
        f'<option value="{_formatted(widget["value"])}"{_attrs(widget["attrs"])}>'
        f"{escaped(widget['label'])}</option>\n"
    )


def _select(widget: dict) -> str:
    """django/forms/widgets/select.html, its options through their own template."""
    parts = [f'<select name="{escaped(widget["name"])}"{_attrs(widget["attrs"])}>']
    for group_name, group_choices, _index in widget["optgroups"]:
        if group_name:
            parts.append(f'\n  <optgroup label="{escaped(group_name)}">')
        parts.extend(f"\n  {_render_template(option['template_name'], option)}" for option in group_choices)
        if group_name:
            parts.append("\n  </optgroup>")
    parts.append("\n</select>\n")
    return "".join(parts)


def _render_template(template_name: str, widget: dict) -> str:
    # An option whose template is not one of these (a subclass's) has no Python form.
    return _TEMPLATES[template_name](widget)


_TEMPLATES: dict[str, Callable[[dict], str]] = {
    "django/forms/widgets/input.html": lambda widget: _input(widget) + "\n",
    "django/forms/widgets/text.html": lambda widget: _input(widget) + "\n\n",
    "django/forms/widgets/input_option.html": _input_option,
    "django/forms/widgets/radio_option.html": lambda widget: _input_option(widget) + "\n",
    "django/forms/widgets/select_option.html": _option,
    "django/forms/widgets/select.html": _select,
}


def _options_known(widget: dict) -> bool:
    if "optgroups" not in widget:
        return True
    return all(
        option["template_name"] in _TEMPLATES for _, options, _ in widget["optgroups"] for option in options
    )


def _django_templates(renderer) -> bool:
    """Whether ``renderer`` renders Django's own form templates (the default renderer;
    another, ``TemplatesSetting`` say, may have templates of its own). None: the one
    ``FORM_RENDERER`` names, which a widget rendered without a renderer uses."""
    return type(renderer or get_default_renderer()) is DjangoTemplates


class PythonRendered(forms.Widget):
    """A widget whose templates listed in ``_TEMPLATES`` are rendered in Python (a
    renderer given with other templates, or an option of another template, goes to
    Django's templates as before)."""

    def _render(self, template_name: str, context: dict, renderer=None) -> SafeString:
        render = _TEMPLATES.get(template_name)
        widget = context["widget"]
        if render is None or not _django_templates(renderer) or not _options_known(widget):
            return super()._render(template_name, context, renderer)
        return mark_safe(render(widget).strip())  # noqa: S308 - every value above is escaped


class Select(PythonRendered, forms.Select):
    pass


class RadioSelect(PythonRendered, forms.RadioSelect):
    pass


class TextInput(PythonRendered, forms.TextInput):
    pass


def _label(context: dict) -> str:
    """django/forms/label.html."""
    label = escaped(context["label"])
    if not context["use_tag"]:
        return label
    tag = escaped(context["tag"])
    return f"<{tag}{_attrs(context['attrs'] or {})}>{label}</{tag}>"


class PythonLabels(forms.Form):
    """A form whose ``label_tag`` (django/forms/label.html) is rendered in Python."""

    def render(self, template_name=None, context=None, renderer=None) -> SafeString:
        if (
            template_name == "django/forms/label.html"
            and context
            and renderer is None
            and _django_templates(self.renderer)
        ):
            return mark_safe(_label(context).strip())  # noqa: S308 - escaped in _label
        return super().render(template_name, context, renderer)


class DistrictChoiceField(forms.TypedChoiceField):
    """A district select built from a list the caller already loaded (no extra query)."""

    def __init__(self, *, districts: list[District], **kwargs) -> None:
        self.districts = {str(d.pk): d for d in districts}
        # Each district's ``display_name``, the language decided once for the list.
        english = is_english()
        names = [(key, localized_in(d, "name", english=english)) for key, d in self.districts.items()]
        choices = [("", _("不填写")), *names]
        super().__init__(choices=choices, required=False, empty_value=None, widget=Select, **kwargs)

    def clean(self, value):
        value = super().clean(value)
        return self.districts.get(value) if value else None


class HoneypotMixin(PythonLabels):
    website = forms.CharField(
        label=_("网站（请留空）"),
        required=False,
        widget=TextInput(attrs={"tabindex": "-1", "autocomplete": "off"}),
    )

    @property
    def is_bot(self) -> bool:
        return bool(self.cleaned_data.get(HONEYPOT_FIELD))


class RatingForm(HoneypotMixin):
    score = forms.TypedChoiceField(
        label=_("您的评分"),
        choices=SCORE_CHOICES,
        coerce=int,
        widget=RadioSelect,
        error_messages={
            "required": _("请选择 1 到 5 分。"),
            "invalid_choice": _("评分须为 1 到 5 的整数。"),
        },
    )

    def __init__(self, *args, districts: list[District], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["district"] = DistrictChoiceField(districts=districts, label=_("您所在的区（可选）"))
        self.order_fields(["score", "district", HONEYPOT_FIELD])


class CommentForm(HoneypotMixin):
    body = forms.CharField(
        label=_("留言"),
        max_length=COMMENT_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 4, "maxlength": COMMENT_MAX_LENGTH}),
        help_text=_("1–1000 字。留言经审核后公开；请勿填写电话、住址等个人信息。"),
        error_messages={
            "required": _("请填写留言内容。"),
            "max_length": _("留言最多 %(limit_value)d 字（现有 %(show_value)d 字）。"),
        },
    )
    nickname = forms.CharField(
        label=_("昵称（可选）"),
        max_length=NICKNAME_MAX_LENGTH,
        required=False,
        widget=TextInput,
        error_messages={"max_length": _("昵称最多 30 字。")},
    )

    def __init__(self, *args, districts: list[District], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["district"] = DistrictChoiceField(districts=districts, label=_("您所在的区（可选）"))
        self.order_fields(["body", "nickname", "district", HONEYPOT_FIELD])


class SurveyForm(HoneypotMixin):
    """One radio group per question (``question_<id>``) and its optional free text."""

    def __init__(
        self,
        *args,
        questions: list[SurveyQuestion],
        districts: list[District],
        response: SurveyResponse | None = None,
        disabled: bool = False,
        **kwargs,
    ) -> None:
        if response is not None and "initial" not in kwargs:
            initial = {"district": str(response.district_id or "")}
            for answer in response.answers.all():
                initial[f"question_{answer.question_id}"] = answer.score
                initial[f"question_{answer.question_id}_comment"] = answer.comment
            kwargs["initial"] = initial
        super().__init__(*args, **kwargs)
        self.questions = questions
        self.fields["district"] = DistrictChoiceField(districts=districts, label=_("您所在的区（可选）"))
        for question in questions:
            self.fields[f"question_{question.pk}"] = forms.TypedChoiceField(
                label=question.text,
                choices=SCORE_CHOICES,
                coerce=int,
                widget=forms.RadioSelect,
                error_messages={
                    "required": _("请为这一项打分。"),
                    "invalid_choice": _("评分须为 1 到 5 的整数。"),
                },
            )
            if question.allow_comment:
                self.fields[f"question_{question.pk}_comment"] = forms.CharField(
                    label=_("补充意见（可选）"),
                    required=False,
                    max_length=COMMENT_MAX_LENGTH,
                    widget=forms.Textarea(attrs={"rows": 2, "maxlength": COMMENT_MAX_LENGTH}),
                    error_messages={"max_length": _("补充意见最多 %(limit_value)d 字。")},
                )
        if disabled:
            for form_field in self.fields.values():
                form_field.disabled = True

    def question_rows(self) -> list[dict]:
        rows = []
        for question in self.questions:
            comment_name = f"question_{question.pk}_comment"
            rows.append(
                {
                    "question": question,
                    "score": self[f"question_{question.pk}"],
                    "comment": self[comment_name] if comment_name in self.fields else None,
                }
            )
        return rows

    def answers(self) -> list[AnswerInput]:
        return [
            AnswerInput(
                question_id=q.pk,
                score=self.cleaned_data[f"question_{q.pk}"],
                comment=self.cleaned_data.get(f"question_{q.pk}_comment", ""),
            )
            for q in self.questions
        ]


class DeleteMyDataForm(forms.Form):
    confirm = forms.BooleanField(
        label=_("我确认删除本浏览器提交的全部评分、问卷答卷和留言，且无法恢复。"),
        error_messages={"required": _("请勾选确认后再删除。")},
    )


class PhoneForm(HoneypotMixin):
    """Step 1 of phone verification: the number to send a code to."""

    phone = forms.CharField(
        label=_("手机号"),
        max_length=40,
        help_text=_("中国大陆手机号，我们会发送一条含 6 位验证码的短信。"),
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "tel", "inputmode": "tel"}),
        error_messages={"required": _("请填写手机号。")},
    )


class VerificationCodeForm(forms.Form):
    """Step 2: the number again (a hidden field) and the code it received."""

    phone = forms.CharField(max_length=40, widget=forms.HiddenInput)
    code = forms.CharField(
        label=_("短信验证码"),
        max_length=20,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "size": 8}),
        error_messages={"required": _("请填写短信中的 6 位数字验证码。")},
    )
