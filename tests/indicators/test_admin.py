"""Staff curation in the Django admin: every model opens, drafts are marked, publish/unpublish."""

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from indicators import services
from indicators.models import (
    Chapter,
    District,
    Edition,
    Indicator,
    IndicatorValue,
    Photo,
    PublishStatus,
    Section,
    Story,
    Street,
)
from tests.factories import (
    ChapterFactory,
    EditionFactory,
    IndicatorFactory,
    PhotoFactory,
    SectionFactory,
    StoryFactory,
    StreetFactory,
)

pytestmark = pytest.mark.django_db

MODELS = [District, Street, Edition, Chapter, Section, Indicator, IndicatorValue, Story, Photo]


@pytest.fixture
def report():
    edition = EditionFactory(year=2023)
    chapter = ChapterFactory(edition=edition, number=4, theme="生态底线")
    section = SectionFactory(chapter=chapter, number=1, title="公园绿地")
    indicator = IndicatorFactory(
        chapter=chapter, section=section, name="公园绿地覆盖率", values=[(2023, "90.5")]
    )
    street = StreetFactory(name="东四街道")
    story = StoryFactory(
        edition=edition, chapter=chapter, street=street, title="东四南大街", indicators=[indicator]
    )
    PhotoFactory(story=story, credit="霍文武 / 摄")
    return edition


def _url(model, view: str, *args) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_staff_open_list_add_and_change_page_of_every_model(staff, report, model):
    obj = model.objects.first()

    changelist = staff.get(_url(model, "changelist"))
    assert changelist.status_code == 200
    assert str(obj) in changelist.content.decode()
    assert staff.get(_url(model, "change", obj.pk)).status_code == 200
    assert staff.get(_url(model, "add")).status_code == 200


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_search_and_filters_answer(staff, report, model):
    response = staff.get(_url(model, "changelist"), {"q": "公园"})

    assert response.status_code == 200


def test_changelist_search_finds_chinese_substrings(staff, report):
    IndicatorFactory(chapter=Chapter.objects.get(), name="森林覆盖率")

    page = staff.get(_url(Indicator, "changelist"), {"q": "公园"}).content.decode()

    assert "公园绿地覆盖率" in page
    assert "森林覆盖率" not in page


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_non_staff_and_anonymous_are_sent_to_the_login(client, report, model):
    url = _url(model, "changelist")
    assert client.get(url).url.startswith(reverse("admin:login"))

    resident = get_user_model().objects.create_user("resident", password="a-long-passphrase")
    client.force_login(resident)
    response = client.get(url)

    assert response.status_code == 302
    assert response.url.startswith(reverse("admin:login"))


def test_values_are_edited_inline_under_their_indicator(staff, report):
    indicator = Indicator.objects.get()

    page = staff.get(_url(Indicator, "change", indicator.pk)).content.decode()

    assert 'name="values-0-value"' in page
    assert 'name="values-0-qualifier"' in page


def test_drafts_and_scheduled_items_are_marked_in_the_list(staff, report):
    chapter = Chapter.objects.get()
    IndicatorFactory(chapter=chapter, name="草稿指标", draft=True)
    IndicatorFactory(chapter=chapter, name="定时指标", scheduled=True)

    page = staff.get(_url(Indicator, "changelist")).content.decode()

    assert page.count("草稿（不公开）") == 1
    assert page.count("定时发布") == 1
    assert page.count("已公开") >= 1


def test_a_published_indicator_of_a_draft_edition_is_not_shown_as_public(staff, report):
    services.publishable_unpublish(queryset=Edition.objects.all())

    page = staff.get(_url(Indicator, "changelist")).content.decode()

    assert "已发布，但年度报告未公开" in page
    assert "✔" not in page


def _action(staff, model, action: str, objects) -> None:
    response = staff.post(
        _url(model, "changelist"),
        {"action": action, "_selected_action": [o.pk for o in objects]},
        follow=True,
    )
    assert response.status_code == 200


@pytest.mark.parametrize(
    ("model", "factory"),
    [(Indicator, IndicatorFactory), (Story, StoryFactory), (Edition, EditionFactory)],
    ids=["indicator", "story", "edition"],
)
def test_publish_action_makes_drafts_public_now(staff, model, factory):
    drafts = [factory(draft=True, published_at=None), factory(scheduled=True)]
    already = factory()
    first_published = already.published_at

    before = timezone.now()
    _action(staff, model, "publish", [*drafts, already])

    for draft in drafts:
        draft.refresh_from_db()
        assert draft.status == PublishStatus.PUBLISHED
        assert before <= draft.published_at <= timezone.now()
        assert draft.is_public
    already.refresh_from_db()
    assert already.published_at == first_published


@pytest.mark.parametrize(
    ("model", "factory"),
    [(Indicator, IndicatorFactory), (Story, StoryFactory), (Edition, EditionFactory)],
    ids=["indicator", "story", "edition"],
)
def test_unpublish_action_turns_items_into_drafts(staff, model, factory):
    published = [factory(), factory()]
    kept = factory()

    _action(staff, model, "unpublish", published)

    for obj in published:
        obj.refresh_from_db()
        assert (obj.status, obj.published_at, obj.is_public) == (PublishStatus.DRAFT, None, False)
    kept.refresh_from_db()
    assert kept.is_public


def test_unpublished_indicator_disappears_from_the_api(staff, report, client):
    indicator = Indicator.objects.get()
    url = f"/api/v1/indicators/2023/{indicator.code}/"
    assert client.get(url).status_code == 200

    _action(staff, Indicator, "unpublish", [indicator])
    assert client.get(url).status_code == 404

    _action(staff, Indicator, "publish", [indicator])
    assert client.get(url).status_code == 200


def test_saving_as_published_without_a_date_publishes_now(staff, report):
    story = Story.objects.get()
    services.publishable_unpublish(queryset=Story.objects.filter(pk=story.pk))
    page = staff.get(_url(Story, "change", story.pk))
    form = page.context["adminform"].form
    data = {k: v for k, v in form.initial.items() if v is not None}
    data.update(
        {
            "edition": story.edition_id,
            "chapter": story.chapter_id or "",
            "district": story.district_id or "",
            "street": story.street_id or "",
            "indicators": [i.pk for i in story.indicators.all()],
            "status": PublishStatus.PUBLISHED,
            "published_at_0": "",
            "published_at_1": "",
            "photos-TOTAL_FORMS": "0",
            "photos-INITIAL_FORMS": "0",
        }
    )
    data.pop("published_at", None)
    data.pop("section", None)

    response = staff.post(_url(Story, "change", story.pk), data)

    assert response.status_code == 302, response.context["adminform"].form.errors
    story.refresh_from_db()
    assert story.is_public


def _after(action, item):
    """``item`` after ``action`` ran on a queryset of it alone, as the admin's list action does."""
    action(queryset=type(item).objects.filter(pk=item.pk))
    item.refresh_from_db()
    return item


def test_services_publish_one_indicator_and_story():
    indicator = IndicatorFactory(draft=True, published_at=None)
    story = StoryFactory(scheduled=True)

    assert _after(services.publishable_publish, indicator).is_public
    assert _after(services.publishable_publish, story).is_public
    assert not _after(services.publishable_unpublish, indicator).is_public
    assert not _after(services.publishable_unpublish, story).is_public


def test_publish_counts_only_what_changed():
    IndicatorFactory()
    IndicatorFactory(draft=True)
    IndicatorFactory(published_at=timezone.now() + timedelta(days=1))

    assert services.publishable_publish(queryset=Indicator.objects.all()) == 2
    assert services.publishable_publish(queryset=Indicator.objects.all()) == 0
    assert services.publishable_unpublish(queryset=Indicator.objects.all()) == 3


def _grow(n: int) -> None:
    edition = Edition.objects.get()
    for _ in range(n):
        chapter = ChapterFactory(edition=edition, number=10 + Chapter.objects.count())
        section = SectionFactory(chapter=chapter, number=1)
        indicator = IndicatorFactory(chapter=chapter, section=section, values=[(2022, "1"), (2023, "2")])
        story = StoryFactory(edition=edition, chapter=chapter, street=StreetFactory(), indicators=[indicator])
        PhotoFactory(story=story)


def _changelist_queries(staff) -> dict[str, list[str]]:
    """The queries of every model's change list, by model."""
    queries = {}
    for model in MODELS:
        with CaptureQueriesContext(connection) as captured:
            assert staff.get(_url(model, "changelist")).status_code == 200, model.__name__
        queries[model.__name__] = [query["sql"] for query in captured]
    return queries


def test_changelist_queries_do_not_grow_with_the_data(staff, report):
    """Every model's change list, with the data grown tenfold in between (once for all of them)."""
    _grow(2)
    small = _changelist_queries(staff)
    _grow(18)
    large = _changelist_queries(staff)

    grown = {name: sql for name, sql in large.items() if len(sql) != len(small[name])}
    assert grown == {}, grown


def test_a_view_only_editor_can_neither_publish_nor_import(client, report):
    user = get_user_model().objects.create_user("reader", password="a-long-passphrase", is_staff=True)
    user.user_permissions.add(
        *Permission.objects.filter(codename__in=["view_indicator", "view_indicatorvalue"])
    )
    client.force_login(user)
    indicator = Indicator.objects.get()

    page = client.get(_url(Indicator, "changelist")).content.decode()
    assert 'value="publish"' not in page and 'value="unpublish"' not in page
    client.post(_url(Indicator, "changelist"), {"action": "unpublish", "_selected_action": [indicator.pk]})
    indicator.refresh_from_db()
    assert indicator.is_public
    assert client.get(reverse("admin:indicators_indicator_import")).status_code == 403
    assert client.get(reverse("admin:indicators_indicator_export")).status_code == 200


def test_a_value_added_in_the_admin_must_name_its_source(staff, report):
    value = IndicatorValue.objects.get()
    data = {"indicator": value.indicator_id, "year": 2024, "month": "", "value": "91", "qualifier": ""}

    refused = staff.post(_url(IndicatorValue, "add"), {**data, "source": ""})

    assert refused.status_code == 200
    assert "新增的数值须写明来源" in refused.content.decode()
    assert not IndicatorValue.objects.filter(year=2024).exists()
    accepted = staff.post(_url(IndicatorValue, "add"), {**data, "source": "市统计局 2025 年公报"})
    assert accepted.status_code == 302
    assert IndicatorValue.objects.get(year=2024).value == 91
    # The report's own figure (no source) can still be corrected.
    edit = {
        "indicator": value.indicator_id,
        "year": value.year,
        "month": "",
        "value": "90.6",
        "qualifier": "",
    }
    assert staff.post(_url(IndicatorValue, "change", value.pk), {**edit, "source": ""}).status_code == 302
