"""The filtered queue as CSV and Excel, with no resident identifier."""

import csv
import io

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import translation
from openpyxl import load_workbook

from feedback.models import Resident
from review import services
from review.exports import header
from tests.review.helpers import login, new_resident_key, submit_comment, submit_rating

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(world_shared):
    """The tests here only start from the world: its rows are made once for the module."""
    return world_shared


COLUMNS = [
    "编号",
    "类型",
    "对象",
    "章",
    "行政区",
    "街道/乡镇",
    "状态",
    "审核状态",
    "评分",
    "内容",
    "反馈时间",
    "首次答复时间",
    "经办人",
]


@pytest.fixture
def exported(world):
    key = new_resident_key()
    comment, case = submit_comment(
        world.story_a, '=HYPERLINK("http://evil") 路灯坏了', nickname="老北京王大爷", key=key
    )
    services.case_assign(user=world.planner_a, case=case, assignee=world.colleague_a)
    services.case_reply(user=world.planner_a, case=case, body="已报修")
    rating = submit_rating(world.indicator, 2, district=world.district_a)
    return {"comment_case": case, "rating_case": rating.review_case, "key": key}


def _csv_rows(response) -> list[list[str]]:
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.reader(io.StringIO(text)))


def _xlsx_rows(response) -> list[list]:
    sheet = load_workbook(io.BytesIO(response.content)).active
    return [["" if v is None else v for v in row] for row in sheet.iter_rows(values_only=True)]


def test_csv_columns_and_rows(world, exported):
    response = login(Client(), world.planner_a).get(reverse("review:export_csv"))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    rows = _csv_rows(response)
    assert rows[0] == COLUMNS == header()
    by_id = {int(row[0]): row for row in rows[1:]}
    assert set(by_id) == {world.case_a.pk, exported["comment_case"].pk, exported["rating_case"].pk}
    row = by_id[exported["comment_case"].pk]
    assert row[1:10] == [
        "留言",
        "东城最美街巷",
        str(world.chapter),
        "东城区",
        "东华门街道",
        "新反馈",
        "待审核",
        "",
        '\'=HYPERLINK("http://evil") 路灯坏了',  # never run as a formula
    ]
    assert row[11] and row[12] == "colleague_a"
    rating_row = by_id[exported["rating_case"].pk]
    assert rating_row[1] == "低分评价" and rating_row[2] == "背街小巷环境整治" and rating_row[8] == "2"


def test_export_follows_the_filters(world, exported):
    client = login(Client(), world.planner_a)
    rows = _csv_rows(client.get(reverse("review:export_csv"), {"kind": "rating"}))
    assert [int(r[0]) for r in rows[1:]] == [exported["rating_case"].pk]
    rows = _xlsx_rows(client.get(reverse("review:export_xlsx"), {"q": "路灯"}))
    assert [r[0] for r in rows[1:]] == [exported["comment_case"].pk]


def test_xlsx_has_the_same_columns_and_rows(world, exported):
    response = login(Client(), world.planner_a).get(reverse("review:export_xlsx"))
    assert response["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    rows = _xlsx_rows(response)
    assert list(rows[0]) == COLUMNS
    csv_rows = _csv_rows(login(Client(), world.planner_a).get(reverse("review:export_csv")))
    assert [[str(v) for v in row] for row in rows[1:]] == csv_rows[1:]


def test_no_resident_identifier_in_either_export(world, exported):
    resident = Resident.objects.get(key_hash=exported["key"])
    client = login(Client(), world.staff)
    csv_text = b"".join(client.get(reverse("review:export_csv")).streaming_content).decode("utf-8-sig")
    xlsx_cells = " ".join(
        str(cell) for row in _xlsx_rows(client.get(reverse("review:export_xlsx"))) for cell in row
    )
    for text in (csv_text, xlsx_cells):
        assert "老北京王大爷" not in text  # nickname
        assert resident.key_hash not in text and resident.key_hash[:8] not in text
        assert "昵称" not in text and "市民" not in text
    assert not any("resident" in column.lower() or "昵称" in column for column in header())


def test_an_english_export_names_everything_in_english(world, exported):
    # A planner working in the English workspace gets English headers and labels, and the
    # names too (the item, the chapter, the district, the street), where they have English.
    client = login(Client(), world.planner_a)
    client.cookies["django_language"] = "en"
    rows = _csv_rows(client.get(reverse("review:export_csv")))
    with translation.override("en"):
        assert rows[0] == header()
    assert rows[0][:4] == ["ID", "Type", "Item", "Chapter"]
    by_id = {int(row[0]): row for row in rows[1:]}
    row = by_id[exported["comment_case"].pk]
    chapter = world.chapter
    assert row[2:6] == [
        world.story_a.title_en,
        f"Chapter {chapter.number} {chapter.theme_en}",
        world.district_a.name_en,
        world.street_a.name_en,
    ]
    assert by_id[exported["rating_case"].pk][2] == world.indicator.name_en
    # What people wrote stays as written.
    assert row[9] == '\'=HYPERLINK("http://evil") 路灯坏了'
    # The spreadsheet says the same.
    sheet = _xlsx_rows(client.get(reverse("review:export_xlsx")))
    assert [[str(v) for v in r] for r in sheet] == rows
