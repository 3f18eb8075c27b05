"""The list API's written-out serializers give exactly DRF's own result."""

import pytest
from django.test import RequestFactory
from django.utils import translation
from rest_framework import serializers

from indicators import selectors
from indicators.serializers import IndicatorSerializer

pytestmark = pytest.mark.django_db


def _generic(serializer_class, context):
    """What DRF builds from the declared fields, without the written-out shortcut: one
    serializer for every row, as DRF's ``many=True`` list uses one child for all of them (its
    fields are built once, not per indicator)."""
    serializer = serializer_class(context=context)
    return lambda instance: serializers.ModelSerializer.to_representation(serializer, instance)


@pytest.mark.parametrize("language", ["zh-hans", "en"])
@pytest.mark.parametrize("with_request", [True, False])
def test_every_indicator_is_serialised_as_drf_would(report_2023, language, with_request):
    request = RequestFactory().get("/api/v1/indicators/", HTTP_HOST="testserver")
    context = {"request": request} if with_request else {}
    indicators = list(selectors.indicator_list_published_newest_first())
    assert len(indicators) > 100
    assert any(i.section_id is None for i in indicators) or any(i.change_value is None for i in indicators)
    with translation.override(language):
        fast = IndicatorSerializer(indicators, many=True, context=context).data
        generic = _generic(IndicatorSerializer, context)
        for indicator, row in zip(indicators, fast, strict=True):
            assert row == generic(indicator), indicator.code
    if with_request:
        assert fast[0]["url"].startswith("http://testserver/2023/indicators/")


def test_the_list_api_gives_each_page_the_values_the_prefetch_gave(report_2023, client, settings):
    """The list API reads a page's values after cutting the page (``selectors._values_given``),
    not with the queryset's prefetch: every page of the 2023 report, in both languages, is
    what the serializer gives for the prefetched indicators, values and their order included."""
    request = RequestFactory().get("/api/v1/indicators/", HTTP_HOST="testserver")
    prefetched = list(selectors.indicator_list_published_newest_first())
    assert any(len(i.series) > 1 for i in prefetched) and any(not i.series for i in prefetched)
    for language in ("zh-hans", "en"):
        with translation.override(language):
            expected = IndicatorSerializer(prefetched, many=True, context={"request": request}).data
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
        listed, url = [], "/api/v1/indicators/?page_size=40"
        while url:
            page = client.get(url).json()
            listed.extend(page["results"])
            url = page["next"]
        assert listed == [dict(row) for row in expected], language
