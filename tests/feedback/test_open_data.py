"""``/open-data/``: the 2023 report and the stored scores as CSV, XLSX and JSON, described by a
Frictionless Data Package that validates as served, with the figures the database holds."""

import csv
import io
import json
from decimal import Decimal

import openpyxl
import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from frictionless import Package

from feedback import aggregates, submissions
from feedback.models import SurveyAnswer
from feedback.residents import resident_key_hash
from indicators.models import Indicator, IndicatorValue, Story, public_q
from tests.conftest import REPORT_FILE, SURVEY_FILE, data_files_load

BOM = b"\xef\xbb\xbf"


@pytest.fixture(scope="module")
def _loaded_once(module_transaction) -> None:
    data_files_load(REPORT_FILE, SURVEY_FILE)


@pytest.fixture
def report(_loaded_once, db) -> dict:
    """The real 2023 report; one indicator rated by six residents, another by two."""
    rated, few = (
        Indicator.objects.filter(public_q(), values__month__isnull=True).distinct().order_by("id")[:2]
    )
    for i in range(6):
        submissions.rating_submit(
            resident_key_hash=resident_key_hash(f"od-{i}"), target=rated, score=i % 5 + 1
        )
    for i in range(2):
        submissions.rating_submit(resident_key_hash=resident_key_hash(f"od-few-{i}"), target=few, score=5)
    aggregates.aggregates_reconcile()
    return {"rated": rated, "few": few}


def _csv_rows(body: bytes) -> list[dict]:
    assert body.startswith(BOM)
    return list(csv.DictReader(io.StringIO(body[len(BOM) :].decode("utf-8"))))


def test_the_page_links_every_download_the_dictionary_the_licence_and_the_api_docs(client, report):
    page = client.get("/open-data/")

    assert page.status_code == 200
    html = page.content.decode()
    for name in ("indicators", "indicator-values", "stories", "scores"):
        for fmt in ("csv", "xlsx", "json"):
            assert f'href="/open-data/{name}.{fmt}"' in html
    assert 'href="/open-data/datapackage.json"' in html
    assert 'href="/districts/boundaries.geojson"' in html
    assert 'href="/api/v1/docs/"' in html
    assert "CC-BY-4.0" in html
    assert "《北京城市总体规划实施体检报告公众读本》" in html
    assert "<code>source_text</code>" in html  # the data dictionary


def test_the_data_package_as_served_validates_with_frictionless(client, report, tmp_path):
    descriptor = client.get("/open-data/datapackage.json")
    assert descriptor.status_code == 200
    (tmp_path / "datapackage.json").write_bytes(descriptor.content)
    for resource in descriptor.json()["resources"]:
        served = client.get(f"/open-data/{resource['path']}")
        assert served.status_code == 200
        assert served["Content-Type"] == "text/csv; charset=utf-8"
        (tmp_path / resource["path"]).write_bytes(served.content)

    package = Package(str(tmp_path / "datapackage.json"))
    report_ = package.validate()

    assert report_.valid, report_.flatten(["rowNumber", "fieldName", "type", "note"])
    assert {r.name for r in package.resources} == {"indicators", "indicator-values", "stories", "scores"}
    indicators = package.get_resource("indicators").read_rows()
    assert len(indicators) == Indicator.objects.filter(public_q()).count()


def test_the_csv_has_a_bom_and_the_figures_the_database_holds(client, report):
    rows = _csv_rows(client.get("/open-data/indicators.csv").content)

    published = Indicator.objects.filter(public_q()).prefetch_related("values")
    assert len(rows) == published.count() > 100
    by_code = {row["code"]: row for row in rows}
    for indicator in published:
        row = by_code[indicator.code]
        current = indicator.current_value
        if current is None:
            assert row["value"] == ""  # no figure in the report: none in the data
            continue
        assert Decimal(row["value"]) == current.value
        assert row["qualifier"] == current.qualifier
        assert row["source_text"] == indicator.source_text
        assert row["url"] == f"http://testserver{indicator.get_absolute_url()}"

    values = _csv_rows(client.get("/open-data/indicator-values.csv").content)
    assert len(values) == IndicatorValue.objects.filter(indicator__in=published).count()

    stories = _csv_rows(client.get("/open-data/stories.csv").content)
    assert len(stories) == Story.objects.filter(public_q()).count()
    alleys = [row for row in stories if row["kind"] == "best_alley"]
    assert len(alleys) == 10 and all(row["district"] for row in alleys)


def test_scores_show_counts_always_and_the_mean_only_from_the_minimum(client, report, settings):
    rows = _csv_rows(client.get("/open-data/scores.csv").content)
    by_item = {(row["scope"], row["item"]): row for row in rows}

    rated = by_item[("indicator", report["rated"].code)]
    assert (rated["count"], rated["raters"], rated["min_count"]) == (
        "6",
        "6",
        str(settings.AGGREGATE_MIN_COUNT),
    )
    assert Decimal(rated["mean"]) == Decimal("2.667")  # (1+2+3+4+5+1) / 6
    assert Decimal(rated["ci_low"]) < Decimal(rated["mean"]) < Decimal(rated["ci_high"])
    few = by_item[("indicator", report["few"].code)]
    assert (few["count"], few["mean"], few["ci_low"], few["ci_high"]) == ("2", "", "", "")
    # Every district and every survey question has its row, rated or not.
    assert len([key for key in by_item if key[0] == "district"]) == 16
    assert len([key for key in by_item if key[0] == "question"]) > 0
    assert not SurveyAnswer.objects.exists()


def test_the_xlsx_opens_with_text_kept_as_text_and_no_unholdable_character(client, report):
    story = Story.objects.filter(public_q()).order_by("id").first()
    Story.objects.filter(pk=story.pk).update(title='=HYPERLINK(\x07"x")')

    response = client.get("/open-data/stories.xlsx")

    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="stories.xlsx"'
    book = openpyxl.load_workbook(io.BytesIO(response.content))
    sheet = book["stories"]
    header = [cell.value for cell in sheet[1]]
    assert header[:4] == ["edition", "slug", "kind", "title"]
    rows = {row[1]: row for row in sheet.iter_rows(min_row=2, values_only=True)}
    assert len(rows) == Story.objects.filter(public_q()).count()
    assert rows[story.slug][3] == '=HYPERLINK("x")'
    cell = next(c for c in sheet["D"] if c.value == '=HYPERLINK("x")')
    assert cell.data_type == "s"
    assert book["字段说明"]["A2"].value == "edition"


def test_the_json_has_typed_values_and_the_same_rows(client, report):
    payload = json.loads(client.get("/open-data/indicators.json").content)

    assert payload["license"]["name"] == "CC-BY-4.0"
    assert [field["name"] for field in payload["fields"]][:2] == ["edition", "code"]
    row = next(r for r in payload["data"] if r["code"] == report["rated"].code)
    current = report["rated"].current_value
    assert Decimal(str(row["value"])) == current.value
    assert row["edition"] == 2023


def test_an_unknown_table_or_format_is_a_404(client, report):
    assert client.get("/open-data/nothing.csv").status_code == 404
    assert client.get("/open-data/indicators.pdf").status_code == 404
    assert client.post("/open-data/indicators.csv").status_code == 405


def test_downloads_are_cached_and_renewed_by_a_staff_edit_and_an_aggregate_refresh(
    client, report, settings, django_capture_on_commit_callbacks
):
    settings.PAGE_CACHE = True
    url = reverse("feedback:open_data_file", args=["scores", "csv"])
    first = client.get(url)
    again = client.get(url)
    assert first["ETag"] == again["ETag"]
    assert client.get(url, HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 304

    few = report["few"]
    for i in range(2, 6):
        submissions.rating_submit(resident_key_hash=resident_key_hash(f"od-few-{i}"), target=few, score=4)
    with django_capture_on_commit_callbacks(execute=True):
        aggregates.aggregates_reconcile()

    rows = _csv_rows(client.get(url).content)
    row = next(r for r in rows if (r["scope"], r["item"]) == ("indicator", few.code))
    assert (row["count"], row["raters"]) == ("6", "6")
    assert row["mean"] != ""

    indicators_url = reverse("feedback:open_data_file", args=["indicators", "csv"])
    client.get(indicators_url)
    value = few.current_value
    staff = Client()
    staff.force_login(
        get_user_model().objects.create_superuser("editor", "e@example.org", "a-long-passphrase")
    )
    edit = {
        "indicator": few.pk,
        "year": value.year,
        "month": "",
        "value": str(value.value + 1),
        "qualifier": value.qualifier,
        "source": "市统计局 2024 年公报",
        "source_date": "2024-03-01",
        "confirm_differs": "on",
    }
    with django_capture_on_commit_callbacks(execute=True):
        saved = staff.post(reverse("admin:indicators_indicatorvalue_change", args=[value.pk]), edit)
    assert saved.status_code == 302

    row = next(r for r in _csv_rows(client.get(indicators_url).content) if r["code"] == few.code)
    assert (Decimal(row["value"]), row["value_source"]) == (value.value + 1, "市统计局 2024 年公报")


def test_each_download_runs_the_same_queries_however_much_it_holds(client, report):
    def queries() -> dict[str, int]:
        counted = {}
        for name in ("indicators", "indicator-values", "stories", "scores"):
            with CaptureQueriesContext(connection) as captured:
                assert client.get(f"/open-data/{name}.csv").status_code == 200
            counted[name] = len(captured)
        return counted

    before = queries()
    rated = list(Indicator.objects.filter(public_q()).order_by("-id")[:10])
    for n, indicator in enumerate(rated):
        for i in range(5):
            submissions.rating_submit(
                resident_key_hash=resident_key_hash(f"grow-{n}-{i}"), target=indicator, score=3
            )
    for story in Story.objects.filter(public_q())[:10]:
        submissions.rating_submit(
            resident_key_hash=resident_key_hash(f"grow-s-{story.pk}"), target=story, score=4
        )
    aggregates.aggregates_reconcile()
    assert queries() == before
