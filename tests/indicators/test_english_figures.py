"""Figures on the English pages: the report's numbers in English units, never other numbers.

``2185.8 万人`` reads ``21.858 million people`` to a reader who chose English; the
Chinese pages, the admin, the API and the open data keep the report's writing.
"""

import html
import json
import re
from decimal import Decimal

import pytest
from django.db.models import Q
from hypothesis import given
from hypothesis import strategies as st

from indicators.english_figures import quantity_english, unit_english, unit_label_english
from indicators.models import Indicator, format_quantity

RESIDENTS = "/2023/indicators/c2-resident-population/"


@pytest.mark.parametrize(
    ("value", "unit", "qualifier", "english"),
    [
        ("2185.8", "万人", "", "21.858 million people"),
        ("1.5", "万人", "", "15,000 people"),
        ("1200", "万平方米", "约", "about 12 million m²"),
        ("150", "万亩", "以上", "at least 1.5 million mu"),
        ("279", "亿千瓦时", "", "27.9 billion kWh"),
        ("3.5", "亿元", "", "350 million yuan"),
        ("2", "万家", "余", "more than 20,000"),
        ("8", "处", "", "8"),
        ("1065", "个", "", "1,065"),
        ("5000", "套（间）", "余", "more than 5,000 homes"),
        ("69.4", "%", "", "69.4%"),
        ("6", "%", "以上", "at least 6%"),
        ("4", "成", "超", "more than 40%"),
        ("30", "微克/立方米", "多", "more than 30 μg/m³"),
        ("114.5", "", "", "114.5"),
    ],
)
def test_a_figure_in_english(value, unit, qualifier, english):
    assert quantity_english(Decimal(value), unit, qualifier) == english


@pytest.mark.parametrize(("unit", "qualifier"), [("万标准立方米", ""), ("条", "左右")])
def test_a_unit_or_qualifier_without_english_keeps_the_reports_writing(unit, qualifier):
    value = Decimal("12.5")
    assert quantity_english(value, unit, qualifier) == format_quantity(value, unit, qualifier)


_SCALES = {"million": Decimal(10**6), "billion": Decimal(10**9)}


def _read_back(text: str) -> Decimal:
    """The number an English reader takes from ``21.858 million people``."""
    number, *rest = text.split()
    value = Decimal(number.replace(",", ""))
    return value * _SCALES[rest[0]] if rest and rest[0] in _SCALES else value


@given(
    value=st.decimals(min_value=0, max_value=10**6, places=4, allow_nan=False, allow_infinity=False),
    unit=st.sampled_from(["万人", "亿元", "万平方米", "万个", "亿千瓦时"]),
)
def test_a_magnitude_is_multiplied_out_exactly(value, unit):
    multiplier = Decimal(10**4) if unit.startswith("万") else Decimal(10**8)
    assert _read_back(quantity_english(value, unit, "")) == value * multiplier


def test_a_charts_unit_names_what_its_values_are_counted_in():
    # The chart's values stay the report's (2185.8), so the label says "10,000 people".
    assert unit_label_english("万人") == "10,000 people"
    assert unit_label_english("亿元") == "100 million yuan"
    assert unit_label_english("%") == "%"
    assert unit_label_english("万标准立方米") == "万标准立方米"


def test_a_tables_unit_is_the_one_its_english_figures_are_written_in():
    # Its cells read "21.858 million people": the caption's unit is "people".
    assert unit_english("万人") == "people"
    assert unit_english("成") == "%"
    assert unit_english("个") == ""
    assert unit_english("万标准立方米") == "万标准立方米"


# --- On the pages, with the 2023 report --------------------------------------------------------


@pytest.fixture
def english(client):
    assert client.post("/i18n/setlang/", {"language": "en", "next": "/"}).status_code == 302
    return client


def _text(response) -> str:
    return html.unescape(re.sub(r"<[^>]+>", " ", response.content.decode()))


def test_the_english_pages_give_the_resident_population_in_english(english, report_2023):
    indicator = Indicator.objects.get(code="c2-resident-population")
    chapter = _text(english.get(indicator.chapter.get_absolute_url()))
    assert "21.858 million people" in chapter
    assert "up 15,000 people on 2022" in chapter
    page = english.get(RESIDENTS)
    text = _text(page)
    assert "21.858 million people" in text
    assert "up 15,000 people on 2022" in text
    # Only the report's own sentences (the quoted source, the page's description) keep it.
    body = re.sub(r"<blockquote[^>]*>.*?</blockquote>|<meta [^>]*>", "", page.content.decode(), flags=re.S)
    assert "万人" not in body
    home = _text(english.get("/"))
    assert "21.858 million people" in home


def test_the_chinese_pages_keep_the_reports_writing(client, report_2023):
    text = _text(client.get(RESIDENTS))
    assert "2185.8 万人" in text
    assert "较上年末增长 1.5 万人" in text
    assert "million" not in text


def test_the_record_keeps_the_reports_writing_whatever_the_language(english, report_2023):
    # The API is a record: its "display" is the report's, whatever the reader's language.
    response = english.get("/api/v1/indicators/2023/c2-resident-population/")
    body = json.dumps(response.json(), ensure_ascii=False)
    assert "2185.8 万人" in body
    assert "million" not in body


def test_an_english_chart_labels_its_values_in_the_reports_unit(english, report_2023):
    in_magnitudes = Q(unit__startswith="万") | Q(unit__startswith="亿")
    charted = [i for i in Indicator.objects.published().filter(in_magnitudes) if len(i.series) > 1]
    assert charted, "the 2023 report has a series in 万 or 亿"
    indicator = charted[0]
    page = english.get(indicator.get_absolute_url()).content.decode()
    chart = json.loads(re.search(r'<script id="chart-data" type="application/json">(.*?)</script>', page)[1])
    assert chart["label"].endswith(f"({unit_label_english(indicator.unit)})")
    assert chart["label"].startswith(indicator.name_en or indicator.name)
    assert unit_label_english(indicator.unit).startswith(("10,000", "100 million"))
    # The values are the report's own, in its unit.
    assert chart["values"] == [float(point.value) for point in indicator.series]
