"""A resident's whole visit on a phone, in Chromium: read an indicator, rate it, take
the survey, leave a comment, and find all three on "我的数据" — in the standard
display and in the large-text 适老化 display switched on from the header.

Only what the resident sees and does: links and buttons by their text, form fields
by their labels. Every page on the way logs no console error and asks no other
host for anything; the indicator page and "我的数据" have no serious or critical
axe-core violation in either display, and their form controls and buttons are at
least 24 CSS pixels (WCAG 2.5.8) in the standard display and 44 (2.5.5) in the large.
"""

import re

import pytest
from playwright.sync_api import expect

from tests.browser.viewports import PHONE

pytestmark = pytest.mark.django_db

COMMENT = "家门口的口袋公园多了，傍晚散步很方便。希望再多一些遮阴的座椅。"
SURVEY_REMARK = "胡同里的老院子修得好，味道还在。"


def _body_font_size(visit) -> float:
    return visit.page.evaluate("parseFloat(getComputedStyle(document.querySelector('main p')).fontSize)")


def _switch_to_large(visit) -> None:
    """With the header's switch, on the home page: the text grows to 1.5× at least."""
    visit.goto("/")
    standard = _body_font_size(visit)
    visit.page.locator("header a[href*='mode=large']").first.click()
    visit.page.wait_for_load_state("load")
    visit.settle()
    _check_display(visit, large=True)
    large = _body_font_size(visit)
    assert large >= 1.5 * standard, f"large display text {large}px, standard {standard}px: not 1.5×"


def _check_display(visit, *, large: bool) -> None:
    """Each page in the display chosen (the page cache keeps the two apart)."""
    html = visit.page.locator("html")
    if large:
        expect(html).to_have_class(re.compile(r"\bdisplay-large\b"))
    else:
        expect(html).not_to_have_class(re.compile(r"\bdisplay-large\b"))


def _accessible(visit, *, large: bool) -> None:
    _check_display(visit, large=large)
    problems = visit.axe_blocking() + visit.small_controls(44 if large else 24) + visit.broken_numbers()
    assert not problems, f"{visit.page.url}:\n" + "\n".join(problems)


def _read_and_rate(visit, report, *, large: bool) -> None:
    page = visit.page
    visit.goto(f"/{report.year}/indicators/{report.indicator}/")
    expect(page.get_by_role("heading", level=1)).to_have_text(report.indicator_name)
    _accessible(visit, large=large)

    rating = page.locator("form.rate-form")
    rating.get_by_role("radio", name=re.compile(r"^4 分")).check()
    rating.get_by_role("button", name="提交评分").click()
    # With JavaScript the form posts to the API and says so in place.
    expect(page.get_by_text(re.compile("已收到您的评分"))).to_be_visible()


def _take_the_survey(visit, *, large: bool) -> None:
    page = visit.page
    page.get_by_role("navigation", name="主导航").get_by_role("link", name="满意度调查").click()
    _check_display(visit, large=large)
    questions = page.locator("form.survey-form fieldset")
    count = questions.count()
    assert count >= 5, f"the survey shows {count} questions"
    for index in range(count):
        # 5, 4, 3, 2, 1, 5, …: each answer its own, to be found again on "我的数据".
        questions.nth(index).get_by_role("radio", name=re.compile(rf"^{5 - index % 5} 分")).check()
    questions.first.get_by_label("补充意见（可选）").fill(SURVEY_REMARK)
    page.get_by_role("button", name="提交答卷").click()
    expect(page.get_by_text("感谢您参与满意度调查！")).to_be_visible()


def _comment(visit, report, *, large: bool) -> None:
    page = visit.page
    # The second visit: the page comes from the page cache this time.
    visit.goto(f"/{report.year}/indicators/{report.indicator}/")
    _check_display(visit, large=large)
    form = page.locator("form.comment-form")
    form.get_by_label("留言").fill(COMMENT)
    form.get_by_role("button", name="提交留言").click()
    expect(page.get_by_text(re.compile("留言已(提交|发布)"))).to_be_visible()


def _my_data_shows_everything(visit, report, *, large: bool) -> None:
    page = visit.page
    page.get_by_role("navigation", name="主导航").get_by_role("link", name="我的数据").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("我的数据")

    ratings = page.locator("section", has=page.get_by_role("heading", name="评分", exact=True))
    rated = ratings.get_by_role("row", name=re.compile(re.escape(report.indicator_name)))
    expect(rated).to_contain_text("4 分")

    answers = page.locator("section", has=page.get_by_role("heading", name="问卷答卷"))
    expect(answers.get_by_role("link", name=re.compile("满意度调查"))).to_be_visible()
    rows = answers.locator("tbody tr")
    expect(rows.first).to_contain_text("5")
    expect(rows.first).to_contain_text(SURVEY_REMARK)
    expect(rows.nth(1)).to_contain_text("4")

    comments = page.locator("section", has=page.get_by_role("heading", name="留言", exact=True))
    expect(comments).to_contain_text(COMMENT)
    expect(comments.get_by_role("link", name=report.indicator_name)).to_be_visible()
    _accessible(visit, large=large)


@pytest.mark.parametrize("display", ["standard", "large"])
def test_a_resident_reads_rates_answers_comments_and_finds_it_all_in_my_data(
    open_browser, report, screenshots, display
):
    visit = open_browser(PHONE)
    large = display == "large"
    if large:
        _switch_to_large(visit)

    _read_and_rate(visit, report, large=large)
    _take_the_survey(visit, large=large)
    _comment(visit, report, large=large)
    _my_data_shows_everything(visit, report, large=large)

    visit.screenshot(screenshots, f"journey-{display}-my-data")
    assert not visit.problems(), "\n".join(visit.problems())
