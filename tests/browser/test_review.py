"""A responsibility planner's workspace on a phone, in Chromium: signed in through the login
form, the queue, a case and the dashboard are clean as the public pages are (no console error, no
serious axe violation, nothing wider than the window, no word or figure cut in two), and the
dashboard's charts of counts step in whole cases (an axis of "0.1 件反馈" would read as a
fraction of a case)."""

import pytest
from django.contrib.auth import get_user_model

from indicators.models import District
from tests.browser.viewports import DESKTOP
from tests.review.helpers import PASSWORD, make_planner

pytestmark = pytest.mark.django_db

# A planner of a district the residents' scores fill (conftest._residents_scores), and one of a
# district with no feedback yet (every count 0: where Chart.js would step in tenths).
_PLANNERS = {"browser-planner": "dongcheng", "browser-planner-quiet": "yanqing"}


@pytest.fixture(scope="module")
def planners(report, django_db_blocker):
    """The planners, committed for the server's threads to read; removed after."""
    with django_db_blocker.unblock():
        for username, district in _PLANNERS.items():
            make_planner(username, districts=[District.objects.get(slug=district)])
    yield list(_PLANNERS)
    with django_db_blocker.unblock():
        get_user_model().objects.filter(username__in=_PLANNERS).delete()


def _signed_in(visit, username: str) -> None:
    assert visit.goto("/review/login/") == 200
    visit.page.get_by_label("用户名").fill(username)
    visit.page.get_by_label("密码").fill(PASSWORD)
    visit.page.get_by_role("main").get_by_role("button", name="登录").click()
    visit.page.wait_for_url("**/review/")
    visit.settle()


# Each chart of the dashboard whose values are counts, and the values of its axis's steps.
_COUNT_AXES = """() => ['chart-backlog', 'chart-weekly'].map((id) => {
  const chart = window.Chart.getChart(document.querySelector(`canvas[data-chart="${id}"]`));
  return [id, chart.scales.y.ticks.map((tick) => tick.value)];
})"""


@pytest.mark.parametrize("username", list(_PLANNERS))
def test_a_planner_s_queue_and_dashboard_read_well_on_a_phone(open_browser, planners, username):
    visit = open_browser({"width": 390, "height": 844})
    _signed_in(visit, username)
    problems = [f"queue: {line}" for line in visit.reading_problems()]
    cases = visit.page.get_by_role("main").locator("a[href^='/review/cases/']")
    if username == "browser-planner":
        # The residents' low scores in Dongcheng opened cases; the first, with its history.
        assert cases.count(), "the queue lists no case"
        cases.first.click()
        visit.page.wait_for_url("**/review/cases/*/")
        visit.settle()
        for width in (320, 390):
            visit.resize({"width": width, "height": 844})
            problems += [f"case at {width} px: {line}" for line in visit.reading_problems()]
        visit.resize({"width": 390, "height": 844})
    assert visit.goto("/review/dashboard/") == 200
    for width in (320, 390, DESKTOP["width"]):
        visit.resize({"width": width, "height": 844})
        problems += [f"dashboard at {width} px: {line}" for line in visit.reading_problems()]
        for chart, steps in visit.page.evaluate(_COUNT_AXES):
            assert steps, f"{chart} drew no axis"
            assert steps[0] == 0, f"{chart} at {width} px starts at {steps[0]}"
            fractions = [step for step in steps if step != int(step)]
            assert not fractions, f"{chart} at {width} px steps in fractions of a case: {steps}"
    assert not (visit.problems() + problems), "\n".join(visit.problems() + problems)
