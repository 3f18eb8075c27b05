"""The participation panel, lean: its forms' widgets written in Python as Django's templates
write them, its reads one round trip whatever the comments, its comments written by a tag.

The widgets of feedback/forms.py render django/forms/widgets/*.html in Python: each case
here renders the same widget through both and compares the bytes (a Django upgrade that
changes a template fails here, not on the site)."""

import re

import pytest
from django import forms as django_forms
from django.contrib.auth import get_user_model
from django.db import connection
from django.template import Context, Template
from django.test import RequestFactory, override_settings
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django.utils.safestring import mark_safe

from feedback import forms
from feedback.models import Comment, ModerationState, OfficialReply
from tests.factories import DistrictFactory, IndicatorFactory, StoryFactory
from tests.feedback.helpers import comment, rate

pytestmark = pytest.mark.django_db

ERROR_ATTRS = {"id": "d", "aria-invalid": "true", "required": True, "hidden": False}
INPUT_ATTRS = {"id": "n", "maxlength": 30, "aria-invalid": "true", "disabled": True}
CHOICES = [("", "不填写"), ("1", "东城区"), ("2", "<西城> & '区'"), (3, mark_safe("<b>safe</b>"))]


def _django(widget_class: type, python: django_forms.Widget) -> django_forms.Widget:
    """The same widget as Django's own class, rendered by its templates."""
    twin = widget_class(attrs=dict(python.attrs))
    if hasattr(python, "choices"):
        twin.choices = python.choices
    return twin


@pytest.mark.parametrize("value", [None, "", "2", 3, "9"])
@pytest.mark.parametrize(
    "attrs",
    [None, {"id": "x-district"}, {"id": "d", "aria-invalid": "true", "required": True, "hidden": False}],
)
def test_the_select_is_written_as_django_writes_it(value, attrs):
    python = forms.Select(choices=CHOICES)
    grouped = forms.Select(choices=[("组 <1>", CHOICES[1:3]), *CHOICES[:1]])
    for widget in (python, grouped):
        expected = _django(django_forms.Select, widget).render("district", value, attrs)
        assert widget.render("district", value, attrs) == expected


@pytest.mark.parametrize("value", [None, "", "abc", 'x"<y>&', mark_safe("<i>safe</i>"), 42])
@pytest.mark.parametrize(
    "attrs", [None, {"id": "n", "maxlength": 30, "aria-invalid": "true", "disabled": True}]
)
def test_a_text_input_is_written_as_django_writes_it(value, attrs):
    python = forms.TextInput(attrs={"tabindex": "-1", "autocomplete": "off"})
    assert python.render("website", value, attrs) == _django(django_forms.TextInput, python).render(
        "website", value, attrs
    )


@pytest.mark.parametrize("value", [None, "3", 3, "9"])
def test_the_score_radios_are_written_as_django_writes_them(value):
    python = forms.RadioSelect(choices=forms.SCORE_CHOICES)
    twin = _django(django_forms.RadioSelect, python)
    attrs = {"id": "rate-score", "aria-invalid": "true", "required": True}
    assert python.render("score", value, attrs) == twin.render("score", value, attrs)
    for mine, theirs in zip(
        python.subwidgets("score", value, attrs), twin.subwidgets("score", value, attrs), strict=True
    ):
        for wrap in (False, True):
            context = {"widget": {**mine, "wrap_label": wrap}}
            assert python._render(mine["template_name"], context) == twin._render(
                theirs["template_name"], {"widget": {**theirs, "wrap_label": wrap}}
            )


def _labels(form: django_forms.Form) -> list[str]:
    return [str(form[name].label_tag()) for name in form.fields]


def test_labels_are_written_as_django_writes_them():
    class Twin(django_forms.Form):
        required_css_class = "needed"
        website = django_forms.CharField(label="网站（请留空）", required=False)
        name = django_forms.CharField(label="Name <x>")
        asked = django_forms.CharField(label="Why?")

    class Mine(forms.PythonLabels, Twin):
        pass

    for auto_id in ("id_%s", "rate-%s", False):
        assert _labels(Mine(auto_id=auto_id)) == _labels(Twin(auto_id=auto_id))


# --- The panel --------------------------------------------------------------------------


def _panel(target) -> str:
    request = RequestFactory().get("/")
    template = Template("{% load participation %}{% participation_panel target %}")
    return template.render(Context({"target": target, "request": request}))


def _comments(target, n: int, districts) -> None:
    planner = get_user_model().objects.create_user(f"planner-{n}", password="p" * 12)
    for i in range(n):
        item = Comment.objects.create(
            story=target,
            body=f"第 {i} 条\n<第二行>",
            nickname="" if i % 2 else f"<小{i}>",
            district=districts[i % len(districts)] if i % 3 else None,
            moderation_state=ModerationState.APPROVED,
            author_deleted_at=timezone.now() if i == 10 else None,
        )
        if i % 2 == 0:
            OfficialReply.objects.create(
                comment=item, body=f"答复 {i} & <b>", author=planner, author_title="规划师"
            )


def test_the_panel_reads_in_one_round_trip_whatever_its_comments(story):
    districts = [DistrictFactory() for _ in range(3)]

    def statements() -> list[str]:
        with (
            override_settings(DATABASE_PREPARED_STATEMENTS=False),
            CaptureQueriesContext(connection) as captured,
        ):
            _panel(story)
        return [query["sql"] for query in captured.captured_queries]

    # The districts, the approved comments with replies and districts, the aggregate: one execute.
    empty = statements()
    assert len(empty) == 1, empty
    _comments(story, 25, districts)
    full = statements()
    assert len(full) == 1, full
    assert "feedback_comment" in full[0] and "feedback_officialreply" in full[0]
    assert "feedback_scoreaggregate" in full[0] and "indicators_district" in full[0]
    assert "feedback_rating" not in full[0]


def test_the_panel_shows_the_newest_comments_with_replies_and_districts(story):
    districts = [DistrictFactory(name=f"区{i}") for i in range(3)]
    _comments(story, 25, districts)
    Comment.objects.create(story=story, body="待审核", moderation_state=ModerationState.PENDING)
    html = _panel(story)
    items = re.findall(r'<li class="comment">.*?</li>', html, flags=re.S)
    # The newest 20 of 25, newest first; the pending one nowhere.
    assert len(items) == 20
    assert "第 24 条" in items[0] and "第 5 条" in items[19]
    assert "待审核" not in html and "仅显示最新 20 条留言。" in html
    assert "&lt;小24&gt;" in items[0] and "第 24 条<br>&lt;第二行&gt;" in items[0]
    assert '<span class="comment__author">市民</span> · 区2 · <time datetime="' in items[1]  # i = 23
    assert '<div class="reply__body">答复 24 &amp; &lt;b&gt;</div>' in items[0]
    assert "reply" not in items[1]
    deleted = items[24 - 10]  # i = 10: the text deleted by its author, the reply kept
    assert "（市民已删除原文）" in deleted and "第 10 条" not in deleted and "答复 10" in deleted


def _select(html: str, form: str) -> str:
    start = html.index('<select name="district"', html.index(f'<form class="{form}'))
    return html[start : html.index("</select>", start)]


def test_both_selects_list_every_district_in_order(client, story):
    for order, name in enumerate(["乙区", "甲区", "丙区"]):
        DistrictFactory(name=name, order=order)
    html = _panel(story)
    for form in ("rate-form", "comment-form"):
        select = _select(html, form)
        assert re.findall(r'<option value="[^"]*"( selected)?>([^<]*)</option>', select) == [
            (" selected", "不填写"),
            ("", "乙区"),
            ("", "甲区"),
            ("", "丙区"),
        ]


def test_an_invalid_post_keeps_the_chosen_district_and_values(client, indicator):
    district = DistrictFactory(name="海淀区")
    DistrictFactory(name="朝阳区")
    html = rate(client, indicator, "9", district=district.pk).content.decode()
    assert f'<option value="{district.pk}" selected>海淀区</option>' in _select(html, "rate-form")
    assert html.count('aria-invalid="true"') == 5  # each radio
    assert '<p class="field-error" id="rate-score-error">评分须为 1 到 5 的整数。</p>' in html

    html = comment(client, indicator, "长" * 1001, nickname="<昵称>", district=district.pk).content.decode()
    assert f'<option value="{district.pk}" selected>海淀区</option>' in _select(html, "comment-form")
    assert '<input type="text" name="nickname" value="&lt;昵称&gt;" maxlength="30" id="id_nickname">' in html
    assert "长" * 1001 + "</textarea>" in html


# --- The blank forms, written once per item, language and districts ({% fixed %}) ---------


def _page(client, target) -> str:
    response = client.get(target.get_absolute_url())
    assert response.status_code == 200
    return response.content.decode()


def test_the_blank_forms_follow_the_districts_they_list(client, indicator):
    district = DistrictFactory(name="海淀区", name_en="Haidian")
    assert _page(client, indicator).count(f'<option value="{district.pk}">海淀区</option>') == 2
    # Staff rename it and add one: the next page lists them so, in both forms.
    district.name, district.name_en = "海淀新区", "New Haidian"
    district.save()
    added = DistrictFactory(name="朝阳区", name_en="Chaoyang")
    html = _page(client, indicator)
    for form in ("rate-form", "comment-form"):
        select = _select(html, form)
        assert f'<option value="{district.pk}">海淀新区</option>' in select
        assert f'<option value="{added.pk}">朝阳区</option>' in select
        assert ">海淀区<" not in select
    # The English page's forms are English, with the English names.
    assert client.post("/i18n/setlang/", {"language": "en", "next": "/"}).status_code == 302
    english = _page(client, indicator)
    for form in ("rate-form", "comment-form"):
        select = _select(english, form)
        assert '<option value="" selected>Prefer not to say</option>' in select
        assert f'<option value="{district.pk}">New Haidian</option>' in select
    assert "Your district (optional)" in english and "您所在的区" not in english


def test_the_blank_forms_are_each_items_own(client, chapter):
    first, second = IndicatorFactory(chapter=chapter), IndicatorFactory(chapter=chapter)
    story = StoryFactory(chapter=chapter)
    for target, kind in ((first, "indicator"), (second, "indicator"), (story, "story"), (first, "indicator")):
        html = _page(client, target)
        assert html.count('action="/participate/') == 2
        assert f'action="/participate/{kind}/{target.pk}/rate/"' in html
        assert f'action="/participate/{kind}/{target.pk}/comment/"' in html
        assert f'data-target-type="{kind}" data-target-id="{target.pk}"' in html


def test_a_refused_form_is_shown_as_sent_after_the_blank_one_was_kept(client, indicator):
    district = DistrictFactory(name="海淀区")
    blank = _page(client, indicator)
    assert 'aria-invalid="true"' not in blank and " selected>海淀区<" not in blank
    html = rate(client, indicator, "9", district=district.pk).content.decode()
    assert f'<option value="{district.pk}" selected>海淀区</option>' in _select(html, "rate-form")
    assert '<p class="field-error" id="rate-score-error">评分须为 1 到 5 的整数。</p>' in html
    # And the page itself is blank again.
    assert _page(client, indicator) == blank
