"""The satisfaction figures' markup, written in Python: a score (``feedback/_score.html``,
the template that describes it), the chapter page's score and its chart of the chapter's
items.

An uncached chapter page spent a third of its rendering on these through the template
engine: inclusion tags, a dozen ``{% blocktranslate %}`` and ``floatformat``, and a
``{% fixed %}`` lookup per fixed part. The markup and whitespace are those the templates
wrote (``tests/test_chapter_score_markup.py`` renders both, zh-hans and en, and compares
them); each translation is the msgid of the template's ``{% translate %}`` or
``{% blocktranslate %}`` (whose ``%`` the template doubles, ``%%``), not escaped, as the
template left a translation; each figure the template's ``floatformat`` or
``localize``; every item's text escaped. The fixed texts (translations, static files'
URLs) are made once per process, language and script prefix (``settings_memo``).
"""

import html
from collections.abc import Callable
from decimal import Decimal

from django.conf import settings
from django.template.defaultfilters import floatformat
from django.templatetags.static import static
from django.urls import get_script_prefix
from django.utils import numberformat
from django.utils.formats import get_format, localize
from django.utils.html import json_script
from django.utils.translation import get_language, gettext, ngettext

from feedback.selectors import ScoreSummary
from indicators.memo import settings_memo
from indicators.models import Indicator, Story, is_english, localized_in
from indicators.page_urls import indicator_urls, story_urls
from indicators.templatetags.report import localized_html, truncated

# --- Figures ------------------------------------------------------------------------------


@settings_memo(maxsize=4096)
def two_places(value: Decimal, language: str | None) -> str:
    """``value|floatformat:2`` in ``language``: a mean or a bound (1–5, three decimals
    stored), so a few thousand values at most; the filter's work is most of a rated row."""
    return str(floatformat(value, 2))


@settings_memo(maxsize=8)
def _integer_format(language: str | None) -> tuple[str, object, str, bool]:
    """The number formats of ``language`` and whether an integer is grouped at all
    (``numberformat.format``'s rule: only with ``USE_THOUSAND_SEPARATOR`` and a grouping)."""
    decimal_separator = get_format("DECIMAL_SEPARATOR", language, use_l10n=True)
    grouping = get_format("NUMBER_GROUPING", language, use_l10n=True)
    thousand_separator = get_format("THOUSAND_SEPARATOR", language, use_l10n=True)
    grouped = bool(settings.USE_THOUSAND_SEPARATOR) and grouping != 0
    return decimal_separator, grouping, thousand_separator, grouped


def integers() -> Callable[[int], str]:
    """``formats.localize`` for the integers of one list: ``number_format``'s call, with the
    language's formats looked up once rather than for every number; an integer not grouped
    is its digits (``numberformat.format``'s own shortcut)."""
    decimal_separator, grouping, thousand_separator, grouped = _integer_format(get_language())
    if not grouped:
        return str

    def integer(value: int) -> str:
        return numberformat.format(
            value, decimal_separator, None, grouping, thousand_separator, force_grouping=False, use_l10n=True
        )

    return integer


@settings_memo(maxsize=2048)
def _share(percent: float, language: str | None) -> str:
    """``{{ percent }}`` (``localize``) of a bar's share: 0.0 to 100.0 by tenths."""
    return str(localize(percent))


# --- A score (``feedback/_score.html``) -------------------------------------------------------


@settings_memo(maxsize=16)
def _score_texts(language: str | None) -> dict[str, str]:
    return {
        "interval": gettext("95%% 区间：%(low)s–%(high)s"),
        "verified": gettext("，其中实名验证 %(n)s 人"),
        "held": gettext("另有 %(n)s 条评分待核实"),
        "table": (
            '\n  <table class="dist">\n'
            f'    <caption class="visually-hidden">{gettext("评分分布")}</caption>\n'
            f'    <thead class="visually-hidden"><tr><th scope="col">{gettext("评分")}</th>'
            f'<th scope="col">{gettext("占比")}</th><th scope="col">{gettext("评分数")}</th></tr></thead>\n'
            "    <tbody>\n      "
        ),
    }


@settings_memo(maxsize=64)
def _withheld(min_count: int, language: str | None) -> str:
    """The score's text below the minimum of raters (its ``{% fixed summary.min_count %}``)."""
    shown = gettext("满 %(n)s 人评价后显示平均分、区间和分布。") % {"n": localize(min_count)}
    return (
        f'<p class="score__mean score__mean--none">{gettext("评价人数不足")}</p>\n'
        f'    <p class="score__ci">{shown}</p>'
    )


def score_bars(summary: ScoreSummary) -> str:
    """The rows of a score's distribution table, 5 down to 1: label, bar, share and count,
    the label the msgid of the template's, the figures as its ``{{ }}`` and ``stringformat``."""
    label = gettext("%(s)s 分")
    language = get_language()
    integer = integers()
    rows = [
        f'<tr>\n        <th scope="row" class="dist__label">{html.escape(label % {"s": bar["score"]})}</th>\n'
        '        <td class="dist__track"><svg class="dist__bar" viewBox="0 0 100 1"'
        ' preserveAspectRatio="none" aria-hidden="true" focusable="false"><rect class="dist__fill"'
        f' width="{bar["percent"]:.1f}" height="1"/></svg>'
        f'<span class="visually-hidden">{_bar_share(bar["percent"], language)}%</span></td>\n'
        f'        <td class="dist__n">{integer(bar["count"])}</td>\n      </tr>'
        for bar in reversed(summary.bars)
    ]
    return "\n      ".join(rows)


def _bar_share(percent: float | int, language: str | None) -> str:
    # A share is a float, but 0 (an int) when nothing is counted: its own text, never 0.0's.
    return _share(percent, language) if isinstance(percent, float) else str(localize(percent))


def score(summary: ScoreSummary) -> str:
    """``feedback/_score.html``: the mean and its 95 % interval (or 评价人数不足), the raters
    (and the ratings, where a rater may give several: a chapter's), the verified among them,
    the held ratings and the distribution."""
    language = get_language()
    texts = _score_texts(language)
    integer = integers()
    if summary.mean is not None:
        interval = ""
        if summary.ci_low is not None:
            bounds = {
                "low": two_places(summary.ci_low, language),
                "high": two_places(summary.ci_high, language),
            }
            interval = f'<p class="score__ci">{texts["interval"] % bounds}</p>'
        head = (
            '\n    <p class="score__mean"><span class="score__value">'
            f'{two_places(summary.mean, language)}</span> <span class="score__scale">/ 5</span></p>\n'
            f"    {interval}\n  "
        )
    else:
        head = f"\n    {_withheld(summary.min_count, language)}\n  "
    raters = summary.raters
    count = ngettext("共 %(n)s 人评价", "共 %(n)s 人评价", raters) % {"n": integer(raters)}
    if summary.count != raters:  # a chapter's residents rate several of its items each
        ratings = ngettext("（%(n)s 条评分）", "（%(n)s 条评分）", summary.count)
        ratings %= {"n": integer(summary.count)}
        count += f'<span class="score__ratings">{ratings}</span>'
    if summary.verified_raters:
        verified = texts["verified"] % {"n": integer(summary.verified_raters)}
        count += f'<span class="score__verified">{verified}</span>'
    held = ""
    if summary.held_count:
        held = f'<p class="score__held">{texts["held"] % {"n": integer(summary.held_count)}}</p>'
    table = ""
    if summary.distribution is not None:
        table = f"{texts['table']}{score_bars(summary)}\n    </tbody>\n  </table>\n  "
    return (
        f'<div class="score">\n  {head}\n  <p class="score__count">{count}</p>\n  {held}\n  {table}\n</div>\n'
    )


# --- The chapter page's score and chart -------------------------------------------------------


@settings_memo(maxsize=16)
def _chapter_score_head(language: str | None, prefix: str) -> str:
    return (
        '<section class="participation participation--chapter" aria-labelledby="chapter-score-title">\n'
        "  \n"
        f'  <link rel="stylesheet" href="{static("feedback/participation.css")}">\n'
        f'  <h2 id="chapter-score-title">{gettext("本章市民满意度")}</h2>\n'
        f'  <p class="muted">{gettext("汇总本章各项指标和亮点故事的市民评分。")}</p>\n  '
    )


def chapter_score(summary: ScoreSummary) -> str:
    """The chapter's satisfaction: a heading, a line on what it sums up, the score."""
    return f"{_chapter_score_head(get_language(), get_script_prefix())}{score(summary)}\n</section>\n"


# Characters of an item's name on the chart's axis (the table beside it has the whole name).
CHART_LABEL_LENGTH = 16

# The chart's items: each with its summary.
Items = list[tuple[Indicator | Story, ScoreSummary]]


@settings_memo(maxsize=64)
def _chart_texts(language: str | None, prefix: str, min_count: int) -> dict[str, str]:
    n = {"n": localize(min_count)}
    interval = gettext("95%% 区间").replace("%%", "%")
    lead = gettext(
        "本章各项指标和亮点故事的市民平均分（1–5 分）及其 95%% 区间；只列出满 %(n)s 人评价的项目。"
    )
    none = gettext(
        "本章还没有满 %(n)s 人评价的指标或亮点故事。为它们评分，满 %(n)s 人后这里显示各项平均分和区间。"
    )
    return {
        "title": (
            '<section class="item-scores" id="item-scores" aria-labelledby="item-scores-title">\n'
            f'  <h2 id="item-scores-title">{gettext("各项满意度")}</h2>\n  '
        ),
        "lead": (
            '\n  <p class="muted">'
            f'{lead % n}</p>\n  <div class="chart chart--scores" hidden data-chart-wrapper>\n'
            '    <canvas data-chart="chapter-chart-data" role="img" aria-label="'
            f'{gettext("各项满意度的图表，数据见下表")}"></canvas>\n  </div>\n  '
        ),
        "table": (
            '\n  <div class="table-scroll" tabindex="0" role="region" aria-labelledby="item-scores-title">\n'
            '  <table class="data-table data-table--scores">\n'
            f"    <caption>{gettext('各项满意度（1–5 分）')}</caption>\n"
            f'    <thead><tr><th scope="col">{gettext("项目")}</th><th scope="col">{gettext("平均分")}</th>'
            f'<th scope="col">{interval}</th><th scope="col">{gettext("评价人数")}</th></tr></thead>\n'
            "    <tbody>\n      "
        ),
        "scripts": (
            f'\n  <script src="{static("vendor/chartjs/chart.umd.js")}" defer></script>\n'
            f'  <script src="{static("js/charts.js")}" defer></script>\n  '
        ),
        "none": (f'\n  <p class="muted">{none % n}</p>\n  '),
        # The chart's own labels (``static/js/charts.js``): Python's msgids, no ``%%``.
        "mean": gettext("平均分"),
        "interval": gettext("95% 区间"),
    }


def _item_names(items: Items) -> list[str]:
    """Each item's name (an indicator's ``display_name``, a story's ``display_title``),
    English or not decided once for the list."""
    english = is_english()
    return [
        localized_in(item, "name" if isinstance(item, Indicator) else "title", english=english)
        for item, _ in items
    ]


def _chart_rows(items: Items) -> str:
    """The table under the chart, one ``<tr>`` per item: name (linked), mean, interval,
    raters. The URLs are get_absolute_url()'s (``indicators.page_urls``); the names as
    ``localized_html`` writes them (on an English page, marked Chinese where shown in Chinese
    or quoting the report's term; on a Chinese page, escaped)."""
    urls = {Indicator: indicator_urls(), Story: story_urls()}
    language = get_language()
    english = is_english()
    integer = integers()
    rows = []
    for item, summary in items:
        indicator = isinstance(item, Indicator)
        key = item.code if indicator else item.slug
        url = urls[type(item)](item.edition.year, key)
        interval = ""
        if summary.ci_low is not None:
            interval = f"{two_places(summary.ci_low, language)}–{two_places(summary.ci_high, language)}"
        name = localized_html(item, "name" if indicator else "title", english=english)
        rows.append(
            f'<tr><th scope="row"><a href="{html.escape(url)}">{name}</a></th>'
            f"<td>{two_places(summary.mean, language)}</td><td>{interval}</td>"
            f"<td>{integer(summary.raters)}</td></tr>\n      "
        )
    return "".join(rows)


def chart_label(name: str) -> str:
    """``Truncator(name).chars(CHART_LABEL_LENGTH, truncate="…")`` (``report.truncated``)."""
    return truncated(name, CHART_LABEL_LENGTH, "…")


def chapter_chart(items: Items, *, below_minimum: int) -> str:
    """The chapter's items with enough raters (``items``, by descending mean): their mean and
    95 % interval as a chart (``static/js/charts.js``, the JSON in the page) over a table
    holding the same numbers; ``below_minimum``: the items not shown."""
    min_count = settings.AGGREGATE_MIN_COUNT
    texts = _chart_texts(get_language(), get_script_prefix(), min_count)
    if not items:
        return f"{texts['title']}{texts['none']}\n</section>\n"
    names = _item_names(items)
    chart = {
        "type": "interval",
        "label": texts["mean"],
        "interval_label": texts["interval"],
        "labels": [chart_label(name) for name in names],
        "values": [float(summary.mean) for _, summary in items],
        "low": [float(summary.ci_low) if summary.ci_low is not None else None for _, summary in items],
        "high": [float(summary.ci_high) if summary.ci_high is not None else None for _, summary in items],
        "min": 1,
        "max": 5,
    }
    below = ""
    if below_minimum:
        text = ngettext(
            "另有 %(counter)s 项不足 %(n)s 人评价，暂不显示。",
            "另有 %(counter)s 项不足 %(n)s 人评价，暂不显示。",
            below_minimum,
        ) % {"n": localize(min_count), "counter": localize(below_minimum)}
        below = f'<p class="muted">{text}</p>'
    return (
        f"{texts['title']}{texts['lead']}{json_script(chart, 'chapter-chart-data')}{texts['table']}"
        f"{_chart_rows(items)}\n    </tbody>\n  </table>\n  </div>\n  {below}{texts['scripts']}"
        "\n</section>\n"
    )
