"""The indicator table for staff, as CSV or Excel: one row per indicator value.

Each row carries its indicator's fields (edition year, code, chapter, section,
name, unit, direction, comparison, source sentence, status) next to one value
(year, month, figure, qualifier). An indicator the report gives no figure for
yet has one row with the value columns blank.

A value staff add must name its source (数值来源): the report's own figures
come from the data file. Import keys an indicator on (报告年度, 指标编码) and a value on (indicator,
年份, 月份): both are created or updated, never deleted. Every row is
validated (unknown edition, chapter or section, a qualifier the report does
not use, a figure that is not a number, a month outside 1–12, a missing code,
two rows for one value, two rows of one indicator that disagree …); a file
with any bad row is shown with its row-level errors and imports nothing (the
admin runs the file in one transaction and rolls it all back).

A figure its indicator's quoted sentence does not state (45.1 under "森林覆盖
率达到 44.9%") must give 数值来源 and 来源日期, and the preview lists it above
the table: the page will show that source instead of the sentence. A file
exported before 来源日期 existed still imports, and so do headers written as
a field's name or as the export page once labelled them ("Edition (报告年度)").

What the file refers to is looked up once per import (``_Known``), not once
per row; the cells are read by the widgets of ``indicators.cells``.
"""

import copy
from collections import defaultdict
from decimal import Decimal
from typing import Any

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db.models import Max, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from import_export import fields, resources, widgets
from import_export.results import Result, RowResult

from indicators import cache as page_cache
from indicators.cells import (
    ChoiceCellWidget,
    DateCellWidget,
    DecimalCellWidget,
    IntegerCellWidget,
    MonthCellWidget,
    OptionalChoiceCellWidget,
    blank,
    cell_text,
)
from indicators.models import (
    ChangeDirection,
    Chapter,
    Direction,
    Edition,
    Indicator,
    IndicatorValue,
    PublishStatus,
    Qualifier,
    Section,
    figure_differs_from_source,
    figures_in,
    format_number,
    publication_normalize,
)
from indicators.selectors import values_prefetch

# Column headers, as staff read them. The first four identify the indicator.
COL_EDITION = "报告年度"
COL_CODE = "指标编码"
COL_CHAPTER = "章"
COL_SECTION = "节"
COL_NAME = "指标名称"
COL_NAME_EN = "英文名称"
COL_UNIT = "单位"
COL_INDICATOR_YEAR = "主数值年份"
COL_YEAR = "年份"
COL_MONTH = "月份"
COL_VALUE = "数值"
COL_QUALIFIER = "限定词"
COL_VALUE_SOURCE = "数值来源"
COL_VALUE_SOURCE_DATE = "来源日期"
COL_DIRECTION = "方向"
COL_CHANGE_VALUE = "变化量"
COL_CHANGE_UNIT = "变化单位"
COL_CHANGE_QUALIFIER = "变化限定词"
COL_CHANGE_DIRECTION = "变化方向"
COL_CHANGE_BASE = "比较基准"
COL_CHANGE_BASE_YEAR = "基准年份"
COL_SOURCE_TEXT = "原文"
COL_STATUS = "状态"

# The report's own figures come from the data file (``load_report``), which
# replaces any annual value without a source that it does not hold. A figure
# staff add must say where it comes from: that is honest, and it survives.
STAFF_VALUE_NEEDS_SOURCE = _(
    "新增的数值须写明来源（如“市统计局 2024 年公报”）；报告原有的数值由报告数据文件载入。"
)

# A figure the indicator's quoted sentence does not state is the city's no more:
# it must say where it comes from and when, and the page shows that instead of
# the sentence (``IndicatorValue.differs_from_source``).
VALUE_DIFFERS_NEEDS_SOURCE = _(
    "该数值与报告原文中的数字不同，须写明数值来源和来源日期：页面将显示它们，而不是报告原文。"
)
VALUE_DIFFERS_CONFIRM = _("如确需保存，请写明来源和来源日期，并勾选“我确认该数值与报告原文不同”。")
VALUE_DIFFERS_SAVED = _("已保存；指标页面显示该数值的来源和日期，而不是报告原文。")


def value_differs_message(indicator: Indicator, value: Decimal) -> str:
    """``数值 45.1 与报告原文中的数字（44.9、3479.2）不同。``"""
    figures = sorted(figures_in(indicator.source_text))
    return _("数值 %(value)s 与报告原文中的数字（%(figures)s）不同。") % {
        "value": format_number(value),
        "figures": "、".join(format_number(figure) for figure in figures),
    }


REQUIRED_COLUMNS = [COL_EDITION, COL_CODE, COL_YEAR, COL_MONTH, COL_VALUE]

# Model field → column, to put model validation errors under the column staff see.
INDICATOR_COLUMNS = {
    "edition": COL_EDITION,
    "code": COL_CODE,
    "chapter": COL_CHAPTER,
    "section": COL_SECTION,
    "name": COL_NAME,
    "name_en": COL_NAME_EN,
    "unit": COL_UNIT,
    "year": COL_INDICATOR_YEAR,
    "direction": COL_DIRECTION,
    "change_value": COL_CHANGE_VALUE,
    "change_unit": COL_CHANGE_UNIT,
    "change_qualifier": COL_CHANGE_QUALIFIER,
    "change_direction": COL_CHANGE_DIRECTION,
    "change_base": COL_CHANGE_BASE,
    "change_base_year": COL_CHANGE_BASE_YEAR,
    "source_text": COL_SOURCE_TEXT,
    "status": COL_STATUS,
}
VALUE_COLUMNS = {
    "year": COL_YEAR,
    "month": COL_MONTH,
    "value": COL_VALUE,
    "qualifier": COL_QUALIFIER,
    "source": COL_VALUE_SOURCE,
    "source_date": COL_VALUE_SOURCE_DATE,
}
# Columns that belong to the indicator: all rows of one indicator must agree on them.
INDICATOR_LEVEL_COLUMNS = [c for c in INDICATOR_COLUMNS.values() if c not in (COL_EDITION, COL_CODE)]


def _char(attribute: str, column: str) -> fields.Field:
    return fields.Field(attribute=attribute, column_name=column, widget=widgets.CharWidget(allow_blank=True))


class _Known:
    """What an import refers to, looked up once for the whole file and kept by natural key.

    Editions by year, chapters by (edition, number), sections by (chapter,
    number), indicators by (edition, code) and their values by (indicator,
    year, month): five queries however long the file is.
    """

    def __init__(self) -> None:
        self.editions: dict[int, Edition] = {}
        self.chapters: dict[tuple[int, int], Chapter] = {}
        self.sections: dict[tuple[int, int], Section] = {}
        self.indicators: dict[tuple[int, str], Indicator] = {}
        self.values: dict[tuple[int, int, int | None], IndicatorValue] = {}

    @classmethod
    def load(cls, *, years: set[int]) -> "_Known":
        known = cls()
        known.editions = {e.year: e for e in Edition.objects.filter(year__in=years)}
        chapters = Chapter.objects.filter(edition__year__in=years)
        known.chapters = {(c.edition_id, c.number): c for c in chapters}
        sections = Section.objects.filter(chapter__edition__year__in=years)
        known.sections = {(s.chapter_id, s.number): s for s in sections}
        # Joined as the export and the diff read them: edition year, chapter and section numbers.
        indicators = Indicator.objects.filter(edition__year__in=years).select_related(
            "edition", "chapter", "section"
        )
        known.indicators = {(i.edition_id, i.code): i for i in indicators}
        values = IndicatorValue.objects.filter(indicator__edition__year__in=years)
        known.values = {(v.indicator_id, v.year, v.month): v for v in values}
        return known

    # A row gets a copy: a row that fails must not leave its half-written
    # changes on the object the file's next rows start from.

    def indicator(self, edition: Edition, code: str) -> Indicator | None:
        indicator = self.indicators.get((edition.pk, code))
        return copy.copy(indicator) if indicator is not None else None

    def value(self, indicator: Indicator, year: int, month: int | None) -> IndicatorValue | None:
        value = self.values.get((indicator.pk, year, month))
        return copy.copy(value) if value is not None else None

    def remember(self, value: IndicatorValue, *, with_value: bool) -> None:
        """A row was saved: what it wrote is what the next rows find."""
        indicator = value.indicator
        self.indicators[(indicator.edition_id, indicator.code)] = indicator
        if with_value:
            self.values[(indicator.pk, value.year, value.month)] = value


class IndicatorValueResource(resources.ModelResource):
    """One row per value; the indicator's own columns repeat on each of its rows."""

    # Identify the indicator (resolved by ``get_or_init_instance``, never written through).
    edition = fields.Field(
        attribute="indicator__edition__year",
        column_name=COL_EDITION,
        widget=IntegerCellWidget(minimum=1900, maximum=2100),
        readonly=True,
    )
    code = fields.Field(
        attribute="indicator__code", column_name=COL_CODE, widget=widgets.CharWidget(), readonly=True
    )
    chapter = fields.Field(
        attribute="indicator__chapter__number",
        column_name=COL_CHAPTER,
        widget=IntegerCellWidget(minimum=1, maximum=99),
        readonly=True,
    )
    section = fields.Field(
        attribute="indicator__section__number",
        column_name=COL_SECTION,
        widget=IntegerCellWidget(minimum=1, maximum=99),
        readonly=True,
    )
    # The indicator's fields.
    name = _char("indicator__name", COL_NAME)
    name_en = _char("indicator__name_en", COL_NAME_EN)
    unit = _char("indicator__unit", COL_UNIT)
    indicator_year = fields.Field(
        attribute="indicator__year",
        column_name=COL_INDICATOR_YEAR,
        widget=IntegerCellWidget(minimum=1900, maximum=2100),
    )
    # The value.
    year = fields.Field(
        attribute="year", column_name=COL_YEAR, widget=IntegerCellWidget(minimum=1900, maximum=2100)
    )
    month = fields.Field(attribute="month", column_name=COL_MONTH, widget=MonthCellWidget())
    value = fields.Field(attribute="value", column_name=COL_VALUE, widget=DecimalCellWidget())
    qualifier = fields.Field(
        attribute="qualifier",
        column_name=COL_QUALIFIER,
        widget=OptionalChoiceCellWidget(Qualifier, what=_("限定词"), write_label=False),
    )
    value_source = _char("source", COL_VALUE_SOURCE)
    value_source_date = fields.Field(
        attribute="source_date", column_name=COL_VALUE_SOURCE_DATE, widget=DateCellWidget()
    )
    # Direction, comparison, source sentence, publication.
    direction = fields.Field(
        attribute="indicator__direction",
        column_name=COL_DIRECTION,
        widget=ChoiceCellWidget(Direction, what=_("方向")),
    )
    change_value = fields.Field(
        attribute="indicator__change_value", column_name=COL_CHANGE_VALUE, widget=DecimalCellWidget()
    )
    change_unit = _char("indicator__change_unit", COL_CHANGE_UNIT)
    change_qualifier = fields.Field(
        attribute="indicator__change_qualifier",
        column_name=COL_CHANGE_QUALIFIER,
        widget=OptionalChoiceCellWidget(Qualifier, what=_("限定词"), write_label=False),
    )
    change_direction = fields.Field(
        attribute="indicator__change_direction",
        column_name=COL_CHANGE_DIRECTION,
        widget=OptionalChoiceCellWidget(ChangeDirection, what=_("变化方向")),
    )
    change_base = _char("indicator__change_base", COL_CHANGE_BASE)
    change_base_year = fields.Field(
        attribute="indicator__change_base_year",
        column_name=COL_CHANGE_BASE_YEAR,
        widget=IntegerCellWidget(minimum=1900, maximum=2100),
    )
    source_text = _char("indicator__source_text", COL_SOURCE_TEXT)
    status = fields.Field(
        attribute="indicator__status",
        column_name=COL_STATUS,
        widget=ChoiceCellWidget(PublishStatus, what=_("状态")),
    )

    class Meta:
        model = IndicatorValue
        name = _("指标与数值（每行一个数值）")
        fields = (
            "edition",
            "code",
            "chapter",
            "section",
            "name",
            "name_en",
            "unit",
            "indicator_year",
            "year",
            "month",
            "value",
            "qualifier",
            "value_source",
            "value_source_date",
            "direction",
            "change_value",
            "change_unit",
            "change_qualifier",
            "change_direction",
            "change_base",
            "change_base_year",
            "source_text",
            "status",
        )
        import_id_fields = ("edition", "code", "year", "month")
        skip_unchanged = True
        report_skipped = True
        clean_model_instances = True
        use_transactions = True

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._row_errors: dict[int, dict[str, str]] = {}
        self._current: dict[str, Any] = {}
        self._known = _Known()
        self._source_warnings: list[dict] = []

    # --- whole-file checks -----------------------------------------------------------------------------

    def _header_aliases(self) -> dict[str, str]:
        """Other headers a column may carry in a file made by hand or from the export page's labels.

        The field's name (``edition``), its English title (``Edition``) and the
        export page's former label (``Edition (报告年度)``), in any case.
        """
        aliases = {}
        for name, field in self.fields.items():
            title = name.replace("_", " ").title()
            for alias in (name, title, f"{title} ({field.column_name})"):
                aliases[alias.casefold()] = field.column_name
        return aliases

    def before_import(self, dataset, **kwargs: Any) -> None:
        # Excel and editors leave stray spaces, a byte-order mark and empty rows behind.
        headers = [str(h or "").replace("\ufeff", "").strip() for h in dataset.headers or []]
        aliases = self._header_aliases()
        dataset.headers = [aliases.get(header.casefold(), header) for header in headers]
        for index in range(len(dataset) - 1, -1, -1):
            if all(blank(cell) for cell in dataset[index]):
                del dataset[index]
        missing = [c for c in REQUIRED_COLUMNS if c not in dataset.headers]
        if missing:
            raise ValidationError(
                _("文件缺少必需的列：%(columns)s。请先导出一份表格，在其基础上修改。")
                % {"columns": "、".join(missing)}
            )
        self._row_errors = self._cross_row_errors(dataset)
        self._source_warnings = []
        self._known = _Known.load(years=self._edition_years(dataset))

    def _edition_years(self, dataset) -> set[int]:
        """The edition years the file names (a bad cell is reported on its row later)."""
        years = set()
        for data in dataset.dict:
            try:
                year = self.fields["edition"].clean(data)
            except ValueError:
                continue
            if year is not None:
                years.add(year)
        return years

    def _cross_row_errors(self, dataset) -> dict[int, dict[str, str]]:
        """Two rows for one value, or rows of one indicator that disagree on its fields."""
        errors: dict[int, dict[str, str]] = defaultdict(dict)
        first_of_value: dict[tuple, int] = {}
        first_of_indicator: dict[tuple, tuple[int, dict]] = {}
        for number, data in enumerate(dataset.dict, start=1):
            indicator_key = (cell_text(data.get(COL_EDITION)), cell_text(data.get(COL_CODE)))
            if not all(indicator_key):
                continue
            value_key = (*indicator_key, cell_text(data.get(COL_YEAR)), cell_text(data.get(COL_MONTH)))
            if value_key in first_of_value and value_key[2]:
                errors[number][COL_YEAR] = _(
                    "与第 %(row)d 行是同一个数值（同一指标、年份、月份），请合并为一行。"
                ) % {"row": first_of_value[value_key]}
            first_of_value.setdefault(value_key, number)
            if indicator_key not in first_of_indicator:
                first_of_indicator[indicator_key] = (number, data)
                continue
            first_number, first = first_of_indicator[indicator_key]
            for column in INDICATOR_LEVEL_COLUMNS:
                if column in data and cell_text(data[column]) != cell_text(first[column]):
                    errors[number][column] = _("同一指标的各行须一致：第 %(row)d 行写的是“%(first)s”。") % {
                        "row": first_number,
                        "first": first[column] or "",
                    }
        return dict(errors)

    # --- one row ---------------------------------------------------------------------------------------

    def import_row(self, row, instance_loader, **kwargs: Any):
        self._current = {"number": kwargs.get("row_number"), "row": row, "errors": {}}
        return super().import_row(row, instance_loader, **kwargs)

    def get_or_init_instance(self, instance_loader, row) -> tuple[IndicatorValue, bool]:
        """Find the indicator by (edition, code) and the value by (year, month), or start new ones."""
        errors: dict[str, Any] = self._current["errors"]
        edition = self._resolve_edition(row, errors)
        code = str(row.get(COL_CODE) or "").strip()
        if not code:
            errors[COL_CODE] = _("指标编码必填。")
        indicator = self._known.indicator(edition, code) if edition is not None and code else None
        if indicator is None:
            indicator = Indicator(edition=edition, code=code, status=PublishStatus.DRAFT)
        indicator_only = all(blank(row.get(c)) for c in (COL_YEAR, COL_MONTH, COL_VALUE))
        value = None if indicator_only else self._existing_value(indicator, row)
        if value is not None:
            value.indicator = indicator  # the same object the row's indicator columns write to
            new = False
        else:
            value = IndicatorValue(indicator=indicator)
            new = indicator.pk is None if indicator_only else True
        self._current.update(edition=edition, indicator_only=indicator_only, instance=value)
        return value, new

    def _existing_value(self, indicator: Indicator, row) -> IndicatorValue | None:
        if indicator.pk is None:
            return None
        try:
            year = self.fields["year"].clean(row)
            month = self.fields["month"].clean(row)
        except ValueError:
            return None  # reported by the field itself
        return None if year is None else self._known.value(indicator, year, month)

    def _resolve_edition(self, row, errors: dict) -> Edition | None:
        try:
            year = self.fields["edition"].clean(row)
        except ValueError as error:
            errors[COL_EDITION] = str(error)
            return None
        if year is None:
            errors[COL_EDITION] = _("报告年度必填。")
            return None
        edition = self._known.editions.get(year)
        if edition is None:
            errors[COL_EDITION] = _("没有 %(year)s 年度的报告，请先在“年度报告”中建立。") % {"year": year}
        return edition

    def _resolve_place(self, indicator: Indicator, edition: Edition | None, row, errors: dict) -> None:
        """Set the chapter and section the row names, within the row's edition."""
        if COL_CHAPTER not in row:
            return
        chapter = self._resolve_chapter(edition, row, errors)
        if chapter is None:
            return
        indicator.chapter = chapter
        if COL_SECTION in row:
            self._resolve_section(indicator, chapter, row, errors)

    def _resolve_chapter(self, edition: Edition | None, row, errors: dict) -> Chapter | None:
        try:
            number = self.fields["chapter"].clean(row)
        except ValueError as error:
            errors[COL_CHAPTER] = str(error)
            return None
        if number is None:
            errors[COL_CHAPTER] = _("章必填。")
            return None
        if edition is None:
            return None  # the edition's own error says why
        chapter = self._known.chapters.get((edition.pk, number))
        if chapter is None:
            errors[COL_CHAPTER] = _("%(year)s 年度报告没有第 %(number)s 章。") % {
                "year": edition.year,
                "number": number,
            }
        return chapter

    def _resolve_section(self, indicator: Indicator, chapter: Chapter, row, errors: dict) -> None:
        try:
            number = self.fields["section"].clean(row)
        except ValueError as error:
            errors[COL_SECTION] = str(error)
            return
        if number is None:
            indicator.section = None
            return
        section = self._known.sections.get((chapter.pk, number))
        if section is None:
            errors[COL_SECTION] = _("第 %(chapter)s 章没有第 %(number)s 节。") % {
                "chapter": chapter.number,
                "number": number,
            }
            return
        indicator.section = section

    def import_instance(self, instance: IndicatorValue, row, **kwargs: Any) -> None:
        """Write the row's cells; collect every bad cell under its column's name."""
        errors: dict[str, Any] = dict(self._current["errors"])
        # After the instance was copied for the diff, so a move to another chapter shows.
        self._resolve_place(instance.indicator, self._current["edition"], row, errors)
        messages: dict[str, list[str]] = {column: [str(message)] for column, message in errors.items()}
        for field in self.get_import_fields():
            if field.readonly:
                continue  # the identifying columns, resolved above
            if self._current["indicator_only"] and not field.attribute.startswith("indicator__"):
                continue
            try:
                self.import_field(field, instance, row, **kwargs)
            except ValueError as error:
                messages.setdefault(field.column_name, []).append(str(error))
        for column, message in self._row_errors.get(self._current["number"], {}).items():
            messages.setdefault(column, []).append(str(message))
        if messages:
            raise ValidationError(messages)

    def validate_instance(
        self,
        instance: IndicatorValue,
        import_validation_errors: dict | None = None,
        validate_unique: bool = True,
    ) -> None:
        """The model's own rules on the indicator and on the value, reported by column."""
        errors: dict[str, list] = {k: list(v) for k, v in (import_validation_errors or {}).items()}
        self._validate_indicator(instance.indicator, errors)
        if not self._current.get("indicator_only"):
            self._validate_value(instance, errors)
        if errors:
            raise ValidationError(errors)

    def _validate_indicator(self, indicator: Indicator, errors: dict[str, list]) -> None:
        if indicator.change_value is not None and not indicator.change_direction:
            errors.setdefault(COL_CHANGE_DIRECTION, []).append(
                _("填写了变化量时须注明变化方向（增加或减少）。")
            )
        if indicator.chapter_id is None and COL_CHAPTER not in errors:
            errors.setdefault(COL_CHAPTER, []).append(_("新指标须填写章。"))
        # The edition, chapter and section were found in this import's own
        # lookups (``_Known``), so they exist: checking each again would cost
        # a query per row. The code is unique per edition by the lookup too.
        exclude = ["edition", "chapter", "section"]
        exclude += [name for name, column in INDICATOR_COLUMNS.items() if column in errors]
        self._collect(errors, indicator, INDICATOR_COLUMNS, exclude)

    def _validate_value(self, value: IndicatorValue, errors: dict[str, list]) -> None:
        if value.pk is None and not value.source.strip():
            errors.setdefault(COL_VALUE_SOURCE, []).append(STAFF_VALUE_NEEDS_SOURCE)
        self._check_departure_from_source(value, errors)
        # Uniqueness of (indicator, year, month) is settled by the lookup and
        # the duplicate-row check; the indicator may not be saved yet.
        exclude = ["indicator"] + [name for name, column in VALUE_COLUMNS.items() if column in errors]
        self._collect(errors, value, VALUE_COLUMNS, exclude)

    def _check_departure_from_source(self, value: IndicatorValue, errors: dict[str, list]) -> None:
        """A figure the sentence does not state needs its source and date, and is shown in the preview.

        Compared with the sentence as the row leaves it (the row may change both).
        """
        indicator = value.indicator
        if not figure_differs_from_source(indicator, year=value.year, month=value.month, value=value.value):
            return
        if not value.source.strip() and COL_VALUE_SOURCE not in errors:
            errors.setdefault(COL_VALUE_SOURCE, []).append(VALUE_DIFFERS_NEEDS_SOURCE)
        if value.source_date is None and COL_VALUE_SOURCE_DATE not in errors:
            errors.setdefault(COL_VALUE_SOURCE_DATE, []).append(VALUE_DIFFERS_NEEDS_SOURCE)
        self._current["differs"] = value_differs_message(indicator, value.value)

    @staticmethod
    def _collect(errors: dict[str, list], obj, columns: dict[str, str], exclude: list[str]) -> None:
        try:
            obj.full_clean(exclude=exclude)
        except ValidationError as error:
            for name, messages in error.message_dict.items():
                column = columns.get(name, NON_FIELD_ERRORS)
                errors.setdefault(column, []).extend(messages)

    def before_save_instance(self, instance: IndicatorValue, row, **kwargs: Any) -> None:
        indicator = instance.indicator
        # The file has no publish date. "Published" without one publishes now
        # (the rule the admin's form follows too); "draft" takes the indicator
        # off the site and clears its date, as the admin's unpublish action does.
        if indicator.status == PublishStatus.DRAFT:
            indicator.published_at = None
        else:
            indicator.published_at = publication_normalize(
                indicator.status, indicator.published_at, timezone.now()
            )
        if indicator.pk is None:
            # A new indicator goes after the others of its chapter.
            last = Indicator.objects.filter(chapter=indicator.chapter).aggregate(last=Max("order"))["last"]
            indicator.order = (last or 0) + 1
        indicator.save()
        instance.indicator = indicator  # sets indicator_id now that it has one

    def do_instance_save(self, instance: IndicatorValue, is_create: bool) -> None:
        if not self._current.get("indicator_only"):
            super().do_instance_save(instance, is_create)

    def after_import_row(self, row, row_result: RowResult, **kwargs: Any) -> None:
        if row_result.is_new() or row_result.is_update():
            # Saved: the file's later rows of this indicator start from here.
            self._known.remember(self._current["instance"], with_value=not self._current["indicator_only"])
            if self._current.get("differs"):
                value = self._current["instance"]
                self._source_warnings.append(
                    {
                        "number": self._current["number"],
                        "indicator": value.indicator.name,
                        "year": value.year,
                        "message": self._current["differs"],
                    }
                )
        # A row without a value changed only its indicator: log that one.
        if self._current.get("indicator_only") and row_result.is_valid() and not row_result.is_skip():
            row_result.instance = row_result.instance.indicator if row_result.instance else None
            row_result.add_instance_info(row_result.instance)

    def after_import(self, dataset, result: Result, **kwargs: Any) -> None:
        super().after_import(dataset, result, **kwargs)
        # After the commit only: a preview (dry run) is rolled back, and its bump with it.
        page_cache.report_changed(years=self._edition_years(dataset))
        # Rows whose figure departs from the report's sentence, listed above the preview
        # (admin/indicators/indicator/import.html) for staff to confirm knowingly.
        result.source_warnings = self._source_warnings

    # --- export -----------------------------------------------------------------------------------------

    def filter_export(self, queryset: QuerySet, **kwargs: Any) -> list[IndicatorValue]:
        """Indicators (the admin's filtered list) become their value rows, in report order."""
        indicators = (
            queryset.select_related("edition", "chapter", "section")
            .prefetch_related(None)  # whatever the caller's queryset prefetches, values in series order
            .prefetch_related(values_prefetch())
            .order_by("edition__year", "chapter__number", "order", "id")
        )
        rows: list[IndicatorValue] = []
        for indicator in indicators:
            values = list(indicator.values.all())
            rows.extend(values or [IndicatorValue(indicator=indicator, year=None, value=None)])
        return rows

    def get_queryset(self) -> QuerySet[Indicator]:
        return Indicator.objects.all()
