"""The public site as a resident uses it: pages, what they show, what they hide."""

import html
import json
import re
from decimal import Decimal

import pytest
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.template.loader import render_to_string
from django.urls import reverse

from indicators.models import Direction, Indicator, Photo, PublishStatus, Story, StoryKind
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


def text_of(response) -> str:
    """The page's visible text, tags stripped and whitespace collapsed, as a reader sees it."""
    body = response.content.decode()
    body = re.sub(r"<script\b.*?</script>", " ", body, flags=re.S)
    body = re.sub(r"</?mark>", "", body)
    body = re.sub(r"<[^>]+>", " ", body)
    return " ".join(html.unescape(body).split())


@pytest.fixture
def edition():
    return EditionFactory(
        year=2023,
        title="北京城市总体规划实施体检报告公众读本（2023 年度）",
        title_en="Beijing Master Plan Health Check 2023: Public Reader",
        preface="2017 年，党中央、国务院批复总体规划。\n\n本年度体检工作坚持问题导向。",
        preface_en="In 2017 the master plan was approved.\n\nThis year's check is problem-oriented.",
    )


@pytest.fixture
def ecology(edition):
    return ChapterFactory(
        edition=edition,
        number=4,
        slug="ecology",
        theme="生态底线",
        theme_en="Ecological baseline",
        title="坚守生态底线，建设美丽北京",
        title_en="Holding the ecological line",
    )


@pytest.fixture
def park_section(ecology):
    return SectionFactory(
        chapter=ecology,
        number=2,
        title="公园城市建设",
        title_en="A city of parks",
        body="全市公园总数达到 1065 个。\n\n城市绿心森林公园持续开放。",
    )


@pytest.fixture
def park_coverage(ecology, park_section):
    return IndicatorFactory(
        chapter=ecology,
        section=park_section,
        code="park-green-500m-coverage",
        name="公园绿地 500 米服务半径覆盖率",
        name_en="Park green space 500 m service coverage",
        unit="%",
        year=2023,
        direction=Direction.UP,
        headline=True,
        values=[(2022, "88.7"), (2023, "90.5")],
        change_value=Decimal("1.8"),
        change_unit="个百分点",
        change_direction="increase",
        change_base="上年",
        source_text="公园绿地 500 米服务半径覆盖率由 88.7% 提高到 90.5%。",
    )


@pytest.fixture
def housing(ecology):
    return IndicatorFactory(
        chapter=ecology,
        code="youth-rental-housing",
        name="青年公寓保障性租赁住房",
        name_en="Youth rental housing",
        unit="套（间）",
        headline=True,
        values=[(2023, "5000", "余")],
        source_text="建设筹集青年公寓保障性租赁住房 5000 余套（间）。",
    )


@pytest.fixture
def dongcheng():
    return DistrictFactory(slug="dongcheng", name="东城区", name_en="Dongcheng")


@pytest.fixture
def alley(edition, ecology, dongcheng, park_coverage):
    story = StoryFactory(
        edition=edition,
        chapter=ecology,
        slug="dongbuyaqiao-hutong",
        kind=StoryKind.BEST_ALLEY,
        title="东不压桥胡同",
        title_en="Dongbuyaqiao Hutong",
        street=StreetFactory(district=dongcheng, name="交道口街道", name_en="Jiaodaokou"),
        rank=1,
        summary="2023 年十大北京最美街巷之一。",
        body="胡同沿玉河而建。\n\n街巷整治提升了公共空间。",
        indicators=[park_coverage],
    )
    PhotoFactory(
        story=story, caption="东不压桥胡同街景", caption_en="Dongbuyaqiao street view", credit="霍文武 / 摄"
    )
    return story


@pytest.fixture
def park_story(edition, ecology):
    return StoryFactory(
        edition=edition,
        chapter=ecology,
        slug="city-green-heart",
        kind=StoryKind.PARK_GREEN,
        title="城市绿心森林公园",
        body="城市绿心森林公园是市民休闲的好去处。",
    )


# --- Home ---------------------------------------------------------------------------------------


def test_home_shows_preface_chapters_and_headline_figures(client, edition, ecology, housing, alley):
    for number, theme in [(1, "首都功能"), (2, "城市规模"), (3, "空间布局")]:
        ChapterFactory(edition=edition, number=number, theme=theme)
    IndicatorFactory(chapter=ecology, name="非要点指标", headline=False)

    response = client.get("/")

    assert response.status_code == 200
    page = text_of(response)
    assert "北京城市总体规划实施体检报告公众读本（2023 年度）" in page
    assert "2017 年，党中央、国务院批复总体规划。" in page
    assert "本年度体检工作坚持问题导向。" in page
    # The chapters in order, each a card linking to its page with its counts.
    order = [
        page.index(f"第 {n} 章 · {theme}") for n, theme in [(1, "首都功能"), (2, "城市规模"), (4, "生态底线")]
    ]
    assert order == sorted(order)
    assert 'href="/2023/chapters/ecology/"' in response.content.decode()
    assert "坚守生态底线，建设美丽北京" in page
    assert "3 项指标 · 1 个亮点故事" in page
    # Headline figure: the report's qualifier is part of the value.
    assert "5000 余套（间）" in page
    assert "青年公寓保障性租赁住房" in page
    assert 'href="/2023/indicators/youth-rental-housing/"' in response.content.decode()
    assert "非要点指标" not in page


def test_home_is_the_latest_published_edition(client, edition):
    EditionFactory(year=2024, title="2024 年度草稿", draft=True)
    EditionFactory(year=2025, title="2025 年度定时发布", scheduled=True)
    EditionFactory(year=2022, title="2022 年度读本")

    page = text_of(client.get("/"))

    assert edition.title in page
    assert "2024 年度草稿" not in page
    assert "2025 年度定时发布" not in page
    assert "2022 年度读本" not in page


def test_home_hides_draft_and_scheduled_headlines_and_does_not_count_them(client, ecology, housing):
    IndicatorFactory(chapter=ecology, name="草稿要点", headline=True, draft=True)
    IndicatorFactory(chapter=ecology, name="定时要点", headline=True, scheduled=True)
    StoryFactory(chapter=ecology, draft=True)

    page = text_of(client.get("/"))

    assert "5000 余套（间）" in page
    assert "草稿要点" not in page
    assert "定时要点" not in page
    assert "1 项指标 · 0 个亮点故事" in page


def test_home_without_a_published_edition_says_so(client):
    EditionFactory(draft=True)

    response = client.get("/")

    assert response.status_code == 200
    assert "年度体检报告尚未发布" in text_of(response)


def test_edition_page_by_year_and_404_for_unknown_or_draft_year(client, edition):
    EditionFactory(year=2024, draft=True)

    assert client.get("/2023/").status_code == 200
    assert client.get("/2024/").status_code == 404
    assert client.get("/1999/").status_code == 404
    assert client.get("/99999999999999/").status_code == 404


def test_site_shell_has_skip_link_nav_language_switch_and_404_page(client, edition):
    response = client.get("/")
    content = response.content.decode()

    assert '<html lang="zh-Hans">' in content
    assert 'href="#main"' in content and '<main id="main"' in content
    assert 'action="/i18n/setlang/"' in content
    assert 'name="language" value="en"' in content
    assert 'href="/2023/stories/"' in content

    missing = client.get("/2023/chapters/no-such-chapter/")
    assert missing.status_code == 404
    assert "页面不存在" in text_of(missing)


def test_server_error_page_renders_without_any_context():
    # Django renders 500.html with an empty context: it must not need a request.
    page = render_to_string("500.html")

    assert "服务暂时不可用" in page
    assert '<html lang="zh-Hans">' in page


# --- Chapter ---------------------------------------------------------------------------------------


def test_chapter_page_shows_sections_indicators_with_comparison_and_stories(
    client, ecology, park_section, park_coverage, alley
):
    response = client.get("/2023/chapters/ecology/")

    assert response.status_code == 200
    page = text_of(response)
    assert "坚守生态底线，建设美丽北京" in page
    assert "02 公园城市建设" in page
    assert "全市公园总数达到 1065 个。" in page
    assert "城市绿心森林公园持续开放。" in page
    assert "公园绿地 500 米服务半径覆盖率" in page
    assert "2022 年 88.7% → 2023 年 90.5%" in page
    assert "较上年增长 1.8 个百分点" in page
    assert "东不压桥胡同" in page
    assert "东城区 · 交道口街道" in page
    assert response.context["nav"] == "chapters"


def test_chapter_hides_drafts_and_404s_for_unknown_slug_or_unpublished_edition(
    client, ecology, park_coverage
):
    IndicatorFactory(chapter=ecology, name="草稿指标", draft=True)
    StoryFactory(chapter=ecology, title="草稿故事", draft=True)
    StoryFactory(chapter=ecology, title="定时故事", scheduled=True)
    draft_edition = EditionFactory(year=2024, draft=True)
    ChapterFactory(edition=draft_edition, slug="ecology")

    page = text_of(client.get("/2023/chapters/ecology/"))

    assert "公园绿地 500 米服务半径覆盖率" in page
    assert "草稿指标" not in page
    assert "草稿故事" not in page
    assert "定时故事" not in page
    assert client.get("/2023/chapters/nope/").status_code == 404
    assert client.get("/2024/chapters/ecology/").status_code == 404


# --- Indicator ----------------------------------------------------------------------------------------


def test_indicator_page_shows_value_comparison_source_and_stories(client, park_coverage, alley):
    StoryFactory(chapter=park_coverage.chapter, title="草稿相关故事", draft=True, indicators=[park_coverage])

    response = client.get("/2023/indicators/park-green-500m-coverage/")

    assert response.status_code == 200
    page = text_of(response)
    assert "公园绿地 500 米服务半径覆盖率" in page
    assert "90.5%" in page
    assert "2022 年 88.7% → 2023 年 90.5%" in page
    assert "较上年增长 1.8 个百分点" in page
    assert "越高越好" in page
    content = response.content.decode()
    assert "<blockquote><p>公园绿地 500 米服务半径覆盖率由 88.7% 提高到 90.5%。</p></blockquote>" in content
    assert "出自《北京城市总体规划实施体检报告公众读本（2023 年度）》第 4 章 · 02 公园城市建设" in page
    assert "东不压桥胡同" in page
    assert "草稿相关故事" not in page
    assert "<title>公园绿地 500 米服务半径覆盖率 90.5% · " in content
    assert (
        '<meta name="description" content="公园绿地 500 米服务半径覆盖率由 88.7% 提高到 90.5%。">' in content
    )
    # Breadcrumbs: home › year › chapter › indicator.
    assert "首页 2023 年度 第 4 章 生态底线 公园绿地 500 米服务半径覆盖率" in page
    assert '<a href="/2023/chapters/ecology/">第 4 章 生态底线</a>' in content


def test_indicator_value_keeps_the_reports_qualifier(client, housing):
    page = text_of(client.get("/2023/indicators/youth-rental-housing/"))

    assert "5000 余套（间）" in page
    # A single point: no chart and no table of one row.
    assert 'data-chart="chart-data"' not in page
    assert "历年数值" not in page


def test_indicator_chart_data_and_table_hold_every_point(client, ecology):
    IndicatorFactory(
        chapter=ecology,
        code="rd-investment",
        name="研发经费投入",
        unit="亿元",
        values=[(2013, "71.2"), (2020, "500"), (2023, "748.7")],
    )

    response = client.get("/2023/indicators/rd-investment/")
    content = response.content.decode()

    chart = json.loads(
        re.search(r'<script id="chart-data" type="application/json">(.*?)</script>', content).group(1)
    )
    assert chart["type"] == "line"
    assert chart["labels"] == ["2013", "2020", "2023"]
    assert chart["values"] == [71.2, 500.0, 748.7]
    table = re.search(r'<table class="data-table">(.*?)</table>', content, flags=re.S).group(1)
    rows = re.findall(r'<th scope="row">(\d+)</th><td>([^<]+)</td>', table)
    assert rows == [("2013", "71.2 亿元"), ("2020", "500 亿元"), ("2023", "748.7 亿元")]
    # The chart is drawn by our own vendored Chart.js, never a CDN.
    assert re.search(r'<script src="/static/vendor/chartjs/chart\.umd\.[0-9a-f]+\.js" defer>', content)
    assert "cdn" not in content.lower()


def test_indicator_without_a_figure_says_so(client, ecology):
    IndicatorFactory(
        chapter=ecology,
        code="hotline-monthly",
        name="12345 热线月度诉求量",
        values=[],
        note="报告的月度图表没有标注数值，待工作人员补录。",
    )

    response = client.get("/2023/indicators/hotline-monthly/")

    assert response.status_code == 200
    page = text_of(response)
    assert "报告未给出数值" in page
    assert "报告的月度图表没有标注数值，待工作人员补录。" in page
    assert "chart-data" not in response.content.decode()


@pytest.mark.parametrize(
    "options",
    [{"draft": True}, {"scheduled": True}, {"status": PublishStatus.PUBLISHED, "published_at": None}],
    ids=["draft", "scheduled", "no-publish-date"],
)
def test_hidden_indicator_is_404_and_absent_everywhere(client, ecology, housing, options):
    IndicatorFactory(chapter=ecology, code="hidden", name="隐藏公园指标", headline=True, **options)

    assert client.get("/2023/indicators/hidden/").status_code == 404
    for url in ["/", "/2023/chapters/ecology/", "/2023/indicators/", "/search/?q=隐藏公园"]:
        response = client.get(url)
        assert response.status_code == 200
        assert "隐藏公园指标" not in text_of(response), url


def test_indicator_of_unpublished_edition_is_404(client):
    chapter = ChapterFactory(edition=EditionFactory(year=2024, scheduled=True))
    IndicatorFactory(chapter=chapter, code="future-edition-indicator", name="未来公园指标")

    assert client.get("/2024/indicators/future-edition-indicator/").status_code == 404
    assert client.get("/2023/indicators/future-edition-indicator/").status_code == 404
    assert "未来公园指标" not in text_of(client.get("/search/?q=未来公园"))


def test_indicator_list_groups_by_chapter(client, edition, ecology, park_coverage, housing):
    capital = ChapterFactory(edition=edition, number=1, theme="首都功能")
    IndicatorFactory(chapter=capital, name="世界文化遗产", unit="处", values=[(2023, "8")])

    response = client.get("/2023/indicators/")

    page = text_of(response)
    assert response.status_code == 200
    assert page.index("第 1 章 首都功能") < page.index("世界文化遗产") < page.index("第 4 章 生态底线")
    assert page.index("第 4 章 生态底线") < page.index("5000 余套（间）")
    assert "8 处" in page


# --- Stories -----------------------------------------------------------------------------------------------


def test_story_page_shows_rank_place_body_photos_and_indicators(client, alley):
    response = client.get("/2023/stories/dongbuyaqiao-hutong/")

    assert response.status_code == 200
    page = text_of(response)
    content = response.content.decode()
    assert "东不压桥胡同" in page
    assert "最美街巷" in page
    assert "2023 年十大北京最美街巷 · 第 1 条" in page
    assert "东城区 · 交道口街道" in page
    assert "胡同沿玉河而建。" in page and "街巷整治提升了公共空间。" in page
    # No image was uploaded: no 图片 section, no lone caption, no placeholder picture.
    assert 'id="photos-title"' not in content and "东不压桥胡同街景" not in page
    assert "<img" not in content
    assert "公园绿地 500 米服务半径覆盖率" in page
    assert "90.5%" in page


def test_story_photo_with_an_uploaded_image_is_shown(client, alley, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    PhotoFactory(
        story=alley,
        caption="胡同的夜景",
        credit="北京市东城区 / 供",
        alt_text="夜色中的胡同",
        image=SimpleUploadedFile("night.png", b"\x89PNG\r\n\x1a\n", content_type="image/png"),
    )

    content = client.get("/2023/stories/dongbuyaqiao-hutong/").content.decode()

    assert re.search(r'<img src="/media/photos/\d{4}/night[^"]*\.png" alt="夜色中的胡同"', content)
    assert "北京市东城区 / 供" in content
    # Under its heading; the caption without an image file stays out.
    assert '<h2 id="photos-title">图片</h2>' in content and "东不压桥胡同街景" not in content


def test_story_hides_draft_indicators_and_404s_for_hidden_or_unknown(client, alley, ecology):
    alley.indicators.add(IndicatorFactory(chapter=ecology, name="草稿相关指标", draft=True))
    StoryFactory(chapter=ecology, slug="draft-story", draft=True)
    StoryFactory(chapter=ecology, slug="future-story", scheduled=True)

    assert "草稿相关指标" not in text_of(client.get("/2023/stories/dongbuyaqiao-hutong/"))
    assert client.get("/2023/stories/draft-story/").status_code == 404
    assert client.get("/2023/stories/future-story/").status_code == 404
    assert client.get("/2023/stories/nope/").status_code == 404
    assert client.get("/2022/stories/dongbuyaqiao-hutong/").status_code == 404


@pytest.fixture
def story_mix(edition, ecology, dongcheng, alley, park_story):
    xicheng = DistrictFactory(slug="xicheng", name="西城区")
    StoryFactory(
        edition=edition,
        kind=StoryKind.BEST_ALLEY,
        title="烂缦胡同",
        street=StreetFactory(district=xicheng, name="牛街街道"),
        rank=4,
    )
    StoryFactory(edition=edition, kind=StoryKind.PARK_GREEN, title="东城公园", district=dongcheng)
    StoryFactory(edition=edition, kind=StoryKind.BEST_ALLEY, title="草稿街巷", district=dongcheng, draft=True)
    return xicheng


def test_story_list_shows_title_kind_place_and_summary(client, story_mix):
    response = client.get("/2023/stories/")

    page = text_of(response)
    assert response.status_code == 200
    for title in ["东不压桥胡同", "烂缦胡同", "城市绿心森林公园", "东城公园"]:
        assert title in page
    assert "草稿街巷" not in page
    assert "最美街巷 东城区 · 交道口街道" in page
    assert "2023 年十大北京最美街巷之一。" in page
    assert "共 4 个故事" in page


@pytest.mark.parametrize(
    ("query", "shown", "hidden"),
    [
        ("kind=best_alley", {"东不压桥胡同", "烂缦胡同"}, {"城市绿心森林公园", "东城公园", "草稿街巷"}),
        ("district=dongcheng", {"东不压桥胡同", "东城公园"}, {"烂缦胡同", "城市绿心森林公园", "草稿街巷"}),
        ("kind=best_alley&district=xicheng", {"烂缦胡同"}, {"东不压桥胡同", "东城公园", "城市绿心森林公园"}),
        (
            "kind=park_green&district=dongcheng",
            {"东城公园"},
            {"东不压桥胡同", "烂缦胡同", "城市绿心森林公园"},
        ),
    ],
)
def test_story_list_filters_by_kind_and_district(client, story_mix, query, shown, hidden):
    response = client.get(f"/2023/stories/?{query}")

    page = text_of(response)
    assert response.status_code == 200
    for title in shown:
        assert f" {title} " in f" {page} ", title
    for title in hidden:
        assert f" {title} " not in f" {page} ", title
    assert f"共 {len(shown)} 个故事" in page


def test_story_list_filter_form_works_without_javascript(client, story_mix):
    content = client.get("/2023/stories/?district=dongcheng").content.decode()

    assert '<form class="filter" method="get"' in content
    assert '<label for="id_kind">' in content and '<label for="id_district">' in content
    assert '<option value="dongcheng" selected>东城区</option>' in content
    # Only districts that have public stories are offered.
    assert '<option value="xicheng">西城区</option>' in content
    assert '<button type="submit"' in content


def test_story_list_with_an_unknown_filter_value_says_so_and_lists_all(client, story_mix):
    response = client.get("/2023/stories/?kind=nonsense&district=nowhere")

    page = text_of(response)
    assert response.status_code == 200
    assert "部分筛选条件无效，已忽略。" in page
    assert "共 4 个故事" in page


def test_story_list_paginates(client, edition):
    for number in range(35):
        StoryFactory(edition=edition, title=f"分页故事{number:02d}", order=number, kind=StoryKind.PARK_GREEN)

    first = text_of(client.get("/2023/stories/?kind=park_green"))
    second = text_of(client.get("/2023/stories/?kind=park_green&page=2"))

    assert "共 35 个故事" in first
    assert "分页故事00" in first and "分页故事29" in first and "分页故事30" not in first
    assert "分页故事30" in second and "分页故事34" in second and "分页故事00" not in second
    assert client.get("/2023/stories/?page=abc").status_code == 200


def test_stories_shortcut_goes_to_the_latest_edition(client, edition):
    response = client.get("/stories/?kind=best_alley")

    assert response.status_code == 302
    assert response["Location"] == "/2023/stories/?kind=best_alley"


# --- Search ---------------------------------------------------------------------------


def test_search_finds_chinese_substrings_in_indicators_and_stories(
    client, park_coverage, housing, alley, park_story
):
    StoryFactory(edition=park_coverage.edition, title="草稿公园", draft=True)
    IndicatorFactory(chapter=park_coverage.chapter, name="草稿公园指标", scheduled=True)

    response = client.get(reverse("indicators:search"), {"q": "公园"})

    assert response.status_code == 200
    page = text_of(response)
    assert "公园绿地 500 米服务半径覆盖率" in page
    assert "城市绿心森林公园" in page
    assert "青年公寓保障性租赁住房" not in page
    assert "东不压桥胡同" not in page
    assert "草稿公园" not in page
    assert "1 项指标、1 个故事" in page
    assert "<mark>公园</mark>" in response.content.decode()


def test_search_finds_words_in_source_text_and_story_body(client, housing, alley):
    by_source = text_of(client.get("/search/", {"q": "建设筹集"}))
    by_body = text_of(client.get("/search/", {"q": "玉河"}))

    assert "青年公寓保障性租赁住房" in by_source
    assert "东不压桥胡同" in by_body


def test_search_handles_empty_short_long_and_hostile_queries(client, park_coverage):
    empty = client.get("/search/")
    assert empty.status_code == 200
    assert "项指标" not in text_of(empty)

    # One Chinese character is searched (tests/test_reader_chrome.py); one Latin letter is not.
    short = client.get("/search/", {"q": "a"})
    assert short.status_code == 200
    assert "请输入至少 2 个字母或数字，或一个汉字。" in text_of(short)

    long_query = "公园" + "很" * 500
    long = client.get("/search/", {"q": long_query})
    assert long.status_code == 200
    assert "关键词过长，只按前 50 个字搜索。" in text_of(long)
    assert long.context["query"] == long_query[:50]

    hostile = client.get("/search/", {"q": "<script>alert(1)</script>"})
    assert hostile.status_code == 200
    assert "<script>alert(1)</script>" not in hostile.content.decode()


# --- Language -------------------------------------------------------------------------


def test_language_switch_to_english_shows_english_content(client, park_coverage, alley, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    alley.photos.get().image.save("street.png", ContentFile(b"\x89PNG\r\n\x1a\n"))
    response = client.post(
        "/i18n/setlang/",
        {"language": "en", "next": "/2023/indicators/park-green-500m-coverage/"},
        follow=True,
    )

    assert response.status_code == 200
    content = response.content.decode()
    page = text_of(response)
    assert '<html lang="en">' in content
    assert "Park green space 500 m service coverage" in page
    assert "Ecological baseline" in page
    assert "Dongbuyaqiao Hutong" in page
    assert 'value="en" lang="en" aria-pressed="true"' in content
    # The figure is the report's own, whatever the language.
    assert "90.5%" in page

    story = text_of(client.get("/2023/stories/dongbuyaqiao-hutong/"))
    assert "Dongbuyaqiao street view" in story
    assert "Dongcheng · Jiaodaokou" in story

    home = text_of(client.get("/"))
    assert "Beijing Master Plan Health Check 2023: Public Reader" in home
    assert "In 2017 the master plan was approved." in home

    back = client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/"}, follow=True)
    assert "北京城市总体规划实施体检报告公众读本（2023 年度）" in text_of(back)


# --- The real 2023 report --------------------------------------------------------------


def test_the_2023_report_publishes_every_chapter_indicator_and_story(report_2023):
    assert report_2023.chapters.count() == 7
    assert Indicator.objects.published().filter(edition=report_2023).count() == 150
    assert Story.objects.published().filter(edition=report_2023).count() == 74


# One test per chapter (its page, its indicators' and its stories' pages), so that the
# workers of a parallel run share them.
@pytest.mark.parametrize("number", [0, 1, 2, 3, 4, 5, 6, 7])
def test_every_page_of_the_2023_report_renders(client, report_2023, number):
    if number == 0:
        urls = ["/", "/2023/", "/2023/indicators/", "/2023/stories/", "/search/?q=公园"]
        stories = Story.objects.published().filter(chapter=None)
    else:
        chapter = report_2023.chapters.get(number=number)
        urls = [chapter.get_absolute_url()]
        urls += [i.get_absolute_url() for i in Indicator.objects.published().filter(chapter=chapter)]
        stories = Story.objects.published().filter(chapter=chapter)
        assert len(urls) > 1

    for url in urls:
        assert client.get(url).status_code == 200, url
    # A story page has a 图片 section only over a photo with an image file; the data file
    # carries captions only (tests/indicators/test_story_data.py), so none of these has one.
    with_image = set(Photo.objects.exclude(image="").values_list("story_id", flat=True))
    for story in stories:
        response = client.get(story.get_absolute_url())
        assert response.status_code == 200, story.get_absolute_url()
        shows_pictures = '<h2 id="photos-title">' in response.text
        assert shows_pictures is (story.pk in with_image), story.get_absolute_url()


def test_2023_report_pages_show_what_a_resident_checks(client, report_2023):
    home = text_of(client.get("/"))
    assert "前言" in home and "七大领域" in home
    for theme in ["首都功能", "城市规模", "空间布局", "生态底线", "城市治理", "安全韧性", "区域协同"]:
        assert theme in home

    park = Indicator.objects.get(edition=report_2023, code="c4-park-500m-coverage")
    page = text_of(client.get(park.get_absolute_url()))
    assert "2022 年 88.7% → 2023 年 90.5%" in page

    search = client.get("/search/", {"q": "公园"})
    found = {i.code for i in search.context["indicators"]}
    assert "c4-park-500m-coverage" in found
    assert all("公园" in i.name or "公园" in i.source_text for i in search.context["indicators"])
    assert search.context["stories"]

    alleys = text_of(client.get("/2023/stories/", {"kind": StoryKind.BEST_ALLEY}))
    assert "共 10 个故事" in alleys
    assert "东不压桥胡同" in alleys and "永宁古城北街" in alleys
