"""Open data: the published report and the stored scores as tables (``/open-data/``).

Four tables, each defined once here (its columns, their types and meanings):
``indicators`` (one row per published indicator: the figure the report
headlines, its comparison and the sentence it comes from), ``indicator-values``
(every point of every published indicator's series, with its own source when
staff entered it), ``stories`` and ``scores`` (residents' satisfaction as stored
by the aggregation, with the same withholding as the pages: below
``AGGREGATE_MIN_COUNT`` raters only the counts are given). The rows come from the
selectors the pages use, so a download never shows what a page would not.

From these definitions come the CSV (UTF-8 with a BOM, so a spreadsheet opens
the Chinese right), the XLSX (a sheet of rows and one of the data dictionary,
without the characters a spreadsheet cannot hold, no cell read as a formula),
the JSON, the Frictionless Data Package descriptor (``datapackage.json``, Table
Schema types) and the data dictionary on the page: one source, so they cannot
disagree. The views (``feedback.open_data_views``) serve them from the page
cache, renewed by any report edit and any aggregate refresh.
"""

import csv
import io
import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell

from feedback.models import AggregateScope, SurveyQuestion
from feedback.selectors import ScoreSummary, aggregates_by_object, district_list, survey_list_public
from indicators.models import format_number
from indicators.selectors import (
    chapter_list_published,
    indicator_list_published_newest_first,
    story_list_published,
)

# The licence of the tables, and whom to credit. The figures and texts are the
# city's report's; the scores are computed by the portal from residents' ratings.
LICENSE = {
    "name": "CC-BY-4.0",
    "title": "Creative Commons Attribution 4.0",
    "path": "https://creativecommons.org/licenses/by/4.0/",
}
ATTRIBUTION = gettext_lazy(
    "指标、故事内容来自《北京城市总体规划实施体检报告公众读本》；满意度统计由本平台根据市民评价计算。"
    "使用时请注明出处。"
)

FORMATS = ("csv", "xlsx", "json")

# What a spreadsheet cannot hold (XML 1.0 has no other control characters, nor U+FFFE/U+FFFF).
_UNHOLDABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


@dataclass(frozen=True)
class Column:
    """A column of a table: its name, Table Schema type and meaning, and how a row gives it."""

    name: str
    type: str  # Table Schema: string, integer, number, date, datetime
    description: Promise
    value: Callable[[Any], Any]


@dataclass(frozen=True)
class Table:
    name: str
    title: Promise
    description: Promise
    columns: tuple[Column, ...]
    rows: Callable[[Callable[[str], str]], Iterable[Any]]
    primary_key: tuple[str, ...] = ()

    def records(self, absolute: Callable[[str], str]) -> list[list[Any]]:
        """The table's rows, each a list of typed values (Decimal, int, str, date, datetime, None)."""
        return [[column.value(row) for column in self.columns] for row in self.rows(absolute)]


# --- The rows -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Linked:
    """A row object with its page's absolute URL."""

    obj: Any
    url: str


def _indicator_rows(absolute: Callable[[str], str]) -> list[_Linked]:
    return [_Linked(i, absolute(i.get_absolute_url())) for i in indicator_list_published_newest_first()]


def _value_rows(absolute: Callable[[str], str]) -> list[Any]:
    return [value for indicator in indicator_list_published_newest_first() for value in indicator.series]


def _story_rows(absolute: Callable[[str], str]) -> list[_Linked]:
    stories = story_list_published().defer("body").order_by("-edition__year", "kind", "rank", "order", "id")
    return [_Linked(s, absolute(s.get_absolute_url())) for s in stories]


@dataclass(frozen=True)
class ScoreRow:
    scope: str
    edition: int | None
    item: str
    name: str
    summary: ScoreSummary


def _scores(scope: str, items: list[tuple[int, int | None, str, str]]) -> list[ScoreRow]:
    """``items``: (object id, edition year, key, name) of the public things of ``scope``."""
    summaries = aggregates_by_object(scope=scope, object_ids=[pk for pk, *_ in items])
    return [ScoreRow(scope, year, key, name, summaries[pk]) for pk, year, key, name in items]


def score_rows() -> list[ScoreRow]:
    """Every public item's stored score, the districts' and the survey questions' (six queries)."""
    indicators = indicator_list_published_newest_first().prefetch_related(None)
    stories = story_list_published().defer("body")
    chapters = chapter_list_published().prefetch_related(None)
    questions = (
        SurveyQuestion.objects.filter(survey__in=survey_list_public())
        .select_related("survey__edition")
        .order_by("-survey__edition__year", "survey__opens_at", "order", "id")
    )
    return [
        *_scores(
            AggregateScope.INDICATOR,
            [(i.pk, i.edition.year, i.code, i.display_name) for i in indicators],
        ),
        *_scores(AggregateScope.STORY, [(s.pk, s.edition.year, s.slug, s.display_title) for s in stories]),
        *_scores(
            AggregateScope.CHAPTER,
            [(c.pk, c.edition.year, c.slug, f"{c.number} {c.display_theme}") for c in chapters],
        ),
        *_scores(AggregateScope.DISTRICT, [(d.pk, None, d.slug, d.display_name) for d in district_list()]),
        *_scores(
            AggregateScope.QUESTION,
            [
                (
                    q.pk,
                    q.survey.edition.year,
                    f"{q.survey.slug}-{q.order}",
                    f"{q.display_dimension} {q.display_text}",
                )
                for q in questions
            ],
        ),
    ]


def _score_rows(absolute: Callable[[str], str]) -> list[ScoreRow]:
    return score_rows()


# --- The tables ---------------------------------------------------------------------------------


def _current(indicator: Any, field: str) -> Any:
    value = indicator.current_value
    return getattr(value, field) if value is not None else None


INDICATORS = Table(
    name="indicators",
    title=gettext_lazy("指标"),
    description=gettext_lazy("已发布的指标：报告给出的数值（含限定词和单位）、比较和原文。"),
    primary_key=("edition", "code"),
    columns=(
        Column("edition", "integer", gettext_lazy("报告年度。"), lambda r: r.obj.edition.year),
        Column("code", "string", gettext_lazy("指标编码，在各年度间稳定。"), lambda r: r.obj.code),
        Column("chapter", "integer", gettext_lazy("章序号（1–7）。"), lambda r: r.obj.chapter.number),
        Column("chapter_theme", "string", gettext_lazy("章的领域。"), lambda r: r.obj.chapter.theme),
        Column(
            "section",
            "string",
            gettext_lazy("节的标题。"),
            lambda r: r.obj.section.title if r.obj.section_id else None,
        ),
        Column("name", "string", gettext_lazy("指标名称。"), lambda r: r.obj.name),
        Column("name_en", "string", gettext_lazy("英文名称。"), lambda r: r.obj.name_en or None),
        Column("unit", "string", gettext_lazy("单位。"), lambda r: r.obj.unit or None),
        Column("year", "integer", gettext_lazy("数值所指的年份。"), lambda r: _current(r.obj, "year")),
        Column(
            "value",
            "number",
            gettext_lazy("数值；报告未给出时为空。"),
            lambda r: _current(r.obj, "value"),
        ),
        Column(
            "qualifier",
            "string",
            gettext_lazy("报告的限定词（约、以上、余……），是数值的一部分。"),
            lambda r: _current(r.obj, "qualifier") or None,
        ),
        Column(
            "display",
            "string",
            gettext_lazy("报告中的写法，如“约 1200 万平方米”。"),
            lambda r: _current(r.obj, "display") or None,
        ),
        Column(
            "change",
            "string",
            gettext_lazy("报告给出的比较，如“较上年增长 1.8%”。"),
            lambda r: r.obj.display_change or None,
        ),
        Column(
            "direction",
            "string",
            gettext_lazy("方向：up 越高越好，down 越低越好，neutral 无好坏之分。"),
            lambda r: r.obj.direction,
        ),
        Column(
            "source_text", "string", gettext_lazy("报告中给出该数字的原句。"), lambda r: r.obj.source_text
        ),
        Column(
            "value_source",
            "string",
            gettext_lazy("数值不是报告原文时，工作人员注明的来源。"),
            lambda r: _current(r.obj, "source") or None,
        ),
        Column(
            "value_source_date",
            "date",
            gettext_lazy("该来源的日期。"),
            lambda r: _current(r.obj, "source_date"),
        ),
        Column("url", "string", gettext_lazy("指标页面的网址。"), lambda r: r.url),
    ),
    rows=_indicator_rows,
)

INDICATOR_VALUES = Table(
    name="indicator-values",
    title=gettext_lazy("指标数值序列"),
    description=gettext_lazy("已发布指标的每个年度（或月度）数值。"),
    columns=(
        Column("edition", "integer", gettext_lazy("报告年度。"), lambda v: v.indicator.edition.year),
        Column("code", "string", gettext_lazy("指标编码。"), lambda v: v.indicator.code),
        Column("year", "integer", gettext_lazy("数值所指的年份。"), lambda v: v.year),
        Column("month", "integer", gettext_lazy("月份（1–12）；年度数值为空。"), lambda v: v.month),
        Column("value", "number", gettext_lazy("数值。"), lambda v: v.value),
        Column("unit", "string", gettext_lazy("单位。"), lambda v: v.indicator.unit or None),
        Column("qualifier", "string", gettext_lazy("限定词。"), lambda v: v.qualifier or None),
        Column("display", "string", gettext_lazy("报告中的写法。"), lambda v: v.display),
        Column(
            "source",
            "string",
            gettext_lazy("来源；为空即来自本年度报告。"),
            lambda v: v.source or None,
        ),
        Column("source_date", "date", gettext_lazy("来源日期。"), lambda v: v.source_date),
    ),
    rows=_value_rows,
)

STORIES = Table(
    name="stories",
    title=gettext_lazy("亮点故事"),
    description=gettext_lazy("已发布的亮点故事：最美街巷、公园绿地、每月一题……"),
    primary_key=("edition", "slug"),
    columns=(
        Column("edition", "integer", gettext_lazy("报告年度。"), lambda r: r.obj.edition.year),
        Column("slug", "string", gettext_lazy("故事标识。"), lambda r: r.obj.slug),
        Column(
            "kind",
            "string",
            gettext_lazy("类型代码：best_alley 最美街巷、park_green 公园绿地、hotline_theme 每月一题等。"),
            lambda r: r.obj.kind,
        ),
        Column("title", "string", gettext_lazy("标题。"), lambda r: r.obj.title),
        Column("title_en", "string", gettext_lazy("英文标题。"), lambda r: r.obj.title_en or None),
        Column(
            "chapter",
            "integer",
            gettext_lazy("章序号。"),
            lambda r: r.obj.chapter.number if r.obj.chapter_id else None,
        ),
        Column(
            "district",
            "string",
            gettext_lazy("所在区的标识。"),
            lambda r: r.obj.district.slug if r.obj.district_id else None,
        ),
        Column(
            "district_name",
            "string",
            gettext_lazy("所在区。"),
            lambda r: r.obj.district.name if r.obj.district_id else None,
        ),
        Column(
            "street",
            "string",
            gettext_lazy("街道/乡镇。"),
            lambda r: r.obj.street.name if r.obj.street_id else None,
        ),
        Column("rank", "integer", gettext_lazy("名次（如十大最美街巷）。"), lambda r: r.obj.rank),
        Column(
            "latitude", "number", gettext_lazy("纬度（GCJ-02，与高德地图一致）。"), lambda r: r.obj.latitude
        ),
        Column("longitude", "number", gettext_lazy("经度（GCJ-02）。"), lambda r: r.obj.longitude),
        Column("summary", "string", gettext_lazy("摘要。"), lambda r: r.obj.summary or None),
        Column("url", "string", gettext_lazy("故事页面的网址。"), lambda r: r.url),
    ),
    rows=_story_rows,
)


SCORES = Table(
    name="scores",
    title=gettext_lazy("满意度统计"),
    description=gettext_lazy(
        "市民评分（1–5 分）的汇总：指标、故事、章、行政区（按评价者所在区）和问卷题目。"
        "评价人数不足最少人数时只给出人数。"
    ),
    columns=(
        Column(
            "scope",
            "string",
            gettext_lazy(
                "范围：indicator 指标、story 故事、chapter 章、district 行政区、question 问卷题目。"
            ),
            lambda r: r.scope,
        ),
        Column("edition", "integer", gettext_lazy("报告年度；行政区为空（跨年度）。"), lambda r: r.edition),
        Column(
            "item",
            "string",
            gettext_lazy("对象：指标编码、故事标识、章标识、区标识，或“问卷标识-题号”。"),
            lambda r: r.item,
        ),
        Column("name", "string", gettext_lazy("对象名称。"), lambda r: r.name),
        Column("count", "integer", gettext_lazy("计入统计的评分条数。"), lambda r: r.summary.count),
        Column("raters", "integer", gettext_lazy("评价人数（去重）。"), lambda r: r.summary.raters),
        Column(
            "mean",
            "number",
            gettext_lazy("平均分；评价人数不足最少人数时为空。"),
            lambda r: r.summary.mean,
        ),
        Column(
            "ci_low",
            "number",
            gettext_lazy("95% 区间下限；人数不足时为空。"),
            lambda r: r.summary.ci_low,
        ),
        Column(
            "ci_high",
            "number",
            gettext_lazy("95% 区间上限；人数不足时为空。"),
            lambda r: r.summary.ci_high,
        ),
        Column(
            "min_count",
            "integer",
            gettext_lazy("公开平均分所需的最少评价人数。"),
            lambda r: r.summary.min_count,
        ),
        Column(
            "updated_at",
            "datetime",
            gettext_lazy("统计更新时间（UTC）。"),
            lambda r: r.summary.updated_at,
        ),
    ),
    rows=_score_rows,
)

TABLES: dict[str, Table] = {table.name: table for table in (INDICATORS, INDICATOR_VALUES, STORIES, SCORES)}


# --- Writing them ---------------------------------------------------------------------------------


def _text(value: Any) -> str:
    """A value as CSV text: numbers without trailing zeros, dates in ISO 8601, times in UTC."""
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return format_number(value)
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def table_csv(table: Table, absolute: Callable[[str], str]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([column.name for column in table.columns])
    writer.writerows([_text(value) for value in record] for record in table.records(absolute))
    return out.getvalue().encode("utf-8-sig")


def _json_value(value: Any) -> Any:
    if isinstance(value, Decimal):
        # A JSON number: the shortest decimal that reads back as the same value.
        return float(value)
    if isinstance(value, date):
        return _text(value)
    return value


def table_json(table: Table, absolute: Callable[[str], str]) -> bytes:
    names = [column.name for column in table.columns]
    rows = [dict(zip(names, map(_json_value, record), strict=True)) for record in table.records(absolute)]
    payload = {
        "name": table.name,
        "title": str(table.title),
        "license": LICENSE,
        "attribution": str(ATTRIBUTION),
        "fields": schema(table)["fields"],
        "data": rows,
    }
    return json.dumps(payload, ensure_ascii=False, indent=1).encode("utf-8")


def _cell(sheet, value: Any) -> WriteOnlyCell:
    if isinstance(value, datetime):
        value = _text(value)  # a spreadsheet has no time zones
    if isinstance(value, str):
        value = _UNHOLDABLE.sub("", value)
    cell = WriteOnlyCell(sheet, value=value)
    if isinstance(value, str):
        cell.data_type = "s"  # text stays text, even "=…" (never a formula)
    return cell


def table_xlsx(table: Table, absolute: Callable[[str], str]) -> bytes:
    book = Workbook(write_only=True)
    sheet = book.create_sheet(table.name)
    sheet.append([_cell(sheet, column.name) for column in table.columns])
    for record in table.records(absolute):
        sheet.append([_cell(sheet, value) for value in record])
    dictionary = book.create_sheet(_("字段说明"))
    dictionary.append([_cell(dictionary, text) for text in (_("字段"), _("类型"), _("说明"))])
    for column in table.columns:
        dictionary.append(
            [_cell(dictionary, str(text)) for text in (column.name, column.type, column.description)]
        )
    dictionary.append([])
    dictionary.append([_cell(dictionary, str(ATTRIBUTION))])
    dictionary.append([_cell(dictionary, f"{LICENSE['title']} ({LICENSE['path']})")])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


WRITERS: dict[str, Callable[[Table, Callable[[str], str]], bytes]] = {
    "csv": table_csv,
    "xlsx": table_xlsx,
    "json": table_json,
}
CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "json": "application/json",
}


def schema(table: Table) -> dict:
    """The table's Table Schema (Frictionless)."""
    described: dict[str, Any] = {
        "fields": [
            {"name": column.name, "type": column.type, "description": str(column.description)}
            for column in table.columns
        ],
        "missingValues": [""],
    }
    if table.primary_key:
        described["primaryKey"] = list(table.primary_key)
    return described


def datapackage(*, home: str) -> dict:
    """The Data Package descriptor; each resource's path is its CSV beside the descriptor."""
    return {
        "profile": "tabular-data-package",
        "name": "beijing-master-plan-health-check",
        "title": str(_("北京城市总体规划实施体检 · 公众参与平台 开放数据")),
        "description": str(ATTRIBUTION),
        "homepage": home,
        "licenses": [LICENSE],
        "resources": [
            {
                "name": table.name,
                "title": str(table.title),
                "description": str(table.description),
                "path": f"{table.name}.csv",
                "profile": "tabular-data-resource",
                "format": "csv",
                "mediatype": "text/csv",
                "encoding": "utf-8-sig",
                "schema": schema(table),
            }
            for table in TABLES.values()
        ],
    }
