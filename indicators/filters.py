"""Query-string filters of the read API.

A value that cannot be a filter (``edition=abc``, ``kind=unknown``, a district
slug that does not exist) is answered with HTTP 400 and a message per
parameter, by django-filter's DRF backend; never a 500.
"""

from django import forms
from django.core.validators import RegexValidator
from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _
from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema_field

from indicators.models import District, Indicator, Story, StoryKind
from indicators.selectors import SEARCH_MAX_LENGTH, search_normalize

YEAR_MIN, YEAR_MAX = 1900, 2100


@extend_schema_field({"type": "integer", "minimum": YEAR_MIN, "maximum": YEAR_MAX})
class YearFilter(filters.NumberFilter):
    """An edition year: a whole number in a plausible range."""

    field_class = forms.IntegerField

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("field_name", "edition__year")
        kwargs.setdefault("min_value", YEAR_MIN)
        kwargs.setdefault("max_value", YEAR_MAX)
        kwargs.setdefault("help_text", _("报告年度，如 2023。"))
        super().__init__(*args, **kwargs)


@extend_schema_field({"type": "string", "maxLength": 200, "pattern": "^[^\\u0000]*$"})
class TextSearchFilter(filters.CharFilter):
    """Substring search in any language (``公园`` finds every park)."""

    def __init__(self, *, fields: list[str], **kwargs) -> None:
        self.search_fields = fields
        kwargs.setdefault("max_length", 200)
        kwargs.setdefault(
            "help_text",
            _("全文查找（包含即可，中英文均可），最多 %(max)d 个字符。") % {"max": SEARCH_MAX_LENGTH},
        )
        super().__init__(**kwargs)

    def filter(self, qs: QuerySet, value: str) -> QuerySet:
        term = search_normalize(value or "")
        if not term:
            return qs
        condition = Q()
        for field in self.search_fields:
            condition |= Q(**{f"{field}__icontains": term})
        return qs.filter(condition)


@extend_schema_field({"type": "boolean"})
class StrictBooleanFilter(filters.TypedChoiceFilter):
    """``true`` or ``false``; anything else is a 400, not silently "no filter"."""

    def __init__(self, **kwargs) -> None:
        kwargs.setdefault("choices", [("true", "true"), ("false", "false")])
        kwargs.setdefault("coerce", lambda value: value == "true")
        super().__init__(**kwargs)


class ChapterFilterSet(filters.FilterSet):
    edition = YearFilter()


class IndicatorFilterSet(filters.FilterSet):
    edition = YearFilter()
    chapter = filters.CharFilter(
        method="filter_chapter",
        max_length=60,
        validators=[
            RegexValidator(r"^[-a-zA-Z0-9_]+$", _("请填写章序号（如 4）或章的标识（slug）。"), code="invalid")
        ],
        help_text=_("章序号（如 4）或章的标识（slug）。"),
    )
    headline = StrictBooleanFilter(help_text=_("true：只看首页要点指标；false：只看其余指标。"))
    q = TextSearchFilter(fields=["name", "name_en", "source_text"])

    class Meta:
        model = Indicator
        fields = ["edition", "chapter", "headline", "q"]

    @extend_schema_field({"type": "string", "pattern": "^[-a-zA-Z0-9_]+$", "maxLength": 60})
    def filter_chapter(self, queryset: QuerySet[Indicator], name: str, value: str) -> QuerySet[Indicator]:
        if value.isdigit():
            return queryset.filter(chapter__number=int(value)) if len(value) <= 3 else queryset.none()
        return queryset.filter(chapter__slug=value)


@extend_schema_field({"type": "string", "maxLength": 40})
class DistrictSlugFilter(filters.ChoiceFilter):
    """A district by its slug (``dongcheng``), checked against the districts stored."""


class StoryFilterSet(filters.FilterSet):
    edition = YearFilter()
    kind = filters.ChoiceFilter(choices=StoryKind.choices, help_text=_("故事类型。"))
    # The slugs as choices, read when the filter is used: an unknown slug is a 400. The
    # schema says "a string" rather than listing the slugs, so it never depends on what
    # the database holds when it is built (an empty enum is not valid OpenAPI).
    district = DistrictSlugFilter(
        field_name="district__slug",
        choices=lambda: list(District.objects.values_list("slug", "name")),
        help_text=_("行政区标识（slug），见 /api/v1/districts/。"),
    )
    q = TextSearchFilter(fields=["title", "title_en", "summary", "body"])

    class Meta:
        model = Story
        fields = ["edition", "kind", "district", "q"]
