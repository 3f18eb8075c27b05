"""The workspace's texts in the planner's language, and which of them are Chinese (WCAG 3.1.2).

As on the public pages (``indicators.templatetags.report``): on an English page a name is
shown in English where it has an English version, and in Chinese, marked ``lang="zh-Hans"``,
where it has none (``localized_html``); what residents and staff wrote (a comment, a survey
remark, a reply, a closing note, a signature, a moderation reason, an internal note, the
history recording them) is marked Chinese when it is written in Chinese
(``chinese_if_written``), and left in the page's language when written in English. A
Chinese page shows exactly what it showed before: the same texts, escaped the same way,
and no marks.
"""

from collections.abc import Callable

from django import forms
from django.db.models import Model
from django.utils.html import conditional_escape
from django.utils.translation import gettext

from feedback.models import SurveyQuestion
from indicators.models import Chapter, Indicator, Story, is_english, localized_in
from indicators.templatetags.report import CHINESE_LANG, chinese_if_written, localized_html


def _chapter_number(chapter: Chapter) -> str:
    """``Chapter 1``: the same msgid as the public pages' ``第 {{ number }} 章``."""
    return gettext("第 %(number)s 章") % {"number": chapter.number}


def chapter_label(chapter: Chapter, *, english: bool) -> str:
    """``第1章 城市治理`` (the chapter's ``str``) on a Chinese page; ``Chapter 1`` and its
    English theme (its Chinese one where it has none) on an English page. Plain text, for
    a chart or an option."""
    if not english:
        return str(chapter)
    return f"{_chapter_number(chapter)} {localized_in(chapter, 'theme', english=True)}"


def chapter_label_html(chapter: Chapter, *, english: bool) -> str:
    """``chapter_label``, escaped, a Chinese theme on an English page marked so."""
    if not english:
        return conditional_escape(str(chapter))
    return f"{conditional_escape(_chapter_number(chapter))} {localized_html(chapter, 'theme', english=True)}"


Item = Indicator | Story | SurveyQuestion | None


def _item_label(item: Item, text: Callable[[Model, str], str]) -> str:
    """The name of what a case is about, each of its parts given by ``text(obj, field)``: an
    indicator's name, a story's title, a survey question's survey title and dimension."""
    if isinstance(item, Indicator):
        return text(item, "name")
    if isinstance(item, Story):
        return text(item, "title")
    if isinstance(item, SurveyQuestion):
        return f"{text(item.survey, 'title')} · {text(item, 'dimension')}"
    return ""


def item_label(item: Item, *, english: bool) -> str:
    """The name of what a case is about in the page's language, as plain text (an export's
    cell, ``ReviewCase.item_title``): on an English page the English names where they exist
    (a survey question's survey and dimension too)."""
    return _item_label(item, lambda obj, field: localized_in(obj, field, english=english))


def item_label_html(item: Item, *, english: bool) -> str:
    """The name of what a case or a rating is about (``ReviewCase.item_title``), escaped,
    in the page's language, its Chinese marked where an English page falls back to it."""
    return _item_label(item, lambda obj, field: localized_html(obj, field, english=english))


class WrittenSelect(forms.Select):
    """A select whose options written in Chinese (a name without its English, a title staff
    wrote) are marked so on an English page."""

    def create_option(self, name, value, label, selected, index, subindex=None, attrs=None) -> dict:
        option = super().create_option(name, value, label, selected, index, subindex=subindex, attrs=attrs)
        if chinese_if_written(str(label), is_english()):
            option["attrs"] = {**option["attrs"], "lang": CHINESE_LANG}
        return option


def written_fields_mark(form: forms.Form, *names: str) -> None:
    """Mark the named fields' widgets Chinese on an English page when the text they show
    (what was sent, else the initial text: a reply being edited) is written in Chinese."""
    if not is_english():
        return
    for name in names:
        if chinese_if_written(str(form[name].value() or ""), True):
            form.fields[name].widget.attrs["lang"] = CHINESE_LANG
