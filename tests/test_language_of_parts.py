"""The English interface says which of its texts are Chinese (WCAG 3.1.2, language of parts).

The report's own Chinese stays where the data has no English (chapter summaries, section
texts, the sentences each figure is quoted from, story texts, photo credits, street names
without an English one). On an English page each such text sits in an element marked
``lang="zh-Hans"``, so that a screen reader reads it with a Chinese voice rather than
spelling it out in an English one, and a browser picks Chinese fonts and line breaking for
it. The interface's own words are English throughout, punctuation included (no ``、`` or
``（…）`` between English words).

Checked on every public page type of the real 2023 report, every chapter and story included,
with Python's HTML parser: each run of Chinese characters in the text, or in an ``alt``,
``aria-label``, ``title`` or ``placeholder``, and the element's language as the browser works
it out (its own ``lang`` or its nearest ancestor's).
"""

import re
from html.parser import HTMLParser

import pytest
from django.test import Client

from feedback.models import Comment, ModerationState, OfficialReply, Survey
from feedback.replies import reply_write
from indicators.models import Chapter, District, Indicator, Story
from indicators.templatetags.report import CHINESE
from review.language import item_label_html
from tests.conftest import REPORT_FILE, SURVEY_FILE, data_files_load
from tests.feedback.conftest import new_resident_client
from tests.feedback.helpers import comment
from tests.scores import residents_rate_and_answer

pytestmark = pytest.mark.django_db

# CJK ideographs and CJK and full-width punctuation.
CJK = re.compile(r"[\u3400-\u9fff\u3000-\u303f\uff00-\uffef]+")
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}
READ_ATTRIBUTES = ("alt", "aria-label", "title", "placeholder")


class _Parts(HTMLParser):
    """Every Chinese text of a page whose language is not Chinese, with where it is."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.open: list[tuple[str, str | None]] = []
        self.wrong: list[str] = []

    def _language(self) -> str:
        return next((lang for _tag, lang in reversed(self.open) if lang is not None), "")

    def _where(self) -> str:
        return "/".join(tag for tag, _lang in self.open[-3:])

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        own = attributes.get("lang")
        language = own if own is not None else self._language()
        for name in READ_ATTRIBUTES:
            value = attributes.get(name) or ""
            if CJK.search(value) and not language.startswith("zh"):
                self.wrong.append(f"{self._where()}/{tag}@{name}: {value[:60]}")
        if tag not in VOID:
            self.open.append((tag, own))

    def handle_endtag(self, tag: str) -> None:
        for index in range(len(self.open) - 1, -1, -1):
            if self.open[index][0] == tag:
                del self.open[index:]
                return

    def handle_data(self, data: str) -> None:
        if self.open and self.open[-1][0] in ("script", "style", "title"):
            return
        if not CJK.search(data) or self._language().startswith("zh"):
            return
        self.wrong.append(f"{self._where()}: {' '.join(data.split())[:60]}")


def chinese_not_marked(html: str) -> list[str]:
    parts = _Parts()
    parts.feed(html)
    return parts.wrong


def test_the_check_finds_chinese_in_an_english_element_and_passes_it_in_a_chinese_one():
    page = (
        '<html lang="en"><body><p>Park</p><p>公园</p><p lang="zh-Hans">公园 <b>绿地</b></p>'
        '<img alt="东城区" src="x.png"><img lang="zh-Hans" alt="东城区" src="x.png">'
        "<p>8 indicators、5 stories</p><p>Greening (“留白增绿”)</p>"
        '<p>Greening ("<span lang="zh-Hans">留白增绿</span>")</p></body></html>'
    )
    assert chinese_not_marked(page) == [
        "html/body/p: 公园",
        "html/body/img@alt: 东城区",
        "html/body/p: 8 indicators、5 stories",
        "html/body/p: Greening (“留白增绿”)",
    ]


@pytest.fixture(scope="module")
def _report_loaded(module_transaction) -> None:
    data_files_load(REPORT_FILE, SURVEY_FILE)


@pytest.fixture
def english(client, _report_loaded):
    client.cookies["django_language"] = "en"
    return client


def _pages() -> list[str]:
    chapters = [chapter.get_absolute_url() for chapter in Chapter.objects.select_related("edition")]
    stories = [story.get_absolute_url() for story in Story.objects.published().select_related("edition")]
    indicators = Indicator.objects.published().select_related("edition").order_by("pk")
    districts = [f"/districts/{district.slug}/" for district in District.objects.order_by("pk")]
    return [
        "/",
        "/2023/",
        "/2023/indicators/",
        "/2023/stories/",
        "/search/?q=%E5%85%AC%E5%9B%AD",  # 公园
        "/search/?q=park",
        "/search/?q=%E7%95%99%E7%99%BD",  # 留白: an English name that quotes the report's term
        "/survey/",
        "/survey/results/",
        "/districts/",
        "/open-data/",
        "/privacy/",
        "/my-data/",
        "/verify/",
        "/accountability/",
        *chapters,
        *stories,
        *[indicator.get_absolute_url() for indicator in indicators],
        *districts,
    ]


def test_every_chinese_text_of_an_english_page_is_marked_chinese(english):
    wrong = {}
    pages = _pages()
    assert len(pages) > 14 + 7 + 74 + 150 + 16 - 1
    for path in pages:
        response = english.get(path)
        assert response.status_code == 200, path
        html = response.content.decode()
        assert '<html lang="en"' in html, path
        if found := chinese_not_marked(html):
            wrong[path] = found
    assert not wrong, "\n".join(f"{path}:\n  " + "\n  ".join(found[:6]) for path, found in wrong.items())


def test_a_chinese_page_is_chinese_throughout(client, _report_loaded):
    # The same parser on the Chinese pages: the page's own lang covers everything.
    response = client.get(Chapter.objects.select_related("edition").first().get_absolute_url())
    html = response.content.decode()
    assert '<html lang="zh-Hans"' in html
    assert chinese_not_marked(html) == []


def test_a_name_without_its_english_is_shown_in_chinese_and_marked_so(english):
    # Staff added these without an English name: the English pages show the Chinese one.
    story = Story.objects.published().filter(street__isnull=False).select_related("street", "chapter").first()
    chapter, street = story.chapter, story.street
    indicator = Indicator.objects.published().filter(chapter=chapter, section__isnull=False).first()
    section = indicator.section
    for obj, field in [
        (story, "title"),
        (street, "name"),
        (indicator, "name"),
        (section, "title"),
        (chapter, "theme"),
        (chapter, "title"),
    ]:
        setattr(obj, f"{field}_en", "")
        obj.save()
    district = story.district
    pages = [
        chapter.get_absolute_url(),
        story.get_absolute_url(),
        "/2023/",
        "/2023/stories/",
        f"/districts/{district.slug}/",
        indicator.get_absolute_url(),
    ]
    for path in pages:
        found = chinese_not_marked(english.get(path).content.decode())
        assert not found, f"{path}:\n" + "\n".join(found)
    chapter_page = english.get(chapter.get_absolute_url()).content.decode()
    for text in (story.title, indicator.name, section.title):
        assert text in chapter_page
    assert street.name in english.get(story.get_absolute_url()).content.decode()


def test_the_pages_with_residents_scores_are_marked_too(english, settings):
    # What only shows above the minimum count: the survey's means with their counts, the
    # chapter's and the indicator's scores, the districts' figures.
    survey = Survey.objects.get(edition__year=2023)
    chapter = Chapter.objects.select_related("edition").get(edition__year=2023, number=1)
    indicators = list(Indicator.objects.published().filter(chapter=chapter)[:3])
    districts = list(District.objects.order_by("pk")[:2])
    residents_rate_and_answer(
        targets=indicators, survey=survey, districts=districts, prefix="language-of-parts"
    )
    results = english.get("/survey/results/").content.decode()
    # A district's mean with its count of respondents, in English brackets.
    assert '<span class="muted">(6)</span>' in results
    pages = [
        "/survey/results/",
        chapter.get_absolute_url(),
        indicators[0].get_absolute_url(),
        "/districts/",
        f"/districts/{districts[0].slug}/",
    ]
    for path in pages:
        found = chinese_not_marked(english.get(path).content.decode())
        assert not found, f"{path}:\n" + "\n".join(found)


def test_residents_comments_and_the_replies_to_them_are_marked_by_their_script(english, django_user_model):
    # Residents write in Chinese mostly, sometimes in English; planners reply in Chinese.
    indicator = Indicator.objects.published().select_related("edition").order_by("pk").first()
    story = Story.objects.published().select_related("edition").order_by("pk").first()
    district = District.objects.order_by("pk").first()
    planner = django_user_model.objects.create_user("language-of-parts-planner")
    for target in (indicator, story):
        kind = "indicator" if isinstance(target, Indicator) else "story"
        chinese = Comment.objects.create(
            **{kind: target},
            body="胡同口的单车堆成山了。\n请尽快清理。",
            nickname="老北京",
            district=district,
            moderation_state=ModerationState.APPROVED,
        )
        OfficialReply.objects.create(
            comment=chinese, body="已协调街道划设停放区。", author=planner, author_title="东城区责任规划师"
        )
        Comment.objects.create(
            **{kind: target},
            body="More shade along the canal, please.",
            nickname="Anna",
            moderation_state=ModerationState.APPROVED,
        )
    for target in (indicator, story):
        html = english.get(target.get_absolute_url()).content.decode()
        for text in (
            "胡同口的单车堆成山了。<br>请尽快清理。",
            "老北京",
            "已协调街道划设停放区。",
            "东城区责任规划师",
        ):
            assert text in html
        found = chinese_not_marked(html)
        assert not found, f"{target.get_absolute_url()}:\n" + "\n".join(found)
        # A resident who wrote in English is not announced as Chinese.
        assert '<div class="comment__body">More shade along the canal, please.</div>' in html
        assert '<span class="comment__author">Anna</span>' in html


def test_my_data_marks_what_the_resident_and_the_planner_wrote(_report_loaded, django_user_model):
    indicator = Indicator.objects.published().select_related("edition").order_by("pk").first()
    survey = Survey.objects.get(edition__year=2023)
    me = new_resident_client()
    me.cookies["django_language"] = "en"
    assert comment(me, indicator, "希望增加公交班次").status_code == 302
    assert comment(me, indicator, "Please add a bus line.").status_code == 302
    answers = {f"question_{question.pk}": 3 for question in survey.questions.all()}
    first = survey.questions.order_by("order").first()
    assert (
        me.post(f"/survey/{survey.pk}/", {**answers, f"question_{first.pk}_comment": "地铁太挤"}).status_code
        == 302
    )
    mine = Comment.objects.get(body="希望增加公交班次")
    planner = django_user_model.objects.create_user("language-of-parts-my-data")
    reply_write(
        target=mine, author=planner, author_title="规划师", body="已反馈至公交集团。", closing_note="已办结。"
    )
    Comment.objects.filter(body="Please add a bus line.").update(
        moderation_state=ModerationState.REJECTED, moderation_reason="与本指标无关"
    )

    html = me.get("/my-data/").content.decode()
    assert '<html lang="en"' in html
    assert all(
        text in html
        for text in ("希望增加公交班次", "地铁太挤", "已反馈至公交集团。", "已办结。", "与本指标无关")
    )
    found = chinese_not_marked(html)
    assert not found, "\n".join(found)
    assert '<div class="comment__body">Please add a bus line.</div>' in html
    # "Reply to your comment: <item> (public)": a space before the English bracket.
    assert f"{indicator.name_en} (public)</p>" in html


# A quoted term's span: marked Chinese, and kept whole on a line by the stylesheet.
TERM = f'<span{CHINESE} class="quoted-term">'


def test_an_english_name_quoting_the_reports_term_marks_the_term_alone(english):
    # Staff's English for two indicators quotes the report's term: "Greening of land left
    # blank ("留白增绿")". The term is read with a Chinese voice, the English around it with
    # the page's, wherever the name is shown: the chapter's list and its chart's table, the
    # indicator's heading and crumbs, the home page's figures, search results.
    quoting = list(
        Indicator.objects.published()
        .filter(name_en__regex=r"[\u4e00-\u9fff]")
        .select_related("chapter", "edition")
    )
    assert {indicator.name_en for indicator in quoting} >= {'Greening of land left blank ("留白增绿")'}
    chapter = quoting[0].chapter
    residents_rate_and_answer(
        targets=quoting,
        survey=Survey.objects.get(edition__year=2023),
        districts=list(District.objects.order_by("pk")[:2]),
        prefix="quoted-term",
    )
    pages = [
        chapter.get_absolute_url(),
        *[indicator.get_absolute_url() for indicator in quoting],
        "/search/?q=%E7%95%99%E7%99%BD",  # 留白
        "/search/?q=greening",
    ]
    for path in pages:
        html = english.get(path).content.decode()
        assert f"(&quot;{TERM}留白增绿</span>&quot;)" in html or path != chapter.get_absolute_url(), path
        found = chinese_not_marked(html)
        assert not found, f"{path}:\n" + "\n".join(found)
    chart_table = english.get(chapter.get_absolute_url()).content.decode().split('id="chapter-chart-data"')[1]
    assert f"Greening of land left blank (&quot;{TERM}留白增绿</span>&quot;)</a></th>" in chart_table
    # A search's highlight inside the term stays inside its one span (the term kept whole on a line).
    search = english.get("/search/?q=%E7%95%99%E7%99%BD").content.decode()
    assert f"(&quot;{TERM}<mark>留白</mark>增绿</span>&quot;)" in search
    # The planners' workspace names a case's item the same way (review.language).
    reserved = next(indicator for indicator in quoting if "留白增绿" in indicator.name_en)
    assert item_label_html(reserved, english=True) == (
        f"Greening of land left blank (&quot;{TERM}留白增绿</span>&quot;)"
    )
    assert item_label_html(reserved, english=False) == reserved.name
    # The Chinese page (a visitor without the English cookie) shows the Chinese name, unmarked.
    chinese = Client().get(chapter.get_absolute_url()).content.decode()
    assert "留白增绿" in chinese and f"<span{CHINESE}>" not in chinese
