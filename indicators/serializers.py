"""Read-only representations of the published report for the API.

Figures are decimal strings written the way the report gives them (``"88.7"``,
``"99.997"``), never floats, so that no digit is lost or invented; the
report's qualifier (以上, 约, 余 …) travels with every figure, and ``display``
gives the figure as the report writes it (``"约 1200 万平方米"``).
"""

from decimal import Decimal

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
)


@extend_schema_field(OpenApiTypes.DECIMAL)
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

    @extend_schema_field(OpenApiTypes.DECIMAL)
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
