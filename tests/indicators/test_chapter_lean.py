"""The chapter page's shortcuts say what the long way said: the rows' URLs (reversed once
per process) follow the settings and the script prefix and refuse what reverse() refuses,
an indicator's current and previous values read at once agree with its properties, and
the chart's labels and numbers are Truncator's and localize()'s."""

import pytest
from django.template import Context, Template
from django.template.defaultfilters import truncatechars
from django.test import override_settings
from django.urls import NoReverseMatch, set_script_prefix
from django.utils import translation
from django.utils.formats import localize
from django.utils.text import Truncator
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from feedback.score_markup import CHART_LABEL_LENGTH, chart_label, integers
from indicators import selectors
from indicators.models import Indicator
from indicators.page_urls import edition_url, indicator_urls, story_urls
from indicators.templatetags.report import truncated

pytestmark = pytest.mark.django_db


def test_the_rows_links_follow_the_script_prefix_and_the_settings(report_2023):
    chapter = report_2023.chapters.order_by("number").first()
    page = selectors.chapter_page(year=2023, slug=chapter.slug)
    rows = Template("{% load report %}{% indicator_items indicators %}{% story_items stories %}")
    context = {"indicators": page.indicators, "stories": page.stories}

    html = rows.render(Context(context))
    for item in [*page.indicators, *page.stories]:
        assert f'href="{item.get_absolute_url()}"' in html
    assert edition_url(2023) == report_2023.get_absolute_url()
    with override_settings(FORCE_SCRIPT_NAME="/portal/"):
        set_script_prefix("/portal/")
        try:
            prefixed = rows.render(Context(context))
            assert edition_url(2023) == report_2023.get_absolute_url() == "/portal/2023/"
            for item in [*page.indicators, *page.stories]:
                assert f'href="{item.get_absolute_url()}"' in prefixed
                assert item.get_absolute_url().startswith("/portal/")
        finally:
            set_script_prefix("/")
    assert rows.render(Context(context)) == html


def test_a_key_reverse_refuses_is_refused_not_put_in_the_url():
    for urls in (indicator_urls(), story_urls()):
        assert urls(2023, "a-valid_slug-1").endswith("/a-valid_slug-1/")
        for key in ("中文", "a b", "a/b", "a?b", ""):
            with pytest.raises(NoReverseMatch):
                urls(2023, key)


def test_current_and_previous_values_agree_with_the_properties(report_2023):
    for chapter in report_2023.chapters.all():
        for indicator in selectors.chapter_page(year=2023, slug=chapter.slug).indicators:
            assert indicator.current_and_previous() == (indicator.current_value, indicator.previous_value)
    # Without the values prefetched: each reads them from the database, as before.
    for indicator in Indicator.objects.filter(edition=report_2023):
        current, previous = indicator.current_and_previous()
        annual = [v for v in indicator.values.order_by("year", "month") if v.month is None]
        same_year = [v for v in annual if v.year == indicator.year]
        assert current == (same_year[0] if same_year else annual[-1] if annual else None)
        earlier = [v for v in annual if current is not None and v.year < current.year]
        assert previous == (earlier[-1] if earlier else None)


@pytest.mark.parametrize(
    "name",
    [
        "公园绿地500米服务半径覆盖率",  # 15 characters
        "公园绿地 500 米服务半径覆盖率达到",  # longer than the label
        "Coverage of park service radius within 500 metres",
        "Cafe\u0301 in the old town",  # a combining accent: Truncator's normal form
        "Cafe\u0301",  # short, but not in that form
        "e\u0301" * 16,
        "一二三四五六七八九十一二三四…之后",  # cut just after an ellipsis: none added
        "一二三四五六七八九十一二三四五六七",  # 17 characters
        "一二三四五六七八九十一二三四五六",  # 16
        "一二三四五六七八九十一二三四五六e\u0301",  # a combining accent just after the cut
        "",
    ],
)
def test_the_charts_labels_are_truncators(name):
    assert chart_label(name) == Truncator(name).chars(CHART_LABEL_LENGTH, truncate="…")


# The fixtures every test gets (a cleared cache, the default language) hold for all examples.
@hypothesis_settings(
    max_examples=2000, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.text(alphabet=st.sampled_from("公园a Z…e\u00e9."), max_size=40)  # no combining character
    | st.text(alphabet=st.sampled_from("公园a Z…\u0301\u0327e\u00e9\u1e09\u0345."), max_size=40)
)
def test_every_chart_label_is_truncators(name):
    assert chart_label(name) == Truncator(name).chars(CHART_LABEL_LENGTH, truncate="…")


@pytest.mark.parametrize("thousands", [False, True])
def test_the_charts_rater_counts_are_localized_as_localize_does(settings, thousands):
    settings.USE_THOUSAND_SEPARATOR = thousands
    for language in ("zh-hans", "en"):
        with translation.override(language):
            integer = integers()
            for value in (0, 5, 999, 1000, 12345, 1234567):
                assert integer(value) == localize(value)


def test_the_chapter_page_writes_its_scores_without_a_template(client, report_2023):
    """The score, its bars and the chart are written in Python (``feedback.score_markup``):
    the page renders no template for them, in either language."""
    chapter = report_2023.chapters.order_by("number").first()
    titles = {"zh-hans": "本章市民满意度", "en": "Residents’ satisfaction with this chapter"}
    for language, title in titles.items():
        client.cookies["django_language"] = language
        response = client.get(chapter.get_absolute_url())
        assert response.status_code == 200
        used = {template.name for template in response.templates}
        assert "indicators/chapter.html" in used
        assert not used & {
            "feedback/_score.html",
            "feedback/_chapter_score.html",
            "feedback/_chapter_chart.html",
        }
        html = response.content.decode()
        assert 'id="chapter-score-title"' in html and 'id="item-scores-title"' in html
        assert title in html


@pytest.mark.parametrize(
    "text",
    [
        "",
        "短",
        "本章" * 50,  # 100 characters
        "本章" * 50 + "。",
        "Cafe\u0301 " * 20,  # a combining accent: the filter's normal form
        "Cafe\u0301",
        "e\u0301" * 101,
        "x" * 99 + "<&>",
    ],
)
def test_the_chapter_description_is_truncatechars(text):
    for language in ("zh-hans", "en"):
        with translation.override(language):
            assert truncated(text, 100) == truncatechars(text, 100)


@hypothesis_settings(
    max_examples=3000, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.text(alphabet=st.sampled_from("公园a Z…e\u00e9.%"), max_size=30)  # no combining character
    | st.text(alphabet=st.sampled_from("公园a Z…\u0301\u0327e\u00e9\u1e09\u0345."), max_size=30),
    st.integers(min_value=-1, max_value=20),
    st.sampled_from(
        [None, "…", "...", "%(truncated_text)s…", "[%(truncated_text)s]", "", "\u0301", "ab\u0301cd"]
    ),
)
def test_every_cut_is_truncators(text, length, truncate):
    """``report.truncated`` (story summaries, chart labels, the chapter's description)."""
    assert truncated(text, length, truncate) == Truncator(text).chars(length, truncate=truncate)
