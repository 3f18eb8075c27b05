"""The read API under /api/v1/: what an integrator gets, filters, drafts, errors, docs."""

import re
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from indicators.models import ChangeDirection, StoryKind
from tests.factories import (
    ChapterFactory,
    DistrictFactory,
    EditionFactory,
    IndicatorFactory,
    PhotoFactory,
    SectionFactory,
    StoryFactory,
    StreetFactory,
)

pytestmark = pytest.mark.django_db

API = "/api/v1"


@pytest.fixture
def chapter(edition):
    return ChapterFactory(edition=edition, number=4, slug="ecology", theme="生态底线")


@pytest.fixture
def park_indicator(chapter):
    section = SectionFactory(chapter=chapter, number=2, title="公园绿地")
    return IndicatorFactory(
        chapter=chapter,
        section=section,
        code="park-green-coverage",
        name="公园绿地500米服务半径覆盖率",
        name_en="Park service-radius coverage",
        unit="%",
        year=2023,
        change_value=Decimal("1.8"),
        change_unit="个百分点",
        change_direction=ChangeDirection.INCREASE,
        change_base="上年",
        source_text="公园绿地500米服务半径覆盖率由88.7%提高到90.5%。",
        values=[(2022, "88.7"), (2023, "90.5", "以上")],
    )


def _get(url: str):
    return Client().get(url, HTTP_ACCEPT="application/json")


def _results(response) -> list[dict]:
    assert response.status_code == 200, response.content
    return response.json()["results"]


# --- editions and chapters ------------------------------------------------------------------------


def test_editions_list_and_detail_show_published_editions_with_chapters(chapter):
    EditionFactory(year=2024, draft=True)
    EditionFactory(year=2025, scheduled=True)

    editions = _results(_get(f"{API}/editions/"))

    assert [e["year"] for e in editions] == [2023]
    assert editions[0]["chapters"] == [
        {"id": chapter.id, "number": 4, "slug": "ecology", "theme": "生态底线", "theme_en": chapter.theme_en}
    ]
    detail = _get(f"{API}/editions/2023/").json()
    assert detail["title"].startswith("北京城市总体规划实施体检报告")
    assert _get(f"{API}/editions/2024/").status_code == 404
    assert _get(f"{API}/editions/2025/").status_code == 404
    assert _get(f"{API}/editions/1999/").status_code == 404


def test_chapters_carry_their_sections_and_filter_by_edition(chapter):
    SectionFactory(chapter=chapter, number=1, title="生态空间")
    SectionFactory(chapter=chapter, number=2, title="公园绿地")
    other = ChapterFactory(edition=EditionFactory(year=2022), number=1, slug="capital")
    ChapterFactory(edition=EditionFactory(year=2024, draft=True), number=1, slug="hidden")

    listed = _results(_get(f"{API}/chapters/"))
    assert [(c["edition"], c["slug"]) for c in listed] == [(2023, "ecology"), (2022, "capital")]
    assert [s["title"] for s in listed[0]["sections"]] == ["生态空间", "公园绿地"]

    assert [c["id"] for c in _results(_get(f"{API}/chapters/?edition=2022"))] == [other.id]
    detail = _get(f"{API}/chapters/2023/ecology/").json()
    assert detail["number"] == 4 and len(detail["sections"]) == 2
    assert detail["url"] == "http://testserver/2023/chapters/ecology/"
    assert _get(f"{API}/chapters/2024/hidden/").status_code == 404
    assert _get(f"{API}/chapters/2023/nope/").status_code == 404


# --- indicators -----------------------------------------------------------------------------------


def test_indicator_carries_value_qualifier_unit_comparison_direction_and_source(park_indicator):
    [item] = _results(_get(f"{API}/indicators/"))

    assert item["code"] == "park-green-coverage"
    assert item["url"] == "http://testserver/2023/indicators/park-green-coverage/"
    assert item["edition"] == 2023
    assert item["name"] == "公园绿地500米服务半径覆盖率"
    assert item["unit"] == "%"
    assert (item["value"], item["qualifier"], item["display"]) == ("90.5", "以上", "90.5% 以上")
    assert item["values"] == [
        {"year": 2022, "month": None, "value": "88.7", "qualifier": "", "display": "88.7%", "source": ""},
        {
            "year": 2023,
            "month": None,
            "value": "90.5",
            "qualifier": "以上",
            "display": "90.5% 以上",
            "source": "",
        },
    ]
    assert item["change"] == {
        "value": "1.8",
        "unit": "个百分点",
        "qualifier": "",
        "direction": "increase",
        "base": "上年",
        "base_year": None,
        "display": "较上年增长 1.8 个百分点",
    }
    assert item["direction"] == "up"
    assert item["source_text"] == "公园绿地500米服务半径覆盖率由88.7%提高到90.5%。"
    assert item["chapter"]["id"] == park_indicator.chapter_id and item["chapter"]["number"] == 4
    assert item["section"]["id"] == park_indicator.section_id

    detail = _get(f"{API}/indicators/2023/park-green-coverage/").json()
    assert detail == item


def test_indicator_without_comparison_or_figure(chapter):
    IndicatorFactory(chapter=chapter, code="hotline-monthly", values=[])

    [item] = _results(_get(f"{API}/indicators/"))

    assert item["change"] is None
    assert (item["value"], item["qualifier"], item["display"], item["values"]) == (None, "", "", [])
    assert item["section"] is None


def test_indicators_filter_by_chapter_edition_headline_and_chinese_text(park_indicator, chapter):
    other_chapter = ChapterFactory(edition=chapter.edition, number=1, slug="capital-functions")
    office = IndicatorFactory(chapter=other_chapter, code="office-space", name="办公用房", headline=True)
    older = IndicatorFactory(
        chapter=ChapterFactory(edition=EditionFactory(year=2022), number=4, slug="ecology"),
        code="park-count",
        name="公园总数",
        source_text="全市公园总数达到1050个。",
    )
    IndicatorFactory(chapter=chapter, code="forest", name="森林覆盖率", source_text="森林覆盖率44.9%。")

    def codes(query: str) -> list[str]:
        return [i["code"] for i in _results(_get(f"{API}/indicators/?{query}"))]

    assert codes("chapter=1") == [office.code]
    assert codes("chapter=capital-functions") == [office.code]
    assert codes("chapter=4&edition=2023") == ["park-green-coverage", "forest"]
    assert codes("edition=2022") == [older.code]
    assert codes("headline=true") == [office.code]
    # 公园 matches the name of one and only the source sentence of the other.
    assert codes("q=公园") == ["park-green-coverage", "park-count"]
    assert codes("q=公园&edition=2022") == ["park-count"]
    assert codes("q=coverage") == ["park-green-coverage"]
    assert codes("q=没有这个词") == []


def test_draft_and_scheduled_indicators_are_hidden_in_list_and_detail(chapter):
    IndicatorFactory(chapter=chapter, code="public")
    IndicatorFactory(chapter=chapter, code="draft", draft=True)
    IndicatorFactory(chapter=chapter, code="scheduled", scheduled=True)
    hidden_edition_chapter = ChapterFactory(edition=EditionFactory(year=2024, draft=True))
    IndicatorFactory(chapter=hidden_edition_chapter, code="in-draft-edition")

    assert [i["code"] for i in _results(_get(f"{API}/indicators/"))] == ["public"]
    assert _get(f"{API}/indicators/2023/public/").status_code == 200
    for year, code in [(2023, "draft"), (2023, "scheduled"), (2024, "in-draft-edition"), (2023, "unknown")]:
        response = _get(f"{API}/indicators/{year}/{code}/")
        assert response.status_code == 404
        assert "detail" in response.json()


@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        ("edition=abc", "edition"),
        ("edition=20231", "edition"),
        ("chapter=第四章", "chapter"),
        ("headline=maybe", "headline"),
    ],
)
def test_bad_indicator_filters_are_400_with_a_message(chapter, query, parameter):
    response = _get(f"{API}/indicators/?{query}")

    assert response.status_code == 400
    body = response.json()
    assert list(body) == [parameter]
    assert body[parameter] and all(isinstance(m, str) and m for m in body[parameter])


def test_lists_are_paginated_by_50(chapter):
    for n in range(53):
        IndicatorFactory(chapter=chapter, code=f"i-{n:02d}", order=n, values=[])

    first = _get(f"{API}/indicators/").json()
    second = _get(f"{API}/indicators/?page=2").json()

    assert first["count"] == 53 and len(first["results"]) == 50
    assert first["next"].endswith("/api/v1/indicators/?page=2") and first["previous"] is None
    assert [i["code"] for i in second["results"]] == ["i-50", "i-51", "i-52"]
    assert _get(f"{API}/indicators/?page=3").status_code == 404


# --- stories and districts ------------------------------------------------------------------------


def test_story_carries_photos_credits_district_street_and_related_indicators(edition, park_indicator):
    street = StreetFactory(district=DistrictFactory(slug="dongcheng", name="东城区"), name="东四街道")
    story = StoryFactory(
        edition=edition,
        chapter=park_indicator.chapter,
        slug="dongsi-alley",
        kind=StoryKind.BEST_ALLEY,
        title="东四南大街",
        street=street,
        rank=1,
        indicators=[park_indicator, IndicatorFactory(chapter=park_indicator.chapter, draft=True)],
    )
    PhotoFactory(story=story, caption="东四街景", credit="霍文武 / 摄", order=1)
    PhotoFactory(story=story, caption="胡同口", credit="北京市东城区 / 供", order=2)

    [item] = _results(_get(f"{API}/stories/"))

    assert item["slug"] == "dongsi-alley" and item["kind"] == "best_alley" and item["rank"] == 1
    assert item["url"] == "http://testserver/2023/stories/dongsi-alley/"
    assert item["kind_display"] == "最美街巷"
    assert item["district"] == {"slug": "dongcheng", "name": "东城区", "name_en": street.district.name_en}
    assert item["street"]["name"] == "东四街道"
    assert [(p["caption"], p["credit"], p["image"]) for p in item["photos"]] == [
        ("东四街景", "霍文武 / 摄", None),
        ("胡同口", "北京市东城区 / 供", None),
    ]
    # Only the published one of the two related indicators.
    assert item["indicators"] == ["park-green-coverage"]
    assert _get(f"{API}/stories/2023/dongsi-alley/").json() == item


def test_stories_filter_by_kind_district_edition_and_text(edition):
    xicheng = DistrictFactory(slug="xicheng", name="西城区")
    alley = StoryFactory(edition=edition, slug="alley", kind=StoryKind.BEST_ALLEY, district=xicheng)
    park = StoryFactory(edition=edition, slug="park", kind=StoryKind.PARK_GREEN, title="温榆河公园")
    hotline = StoryFactory(
        edition=edition, slug="hotline", kind=StoryKind.HOTLINE_THEME, body="每月一题：老旧小区加装电梯。"
    )
    StoryFactory(edition=edition, slug="draft-park", kind=StoryKind.PARK_GREEN, title="草稿公园", draft=True)
    older = StoryFactory(edition=EditionFactory(year=2022), slug="alley", kind=StoryKind.BEST_ALLEY)

    def slugs(query: str) -> list[tuple[int, str]]:
        return [(s["edition"], s["slug"]) for s in _results(_get(f"{API}/stories/?{query}"))]

    assert slugs("kind=best_alley") == [(2023, alley.slug), (2022, older.slug)]
    assert slugs("district=xicheng") == [(2023, alley.slug)]
    assert slugs("edition=2023&kind=park_green") == [(2023, park.slug)]
    assert slugs("q=公园") == [(2023, park.slug)]
    assert slugs("q=加装电梯") == [(2023, hotline.slug)]
    assert _get(f"{API}/stories/2023/draft-park/").status_code == 404


@pytest.mark.parametrize(
    ("query", "parameter"),
    [("kind=unicorn", "kind"), ("district=atlantis", "district"), ("edition=abc", "edition")],
)
def test_bad_story_filters_are_400_with_a_message(edition, query, parameter):
    response = _get(f"{API}/stories/?{query}")

    assert response.status_code == 400
    assert list(response.json()) == [parameter]


def test_districts_carry_their_streets():
    haidian = DistrictFactory(slug="haidian", name="海淀区", order=8)
    StreetFactory(district=haidian, name="中关村街道")
    StreetFactory(district=haidian, name="学院路街道")
    DistrictFactory(slug="chaoyang", name="朝阳区", order=5)

    listed = _results(_get(f"{API}/districts/"))

    assert [d["slug"] for d in listed] == ["chaoyang", "haidian"]
    assert sorted(s["name"] for s in listed[1]["streets"]) == ["中关村街道", "学院路街道"]
    assert _get(f"{API}/districts/haidian/").json()["name"] == "海淀区"
    assert _get(f"{API}/districts/nowhere/").status_code == 404


# --- queries do not grow with the data ------------------------------------------------------------


def _populate(edition, n: int) -> None:
    """``n`` of everything, each with children, so a per-row query would show."""
    for _ in range(n):
        chapter = ChapterFactory(edition=edition)
        SectionFactory(chapter=chapter)
        SectionFactory(chapter=chapter)
        indicator = IndicatorFactory(chapter=chapter, values=[(2022, "1"), (2023, "2", "约")])
        district = DistrictFactory()
        street = StreetFactory(district=district)
        StreetFactory(district=district)
        story = StoryFactory(edition=edition, chapter=chapter, street=street, indicators=[indicator])
        PhotoFactory(story=story)
        PhotoFactory(story=story)


LIST_QUERIES = {
    # count + rows + one query per prefetched relation
    "editions": 3,  # chapters
    "chapters": 3,  # sections
    "indicators": 3,  # values
    "stories": 4,  # photos, indicators
    "districts": 3,  # streets
}


@pytest.mark.parametrize(("endpoint", "expected"), LIST_QUERIES.items())
def test_list_queries_are_fixed_and_do_not_grow_tenfold(edition, endpoint, expected):
    _populate(edition, 3)
    with CaptureQueriesContext(connection) as small:
        small_count = len(_results(_get(f"{API}/{endpoint}/")))
    _populate(edition, 27)
    with CaptureQueriesContext(connection) as large:
        large_count = len(_results(_get(f"{API}/{endpoint}/")))

    assert large_count >= 10 * small_count or endpoint == "editions"
    assert len(small) == expected, [q["sql"] for q in small]
    assert len(large) == expected, [q["sql"] for q in large]


def test_detail_queries_are_fixed(edition, django_assert_num_queries):
    _populate(edition, 5)
    indicator = IndicatorFactory(chapter=ChapterFactory(edition=edition), code="x")
    story = StoryFactory(edition=edition, slug="s", indicators=[indicator])
    PhotoFactory(story=story)

    with django_assert_num_queries(2):  # indicator + values
        assert _get(f"{API}/indicators/2023/x/").status_code == 200
    with django_assert_num_queries(3):  # story + photos + indicators
        assert _get(f"{API}/stories/2023/s/").status_code == 200


# --- schema and docs ------------------------------------------------------------------------------


def test_schema_is_openapi_3_and_lists_every_endpoint(client):
    response = client.get(f"{API}/schema/?format=json")

    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    for path in [
        "/api/v1/editions/",
        "/api/v1/editions/{year}/",
        "/api/v1/chapters/",
        "/api/v1/chapters/{year}/{slug}/",
        "/api/v1/indicators/",
        "/api/v1/indicators/{year}/{code}/",
        "/api/v1/stories/",
        "/api/v1/stories/{year}/{slug}/",
        "/api/v1/districts/",
        "/api/v1/districts/{slug}/",
    ]:
        assert path in schema["paths"], path
    parameters = {p["name"] for p in schema["paths"]["/api/v1/indicators/"]["get"]["parameters"]}
    assert {"edition", "chapter", "q", "page"} <= parameters
    parameters = {p["name"] for p in schema["paths"]["/api/v1/stories/"]["get"]["parameters"]}
    assert {"edition", "kind", "district", "q", "page"} <= parameters


def test_root_points_to_the_schema_its_docs_and_the_report_lists(park_indicator):
    # An integrator who tries the API's own address learns where everything is, rather
    # than getting a 404 (/api/v1/ used to have nothing).
    response = _get(f"{API}/")

    assert response.status_code == 200
    links = response.json()
    assert set(links) == {
        "schema",
        "docs",
        "redoc",
        "editions",
        "chapters",
        "indicators",
        "stories",
        "districts",
    }
    for name, url in links.items():
        assert url.startswith(f"http://testserver{API}/"), (name, url)
        followed = Client().get(url.removeprefix("http://testserver"))
        assert followed.status_code == 200, (name, url)
    indicators = _get(links["indicators"].removeprefix("http://testserver")).json()["results"]
    assert [item["code"] for item in indicators] == ["park-green-coverage"]


def test_root_is_in_the_schema(openapi_schema):
    operation = openapi_schema["paths"]["/api/v1/"]["get"]
    fields = operation["responses"]["200"]["content"]["application/json"]["schema"]
    assert fields == {"$ref": "#/components/schemas/ApiRoot"}
    assert set(openapi_schema["components"]["schemas"]["ApiRoot"]["required"]) >= {"schema", "docs"}


def test_root_refuses_what_it_does_not_do():
    response = Client().post(f"{API}/", {}, content_type="application/json")

    assert response.status_code == 405
    assert response.json()["detail"]


def test_schema_validates_without_warnings(openapi_schema):
    # The fixture fails the test on any schema error or generator warning.
    assert openapi_schema["openapi"].startswith("3.")


@pytest.mark.parametrize("page", ["docs", "redoc"])
def test_docs_pages_load_from_our_own_static_files(client, page):
    response = client.get(f"{API}/{page}/")

    assert response.status_code == 200
    html = response.content.decode()
    for outside in ["cdn", "unpkg", "jsdelivr", "//fonts.", "https://", "http://"]:
        assert outside not in html.lower(), outside
    scripts = re.findall(r'src="([^"]+\.js)"', html)
    assert scripts, html
    for script in scripts:
        assert script.startswith("/static/")
        assert client.get(script).status_code == 200, script
