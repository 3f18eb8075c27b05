"""The 2023 stories as data: each summary its own, quoted from the report, never read twice.

All ten 最美街巷 used to share one summary, four stories the hotline's, most
pages opened with the summary and then the same sentence again as the body,
and a story without any photo file showed a 图片 heading over a caption.
"""

import re
from collections import Counter
from pathlib import Path

import pytest
import yaml
from django.core.files.base import ContentFile

from indicators.models import Photo, Story

REPORT_FILE = Path(__file__).resolve().parents[2] / "indicators" / "data" / "report_2023.yaml"


@pytest.fixture(scope="module")
def data() -> dict:
    return yaml.safe_load(REPORT_FILE.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def stories(data) -> list[dict]:
    assert len(data["stories"]) > 70
    return data["stories"]


def _sentences(text: str) -> list[str]:
    return [s.strip() for s in re.findall(r"[^。！？]+[。！？]?", text or "") if s.strip()]


def _squeezed(text: str) -> str:
    # The report's lines were joined from a PDF: compare without any whitespace.
    return re.sub(r"\s+", "", text or "")


def test_no_two_stories_share_a_summary(stories):
    counts = Counter(story["summary"] for story in stories if story["summary"])

    assert [summary for summary, n in counts.items() if n > 1] == []


def test_no_body_starts_with_its_summarys_first_sentence(stories):
    repeated = [
        story["slug"]
        for story in stories
        if story["summary"] and (story["body"] or "").lstrip().startswith(_sentences(story["summary"])[0])
    ]

    assert repeated == []


def test_no_sentence_of_a_summary_is_read_again_in_its_body(stories):
    repeated = [
        (story["slug"], sentence)
        for story in stories
        for sentence in _sentences(story["summary"])
        if sentence in (story["body"] or "")
    ]

    assert repeated == []


def test_every_summary_quotes_the_report(data, stories):
    """A summary is the report's own words, as its sections hold them: nothing invented."""
    report = _squeezed(
        "\n".join(section["body"] for chapter in data["chapters"] for section in chapter["sections"])
    )

    invented = [s["slug"] for s in stories if s["summary"] and _squeezed(s["summary"]) not in report]

    assert invented == []


def test_stories_the_report_says_nothing_specific_about_have_no_summary(stories):
    by_slug = {story["slug"]: story for story in stories}
    alleys = [story for story in stories if story["kind"] == "best_alley"]

    assert len(alleys) == 10 and all(not alley["summary"] for alley in alleys)
    assert by_slug["hotline-12345"]["summary"].startswith("12345 市民服务热线共受理群众反映 2143.8 万件")
    themes = [story for story in stories if story["kind"] == "hotline_theme"]
    assert len(themes) == 3 and all(not theme["summary"] for theme in themes)


# --- The pages -------------------------------------------------------------------------------------


def test_story_pages_without_an_image_have_no_picture_section(report_2023):
    """The data file gives photos as captions, without image files: no story page of the 2023
    report may show a 图片 section. Every story page is opened, and checked for that, by
    tests/indicators/test_site.py::test_every_page_of_the_2023_report_renders (rendering all
    74 here again cost as much as the rest of this module); here, that the report is so."""
    stories = list(Story.objects.published())
    with_captions = {photo.story_id for photo in Photo.objects.all()}
    assert len(stories) > 70 and len(with_captions) > 20
    assert not Photo.objects.exclude(image="").exists(), "the data file carries captions, no image files"


def test_a_story_page_opens_with_its_summary_once(client, report_2023):
    story = Story.objects.get(slug="beijing-central-axis-world-heritage")

    html = client.get(story.get_absolute_url()).content.decode()

    page = html[html.index("<article") :]
    assert page.count("北京中轴线正式列入《世界遗产名录》") == 1
    assert "北京市拥有世界文化遗产增至 8 处。" in page


def test_story_list_items_show_a_summary_only_where_there_is_one(client, report_2023):
    page = client.get("/2023/stories/", {"kind": "best_alley"}).content.decode()

    assert page.count('class="story-item"') == 10
    assert 'class="story-item__summary"' not in page
    themes = client.get("/2023/stories/", {"kind": "hotline_theme"}).content.decode()
    assert "2143.8 万件" not in themes


def test_a_photo_with_an_image_file_brings_the_picture_section(client, report_2023, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    story = Story.objects.get(slug="best-alley-dongbuyaqiao-hutong")
    photo = story.photos.get()
    photo.image.save("hutong.png", ContentFile(b"\x89PNG\r\n\x1a\n"))

    page = client.get(story.get_absolute_url()).content.decode()

    assert '<h2 id="photos-title">图片</h2>' in page
    assert f'<img src="{photo.image.url}" alt="东不压桥胡同"' in page
