"""The workspace's chapter and item names in the planner's language (``review.language``);
what people wrote is shown with ``report``'s ``written_text`` and ``written_lang``."""

from django import template
from django.utils.safestring import SafeString, mark_safe

from indicators.models import is_english
from review import language

register = template.Library()


@register.simple_tag
def chapter_label(chapter) -> SafeString:
    """``第1章 城市治理`` (``{{ chapter }}``), or ``Chapter 1 Urban governance`` in English."""
    if chapter is None:
        return mark_safe("")  # noqa: S308 - empty
    return mark_safe(language.chapter_label_html(chapter, english=is_english()))  # noqa: S308 - escaped


@register.simple_tag
def item_name(item) -> SafeString:
    """The name of an indicator, story or survey question (``ReviewCase.item_title``), its
    Chinese marked where an English page shows it for want of an English one."""
    return mark_safe(language.item_label_html(item, english=is_english()))  # noqa: S308 - escaped
