"""The report loader: the whole 2023 report lands as data, idempotently.

The command loads the whole report once for the module; the tests that only read it share it
(``module_transaction`` in tests/conftest.py). The tests of what a second load does start from
a slice of the report as a first load leaves it: loaded for the first of them, put back in bulk
for the others.
"""

import copy
import io
from decimal import Decimal
from pathlib import Path

import pytest
import yaml
from django.apps import apps
from django.core.management import CommandError, call_command
from django.db import connection, models

from indicators.loader import report_load, report_read
from indicators.models import (
    Chapter,
    District,
    Edition,
    Indicator,
    IndicatorValue,
    Photo,
    PublishStatus,
    Story,
    StoryKind,
)

DATA_FILE = Path(__file__).resolve().parents[2] / "indicators" / "data" / "report_2023.yaml"

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def report_data() -> dict:
    return report_read(DATA_FILE)


@pytest.fixture(scope="module")
def report_loaded_once(module_transaction) -> str:
    """``manage.py load_report`` with the whole report, once for the module; what it wrote."""
    out = io.StringIO()
    call_command("load_report", str(DATA_FILE), stdout=out)
    return out.getvalue()


@pytest.fixture(scope="module")
def report_slice(report_data) -> dict:
    """Two chapters of the report (1 and 4: 45 indicators, 17 stories, every district), for
    the tests of what a second load does; loading it costs a third of the whole report."""
    chapters = {1, 4}
    data = copy.deepcopy(report_data)
    data["chapters"] = [chapter for chapter in data["chapters"] if chapter["number"] in chapters]
    data["indicators"] = [row for row in data["indicators"] if row["chapter"] in chapters]
    codes = {row["code"] for row in data["indicators"]}
    data["stories"] = [row for row in data["stories"] if row.get("chapter") in chapters]
    for story in data["stories"]:
        story["indicators"] = [code for code in story.get("indicators", []) if code in codes]
    return data


# The rows of the slice as the first load left them, to be inserted again (per worker process).
_slice_first_load: list[tuple[type[models.Model], list[models.Model]]] = []


@pytest.fixture
def slice_loaded(report_slice, db) -> None:
    """The slice in the database as a first load leaves it: loaded by the first test that asks,
    its rows put back with the same keys for the others, one bulk INSERT per table (as
    ``data_files_load`` does; PostgreSQL checks the foreign keys at the end of the transaction)."""
    if _slice_first_load:
        for model, rows in _slice_first_load:
            model._base_manager.bulk_create(rows)
        return
    report_load(data=copy.deepcopy(report_slice))
    _slice_first_load.extend(
        (model, rows)
        for model in apps.get_app_config("indicators").get_models(include_auto_created=True)
        if (rows := list(model._base_manager.order_by("pk")))
    )


@pytest.fixture
def loaded(report_loaded_once, db, report_data) -> dict:
    """The whole report in the database, loaded once for the tests that only read it."""
    return report_data


def test_command_loads_the_whole_report(report_loaded_once, db):
    edition = Edition.objects.get(year=2023)
    assert edition.status == PublishStatus.PUBLISHED
    assert "一年一体检，五年一评估" in edition.preface
    assert Chapter.objects.filter(edition=edition).count() == 7
    assert Indicator.objects.filter(edition=edition).count() >= 100
    assert District.objects.count() == 16
    assert "rows written" in report_loaded_once


def test_the_planner_knows_the_size_of_what_a_load_wrote(report_loaded_once, db):
    """PostgreSQL's statistics are taken by the load: autovacuum would never analyse the
    editions and chapters (a few rows), and the planner would guess their sizes."""
    counts = {
        model._meta.db_table: model.objects.count()
        for model in (Edition, Chapter, Indicator, Story, District)
    }
    with connection.cursor() as cursor:
        cursor.execute("SELECT relname, reltuples FROM pg_class WHERE relname = ANY(%s)", [list(counts)])
        planned = {name: int(rows) for name, rows in cursor.fetchall()}
    assert planned == counts


def test_figures_keep_the_report_s_value_unit_and_qualifier(loaded):
    population = Indicator.objects.get(code="c2-resident-population")
    assert population.current_value.value == Decimal("2185.8")
    assert population.current_value.display == "2185.8 万人"

    youth_flats = Indicator.objects.get(code="c5-youth-apartments")
    assert youth_flats.current_value.qualifier == "余"
    assert youth_flats.current_value.display.startswith("5000 余套")

    rnd = Indicator.objects.get(code="c1-rd-intensity")
    assert rnd.current_value.display == "6% 以上"


def test_comparisons_are_kept(loaded):
    coverage = Indicator.objects.get(code="c4-park-500m-coverage")
    points = {v.year: v.value for v in coverage.values.all()}
    assert points == {2022: Decimal("88.7"), 2023: Decimal("90.5")}

    tech = Indicator.objects.get(code="c7-tech-contracts-to-tianjin-hebei")
    assert {v.year: v.value for v in tech.values.all()} == {2013: Decimal("71.2"), 2023: Decimal("748.7")}

    green_power = Indicator.objects.get(source_text__startswith="全市外调绿电规模", unit="亿千瓦时")
    assert green_power.change_value == Decimal("15.7")
    assert green_power.change_unit == "%"
    assert green_power.display_change == "同比增长 15.7%"


def test_doubled_pdf_strings_are_cleaned(loaded):
    warnings = Indicator.objects.get(code="c6-geohazard-warnings")
    assert warnings.current_value.value == 9
    evacuated = Indicator.objects.get(code="c6-people-evacuated")
    assert evacuated.current_value.value == Decimal("54.2")
    scouts = Indicator.objects.get(code="c6-geohazard-inspection-dispatches")
    assert scouts.current_value.value == 1715
    assert not Indicator.objects.filter(source_text__contains="99 期").exists()


def test_no_number_is_invented_for_the_12345_monthly_chart(loaded):
    monthly = Indicator.objects.filter(name__contains="月度", name__startswith="12345")
    assert monthly.count() == 2  # the chart's two series: telephone and online
    for series in monthly:
        assert series.current_value is None
        assert not series.values.exists()
        assert "未给出月度数值" in series.note


def test_the_ten_best_alleys_with_district_and_street(loaded):
    alleys = Story.objects.filter(kind=StoryKind.BEST_ALLEY).select_related("district", "street")
    assert alleys.count() == 10
    assert sorted(a.rank for a in alleys) == list(range(1, 11))
    by_title = {a.title: (a.district.name, a.street.name) for a in alleys}
    assert by_title["东不压桥胡同"] == ("东城区", "交道口街道")
    assert by_title["永宁古城北街"] == ("延庆区", "永宁镇")
    assert by_title["烂缦胡同"] == ("西城区", "牛街街道")


def test_photo_credits_are_kept(loaded):
    photo = Photo.objects.get(caption="万春亭北望中轴线")
    assert photo.credit == "霍文武 / 摄"


def test_second_run_changes_nothing(slice_loaded, report_slice):
    before = {i.pk: i.updated_at for i in Indicator.objects.all()}
    value_rows = IndicatorValue.objects.count()

    result = report_load(data=copy.deepcopy(report_slice))

    assert result.changed == 0
    assert {i.pk: i.updated_at for i in Indicator.objects.all()} == before
    assert IndicatorValue.objects.count() == value_rows


def test_a_changed_value_in_the_file_updates_the_row(slice_loaded, report_slice):
    changed = copy.deepcopy(report_slice)
    row = next(r for r in changed["indicators"] if r.get("value") is not None)
    row["value"] = 12345.6
    indicator_count = Indicator.objects.count()

    result = report_load(data=changed)

    assert result.counts["indicatorvalue"]["updated"] == 1
    indicator = Indicator.objects.get(code=row["code"])
    assert indicator.current_value.value == Decimal("12345.6")
    assert Indicator.objects.count() == indicator_count


def test_staff_unpublishing_survives_a_reload(slice_loaded, report_slice):
    story = Story.objects.first()
    Story.objects.filter(pk=story.pk).update(status=PublishStatus.DRAFT)

    report_load(data=copy.deepcopy(report_slice))

    story.refresh_from_db()
    assert story.status == PublishStatus.DRAFT


def test_a_broken_file_is_refused_and_changes_nothing(slice_loaded, report_slice, tmp_path):
    broken = copy.deepcopy(report_slice)
    broken["indicators"][0]["qualifier"] = "大约"
    broken["indicators"][1]["value"] = 1
    path = tmp_path / "broken.yaml"
    path.write_text(yaml.safe_dump(broken, allow_unicode=True), encoding="utf-8")
    snapshot = list(IndicatorValue.objects.order_by("pk").values_list("pk", "value"))

    with pytest.raises(CommandError, match="大约"):
        call_command("load_report", str(path))

    assert list(IndicatorValue.objects.order_by("pk").values_list("pk", "value")) == snapshot


def test_an_unreadable_file_gives_a_clear_error(tmp_path):
    path = tmp_path / "x.yaml"
    path.write_text("edition: [unclosed", encoding="utf-8")
    with pytest.raises(CommandError, match="x.yaml"):
        call_command("load_report", str(path))


def test_new_only_leaves_a_loaded_edition_as_staff_left_it(slice_loaded, report_slice, capsys, tmp_path):
    path = tmp_path / "slice.yaml"
    path.write_text(yaml.safe_dump(report_slice, allow_unicode=True), encoding="utf-8")
    indicator = Indicator.objects.get(code="c4-parks")
    Indicator.objects.filter(pk=indicator.pk).update(name="全市公园（工作人员修订）")

    call_command("load_report", "--new-only", str(path))

    indicator.refresh_from_db()
    assert indicator.name == "全市公园（工作人员修订）"
    assert "not applied" in capsys.readouterr().out
