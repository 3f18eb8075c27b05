"""Read-only representations of the published report for the API.

Figures are decimal strings written the way the report gives them (``"88.7"``,
``"99.997"``), never floats, so that no digit is lost or invented; the
report's qualifier (以上, 约, 余 …) travels with every figure, and ``display``
gives the figure as the report writes it (``"约 1200 万平方米"``).
"""

from datetime import datetime, tzinfo
from decimal import Decimal

from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from indicators.models import (
    Chapter,
    District,
    Edition,
    Indicator,
    IndicatorValue,
    Photo,
    Section,
    Story,
    Street,
    format_number,
    format_quantity,
)
from indicators.page_urls import PageUrls, indicator_urls

# How the schema gives a figure: a decimal string (above), never a JSON number.
DECIMAL_STRING = {"type": "string", "format": "decimal", "pattern": r"^-?\d+(\.\d+)?$", "example": "88.7"}


@extend_schema_field(DECIMAL_STRING)
class FigureField(serializers.Field):
    """A stored decimal as the report prints it: no trailing zeros, no exponent."""

    def to_representation(self, value: Decimal) -> str:
        return format_number(value)


@extend_schema_field(OpenApiTypes.URI)
class PageUrlField(serializers.Field):
    """The object's page on the public site, absolute when the request is known."""

    def __init__(self, **kwargs) -> None:
        kwargs.setdefault("help_text", "The page on the public site.")
        super().__init__(source="*", read_only=True, **kwargs)

    def to_representation(self, value) -> str:
        path = value.get_absolute_url()
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request else path


def _datetime(value: datetime | None, zone: tzinfo) -> str | None:
    """An aware datetime as DRF's DateTimeField writes it (ISO 8601 in the current time
    zone, ``Z`` for UTC), without building the field."""
    if value is None:
        return None
    text = value.astimezone(zone).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


# --- References (small nested objects) ---------------------------------------------------------


class ChapterRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Chapter
        fields = ["id", "number", "slug", "theme", "theme_en"]


class SectionRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Section
        fields = ["id", "number", "title", "title_en"]


class DistrictRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = District
        fields = ["slug", "name", "name_en"]


class StreetSerializer(serializers.ModelSerializer):
    class Meta:
        model = Street
        fields = ["id", "name", "name_en"]


# --- Editions and chapters ------------------------------------------------------------------------


class SectionSerializer(serializers.ModelSerializer):
    class Meta:
        model = Section
        fields = ["id", "number", "title", "title_en", "body"]


class ChapterSerializer(serializers.ModelSerializer):
    edition = serializers.IntegerField(source="edition.year", help_text="The edition's year.")
    sections = SectionSerializer(many=True)
    url = PageUrlField()

    class Meta:
        model = Chapter
        fields = [
            "id",
            "edition",
            "number",
            "slug",
            "url",
            "theme",
            "theme_en",
            "title",
            "title_en",
            "summary",
            "sections",
        ]


class EditionSerializer(serializers.ModelSerializer):
    chapters = ChapterRefSerializer(many=True)
    url = PageUrlField()

    class Meta:
        model = Edition
        fields = ["year", "url", "title", "title_en", "preface", "preface_en", "published_at", "chapters"]


# --- Indicators ------------------------------------------------------------------------------------------


class IndicatorValueSerializer(serializers.ModelSerializer):
    value = FigureField()
    display = serializers.CharField(help_text="The figure as the report writes it, with qualifier and unit.")
    month = serializers.IntegerField(allow_null=True, help_text="1–12 for a monthly point; null for a year.")

    class Meta:
        model = IndicatorValue
        fields = ["year", "month", "value", "qualifier", "display", "source"]


class ChangeSerializer(serializers.Serializer):
    """The comparison the report gives (``较上年增长 15.7%``)."""

    value = FigureField()
    unit = serializers.CharField(help_text="'%' for a relative change; the indicator's unit otherwise.")
    qualifier = serializers.CharField()
    direction = serializers.ChoiceField(choices=["increase", "decrease"])
    base = serializers.CharField(help_text="The report's word for the base: 上年, 同比, 2013 年 …")
    base_year = serializers.IntegerField(allow_null=True)
    display = serializers.CharField()


class IndicatorSerializer(serializers.ModelSerializer):
    edition = serializers.IntegerField(source="edition.year", help_text="The edition's year.")
    chapter = ChapterRefSerializer()
    section = SectionRefSerializer(allow_null=True)
    value = serializers.SerializerMethodField(help_text="The headline figure (the value of `year`).")
    qualifier = serializers.SerializerMethodField(help_text="The report's qualifier of the headline figure.")
    display = serializers.SerializerMethodField(help_text="The headline figure as the report writes it.")
    values = IndicatorValueSerializer(many=True, help_text="Every point, oldest first.")
    change = serializers.SerializerMethodField()
    url = PageUrlField()

    class Meta:
        model = Indicator
        fields = [
            "id",
            "edition",
            "code",
            "url",
            "name",
            "name_en",
            "unit",
            "year",
            "value",
            "qualifier",
            "display",
            "values",
            "change",
            "direction",
            "source_text",
            "note",
            "headline",
            "chapter",
            "section",
            "published_at",
            "updated_at",
        ]

    @extend_schema_field({**DECIMAL_STRING, "nullable": True})
    def get_value(self, obj: Indicator) -> str | None:
        current = obj.current_value
        return format_number(current.value) if current else None

    def get_qualifier(self, obj: Indicator) -> str:
        current = obj.current_value
        return current.qualifier if current else ""

    def get_display(self, obj: Indicator) -> str:
        current = obj.current_value
        return current.display if current else ""

    @extend_schema_field(ChangeSerializer(allow_null=True))
    def get_change(self, obj: Indicator) -> dict | None:
        if obj.change_value is None:
            return None
        return {
            "value": format_number(obj.change_value),
            "unit": obj.change_unit,
            "qualifier": obj.change_qualifier,
            "direction": obj.change_direction,
            "base": obj.change_base,
            "base_year": obj.change_base_year,
            "display": obj.display_change,
        }

    def to_representation(self, instance: Indicator) -> dict:
        """The dict DRF builds from the fields above, written out.

        The list API serialises 50 indicators with their values, chapter and
        section per request; DRF's generic way (for each of some 40 fields and
        nested fields: find the attribute, check for None, convert) was most
        of its cost. The fields above stay the contract and the OpenAPI schema;
        a test compares this with DRF's own result for every indicator of the
        2023 report, with and without a request. Building the declared fields
        (``self.fields``) is left out too: dates are written as DRF writes them
        (``_datetime``); the page URL is reversed once per edition year
        (``indicators.page_urls``).
        """
        zone = self._time_zone()
        current = instance.current_value
        edition_year = instance.edition.year
        urls = self._page_urls()
        path = urls(edition_year, instance.code)
        request = self.context.get("request")
        chapter = instance.chapter
        section = instance.section
        return {
            "id": instance.pk,
            "edition": edition_year,
            "code": instance.code,
            "url": request.build_absolute_uri(path) if request else path,
            "name": instance.name,
            "name_en": instance.name_en,
            "unit": instance.unit,
            "year": instance.year,
            "value": format_number(current.value) if current else None,
            "qualifier": current.qualifier if current else "",
            "display": current.display if current else "",
            "values": [
                {
                    "year": point.year,
                    "month": point.month,
                    "value": format_number(point.value),
                    "qualifier": point.qualifier,
                    "display": format_quantity(point.value, instance.unit, point.qualifier),
                    "source": point.source,
                }
                for point in instance.series
            ],
            "change": self.get_change(instance),
            "direction": instance.direction,
            "source_text": instance.source_text,
            "note": instance.note,
            "headline": instance.headline,
            "chapter": {
                "id": chapter.pk,
                "number": chapter.number,
                "slug": chapter.slug,
                "theme": chapter.theme,
                "theme_en": chapter.theme_en,
            },
            "section": None
            if section is None
            else {
                "id": section.pk,
                "number": section.number,
                "title": section.title,
                "title_en": section.title_en,
            },
            "published_at": _datetime(instance.published_at, zone),
            "updated_at": _datetime(instance.updated_at, zone),
        }

    def _page_urls(self) -> PageUrls:
        # One per serializer: a list's rows share the child serializer, hence the URLs.
        urls = getattr(self, "_urls", None)
        if urls is None:
            urls = self._urls = indicator_urls()
        return urls

    def _time_zone(self) -> tzinfo:
        # One per serializer too: the request's zone lives in asgiref's ``Local``, read in
        # 2.7 µs, twice what writing one of a row's dates costs (0.13 ms a page of 50).
        zone = getattr(self, "_zone", None)
        if zone is None:
            zone = self._zone = timezone.get_current_timezone()
        return zone


# --- Stories and districts ---------------------------------------------------------------------


class PhotoSerializer(serializers.ModelSerializer):
    image = serializers.ImageField(allow_null=True, help_text="Null until staff upload the report's photo.")

    class Meta:
        model = Photo
        fields = ["caption", "caption_en", "credit", "image", "alt_text"]


class StorySerializer(serializers.ModelSerializer):
    edition = serializers.IntegerField(source="edition.year", help_text="The edition's year.")
    kind_display = serializers.CharField(source="get_kind_display")
    chapter = ChapterRefSerializer(allow_null=True)
    district = DistrictRefSerializer(allow_null=True)
    street = StreetSerializer(allow_null=True)
    photos = PhotoSerializer(many=True)
    indicators = serializers.SlugRelatedField(
        many=True, read_only=True, slug_field="code", help_text="Codes of the related published indicators."
    )
    url = PageUrlField()

    class Meta:
        model = Story
        fields = [
            "id",
            "edition",
            "slug",
            "url",
            "kind",
            "kind_display",
            "title",
            "title_en",
            "summary",
            "body",
            "rank",
            "chapter",
            "district",
            "street",
            "latitude",
            "longitude",
            "photos",
            "indicators",
            "published_at",
            "updated_at",
        ]


class DistrictSerializer(serializers.ModelSerializer):
    streets = StreetSerializer(many=True)

    class Meta:
        model = District
        fields = ["slug", "name", "name_en", "order", "streets"]
