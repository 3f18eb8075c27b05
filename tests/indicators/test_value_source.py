"""The report's numbers stay the city's.

An indicator page shows the figure above the report's sentence that states it.
Importing 45.1 for forest coverage used to leave "45.1%" above "报告原文：…达到
44.9%". Now a figure the sentence does not state is never saved silently: the
admin form asks for a tick, a source and a date; the import preview lists the
row; and the page shows that source and date instead of the sentence. Figures
are shown as the report writes them in the admin too (1065, not 1065.0000).
"""

import csv
import io
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
import yaml
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from indicators.models import Indicator, IndicatorValue, figure_differs_from_source, figures_in
from tests.factories import IndicatorFactory
from tests.html_forms import form_fields

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
SENTENCE = "全市森林覆盖率达到 44.9%，森林蓄积量达到 3479.2 万立方米。"
DIFFERS = "数值 45.1 与报告原文中的数字（44.9、3479.2）不同。"
CONFIRM = "我确认该数值与报告原文不同"
SOURCE = "市园林绿化局 2024 年通报"


# --- The numbers of a sentence -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sentence", "figures"),
    [
        (SENTENCE, {"44.9", "3479.2"}),
        ("热线共受理群众反映 2,143.8 万件。", {"2143.8"}),
        ("覆盖率达到 ４４．９%。", {"44.9"}),  # full-width, as a PDF may give it
        ("连续三年达到国家空气质量二级标准。", {"3", "2"}),
        ("2023 年中关村科技园研发人员首次突破百万人。", {"2023", "100"}),
        ("评选 2023 年十大北京最美街巷。", {"2023", "10"}),
        ("“四平台”国际影响力持续提升。", {"4"}),
        ("国际影响力持续提升。", set()),
    ],
)
def test_the_numbers_a_sentence_states(sentence, figures):
    assert figures_in(sentence) == {Decimal(f) for f in figures}


def test_only_the_indicators_own_year_figure_is_compared():
    forest = Indicator(year=2023, source_text=SENTENCE)

    assert figure_differs_from_source(forest, year=2023, month=None, value=Decimal("45.1"))
    assert not figure_differs_from_source(forest, year=2023, month=None, value=Decimal("44.90"))
    assert not figure_differs_from_source(forest, year=2022, month=None, value=Decimal("44.6"))
    assert not figure_differs_from_source(forest, year=2023, month=3, value=Decimal("44.6"))
    assert not figure_differs_from_source(
        Indicator(year=2023, source_text="森林覆盖率稳步提升。"), year=2023, month=None, value=Decimal("45.1")
    )


def test_every_figure_of_the_2023_report_is_the_number_of_its_sentence():
    """No false warning on the report's own data: Chinese numerals (三年, 百万人) count too."""
    data = yaml.safe_load((ROOT / "indicators" / "data" / "report_2023.yaml").read_text(encoding="utf-8"))
    checked = [item for item in data["indicators"] if item["value"] is not None]

    differing = [
        item["code"]
        for item in checked
        if figure_differs_from_source(
            Indicator(year=item["year"], source_text=item["source"]),
            year=item["year"],
            month=None,
            value=Decimal(str(item["value"])),
        )
    ]

    assert len(checked) > 100
    assert differing == []


# --- The admin form ----------------------------------------------------------------------------------


def _form_data(html: str) -> dict[str, list[str]]:
    data = form_fields(html[html.index('id="content-main"') :])
    data.pop("csrfmiddlewaretoken", None)
    return data


@pytest.fixture
def forest(chapter) -> Indicator:
    return IndicatorFactory(
        chapter=chapter,
        code="forest-coverage",
        name="森林覆盖率",
        unit="%",
        year=2023,
        source_text=SENTENCE,
        values=[(2022, "44.6"), (2023, "44.9")],
    )


def _value_url(value: IndicatorValue) -> str:
    return reverse("admin:indicators_indicatorvalue_change", args=[value.pk])


def _edit_value(staff, obj: IndicatorValue, /, **changes: str):
    data = _form_data(staff.get(_value_url(obj)).content.decode())
    data.update({name: [text] for name, text in changes.items()})
    return staff.post(_value_url(obj), data)


def test_a_figure_the_sentence_does_not_state_is_not_saved_silently(staff, forest):
    value = forest.values.get(year=2023)

    refused = _edit_value(staff, value, value="45.1")

    assert refused.status_code == 200
    page = refused.content.decode()
    assert DIFFERS in page and CONFIRM in page
    value.refresh_from_db()
    assert value.value == Decimal("44.9")


def test_a_confirmed_figure_needs_its_source_and_date(staff, forest):
    value = forest.values.get(year=2023)

    refused = _edit_value(staff, value, value="45.1", confirm_differs="on")
    form = refused.context["adminform"].form
    assert set(form.errors) == {"source", "source_date"}

    saved = _edit_value(
        staff, value, value="45.1", confirm_differs="on", source=SOURCE, source_date="2024-03-01"
    )

    assert saved.status_code == 302
    value.refresh_from_db()
    assert (value.value, value.source, value.source_date) == (Decimal("45.1"), SOURCE, date(2024, 3, 1))
    warning = staff.get(saved.url).content.decode()
    assert "已保存；指标页面显示该数值的来源和日期，而不是报告原文。" in warning


def test_a_confirmed_figure_is_not_asked_about_again_when_its_source_is_edited(staff, forest):
    value = forest.values.get(year=2023)
    IndicatorValue.objects.filter(pk=value.pk).update(
        value="45.1", source=SOURCE, source_date=date(2024, 3, 1)
    )

    response = _edit_value(staff, value, source="市园林绿化局 2024 年通报（修订）")

    assert response.status_code == 302, response.context["adminform"].form.errors


def test_the_sentences_own_figure_and_other_years_need_no_confirmation(staff, forest):
    assert _edit_value(staff, forest.values.get(year=2023), value="44.90").status_code == 302
    assert _edit_value(staff, forest.values.get(year=2022), value="44.7").status_code == 302


def test_the_inline_values_of_an_indicator_ask_the_same(staff, forest):
    url = reverse("admin:indicators_indicator_change", args=[forest.pk])
    data = _form_data(staff.get(url).content.decode())
    row = next(k.removesuffix("-year") for k, v in data.items() if k.endswith("-year") and v == ["2023"])
    data[f"{row}-value"] = ["45.1"]

    refused = staff.post(url, data)

    assert refused.status_code == 200
    assert DIFFERS in refused.content.decode()
    data.update(
        {
            f"{row}-confirm_differs": ["on"],
            f"{row}-source": [SOURCE],
            f"{row}-source_date": ["2024-03-01"],
        }
    )
    saved = staff.post(url, data)
    assert saved.status_code == 302, [f.errors for f in saved.context["inline_admin_formsets"][0].formset]
    assert forest.values.get(year=2023).value == Decimal("45.1")


# --- Figures without trailing zeros --------------------------------------------------------------------


def test_values_are_shown_as_the_report_writes_them(staff, chapter):
    indicator = IndicatorFactory(chapter=chapter, name="城市道路", unit="公里", values=[(2023, "1065")])
    Indicator.objects.filter(pk=indicator.pk).update(change_value=Decimal("1.5"), change_direction="increase")
    value = indicator.values.get()

    listing = staff.get(reverse("admin:indicators_indicatorvalue_changelist")).content.decode()
    form = staff.get(_value_url(value)).content.decode()
    parent = staff.get(reverse("admin:indicators_indicator_change", args=[indicator.pk])).content.decode()

    assert ">1065<" in listing
    assert 'name="value" value="1065"' in form
    assert 'name="values-0-value" value="1065"' in parent
    assert 'name="change_value" value="1.5"' in parent
    for page in (listing, form, parent):
        assert "1065.0000" not in page and "1.5000" not in page


# --- The import preview --------------------------------------------------------------------------------

HEADERS = ["报告年度", "指标编码", "年份", "月份", "数值", "数值来源", "来源日期"]


def _csv(rows: list[dict], headers: list[str] = HEADERS) -> SimpleUploadedFile:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=headers)
    writer.writeheader()
    writer.writerows(rows)
    return SimpleUploadedFile("indicators.csv", buffer.getvalue().encode(), content_type="text/csv")


def _forest_row(**cells: str) -> dict:
    row = {"报告年度": "2023", "指标编码": "forest-coverage", "年份": "2023", "月份": "", "数值": "45.1"}
    return {**row, **cells}


def _preview(staff, upload: SimpleUploadedFile):
    return staff.post(
        reverse("admin:indicators_indicator_import"), {"format": "0", "resource": "0", "import_file": upload}
    )


def test_the_import_preview_lists_a_figure_the_sentence_does_not_state(staff, forest):
    preview = _preview(staff, _csv([_forest_row(数值来源=SOURCE, 来源日期="2024/3/1")]))

    page = preview.content.decode()
    assert "与报告原文不符的数值" in page
    assert f"第 1 行（表格第 2 行）</strong> 森林覆盖率（2023 年）：{DIFFERS}" in page
    confirm = preview.context["confirm_form"]
    staff.post(reverse("admin:indicators_indicator_process_import"), confirm.initial)
    value = forest.values.get(year=2023)
    assert (value.value, value.source, value.source_date) == (Decimal("45.1"), SOURCE, date(2024, 3, 1))


def test_an_imported_figure_the_sentence_does_not_state_needs_its_source_and_date(staff, forest):
    preview = _preview(staff, _csv([_forest_row()]))

    result = preview.context["result"]
    assert [set(row.field_specific_errors) for row in result.invalid_rows] == [{"数值来源", "来源日期"}]
    assert "confirm_form" not in preview.context
    assert forest.values.get(year=2023).value == Decimal("44.9")


def test_the_sentences_own_figure_imports_without_a_warning(staff, forest):
    preview = _preview(staff, _csv([_forest_row(数值="44.9", 数值来源="", 来源日期="")]))

    assert "与报告原文不符的数值" not in preview.content.decode()


@pytest.mark.parametrize(
    "headers",
    [
        ["报告年度", "指标编码", "年份", "月份", "数值", "数值来源"],  # exported before 来源日期 existed
        # Labels of the export page as they were, and a field's own name.
        [
            "Edition (报告年度)",
            "Code (指标编码)",
            "Year (年份)",
            "Month (月份)",
            "Value (数值)",
            "value_source",
        ],
    ],
    ids=["without-source-date", "export-page-labels"],
)
def test_files_with_older_headers_still_import(staff, forest, headers):
    cells = ["2023", "forest-coverage", "2022", "", "44.7", SOURCE]
    upload = _csv([dict(zip(headers, cells, strict=True))], headers)

    preview = _preview(staff, upload)

    result = preview.context["result"]
    assert not result.has_errors() and not result.has_validation_errors(), [
        (r.number, r.error_dict) for r in result.invalid_rows
    ]
    assert [row.import_type for row in result.rows] == ["update"]


# --- The page -------------------------------------------------------------------------------------------


def test_a_figure_kept_against_the_sentence_shows_its_own_source_and_date(client, forest):
    forest.values.filter(year=2023).update(value="45.1", source=SOURCE, source_date=date(2024, 3, 1))

    html = client.get(forest.get_absolute_url()).content.decode()

    page = html[html.index("<article") :]
    assert '<p class="fact__value">45.1%</p>' in page
    assert f"数值来源：{SOURCE}（2024年3月1日）" in page
    assert "报告原文" not in page and "44.9%" not in page


def test_the_reports_own_figure_keeps_the_sentence(client, forest):
    page = client.get(forest.get_absolute_url()).content.decode()

    assert "报告原文" in page and SENTENCE in page
    assert "数值来源" not in page
