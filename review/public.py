"""The public accountability page and API (办理情况): anyone may read them.

Both read only the stored ``AccountabilityFigure`` rows (``review.accountability``).
"""

from datetime import date

from django import forms
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from review.accountability import QueueFigures, accountability_table


class MonthField(forms.DateField):
    """``YYYY-MM`` (as ``<input type="month">`` sends it), the first of that month."""

    input_formats = ["%Y-%m"]
    widget = forms.DateInput(attrs={"type": "month"}, format="%Y-%m")


# What MonthField reads (any year but 0000, a month with or without its zero), or nothing.
MONTH_PATTERN = r"^(\s*(?!0000)[0-9]{4}-(0?[1-9]|1[0-2])\s*)?$"


def _period_filled(start: date | None, end: date | None) -> tuple[date, date]:
    """A period with its missing months filled in: up to this month, from January of the end's year."""
    end = end or timezone.localdate().replace(day=1)
    return start or date(end.year, 1, 1), end


class PeriodForm(forms.Form):
    start = MonthField(label=_("起始月份"), required=False)
    end = MonthField(label=_("截止月份"), required=False)

    def clean(self) -> dict:
        data = super().clean()
        data["start"], data["end"] = _period_filled(data.get("start"), data.get("end"))
        if data["start"] > data["end"]:
            raise forms.ValidationError(_("起始月份不能晚于截止月份。"), code="period_reversed")
        return data


def _period(query) -> tuple[PeriodForm, date, date]:
    """The form to show, and the period the table counts. A valid query's form shows that
    period, defaults filled in (an empty field read as "from January", say, shows 2026-01),
    so the fields say what the figures below cover; an invalid one keeps what was typed,
    with its errors, over the default period's figures."""
    form = PeriodForm(query)
    if form.is_valid():
        start, end = form.cleaned_data["start"], form.cleaned_data["end"]
        return PeriodForm(initial={"start": start, "end": end}), start, end
    return form, *_period_filled(None, None)


@require_GET
def accountability(request: HttpRequest) -> HttpResponse:
    form, start, end = _period(request.GET)
    context = {
        "form": form,
        "start": start,
        "end": end,
        "rows": accountability_table(start=start, end=end),
        "minimum": settings.AGGREGATE_MIN_COUNT,
        "working_days": settings.CASE_REPLY_WORKING_DAYS,
        "nav": "accountability",
    }
    return render(request, "review/accountability.html", context, status=400 if form.errors else 200)


# --- API ------------------------------------------------------------------------------------


class RateSerializer(serializers.Serializer):
    count = serializers.IntegerField(help_text=_("分子：符合条件的件数。"))
    base = serializers.IntegerField(help_text=_("分母：参与计算的件数。"))
    percent = serializers.FloatField(allow_null=True, help_text=_("百分比；分母少于最低件数时为 null。"))


class QueueFiguresSerializer(serializers.Serializer):
    district = serializers.IntegerField(source="district.pk", allow_null=True, default=None)
    label = serializers.CharField()
    received = serializers.IntegerField(help_text=_("受理数。"))
    response = RateSerializer(help_text=_("响应率：时限内首次答复。"))
    resolution = RateSerializer(help_text=_("解决率：办结且已解决。"))
    satisfaction = RateSerializer(help_text=_("满意率：答复评价为满意或基本满意。"))
    replied = serializers.IntegerField(help_text=_("已答复件数（答复用时中位数的基础）。"))
    median_hours = serializers.FloatField(allow_null=True, help_text=_("首次答复用时中位数（小时）。"))


class AccountabilitySerializer(serializers.Serializer):
    start = serializers.DateField()
    end = serializers.DateField()
    minimum = serializers.IntegerField()
    working_days = serializers.IntegerField(help_text=_("答复时限（工作日）。"))
    queues = QueueFiguresSerializer(many=True)


class AccountabilityApi(APIView):
    name = _("答复情况公示")

    @extend_schema(
        operation_id="accountability",
        summary="Per district and the city queue: received, response, resolution and satisfaction rates",
        tags=["accountability"],
        parameters=[
            OpenApiParameter(
                "start", OpenApiTypes.STR, pattern=MONTH_PATTERN, description="YYYY-MM (default: January)"
            ),
            OpenApiParameter(
                "end", OpenApiTypes.STR, pattern=MONTH_PATTERN, description="YYYY-MM (default: this month)"
            ),
        ],
        responses={200: AccountabilitySerializer},
    )
    def get(self, request: Request) -> Response:
        form = PeriodForm(request.query_params)
        if not form.is_valid():
            raise serializers.ValidationError(form.errors.get_json_data())
        start, end = form.cleaned_data["start"], form.cleaned_data["end"]
        rows: list[QueueFigures] = accountability_table(start=start, end=end)
        payload = {
            "start": start,
            "end": end,
            "minimum": settings.AGGREGATE_MIN_COUNT,
            "working_days": settings.CASE_REPLY_WORKING_DAYS,
            "queues": rows,
        }
        return Response(AccountabilitySerializer(payload).data)
