"""The satisfaction markup written in Python (``feedback.score_markup``) is the templates'
markup, byte for byte: a score as ``feedback/_score.html`` writes it (the district and survey
pages still include it), and the chapter page's score and chart as the templates it
replaced wrote them (their source is kept below), in Chinese and in English, for scores
withheld and shown, with and without interval, verified raters, held ratings and bars,
items to escape, one item or many below the minimum, and numbers grouped or not."""

from decimal import Decimal

import pytest
from django.template import Context, Template
from django.template.loader import render_to_string
from django.test import override_settings
from django.urls import set_script_prefix
from django.utils import translation

from feedback import score_markup
from feedback.selectors import ScoreSummary
from indicators.models import Edition, Indicator, Story

LANGUAGES = ("zh-hans", "en")

# templates/feedback/_chapter_score.html as it was, with the score included from
# _score.html (the tag ``score_summary`` is now Python too).
CHAPTER_SCORE = """{% load i18n static participation chrome %}<section class="participation participation--chapter" aria-labelledby="chapter-score-title">
  {# The score's styles (distribution bars), as the item pages' panel loads them. #}
  {% fixed %}<link rel="stylesheet" href="{% static 'feedback/participation.css' %}">
  <h2 id="chapter-score-title">{% translate "本章市民满意度" %}</h2>
  <p class="muted">{% translate "汇总本章各项指标和亮点故事的市民评分。" %}</p>{% endfixed %}
  {% include "feedback/_score.html" %}
</section>
"""  # noqa: E501

# templates/feedback/_chapter_chart.html as it was (its table's scroll box since named and
# focusable, as every table's is), with its rows written by a loop; each
# name as ``{% marked_chinese %}`` writes it (on an English page, a name shown in Chinese or
# quoting the report's term marked so; on a Chinese page, escaped as ``{{ name }}`` was).
CHAPTER_CHART = """{% load i18n static chrome report %}<section class="item-scores" id="item-scores" aria-labelledby="item-scores-title">
  {% fixed %}<h2 id="item-scores-title">{% translate "各项满意度" %}</h2>{% endfixed %}
  {% if rows %}
  {% fixed min_count %}<p class="muted">{% blocktranslate with n=min_count %}本章各项指标和亮点故事的市民平均分（1–5 分）及其 95% 区间；只列出满 {{ n }} 人评价的项目。{% endblocktranslate %}</p>
  <div class="chart chart--scores" hidden data-chart-wrapper>
    <canvas data-chart="chapter-chart-data" role="img" aria-label="{% translate '各项满意度的图表，数据见下表' %}"></canvas>
  </div>{% endfixed %}
  {{ chart|json_script:"chapter-chart-data" }}
  {% fixed %}<div class="table-scroll" tabindex="0" role="region" aria-labelledby="item-scores-title">
  <table class="data-table data-table--scores">
    <caption>{% translate "各项满意度（1–5 分）" %}</caption>
    <thead><tr><th scope="col">{% translate "项目" %}</th><th scope="col">{% translate "平均分" %}</th><th scope="col">{% translate "95% 区间" %}</th><th scope="col">{% translate "评价人数" %}</th></tr></thead>
    <tbody>{% endfixed %}
      {% for item, summary, field, url in rows %}<tr><th scope="row"><a href="{{ url }}">{% marked_chinese item field %}</a></th><td>{{ summary.mean|floatformat:2 }}</td><td>{% if summary.ci_low is not None %}{{ summary.ci_low|floatformat:2 }}–{{ summary.ci_high|floatformat:2 }}{% endif %}</td><td>{{ summary.raters }}</td></tr>
      {% endfor %}
    </tbody>
  </table>
  </div>
  {% if below_minimum %}<p class="muted">{% blocktranslate with n=min_count count counter=below_minimum %}另有 {{ counter }} 项不足 {{ n }} 人评价，暂不显示。{% plural %}另有 {{ counter }} 项不足 {{ n }} 人评价，暂不显示。{% endblocktranslate %}</p>{% endif %}
  {% fixed %}<script src="{% static 'vendor/chartjs/chart.umd.js' %}" defer></script>
  <script src="{% static 'js/charts.js' %}" defer></script>{% endfixed %}
  {% else %}
  {% fixed min_count %}<p class="muted">{% blocktranslate with n=min_count %}本章还没有满 {{ n }} 人评价的指标或亮点故事。为它们评分，满 {{ n }} 人后这里显示各项平均分和区间。{% endblocktranslate %}</p>{% endfixed %}
  {% endif %}
</section>
"""  # noqa: E501


def _summaries() -> list[ScoreSummary]:
    shown = {
        "count": 12,
        "mean": Decimal("3.456"),
        "ci_low": Decimal("2.9"),
        "ci_high": Decimal("4.015"),
        "distribution": [1, 2, 3, 4, 2],
        "raters": 10,
    }
    return [
        ScoreSummary(),  # nobody yet
        ScoreSummary(count=1, raters=1, distribution=[0, 0, 1, 0, 0], mean=Decimal("3")),  # withheld
        ScoreSummary(count=4, raters=4, held_count=1, verified_raters=2, min_count=5),
        ScoreSummary(count=3, raters=3, min_count=7),
        ScoreSummary(**shown),
        ScoreSummary(**shown, held_count=2, verified_count=3, verified_raters=3),
        ScoreSummary(**{**shown, "ci_low": None, "ci_high": None}, held_count=1),
        ScoreSummary(**{**shown, "distribution": [0, 0, 0, 0, 12]}, verified_raters=1),
        ScoreSummary(
            count=12345, raters=12001, mean=Decimal("4.999"), ci_low=Decimal("1"), ci_high=Decimal("5"),
            distribution=[1, 0, 2344, 5000, 5000], held_count=1001, verified_raters=1000,
        ),
        # A minimum of 0 (a setting): a score of no rating shows its bars, each share 0.
        ScoreSummary(min_count=0, distribution=[0, 0, 0, 0, 0], mean=Decimal("0")),
    ]  # fmt: skip


@pytest.mark.parametrize("thousands", [False, True])
@pytest.mark.parametrize("language", LANGUAGES)
def test_a_score_is_written_as_its_template_writes_it(settings, language, thousands):
    settings.USE_THOUSAND_SEPARATOR = thousands
    with translation.override(language):
        for summary in _summaries():
            expected = render_to_string("feedback/_score.html", {"summary": summary})
            assert score_markup.score(summary) == expected
            tag = Template("{% load participation %}{% score_summary summary %}")
            assert tag.render(Context({"summary": summary})) == expected
            chapter = Template(CHAPTER_SCORE).render(Context({"summary": summary}))
            assert score_markup.chapter_score(summary) == chapter


def _items() -> list[tuple[Indicator | Story, ScoreSummary]]:
    edition = Edition(year=2023)
    indicator = Indicator(
        code="A-1", name="公园绿地 500 米服务半径覆盖率 <达到> & “好”", name_en="Parks' <reach>"
    )
    other = Indicator(code="b_2", name="短", name_en="")
    story = Story(slug="a-story", title="故事 & <标题>", title_en='Story "one"')
    for item in (indicator, other, story):
        item.edition = edition
    return [
        (
            indicator,
            ScoreSummary(
                count=9, mean=Decimal("4.123"), ci_low=Decimal("3.5"), ci_high=Decimal("4.9"), raters=9,
                distribution=[0, 0, 1, 4, 4],
            ),
        ),
        (story, ScoreSummary(count=1234, mean=Decimal("3.5"), raters=1200)),  # no interval
        (other, ScoreSummary(count=5, mean=Decimal(1), ci_low=Decimal(1), ci_high=Decimal("2.5"), raters=5)),
    ]  # fmt: skip


def _chart(items) -> dict:
    """The chart's data as the template's ``chapter_chart`` tag gave it."""
    return {
        "type": "interval",
        "label": translation.gettext("平均分"),
        "interval_label": translation.gettext("95% 区间"),
        "labels": [score_markup.chart_label(_name(item)) for item, _ in items],
        "values": [float(summary.mean) for _, summary in items],
        "low": [float(s.ci_low) if s.ci_low is not None else None for _, s in items],
        "high": [float(s.ci_high) if s.ci_high is not None else None for _, s in items],
        "min": 1,
        "max": 5,
    }


def _name(item: Indicator | Story) -> str:
    return item.display_name if isinstance(item, Indicator) else item.display_title


def _field(item: Indicator | Story) -> str:
    return "name" if isinstance(item, Indicator) else "title"


@pytest.mark.parametrize("thousands", [False, True])
@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("min_count", [5, 10])
def test_the_chapter_chart_is_written_as_its_template_wrote_it(settings, language, thousands, min_count):
    settings.USE_THOUSAND_SEPARATOR = thousands
    settings.AGGREGATE_MIN_COUNT = min_count
    with translation.override(language):
        for items, below in [
            ([], 0),
            ([], 3),
            (_items(), 0),
            (_items(), 1),
            (_items(), 1234),
            (_items()[:1], 2),
        ]:
            rows = [(item, summary, _field(item), item.get_absolute_url()) for item, summary in items]
            context = {"rows": rows, "chart": _chart(items), "below_minimum": below, "min_count": min_count}
            expected = Template(CHAPTER_CHART).render(Context(context))
            assert score_markup.chapter_chart(items, below_minimum=below) == expected


@override_settings(FORCE_SCRIPT_NAME="/portal/", STATIC_URL="static/")
def test_the_fixed_texts_follow_the_script_prefix():
    set_script_prefix("/portal/")
    try:
        summary = ScoreSummary()
        assert 'href="/portal/static/' in score_markup.chapter_score(summary)
        assert score_markup.chapter_score(summary) == Template(CHAPTER_SCORE).render(
            Context({"summary": summary})
        )
        html = score_markup.chapter_chart(_items(), below_minimum=0)
        assert 'src="/portal/static/' in html and 'href="/portal/2023/' in html
    finally:
        set_script_prefix("/")
    # Back at the root: the texts of that prefix (a memo of the process) are not given again.
    summary = ScoreSummary()
    assert score_markup.chapter_score(summary) == Template(CHAPTER_SCORE).render(
        Context({"summary": summary})
    )
