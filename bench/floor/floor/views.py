"""The floor's views: what a bare Django project answers per request.

``ok`` is the floor of every page, ``IndicatorListView`` the floor of the
indicator list API, ``insert`` the floor of the rating POST. ``live_chapter`` is
a chapter page built the way adhocracy4 builds its rated items: the mean and
count of each item's ratings computed live (``annotate(Avg, Count)``) on every
request, for comparison with the portal's pages that read stored aggregates.
"""

import json

from django.db.models import Avg, Count, Q
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from rest_framework import generics, serializers

from floor.models import InsertedRow, ListedIndicator, PortalChapter, PortalIndicator, PortalStory

# As the portal's public figures do: only trusted ratings count.
COUNTED = Q(ratings__trust="counted")
LIVE_SCORES = {"mean": Avg("ratings__score", filter=COUNTED), "n": Count("ratings", filter=COUNTED)}


def ok(request: HttpRequest) -> HttpResponse:
    return HttpResponse("ok")


class ListedIndicatorSerializer(serializers.ModelSerializer):
    class Meta:
        model = ListedIndicator
        fields = ["id", "code", "name", "unit", "year", "value", "direction"]


class IndicatorListView(generics.ListAPIView):
    queryset = ListedIndicator.objects.order_by("pk")[:100]
    serializer_class = ListedIndicatorSerializer


@csrf_exempt
@require_POST
def insert(request: HttpRequest) -> HttpResponse:
    data = json.loads(request.body)
    row = InsertedRow.objects.create(
        target_type=str(data["target_type"]), target_id=int(data["target_id"]), score=int(data["score"])
    )
    return JsonResponse({"id": row.pk}, status=201)


def live_chapter(request: HttpRequest, pk: int) -> HttpResponse:
    chapter = get_object_or_404(PortalChapter, pk=pk)
    indicators = list(
        PortalIndicator.objects.filter(chapter=chapter, status="published")
        .annotate(**LIVE_SCORES)
        .order_by("order", "pk")
    )
    stories = list(
        PortalStory.objects.filter(chapter=chapter, status="published")
        .annotate(**LIVE_SCORES)
        .order_by("order", "pk")
    )
    # The chapter's score from the items' own figures: no third pass over the ratings.
    items = [*indicators, *stories]
    count = sum(item.n for item in items)
    mean = sum((item.mean or 0) * item.n for item in items) / count if count else None
    return render(
        request,
        "floor/live_chapter.html",
        {"chapter": chapter, "indicators": indicators, "stories": stories, "count": count, "mean": mean},
    )
