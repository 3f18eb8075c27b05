"""Filters for showing the report: figures as the report writes them, text in the reader's language."""

import re
from collections.abc import Iterable

from django import template
from django.utils.html import conditional_escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language

from indicators.models import Indicator, IndicatorValue, Photo, format_quantity

register = template.Library()

EXCERPT_CONTEXT = 40


@register.filter
def quantity(obj: Indicator | IndicatorValue | None) -> str:
    """``约 1200 万平方米``: an indicator's current figure, or one value, with qualifier and unit."""
    if isinstance(obj, Indicator):
        value = obj.current_value
        unit = obj.unit
    elif isinstance(obj, IndicatorValue):
        value = obj
        # The value's indicator is cached by the ``values`` prefetch: no query.
        unit = obj.indicator.unit
    else:
        return ""
    if value is None:
        return ""
    return format_quantity(value.value, unit, value.qualifier)


@register.filter
def with_image(photos: Iterable[Photo]) -> list[Photo]:
    """The photos that have an image file.

    A caption without one records a photo the printed report had but the site
    has not received: it stays in the data, and a story shows no empty 图片 section.
    """
    return [photo for photo in photos if photo.image]


@register.filter
def paragraphs(text: str) -> list[str]:
    """Split a text stored with blank lines between paragraphs."""
    return [p.strip() for p in (text or "").split("\n\n") if p.strip()]


@register.filter
def localized(obj, field: str) -> str:
    """``obj.<field>_en`` when the interface is English and it is filled, else ``obj.<field>``.

    For the fields the models have no ``display_*`` property for (captions, street names).
    """
    if obj is None:
        return ""
    if (get_language() or "").startswith("en"):
        english = getattr(obj, f"{field}_en", "")
        if english:
            return english
    return getattr(obj, field, "")


@register.filter
def excerpt(text: str, query: str) -> str:
    """A short stretch of ``text`` around the first occurrence of ``query``."""
    text = " ".join((text or "").split())
    if not query:
        return text[: EXCERPT_CONTEXT * 2]
    at = text.lower().find(query.lower())
    if at < 0:
        return text[: EXCERPT_CONTEXT * 2] + ("…" if len(text) > EXCERPT_CONTEXT * 2 else "")
    start = max(0, at - EXCERPT_CONTEXT)
    end = min(len(text), at + len(query) + EXCERPT_CONTEXT)
    return ("…" if start else "") + text[start:end] + ("…" if end < len(text) else "")


@register.filter
def highlight(text: str, query: str) -> SafeString:
    """Escape ``text`` and wrap every occurrence of ``query`` in ``<mark>``."""
    text = text or ""
    if not query:
        return conditional_escape(text)
    # Split the raw text, then escape each piece: the mark never cuts an entity.
    pieces = re.split(f"({re.escape(query)})", text, flags=re.IGNORECASE)
    out = []
    for index, piece in enumerate(pieces):
        escaped = conditional_escape(piece)
        out.append(f"<mark>{escaped}</mark>" if index % 2 else escaped)
    return mark_safe("".join(out))  # noqa: S308 - every piece is escaped above
