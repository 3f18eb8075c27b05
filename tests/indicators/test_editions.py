"""A new edition started from the previous one in the admin (一年一体检): the structure and the
indicators' stable codes carried over, no figure, everything a draft; the API filters by edition."""

import csv
import io

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.urls import reverse

from indicators import services
from indicators.models import Chapter, Edition, Indicator, IndicatorValue, PublishStatus, Section, Story

CHANGELIST = "admin:indicators_edition_changelist"


def _start(staff, previous: Edition, **extra):
    data = {"action": "start_next", ACTION_CHECKBOX_NAME: [previous.pk], **extra}
    return staff.post(reverse(CHANGELIST), data, follow="apply" in extra)


@pytest.fixture
def edition_2024(report_2023, staff, django_capture_on_commit_callbacks) -> Edition:
    with django_capture_on_commit_callbacks(execute=True):
        done = _start(staff, report_2023, apply="1", year="2024")
    assert done.status_code == 200
    assert "已新建 2024 年度草稿" in done.content.decode()
    return Edition.objects.get(year=2024)


def test_the_action_asks_for_the_year_proposing_the_next(report_2023, staff):
    page = _start(staff, report_2023)

    assert page.status_code == 200
    html = page.content.decode()
    assert 'value="2024"' in html
    assert "不复制数值" in html
    assert not Edition.objects.filter(year=2024).exists()


def test_the_structure_and_codes_are_carried_over_without_any_figure(edition_2024, report_2023):
    assert edition_2024.status == PublishStatus.DRAFT and edition_2024.published_at is None
    assert "2024" in edition_2024.title and "2023" not in edition_2024.title

    def chapters(edition):
        return list(Chapter.objects.filter(edition=edition).values_list("number", "slug", "theme", "title"))

    def sections(edition):
        rows = Section.objects.filter(chapter__edition=edition)
        return sorted(rows.values_list("chapter__number", "number", "title"))

    assert chapters(edition_2024) == chapters(report_2023)
    assert len(chapters(edition_2024)) == 7
    assert sections(edition_2024) == sections(report_2023)
    assert not Section.objects.filter(chapter__edition=edition_2024).exclude(body="").exists()

    old = {
        i.code: i for i in Indicator.objects.filter(edition=report_2023).select_related("chapter", "section")
    }
    new = {
        i.code: i for i in Indicator.objects.filter(edition=edition_2024).select_related("chapter", "section")
    }
    assert new.keys() == old.keys() and len(new) > 100
    for code, indicator in new.items():
        before = old[code]
        assert (indicator.name, indicator.unit, indicator.direction) == (
            before.name,
            before.unit,
            before.direction,
        )
        assert indicator.chapter.number == before.chapter.number
        assert (indicator.section.number if indicator.section else None) == (
            before.section.number if before.section else None
        )
        assert indicator.status == PublishStatus.DRAFT
        assert indicator.change_value is None and indicator.source_text == ""
    assert not IndicatorValue.objects.filter(indicator__edition=edition_2024).exists()
    assert not Story.objects.filter(edition=edition_2024).exists()
    # The previous edition is untouched.
    assert IndicatorValue.objects.filter(indicator__edition=report_2023).count() > 100


def test_a_year_taken_or_not_later_is_refused_with_a_message(report_2023, staff, edition_2024):
    taken = _start(staff, report_2023, apply="1", year="2024")
    assert "2024 年度已存在" in taken.content.decode()
    earlier = _start(staff, report_2023, apply="1", year="2020")
    assert "新年度须晚于 2023 年" in earlier.content.decode()
    nonsense = _start(staff, report_2023, apply="1", year="abc")
    assert nonsense.status_code == 200 and "errorlist" in nonsense.content.decode()
    assert Edition.objects.count() == 2
    both = staff.post(
        reverse(CHANGELIST), {"action": "start_next", ACTION_CHECKBOX_NAME: [report_2023.pk, edition_2024.pk]}
    )
    assert both.status_code == 302 and Edition.objects.count() == 2


def test_nothing_of_the_draft_is_public(client, edition_2024):
    assert client.get("/2024/").status_code == 404
    assert client.get("/api/v1/editions/2024/").status_code == 404
    assert [e["year"] for e in client.get("/api/v1/editions/").json()["results"]] == [2023]
    assert client.get("/api/v1/indicators/?edition=2024").json()["results"] == []
    assert client.get("/api/v1/chapters/?edition=2024").json()["results"] == []


def test_published_the_new_edition_shows_no_invented_figure_and_the_api_filters_by_edition(
    client, edition_2024, report_2023
):
    services.publishable_publish(queryset=Edition.objects.filter(pk=edition_2024.pk))
    services.publishable_publish(queryset=Indicator.objects.filter(edition=edition_2024))

    rows = []
    url = "/api/v1/indicators/?edition=2024"
    while url:
        page = client.get(url).json()
        rows += page["results"]
        url = page["next"]
    assert len(rows) == Indicator.objects.filter(edition=edition_2024).count()
    assert {row["edition"] for row in rows} == {2024}
    assert all(row["value"] is None and row["values"] == [] and row["display"] == "" for row in rows)

    older = client.get("/api/v1/indicators/?edition=2023").json()
    assert {row["edition"] for row in older["results"]} == {2023}
    assert all(
        row["edition"] == 2024 for row in client.get("/api/v1/chapters/?edition=2024").json()["results"]
    )
    assert client.get("/api/v1/chapters/?edition=2024").json()["count"] == 7
    assert client.get("/api/v1/stories/?edition=2024").json()["results"] == []
    assert client.get("/api/v1/indicators/?edition=abc").status_code == 400

    indicator = Indicator.objects.filter(edition=edition_2024, headline=True).first()
    assert client.get(indicator.get_absolute_url()).status_code == 200
    opened = client.get("/open-data/indicators.csv").content.decode("utf-8-sig")
    new_rows = [row for row in csv.DictReader(io.StringIO(opened)) if row["edition"] == "2024"]
    assert len(new_rows) == len(rows) and all(row["value"] == "" for row in new_rows)
