"""The accountability page's period form says which months its figures cover."""

import re
from datetime import date

import pytest
from django.test import Client
from django.utils import timezone

from tests.html_forms import form_fields

pytestmark = pytest.mark.django_db


def _fields(html: str) -> dict[str, list[str]]:
    """What the period form would submit as it stands."""
    form = html[html.index('class="period-form"') :]
    return form_fields(form[: form.index("</form>")])


def _period_line(html: str) -> str:
    return re.search(r'<p id="period">(.*?)</p>', html).group(1)


def test_with_no_months_asked_the_fields_show_the_default_period():
    this_month = timezone.localdate().replace(day=1)
    page = Client().get("/accountability/")
    html = page.content.decode()
    assert page.status_code == 200
    january = date(this_month.year, 1, 1).strftime("%Y-%m")
    assert _fields(html) == {"start": [january], "end": [this_month.strftime("%Y-%m")]}
    assert f"{january} 至 {this_month:%Y-%m}" in _period_line(html)


def test_a_month_left_empty_shows_the_default_it_was_read_as():
    html = Client().get("/accountability/", {"start": "", "end": "2024-03"}).content.decode()
    assert _fields(html) == {"start": ["2024-01"], "end": ["2024-03"]}
    assert "2024-01 至 2024-03" in _period_line(html)


def test_a_reversed_period_keeps_what_was_typed_with_its_error():
    this_month = timezone.localdate().replace(day=1)
    page = Client().get("/accountability/", {"start": "2024-05", "end": "2024-03"})
    html = page.content.decode()
    assert page.status_code == 400
    assert _fields(html) == {"start": ["2024-05"], "end": ["2024-03"]}
    assert "起始月份不能晚于截止月份" in html
    # The figures below are the default period's, and the line above them says so.
    assert f"{this_month.year}-01 至 {this_month:%Y-%m}" in _period_line(html)
