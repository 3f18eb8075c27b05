"""Read API of the data pages: one district's figures, stories and best alleys.

``/api/v1/districts/<slug>/summary/`` is what ``/districts/<slug>/`` shows, as JSON:
the stored satisfaction of the district's residents (withheld below the minimum, as
everywhere: ``ScoreSummary``), its survey results where the minimum allows, and its
public stories, best alleys apart. The districts' list with their figures is
``/api/v1/aggregates/districts/``; their boundaries are ``/districts/boundaries.geojson``.
"""

from django.urls import reverse
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from feedback import districts
from feedback.models import AggregateScope
from feedback.serializers import ScoreSummarySerializer
from indicators.cache import REPORT, SHARED, SURVEYS, CachedReadView, aggregate_tag
from indicators.serializers import PageUrlField


class DistrictStorySerializer(serializers.Serializer):
    edition = serializers.IntegerField(source="edition.year", help_text="The edition's year.")
    slug = serializers.CharField()
    kind = serializers.CharField()
    title = serializers.CharField(source="display_title")
    rank = serializers.IntegerField(allow_null=True)
    street = serializers.CharField(source="street.name", allow_null=True, default=None)
    latitude = serializers.DecimalField(max_digits=9, decimal_places=6, allow_null=True)
    longitude = serializers.DecimalField(max_digits=9, decimal_places=6, allow_null=True)
    url = PageUrlField()


class DistrictSurveyRowSerializer(serializers.Serializer):
    dimension = serializers.CharField()
    text = serializers.CharField()
    count = serializers.IntegerField(help_text="Answers from residents of the district.")
    mean = serializers.DecimalField(
        max_digits=5,
        decimal_places=3,
        allow_null=True,
        help_text="Null below the minimum number of raters (or when showing it would give one away).",
    )


class DistrictSummarySerializer(serializers.Serializer):
    slug = serializers.CharField(source="district.slug")
    name = serializers.CharField(source="district.display_name")
    score = ScoreSummarySerializer(source="summary")
    survey = serializers.CharField(source="survey.display_title", allow_null=True, default=None)
    survey_results = DistrictSurveyRowSerializer(source="survey_rows", many=True)
    best_alleys = DistrictStorySerializer(many=True)
    stories = DistrictStorySerializer(many=True, help_text="The district's other public stories.")
    url = serializers.SerializerMethodField()

    def get_url(self, obj: districts.DistrictPage) -> str:
        path = reverse("feedback:district", kwargs={"slug": obj.district.slug})
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request else path


class DistrictSummaryApi(CachedReadView, APIView):
    name = gettext_lazy("区反馈概况")

    @classmethod
    def page_tags(cls, request, *args, **kwargs):
        return (
            REPORT,
            SHARED,
            SURVEYS,
            aggregate_tag(AggregateScope.DISTRICT),
            aggregate_tag(AggregateScope.QUESTION),
        )

    @extend_schema(
        operation_id="district_summary",
        summary="A district's satisfaction, survey results, stories and best alleys",
        tags=["aggregates"],
        responses={200: DistrictSummarySerializer, 404: OpenApiResponse(description="No such district.")},
    )
    def get(self, request: Request, slug: str) -> Response:
        page = districts.district_page(slug=slug)
        return Response(DistrictSummarySerializer(page, context={"request": request}).data)
