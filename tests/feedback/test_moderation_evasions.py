"""Post-moderation holds what a person must see first, however it is spelt.

The corpus is what an evader types to get a staff word or a link past a
plain substring test, and personal data a resident should not publish. Each
comment is submitted through the site's API as a resident would; under
``COMMENT_MODERATION=post`` a clean comment is public at once, so "held"
means: pending, with the reason, and absent from the page and the API.
"""

import csv
import io

import pytest

from feedback.models import Comment, ModerationState, SensitiveWord
from tests.feedback.conftest import new_resident_client
from tests.feedback.helpers import API_COMMENTS, api_post
from tests.review.helpers import make_staff

pytestmark = pytest.mark.django_db

STAFF_WORDS = ["法轮功", "fuck", "代开发票"]

WORD_EVASIONS = [
    "法轮功",
    "法 轮 功",
    "法\u3000轮\u3000功",
    "法\u200b轮\u200b功",
    "法\u200d轮\u200d功",
    "法\ufeff轮功",
    "法.轮.功",
    "法-轮-功",
    "法_轮_功",
    "法·轮·功",
    "法*轮*功",
    "法輪功",
    "法\n轮\n功",
    "ｆｕｃｋ",
    "FUCK",
    "f u c k",
    "f.u.c.k",
    "f\u200bu\u200bc\u200bk",
    "Ｆ Ｕ Ｃ Ｋ",
    "fu\u00adck",
    "代 开 发 票",
    "代開發票",
    "代开,发票",
]
LINK_EVASIONS = [
    "www . x . com",
    "ｗｗｗ．ｘ．ｃｏｍ",
    "x。com",
    "看 x 。com",
    "http://x.com",
    "HTTPS://X.COM/a",
    "www.x.com",
    "加 x.cn 领取",
]
PERSONAL_DATA = [
    ("请联系我13812345678", "手机号", "138****5678"),
    ("电话 138 1234 5678", "手机号", "138****5678"),
    ("+86 138-1234-5678 找我", "手机号", "138****5678"),
    ("我的身份证110101199003077571", "身份证号", "********"),
    ("邮箱 zhang.san@example.com", "电子邮箱", "@example.com"),
]
CLEAN = [
    "公园里的厕所太少了，周末排队很长。",
    "森林覆盖率达到 44.9%，希望继续提高。",
    "地铁 17 号线开通后通勤时间少了 20 分钟。",
    "12345 热线回复很及时，点赞！",
    "胡同停车很乱，早高峰堵住消防通道。",
    "2023年新增的口袋公园很好用，1.5万平方米够大。",
]


@pytest.fixture
def post_moderation(settings, db):
    settings.COMMENT_MODERATION = "post"
    SensitiveWord.objects.bulk_create([SensitiveWord(word=w) for w in STAFF_WORDS])


def _submit(indicator, text: str) -> Comment:
    response = api_post(
        new_resident_client(),
        API_COMMENTS,
        {"target_type": "indicator", "target_id": indicator.pk, "body": text},
    )
    assert response.status_code == 201, response.content
    return Comment.objects.get(pk=response.json()["id"])


def _public(client, indicator) -> list[str]:
    listing = client.get(API_COMMENTS, {"target_type": "indicator", "target_id": indicator.pk}).json()
    return [c["body"] for c in listing["results"]]


@pytest.mark.parametrize("text", WORD_EVASIONS)
def test_spelling_a_staff_word_differently_still_holds_the_comment(post_moderation, client, indicator, text):
    held = _submit(indicator, f"大家看看{text}这个")
    assert held.moderation_state == ModerationState.PENDING
    assert "敏感词" in held.held_reason
    assert _public(client, indicator) == []


@pytest.mark.parametrize("text", LINK_EVASIONS)
def test_links_written_around_the_filter_are_held(post_moderation, client, indicator, text):
    held = _submit(indicator, f"详情 {text}")
    assert held.moderation_state == ModerationState.PENDING
    assert "链接" in held.held_reason
    assert _public(client, indicator) == []


@pytest.mark.parametrize(("text", "kind", "_masked"), PERSONAL_DATA)
def test_personal_data_holds_the_comment_naming_only_its_kind(
    post_moderation, client, indicator, text, kind, _masked
):
    held = _submit(indicator, text)
    assert held.moderation_state == ModerationState.PENDING
    assert f"含个人信息：{kind}" in held.held_reason
    assert "13812345678" not in held.held_reason and "110101" not in held.held_reason
    assert _public(client, indicator) == []


@pytest.mark.parametrize("text", CLEAN)
def test_ordinary_comments_are_published_at_once(post_moderation, client, indicator, text):
    published = _submit(indicator, text)
    assert published.moderation_state == ModerationState.APPROVED, published.held_reason
    assert _public(client, indicator) == [text]


def test_the_workspace_queue_case_page_and_export_mask_personal_data(post_moderation, client, indicator):
    for text, _kind, _masked in PERSONAL_DATA:
        _submit(indicator, text)
    client.force_login(make_staff())
    queue = client.get("/review/").content.decode()
    export = b"".join(client.get("/review/export.csv").streaming_content).decode("utf-8-sig")
    cells = [row[9] for row in csv.reader(io.StringIO(export))][1:]
    for shown in (queue, export):
        assert "13812345678" not in shown
        assert "1234 5678" not in shown
        assert "110101199003077571" not in shown
        assert "zhang.san@" not in shown
    for text, _kind, masked in PERSONAL_DATA:
        assert any(masked in cell for cell in cells), (text, cells)
    comment = Comment.objects.get(body=PERSONAL_DATA[0][0])
    case_page = client.get(comment.review_case.get_absolute_url()).content.decode()
    assert "138****5678" in case_page and "13812345678" not in case_page
