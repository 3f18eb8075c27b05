"""A new year's edition started from the previous one (一年一体检: the city checks every year).

The report's structure recurs from year to year, and so do most indicators: a new
edition starts as a copy of the previous one's chapters, sections and indicators,
each indicator with its stable ``code`` so that the years' figures line up. What
belongs to one year is not copied: no value (the figures of the new year come from
the new report, never from the old one), no comparison, no quoted sentence, no
section text, no preface, no story (each year has its own highlights). Everything
starts as a draft, invisible to the public until staff publish it.
"""

import re

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from indicators import cache as page_cache
from indicators.models import Chapter, Edition, Indicator, PublishStatus, Section


def _retitled(title: str, previous: int, year: int) -> str:
    """The previous title with its year replaced ("（2023 年度）" → "（2024 年度）")."""
    return re.sub(rf"(?<!\d){previous}(?!\d)", str(year), title)


def _copy_structure(previous: Edition, edition: Edition) -> tuple[dict[int, Chapter], dict[int, Section]]:
    chapters = {
        old.pk: Chapter(
            edition=edition,
            number=old.number,
            slug=old.slug,
            theme=old.theme,
            theme_en=old.theme_en,
            title=old.title,
            title_en=old.title_en,
        )
        for old in previous.chapters.order_by("number")
    }
    Chapter.objects.bulk_create(chapters.values())
    old_sections = list(
        Section.objects.filter(chapter__edition=previous).order_by("chapter__number", "number")
    )
    sections = {
        old.pk: Section(
            chapter=chapters[old.chapter_id], number=old.number, title=old.title, title_en=old.title_en
        )
        for old in old_sections
    }
    Section.objects.bulk_create(sections.values())
    return chapters, sections


@transaction.atomic
def edition_start_from(*, previous: Edition, year: int) -> Edition:
    """A draft edition of ``year`` with ``previous``'s chapters, sections and indicators, and no figure."""
    if year <= previous.year:
        raise ValidationError(
            _("新年度须晚于 %(year)s 年。"), code="not_later", params={"year": previous.year}
        )
    if Edition.objects.filter(year=year).exists():
        raise ValidationError(_("%(year)s 年度已存在。"), code="exists", params={"year": year})
    edition = Edition.objects.create(
        year=year,
        title=_retitled(previous.title, previous.year, year),
        title_en=_retitled(previous.title_en, previous.year, year),
        status=PublishStatus.DRAFT,
        published_at=None,
    )
    chapters, sections = _copy_structure(previous, edition)
    Indicator.objects.bulk_create(
        Indicator(
            edition=edition,
            chapter=chapters[old.chapter_id],
            section=sections.get(old.section_id) if old.section_id else None,
            code=old.code,
            name=old.name,
            name_en=old.name_en,
            unit=old.unit,
            # The new report's figures are for its own year (staff correct it where not).
            year=old.year + (year - previous.year),
            direction=old.direction,
            headline=old.headline,
            order=old.order,
            source_text="",
            status=PublishStatus.DRAFT,
            published_at=None,
        )
        for old in previous.indicators.order_by("chapter__number", "order", "id")
    )
    page_cache.report_changed(years={year})
    return edition
