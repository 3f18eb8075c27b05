"""The checks of the browser tests can fail: each catches what it is there to catch."""

import pytest

from tests.browser.viewports import PHONE

pytestmark = pytest.mark.django_db

# A page of the site's own, then made bad the ways the checks look for.
BAD_MARKUP = """
<img src="data:image/gif;base64,R0lGODlhAQABAAAAACw=">
<button type="button" class="tiny">OK</button>
"""


def test_an_axe_violation_a_small_target_a_console_error_a_wide_line_and_an_outside_request_are_all_caught(
    open_browser,
):
    visit = open_browser(PHONE)
    assert visit.goto("/privacy/") == 200
    assert visit.problems() == []

    visit.page.evaluate("html => { document.querySelector('main').innerHTML = html; }", BAD_MARKUP)
    # Through the CSSOM: the policy refuses style attributes in markup.
    visit.page.evaluate("document.querySelector('.tiny').style.height = '12px'")
    visit.page.evaluate("console.error('broken on purpose')")
    assert any(line.startswith("image-alt (critical)") for line in visit.axe_blocking())
    assert any("×12" in line and "<button" in line for line in visit.small_controls(24))
    assert any("broken on purpose" in problem for problem in visit.problems())

    # A line too long for a phone makes the page wider than the window; in a box that
    # scrolls it sideways (a wide table's frame), it does not.
    assert visit.overflowing() == []
    visit.page.evaluate(
        "() => { const wide = document.createElement('p'); wide.className = 'wide';"
        " wide.textContent = 'x'.repeat(400); wide.style.whiteSpace = 'nowrap';"
        " document.querySelector('main').append(wide); }"
    )
    wide = visit.overflowing()
    assert wide[0].startswith("the page is ") and wide[0].endswith(" px wide in a 390 px window"), wide
    assert any(line.startswith('<p class="wide"> "xxx') for line in wide[1:]), wide
    visit.page.evaluate(
        "() => { const frame = document.createElement('div'); frame.style.overflowX = 'auto';"
        " frame.append(document.querySelector('.wide')); document.querySelector('main').append(frame); }"
    )
    assert visit.overflowing() == []

    # The site's policy stops an outside image before any request: on a blank page
    # without it (in the same browser), the request is made, refused and named.
    visit.context.new_page().set_content('<img src="https://cdn.example.org/logo.png" alt="logo">')
    assert "outside request (refused): https://cdn.example.org/logo.png" in visit.problems()


def test_the_site_s_policy_stops_an_outside_image_and_says_so_in_the_console(open_browser):
    visit = open_browser(PHONE)
    visit.goto("/privacy/")
    visit.page.evaluate(
        "document.querySelector('main').insertAdjacentHTML("
        "'beforeend', '<img src=\"https://cdn.example.org/logo.png\" alt=\"logo\">')"
    )
    visit.settle()
    assert any("Content Security Policy" in problem for problem in visit.problems())
    assert visit.outside_requests == []
