"""CSV and Excel import/export of the indicator table, through the real admin views.

Staff export the table, edit it, and import it back: a good file creates and
updates indicators and values; a file with any bad row shows the row errors
and changes nothing at all.
"""

import csv
import io
from decimal import Decimal

import openpyxl
import pytest
from django.contrib import admin
from django.contrib.admin.models import ADDITION, LogEntry
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from indicators.models import ChangeDirection, Indicator, IndicatorValue, PublishStatus
from indicators.resources import IndicatorValueResource
from tests.factories import ChapterFactory, EditionFactory, IndicatorFactory, SectionFactory

pytestmark = pytest.mark.django_db

CSV_FORMAT, XLSX_FORMAT = "0", "1"
IMPORT_URL = reverse("admin:indicators_indicator_import")
PROCESS_URL = reverse("admin:indicators_indicator_process_import")
EXPORT_URL = reverse("admin:indicators_indicator_export")

HEADERS = [
    "报告年度",
    "指标编码",
    "章",
    "节",
    "指标名称",
    "英文名称",
    "单位",
    "主数值年份",
    "年份",
    "月份",
    "数值",
    "限定词",
    "数值来源",
    "来源日期",
    "方向",
    "变化量",
    "变化单位",
    "变化限定词",
    "变化方向",
    "比较基准",
    "基准年份",
    "原文",
    "状态",
]


@pytest.fixture
def report():
    """The 2023 edition with chapter 4 (sections 1, 2) and one indicator with two values."""
    edition = EditionFactory(year=2023)
    chapter = ChapterFactory(edition=edition, number=4, slug="ecology", theme="生态底线")
    SectionFactory(chapter=chapter, number=1, title="生态空间")
    section = SectionFactory(chapter=chapter, number=2, title="公园绿地")
    IndicatorFactory(
        chapter=chapter,
        section=section,
        code="park-coverage",
        name="公园绿地500米服务半径覆盖率",
        name_en="Park coverage",
        unit="%",
        year=2023,
        source_text="由88.7%提高到90.5%。",
        values=[(2022, "88.7"), (2023, "90.5")],
    )
    return edition


def _row(cells: dict | None = None) -> dict:
    """A row of the park indicator as exported, with ``cells`` (column → text) changed."""
    row = {
        "报告年度": "2023",
        "指标编码": "park-coverage",
        "章": "4",
        "节": "2",
        "指标名称": "公园绿地500米服务半径覆盖率",
        "英文名称": "Park coverage",
        "单位": "%",
        "主数值年份": "2023",
        "年份": "2023",
        "月份": "",
        "数值": "90.5",
        "限定词": "",
        "数值来源": "",
        "来源日期": "",
        "方向": "越高越好",
        "变化量": "",
        "变化单位": "",
        "变化限定词": "",
        "变化方向": "",
        "比较基准": "",
        "基准年份": "",
        "原文": "由88.7%提高到90.5%。",
        "状态": "已发布",
    }
    row.update(cells or {})
    return row


def _new_indicator_row(cells: dict | None = None) -> dict:
    return _row(
        {
            "指标编码": "new-parks",
            "节": "1",
            "指标名称": "新增公园",
            "英文名称": "New parks",
            "单位": "个",
            "年份": "2023",
            "数值": "50",
            "限定词": "余",
            "原文": "新建公园50余个。",
            "变化量": "10",
            "变化方向": "增加",
            "比较基准": "上年",
            "状态": "草稿",
            **(cells or {}),
        }
    )


def _csv(rows: list[dict], encoding: str = "utf-8") -> SimpleUploadedFile:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=HEADERS)
    writer.writeheader()
    writer.writerows(rows)
    return SimpleUploadedFile("indicators.csv", buffer.getvalue().encode(encoding), content_type="text/csv")


def _xlsx(rows: list[dict]) -> SimpleUploadedFile:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(HEADERS)
    for row in rows:
        # Excel holds numbers as numbers: write them so, as staff's files will.
        sheet.append([_excel_cell(row[h]) for h in HEADERS])
    # Excel keeps formatted but empty rows at the end: they are not data.
    sheet.cell(row=sheet.max_row + 2, column=len(HEADERS), value=None).number_format = "0.0"
    buffer = io.BytesIO()
    book.save(buffer)
    return SimpleUploadedFile(
        "indicators.xlsx",
        buffer.getvalue(),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )


def _excel_cell(text: str):
    if text == "":
        return None
    try:
        number = Decimal(text)
    except ArithmeticError:
        return text
    return int(number) if number == number.to_integral_value() else float(number)


def _snapshot() -> tuple:
    """Everything an import could touch, to compare before and after."""
    indicators = list(
        Indicator.objects.order_by("pk").values_list(
            "pk", "code", "name", "chapter_id", "section_id", "status", "change_value", "updated_at"
        )
    )
    values = list(
        IndicatorValue.objects.order_by("pk").values_list("pk", "indicator_id", "year", "month", "value")
    )
    return indicators, values


def _preview(staff, upload, file_format: str):
    return staff.post(IMPORT_URL, {"format": file_format, "resource": "0", "import_file": upload})


def _import(staff, upload, file_format: str):
    """Upload, check the preview has no errors, and confirm."""
    preview = _preview(staff, upload, file_format)
    assert preview.status_code == 200
    result = preview.context["result"]
    assert not result.has_errors() and not result.has_validation_errors(), [
        (r.number, r.error_dict) for r in result.invalid_rows
    ]
    confirm = preview.context["confirm_form"]
    response = staff.post(PROCESS_URL, {**confirm.initial}, follow=True)
    assert response.status_code == 200
    return response


SOURCE = {"数值来源": "市园林绿化局 2024 年通报"}
GOOD_ROWS = [
    # Updates the 2023 value to a figure the sentence does not state: with its source and date.
    _row({"数值": "91.2", "限定词": "以上", **SOURCE, "来源日期": "2024-03-01"}),
    _row({"年份": "2021", "数值": "86.1", **SOURCE}),  # adds a 2021 value
    _row({"年份": "2023", "月份": "3", "数值": "90.9", **SOURCE}),  # adds a monthly value
    _new_indicator_row(SOURCE),
    _new_indicator_row({"年份": "2022", "数值": "40", "限定词": "", **SOURCE}),
]


def _assert_good_rows_landed() -> None:
    park = Indicator.objects.get(code="park-coverage")
    assert {(v.year, v.month): (v.value, v.qualifier) for v in park.values.all()} == {
        (2021, None): (Decimal("86.1"), ""),
        (2022, None): (Decimal("88.7"), ""),
        (2023, None): (Decimal("91.2"), "以上"),
        (2023, 3): (Decimal("90.9"), ""),
    }
    new = Indicator.objects.get(code="new-parks")
    assert (new.name, new.unit, new.chapter.number, new.section.number) == ("新增公园", "个", 4, 1)
    assert (new.change_value, new.change_direction, new.change_base) == (
        Decimal("10"),
        ChangeDirection.INCREASE,
        "上年",
    )
    assert new.status == PublishStatus.DRAFT and not new.is_public
    assert {(v.year, v.value, v.qualifier) for v in new.values.all()} == {
        (2022, Decimal("40"), ""),
        (2023, Decimal("50"), "余"),
    }


@pytest.mark.parametrize(
    ("make_file", "file_format"), [(_csv, CSV_FORMAT), (_xlsx, XLSX_FORMAT)], ids=["csv", "xlsx"]
)
def test_good_file_creates_and_updates_indicators_and_values(staff, report, make_file, file_format):
    preview = _preview(staff, make_file(GOOD_ROWS), file_format)
    assert [row.import_type for row in preview.context["result"].rows] == [
        "update",
        "new",
        "new",
        "new",
        "new",
    ]
    # The preview is a dry run: nothing has changed yet.
    assert not Indicator.objects.filter(code="new-parks").exists()

    response = _import(staff, make_file(GOOD_ROWS), file_format)

    assert "导入" in response.content.decode() or "Import finished" in response.content.decode()
    _assert_good_rows_landed()


@pytest.mark.parametrize("encoding", ["utf-8-sig", "gb18030"], ids=["utf-8 with BOM", "excel-gbk"])
def test_csv_saved_by_excel_imports_in_either_encoding(staff, report, encoding):
    _import(staff, _csv(GOOD_ROWS, encoding=encoding), CSV_FORMAT)

    _assert_good_rows_landed()


def test_status_published_in_the_file_publishes_with_a_date(staff, report):
    _import(staff, _csv([_new_indicator_row({"状态": "已发布", **SOURCE})]), CSV_FORMAT)

    assert Indicator.objects.get(code="new-parks").is_public


def test_status_draft_in_the_file_takes_an_indicator_off_the_site(staff, report):
    _import(staff, _csv([_row({"状态": "草稿"})]), CSV_FORMAT)

    park = Indicator.objects.get(code="park-coverage")
    assert (park.status, park.published_at, park.is_public) == (PublishStatus.DRAFT, None, False)


def test_a_row_without_a_value_creates_an_indicator_without_figures(staff, report):
    row = _new_indicator_row({"指标编码": "hotline-monthly", "年份": "", "数值": "", "限定词": ""})

    response = _import(staff, _csv([row]), CSV_FORMAT)

    indicator = Indicator.objects.get(code="hotline-monthly")
    assert indicator.name == "新增公园" and not indicator.values.exists()
    assert LogEntry.objects.filter(
        content_type__model="indicator", object_id=str(indicator.pk), action_flag=ADDITION
    ).exists()
    assert response.status_code == 200


def test_moving_an_indicator_to_another_section_and_renaming_it(staff, report):
    _import(
        staff,
        _csv(
            [
                _row({"节": "1", "指标名称": "公园覆盖率"}),
                _row({"年份": "2022", "数值": "88.7", "节": "1", "指标名称": "公园覆盖率"}),
            ]
        ),
        CSV_FORMAT,
    )

    park = Indicator.objects.get(code="park-coverage")
    assert (park.section.number, park.name) == (1, "公园覆盖率")


BAD_ROWS = [
    # A good row: it must not land either.
    (_row({"限定词": "以上"}), None),
    # Cell errors, each on a value of its own.
    (_row({"年份": "2010", "限定词": "大约"}), "“大约” 不是可用的限定词"),
    (_row({"年份": "2011", "数值": "九十"}), "“九十” 不是数字"),
    (_row({"年份": "2012", "月份": "13"}), "月份应为 1–12 的整数"),
    (_row({"年份": "二〇一三"}), "“二〇一三” 不是整数"),
    (_row({"指标编码": ""}), "指标编码必填"),
    (_row({"报告年度": "2031"}), "没有 2031 年度的报告"),
    (_row({"年份": "2014"}), "新增的数值须写明来源"),
    # Indicator errors, each on a new indicator of its own.
    (_new_indicator_row({"指标编码": "bad-chapter", "章": "9"}), "2023 年度报告没有第 9 章"),
    (_new_indicator_row({"指标编码": "bad-section", "节": "7"}), "第 4 章没有第 7 节"),
    (_new_indicator_row({"指标编码": "bad-direction", "方向": "更好"}), "“更好” 不是可用的方向"),
    (_new_indicator_row({"指标编码": "bad-status", "状态": "公开"}), "“公开” 不是可用的状态"),
    (_new_indicator_row({"指标编码": "bad-change", "变化方向": ""}), "填写了变化量时须注明变化方向"),
    (_new_indicator_row({"指标编码": "no-source", "原文": ""}), "此字段不能为空"),
    # Two rows of one indicator that disagree.
    (_row({"年份": "2022", "数值": "88.7", "指标名称": "另一个名字"}), "同一指标的各行须一致"),
]


@pytest.mark.parametrize(
    ("make_file", "file_format"), [(_csv, CSV_FORMAT), (_xlsx, XLSX_FORMAT)], ids=["csv", "xlsx"]
)
def test_bad_file_shows_row_errors_and_changes_nothing(staff, report, make_file, file_format):
    before = _snapshot()

    response = _preview(staff, make_file([row for row, _ in BAD_ROWS]), file_format)

    assert response.status_code == 200
    page = response.content.decode()
    for _, message in BAD_ROWS:
        if message:
            assert message in page, message
    # Listed row by row in plain sight, with the row as the spreadsheet numbers it.
    assert "第 2 行（表格第 3 行）" in page
    result = response.context["result"]
    invalid = {row.number for row in result.invalid_rows}
    assert invalid == set(range(2, len(BAD_ROWS) + 1))
    assert "confirm_form" not in response.context
    assert _snapshot() == before


def test_duplicate_rows_for_one_value_are_refused(staff, report):
    before = _snapshot()

    response = _preview(staff, _csv([_row({"数值": "91"}), _row({"数值": "92"})]), CSV_FORMAT)

    assert "与第 1 行是同一个数值" in response.content.decode()
    assert _snapshot() == before


def test_file_without_the_key_columns_is_refused(staff, report):
    upload = SimpleUploadedFile("x.csv", "名称,数值\n公园,1\n".encode(), content_type="text/csv")
    before = _snapshot()

    response = _preview(staff, upload, CSV_FORMAT)

    assert "文件缺少必需的列" in response.content.decode()
    assert "confirm_form" not in response.context
    assert _snapshot() == before


def test_confirming_a_bad_file_imports_nothing(staff, report):
    # As if the file had changed between the preview and the confirmation.
    before = _snapshot()
    # Where the admin keeps an upload between preview and confirm (the shared cache).
    stored = admin.site.get_model_admin(Indicator).get_tmp_storage_class()(read_mode="rb")
    stored.save(_csv([_row({"数值": "95"}), _row({"章": "9"})]).read())

    response = staff.post(
        PROCESS_URL,
        {
            "import_file_name": stored.name,
            "original_file_name": "indicators.csv",
            "format": CSV_FORMAT,
            "resource": "0",
        },
        follow=True,
    )

    assert "整个文件未导入任何数据" in response.content.decode()
    assert _snapshot() == before


# --- export ------------------------------------------------------------------------------------------


def _export(staff, file_format: str):
    fields = IndicatorValueResource().get_export_order()
    data = {"format": file_format, "resource": "0"}
    data.update({f"indicatorvalueresource_{name}": "on" for name in fields})
    response = staff.post(EXPORT_URL, data)
    assert response.status_code == 200, response.content[:500]
    return response


def _with_more_data(report) -> None:
    chapter = report.chapters.get(number=4)
    IndicatorFactory(chapter=chapter, code="forest", name="森林覆盖率", values=[(2023, "44.9", "约")])
    IndicatorFactory(chapter=chapter, code="hotline-monthly", name="12345 月度来电", values=[], draft=True)


def test_export_csv_has_every_value_row_with_its_qualifier(staff, report):
    _with_more_data(report)

    response = _export(staff, CSV_FORMAT)

    assert response["Content-Type"].startswith("text/csv")
    text = response.content.decode("utf-8")
    assert text.startswith("\ufeff"), "a BOM so Excel reads the Chinese correctly"
    rows = list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))
    assert list(rows[0]) == HEADERS
    assert [(r["指标编码"], r["年份"], r["数值"], r["限定词"], r["状态"]) for r in rows] == [
        ("park-coverage", "2022", "88.7", "", "已发布"),
        ("park-coverage", "2023", "90.5", "", "已发布"),
        ("forest", "2023", "44.9", "约", "已发布"),
        ("hotline-monthly", "", "", "", "草稿"),
    ]
    assert rows[0]["章"] == "4" and rows[0]["节"] == "2" and rows[0]["方向"] == "越高越好"
    assert rows[0]["原文"] == "由88.7%提高到90.5%。"


def test_export_xlsx_has_every_value_row_with_its_qualifier(staff, report):
    _with_more_data(report)

    response = _export(staff, XLSX_FORMAT)

    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    header, *rows = list(sheet.iter_rows(values_only=True))
    assert list(header) == HEADERS
    code, year, value, qualifier = (HEADERS.index(h) for h in ["指标编码", "年份", "数值", "限定词"])
    assert [(r[code], r[year], r[value], r[qualifier] or "") for r in rows] == [
        ("park-coverage", 2022, 88.7, ""),
        ("park-coverage", 2023, 90.5, ""),
        ("forest", 2023, 44.9, "约"),
        ("hotline-monthly", None, None, ""),
    ]


@pytest.mark.parametrize("file_format", [CSV_FORMAT, XLSX_FORMAT], ids=["csv", "xlsx"])
def test_an_exported_file_imports_back_unchanged(staff, report, file_format):
    _with_more_data(report)
    before = _snapshot()
    exported = _export(staff, file_format).content
    name = "export.csv" if file_format == CSV_FORMAT else "export.xlsx"

    preview = _preview(staff, SimpleUploadedFile(name, exported), file_format)

    result = preview.context["result"]
    assert not result.has_errors() and not result.has_validation_errors(), [
        (r.number, r.error_dict) for r in result.invalid_rows
    ]
    assert {row.import_type for row in result.rows} == {"skip"}
    assert _snapshot() == before


# --- queries ------------------------------------------------------------------------------------------
#
# An import looks up what the file refers to (editions, chapters, sections,
# indicators, values) once for the whole file, so a file of a thousand rows
# does not run a thousand lookups. django-import-export wraps each row in a
# savepoint (so that one failing row cannot poison the others); those
# statements are its own and are left out of the counts.


def _more_indicators(report, n: int) -> None:
    """``n`` more published indicators in chapter 4 (section 2), each with two annual values."""
    section = report.chapters.get(number=4).sections.get(number=2)
    for _ in range(n):
        IndicatorFactory(chapter=section.chapter, section=section, values=[(2022, "1"), (2023, "2")])


def _statements(captured: CaptureQueriesContext) -> list[str]:
    return [q["sql"] for q in captured if not q["sql"].startswith(SAVEPOINT_STATEMENTS)]


SAVEPOINT_STATEMENTS = ("SAVEPOINT", "RELEASE SAVEPOINT", "ROLLBACK TO SAVEPOINT")


def test_an_unchanged_file_imports_in_as_many_queries_however_long_it_is(staff, report):
    def preview_of_export() -> tuple[int, list[str]]:
        exported = _export(staff, CSV_FORMAT).content
        with CaptureQueriesContext(connection) as captured:
            preview = _preview(staff, SimpleUploadedFile("export.csv", exported), CSV_FORMAT)
        assert {row.import_type for row in preview.context["result"].rows} == {"skip"}
        return len(preview.context["result"].rows), _statements(captured)

    _more_indicators(report, 2)
    small_rows, small = preview_of_export()
    _more_indicators(report, 10)
    large_rows, large = preview_of_export()

    assert (small_rows, large_rows) == (6, 26)
    assert len(large) == len(small), large


def _reads_of(statements: list[str], *tables: str) -> list[str]:
    return [sql for sql in statements if any(f'FROM "{table}"' in sql for table in tables)]


def test_a_changed_file_looks_up_editions_chapters_and_sections_once(staff, report):
    def import_changing_every_value(n: int) -> list[str]:
        _more_indicators(report, n)
        rows = [
            _row(
                {
                    "指标编码": indicator.code,
                    "指标名称": indicator.name,
                    "英文名称": indicator.name_en,
                    "单位": indicator.unit,
                    "方向": str(indicator.get_direction_display()),
                    "原文": indicator.source_text,
                    "年份": "2023",
                    "数值": f"{n}.5",
                    # Not the figure of the sentence: it names its source and date.
                    **SOURCE,
                    "来源日期": "2024-03-01",
                }
            )
            for indicator in Indicator.objects.exclude(code="park-coverage")
        ]
        with CaptureQueriesContext(connection) as captured:
            preview = _preview(staff, _csv(rows), CSV_FORMAT)
        result = preview.context["result"]
        assert not result.has_validation_errors(), [(r.number, r.error_dict) for r in result.invalid_rows]
        assert {row.import_type for row in result.rows} == {"update"}
        return _reads_of(
            _statements(captured), "indicators_edition", "indicators_chapter", "indicators_section"
        )

    small = import_changing_every_value(2)
    large = import_changing_every_value(10)

    assert len(large) == len(small) == 3, large
