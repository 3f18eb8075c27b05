"""The verified tier (后台实名): SMS codes to a mainland number, only keyed hashes stored.

The flows go through the site's pages and the API on the real database and
Redis, with the locmem SMS backend or the HTTP backend against a local provider.
"""

import json
import re
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db.models import F
from django.test import Client
from django.utils import timezone

from feedback.models import Comment, ModerationState, PhoneVerification, Rating, Resident, SensitiveWord
from feedback.verification import phone_normalise
from tests.feedback.conftest import cookie_key_hash, new_resident_client
from tests.feedback.helpers import API_ME, api_post, api_rate, comment, rate
from tests.feedback.sms_fixtures import SIGN_NAME, TEMPLATE_ID, sms_outbox, sms_provider  # noqa: F401

pytestmark = pytest.mark.django_db

API_START = "/api/v1/verification/"
API_CONFIRM = "/api/v1/verification/confirm/"
PHONE = "13812345678"
E164 = "+8613812345678"
MASKED = "138****5678"


def start(client: Client, phone: str = PHONE, **extra):
    return client.post("/verify/", {"phone": phone, **extra})


def confirm(client: Client, code: str, phone: str = E164):
    return client.post("/verify/confirm/", {"phone": phone, "code": code})


def last_code(outbox) -> str:
    return outbox[-1].params["code"]


def verified_client(outbox, phone: str = PHONE) -> Client:
    client = new_resident_client()
    assert api_post(client, API_START, {"phone": phone}).status_code == 201
    assert api_post(client, API_CONFIRM, {"phone": phone, "code": last_code(outbox)}).status_code == 200
    return client


def resident_of(client: Client) -> Resident:
    return Resident.objects.get(key_hash=cookie_key_hash(client))


def stored_text() -> str:
    """Every value of every resident and verification row, as one string."""
    rows = list(Resident.objects.values()) + list(PhoneVerification.objects.values())
    return json.dumps(rows, default=str)


# --- the number ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "typed",
    [
        "13812345678",
        "138 1234 5678",
        "138-1234-5678",
        "+86 138 1234 5678",
        "+86-138-1234-5678",
        "0086 13812345678",
        "8613812345678",
        "１３８１２３４５６７８",
        "＋８６　１３８－１２３４－５６７８",
        "(+86) 138 1234 5678",
    ],
)
def test_a_mainland_mobile_number_is_read_as_people_type_it(typed):
    assert phone_normalise(typed) == E164


@pytest.mark.parametrize(
    "typed",
    [
        "12812345678",  # no mobile range starts 12
        "1381234567",  # ten digits
        "138123456789",  # twelve
        "+1 415 555 0100",
        "+85291234567",  # Hong Kong: not a mainland number
        "010-12345678",  # a landline
        "١٣٨١٢٣٤٥٦٧٨",  # other scripts' digits
        "138123456７8a",
        "1" * 60,
    ],
)
def test_anything_else_is_refused_with_a_clear_message(typed):
    with pytest.raises(ValidationError) as error:
        phone_normalise(typed)
    assert error.value.message_dict["phone"] == ["请填写有效的中国大陆手机号（11 位数字，以 1 开头）。"]


def test_an_empty_number_is_asked_for():
    with pytest.raises(ValidationError) as error:
        phone_normalise("  ")
    assert error.value.message_dict["phone"] == ["请填写手机号。"]


# --- the whole flow --------------------------------------------------------------------------


def test_the_whole_flow_through_the_pages(sms_outbox):  # noqa: F811
    client = new_resident_client()
    page = client.get("/verify/").content.decode()
    assert "获取验证码" in page and "后台实名" in page

    sent = start(client, "138 1234 5678")

    assert sent.status_code == 200
    html = sent.content.decode()
    assert "第 2 步" in html and f"验证码已发送至 {MASKED}，5 分钟内有效。" in html
    # Step 2 carries the number in the form itself: nothing in clear on the server.
    assert html.count(f'name="phone" value="{E164}"') == 2  # the code form and "send again"
    assert len(sms_outbox) == 1
    assert sms_outbox[0].phone == E164
    code = last_code(sms_outbox)
    assert re.fullmatch(r"[0-9]{6}", code) and sms_outbox[0].params["minutes"] == "5"
    # Only keyed hashes: neither the number nor the code is in any stored value.
    stored = stored_text()
    assert PHONE not in stored and code not in stored
    assert PhoneVerification.objects.get().resident == resident_of(client)
    assert not resident_of(client).is_verified

    done = confirm(client, code)

    assert done.status_code == 302 and done["Location"] == "/verify/"
    resident = resident_of(client)
    assert resident.is_verified and resident.phone_hash and PHONE not in resident.phone_hash
    assert not PhoneVerification.objects.exists()  # the code has served
    status_page = client.get("/verify/").content.decode()
    assert "手机号验证成功" in status_page
    assert "已验证" in status_page and timezone.localdate().isoformat() in status_page
    assert "取消验证" in status_page
    assert MASKED not in status_page and PHONE not in status_page
    my_data = client.get("/my-data/").content.decode()
    assert "已验证" in my_data and 'href="/verify/"' in my_data


def test_the_whole_flow_through_the_api(sms_outbox):  # noqa: F811
    client = new_resident_client()

    sent = api_post(client, API_START, {"phone": "+86 139-0000-1111"})

    assert sent.status_code == 201
    body = sent.json()
    assert body["phone_masked"] == "139****1111" and body["resend_after"] == 60
    assert sms_outbox[0].phone == "+8613900001111"
    assert client.get(API_ME).json()["verified"] is False

    confirmed = api_post(client, API_CONFIRM, {"phone": "13900001111", "code": last_code(sms_outbox)})

    assert confirmed.status_code == 200
    assert confirmed.json()["verified"] is True
    me = client.get(API_ME).json()
    assert me["verified"] is True and me["verified_at"] == confirmed.json()["verified_at"]

    assert client.delete(API_START).status_code == 204
    assert client.get(API_ME).json() == {**me, "verified": False, "verified_at": None}
    assert resident_of(client).phone_hash == ""


def test_the_http_provider_delivers_the_code_that_confirms(sms_provider):  # noqa: F811
    client = new_resident_client()

    assert api_post(client, API_START, {"phone": PHONE}).status_code == 201

    [received] = sms_provider.received
    assert received.phone == E164
    assert received.template == TEMPLATE_ID and received.sign_name == SIGN_NAME
    code, minutes = received.params
    assert re.fullmatch(r"[0-9]{6}", code) and minutes == "5"
    assert api_post(client, API_CONFIRM, {"phone": PHONE, "code": code}).json()["verified"] is True
    assert resident_of(client).is_verified


def test_bad_input_gets_field_messages_and_sends_nothing(sms_outbox):  # noqa: F811
    client = new_resident_client()
    bad_phone = api_post(client, API_START, {"phone": "12345"})
    assert bad_phone.status_code == 400
    assert bad_phone.json() == {"phone": ["请填写有效的中国大陆手机号（11 位数字，以 1 开头）。"]}
    assert api_post(client, API_START, {}).json() == {"phone": ["请填写手机号。"]}
    page = start(client, "12345")
    assert page.status_code == 400 and "请填写有效的中国大陆手机号" in page.content.decode()
    assert sms_outbox == []

    assert api_post(client, API_START, {"phone": PHONE}).status_code == 201
    bad_code = api_post(client, API_CONFIRM, {"phone": PHONE, "code": "12ab"})
    assert bad_code.status_code == 400
    assert bad_code.json() == {"code": ["请填写短信中的 6 位数字验证码。"]}
    assert PhoneVerification.objects.get().attempts == 0  # a malformed code is not a guess
    other_number = api_post(client, API_CONFIRM, {"phone": "13900001111", "code": last_code(sms_outbox)})
    assert other_number.status_code == 400 and "请先获取验证码" in other_number.json()["code"][0]
    assert not resident_of(client).is_verified


def test_a_verified_number_is_not_sent_a_code_again_for_the_same_resident(sms_outbox):  # noqa: F811
    client = verified_client(sms_outbox)
    again = api_post(client, API_START, {"phone": PHONE})
    assert again.status_code == 400
    assert again.json() == {"phone": ["该手机号已经验证过，无需重复验证。"]}
    assert len(sms_outbox) == 1


# --- codes expire and die --------------------------------------------------------------------


def test_an_expired_code_is_refused(sms_outbox):  # noqa: F811
    client = new_resident_client()
    start(client)
    PhoneVerification.objects.update(expires_at=F("created_at"))

    refused = confirm(client, last_code(sms_outbox))

    assert refused.status_code == 400
    assert "验证码已过期，请重新获取。" in refused.content.decode()
    assert not resident_of(client).is_verified


def test_wrong_codes_are_counted_and_then_the_code_is_dead(sms_outbox, settings):  # noqa: F811
    settings.VERIFICATION_MAX_ATTEMPTS = 3
    client = new_resident_client()
    api_post(client, API_START, {"phone": PHONE})
    right = last_code(sms_outbox)
    wrong = f"{(int(right) + 1) % 10**6:06d}"

    answers = [api_post(client, API_CONFIRM, {"phone": PHONE, "code": wrong}) for _ in range(3)]

    assert [a.status_code for a in answers] == [400, 400, 400]
    assert [a.json()["code"][0] for a in answers] == [
        "验证码不正确，还可以再试 2 次。",
        "验证码不正确，还可以再试 1 次。",
        "验证码错误次数过多，已失效，请重新获取。",
    ]
    late = api_post(client, API_CONFIRM, {"phone": PHONE, "code": right})
    assert late.status_code == 400 and late.json()["code"] == ["验证码错误次数过多，已失效，请重新获取。"]
    assert PhoneVerification.objects.get().attempts == 3
    assert not resident_of(client).is_verified
    # The page says the same, on step 2.
    page = confirm(client, right)
    html = page.content.decode()
    assert page.status_code == 400 and "已失效" in html and "第 2 步" in html


def test_a_new_code_replaces_the_old_one(sms_outbox, settings):  # noqa: F811
    settings.VERIFICATION_RESEND_INTERVAL = 0
    client = new_resident_client()
    api_post(client, API_START, {"phone": PHONE})
    first = last_code(sms_outbox)
    api_post(client, API_START, {"phone": PHONE})
    second = last_code(sms_outbox)
    assert PhoneVerification.objects.count() == 1
    if first != second:
        assert api_post(client, API_CONFIRM, {"phone": PHONE, "code": first}).status_code == 400
    assert api_post(client, API_CONFIRM, {"phone": PHONE, "code": second}).status_code == 200


# --- limits ----------------------------------------------------------------------------------


def test_a_number_gets_another_code_only_after_the_resend_interval(sms_outbox):  # noqa: F811
    client = new_resident_client()
    assert start(client).status_code == 200

    too_soon = api_post(new_resident_client(), API_START, {"phone": PHONE})

    assert too_soon.status_code == 429
    assert re.fullmatch(r"验证码已发送，请 \d+ 秒后再重新获取。", too_soon.json()["detail"])
    assert 0 < int(too_soon["Retry-After"]) <= 60
    # "Send again" on step 2 stays on step 2 and says why.
    resend = start(client, E164, resend="1")
    assert resend.status_code == 429
    assert "秒后再重新获取" in resend.content.decode() and "第 2 步" in resend.content.decode()
    assert len(sms_outbox) == 1

    PhoneVerification.objects.update(created_at=F("created_at") - timedelta(seconds=61))
    assert start(client, E164, resend="1").status_code == 200
    assert len(sms_outbox) == 2


def test_codes_per_number_are_limited_whoever_asks(sms_outbox, settings):  # noqa: F811
    settings.VERIFICATION_RESEND_INTERVAL = 0
    settings.VERIFICATION_PHONE_RATE = "2/h"
    statuses = [api_post(new_resident_client(), API_START, {"phone": PHONE}).status_code for _ in range(3)]

    assert statuses == [201, 201, 429]
    limited = api_post(new_resident_client(), API_START, {"phone": PHONE})
    assert re.fullmatch(r"该手机号获取验证码次数过多，请约 \d+ 分钟后再试。", limited.json()["detail"])
    assert len(sms_outbox) == 2
    # Another number is not affected.
    assert api_post(new_resident_client(), API_START, {"phone": "13900001111"}).status_code == 201


def test_codes_per_address_are_limited(sms_outbox, settings):  # noqa: F811
    settings.VERIFICATION_ADDRESS_RATE = "2/h"
    numbers = ["13900000001", "13900000002", "13900000003"]
    statuses = [
        api_post(new_resident_client(address="198.51.100.9"), API_START, {"phone": n}).status_code
        for n in numbers
    ]

    assert statuses == [201, 201, 429]
    page = start(new_resident_client(address="198.51.100.9"), "13900000004")
    assert page.status_code == 429 and "本网络获取验证码次数过多" in page.content.decode()
    assert [m.phone for m in sms_outbox] == ["+8613900000001", "+8613900000002"]
    assert api_post(new_resident_client(), API_START, {"phone": "13900000003"}).status_code == 201


def test_verification_requests_have_their_own_resident_limit(sms_outbox, settings):  # noqa: F811
    settings.RATE_LIMIT_VERIFICATION = "2/h"
    client = new_resident_client()
    api_post(client, API_START, {"phone": PHONE})
    wrong = f"{(int(last_code(sms_outbox)) + 1) % 10**6:06d}"
    assert api_post(client, API_CONFIRM, {"phone": PHONE, "code": wrong}).status_code == 400

    limited = api_post(client, API_CONFIRM, {"phone": PHONE, "code": last_code(sms_outbox)})

    assert limited.status_code == 429
    assert not resident_of(client).is_verified


# --- one number, one resident; revoking; deleting -----------------------------------------------


def test_a_number_verified_again_elsewhere_moves_there(sms_outbox, settings):  # noqa: F811
    settings.VERIFICATION_RESEND_INTERVAL = 0
    first = verified_client(sms_outbox)
    second = verified_client(sms_outbox)

    assert not resident_of(first).is_verified and resident_of(first).phone_hash == ""
    assert resident_of(second).is_verified
    assert Resident.objects.exclude(phone_hash="").count() == 1
    assert first.get(API_ME).json()["verified"] is False
    assert "第 1 步" in first.get("/verify/").content.decode()


def test_revoking_removes_the_number_and_the_status(sms_outbox):  # noqa: F811
    client = verified_client(sms_outbox)

    revoked = client.post("/verify/revoke/")

    assert revoked.status_code == 302
    resident = resident_of(client)
    assert resident.phone_hash == "" and resident.verified_at is None
    assert "已取消手机号验证" in client.get("/verify/").content.decode()
    assert "本浏览器没有验证过手机号" in (client.post("/verify/revoke/", follow=True).content.decode())


def test_deleting_my_data_leaves_no_phone_hash_nor_verification(sms_outbox):  # noqa: F811
    client = verified_client(sms_outbox)
    start(client, "13900001111")  # and a code pending for another number
    assert PhoneVerification.objects.exists()
    page = client.get("/my-data/").content.decode()
    assert "删除我的全部数据" in page and "手机号验证（号码摘要和验证记录）也会一并删除" in page

    assert client.post("/my-data/delete/", {"confirm": "on"}).status_code == 302

    assert not Resident.objects.exists()
    assert not PhoneVerification.objects.exists()
    assert not Resident.objects.exclude(phone_hash="").exists()


# --- what verification changes, and what it does not ----------------------------------------------


def test_verified_comments_follow_their_setting(sms_outbox, settings, indicator):  # noqa: F811
    """COMMENT_MODERATION_VERIFIED for verified residents; what holds a comment still holds it."""
    settings.COMMENT_MODERATION = "pre"
    settings.COMMENT_MODERATION_VERIFIED = "post"
    SensitiveWord.objects.create(word="法轮功")
    verified = verified_client(sms_outbox)
    anonymous = new_resident_client()

    comment(verified, indicator, "公交站台很干净")
    comment(anonymous, indicator, "公交站台不太干净")
    comment(verified, indicator, "法 轮 功")
    comment(verified, indicator, "请联系我13812345678")

    states = dict(Comment.objects.values_list("body", "moderation_state"))
    assert states == {
        "公交站台很干净": ModerationState.APPROVED,
        "公交站台不太干净": ModerationState.PENDING,
        "法 轮 功": ModerationState.PENDING,
        "请联系我13812345678": ModerationState.PENDING,
    }
    assert Comment.objects.get(body="法 轮 功").held_reason
    public = anonymous.get(indicator.get_absolute_url()).content.decode()
    assert "公交站台很干净" in public and "公交站台不太干净" not in public

    settings.COMMENT_MODERATION_VERIFIED = "pre"
    comment(verified, indicator, "路灯修好了")
    assert Comment.objects.get(body="路灯修好了").moderation_state == ModerationState.PENDING


def test_nothing_requires_verification(indicator, survey):
    client = new_resident_client()
    assert rate(client, indicator, 4).status_code == 302
    assert comment(client, indicator, "希望多种树").status_code == 302
    form = {f"question_{q.pk}": 3 for q in survey.questions.all()}
    assert client.post(f"/survey/{survey.pk}/", form).status_code == 302
    assert api_rate(new_resident_client(), indicator, 5).status_code == 201
    assert Rating.objects.count() == 2 and Comment.objects.count() == 1
    assert not Resident.objects.filter(verified_at__isnull=False).exists()


# --- cross-site requests; the provider failing ------------------------------------------------------


def test_a_cross_site_request_with_the_resident_cookie_changes_nothing(sms_outbox):  # noqa: F811
    victim = verified_client(sms_outbox)
    before = resident_of(victim)
    browser = Client(enforce_csrf_checks=True, REMOTE_ADDR="203.0.113.5")
    browser.cookies["resident"] = victim.cookies["resident"].value
    evil = {"HTTP_ORIGIN": "https://evil.example"}

    attempts = [
        browser.post(API_START, json.dumps({"phone": "13900001111"}), "application/json", **evil),
        browser.post(API_START, {"phone": "13900001111"}),  # form-encoded, no Origin
        browser.post(API_CONFIRM, json.dumps({"phone": PHONE, "code": "000000"}), "application/json"),
        browser.delete(API_START, **evil),
        browser.post("/verify/revoke/", **evil),
        browser.post("/verify/", {"phone": "13900001111"}),
    ]

    assert [a.status_code for a in attempts] == [403] * len(attempts)
    assert "跨站请求被拒绝" in attempts[0].json()["detail"]
    after = resident_of(victim)
    assert (after.phone_hash, after.verified_at) == (before.phone_hash, before.verified_at)
    assert len(sms_outbox) == 1 and not PhoneVerification.objects.exists()

    # The site's own page, echoing the token, may do it.
    browser.get("/verify/")
    token = browser.cookies["csrftoken"].value
    assert browser.delete(API_START, HTTP_X_CSRFTOKEN=token).status_code == 204
    assert not resident_of(victim).is_verified


def test_an_integrator_without_the_cookie_can_ask_for_a_code(sms_outbox):  # noqa: F811
    integrator = Client(enforce_csrf_checks=True, REMOTE_ADDR="203.0.113.6")
    assert api_post(integrator, API_START, {"phone": PHONE}).status_code == 201


def test_the_provider_failing_gives_a_clear_error_and_keeps_no_code(sms_provider, settings):  # noqa: F811
    client = new_resident_client()
    sms_provider.answer_with_code("LimitExceeded.PhoneNumberDailyLimit")

    refused = api_post(client, API_START, {"phone": PHONE})

    assert refused.status_code == 503
    assert refused.json()["detail"] == "短信发送失败，请稍后再试。"
    assert not PhoneVerification.objects.exists()
    page = start(client)
    assert page.status_code == 503
    assert "短信发送失败，请稍后再试。" in page.content.decode() and "第 1 步" in page.content.decode()

    # No code was kept, so the resend interval does not stand in the way of a retry.
    sms_provider.answer_with_code("Ok")
    assert api_post(client, API_START, {"phone": PHONE}).status_code == 201
    assert len(sms_provider.received) == 1


def test_a_provider_that_is_down_or_not_configured_gives_503(sms_provider, settings):  # noqa: F811
    sms_provider.fail_with_status(502)
    down = api_post(new_resident_client(), API_START, {"phone": PHONE})
    assert down.status_code == 503 and down.json()["detail"] == "短信发送失败，请稍后再试。"

    settings.SMS_API_KEY = ""
    unconfigured = api_post(new_resident_client(), API_START, {"phone": "13900001111"})
    assert unconfigured.status_code == 503
    assert not PhoneVerification.objects.exists()


# --- staff and the schema -----------------------------------------------------------------------------


def test_the_admin_shows_who_is_verified_but_no_phone_hash(sms_outbox, client):  # noqa: F811
    resident = resident_of(verified_client(sms_outbox))
    client.force_login(get_user_model().objects.create_superuser("boss", "b@example.com", "pw-long-enough-1"))

    listing = client.get("/admin/feedback/resident/?verified=yes").content.decode()
    detail = client.get(f"/admin/feedback/resident/{resident.pk}/change/").content.decode()

    assert resident.key_hash[:8] in listing
    assert 'alt="True"' in listing
    for html in (listing, detail):
        assert resident.phone_hash[:8] not in html
    unverified = client.get("/admin/feedback/resident/?verified=no").content.decode()
    assert resident.key_hash[:8] not in unverified
    assert client.get("/admin/feedback/phoneverification/").status_code == 404


def test_the_schema_documents_the_verification_endpoints(client):
    schema = client.get("/api/v1/schema/?format=json").json()
    start_op = schema["paths"][API_START]["post"]
    assert {"201", "400", "403", "429", "503"} <= set(start_op["responses"])
    assert {"204", "403"} <= set(schema["paths"][API_START]["delete"]["responses"])
    assert {"200", "400", "403", "429"} <= set(schema["paths"][API_CONFIRM]["post"]["responses"])
    me = schema["components"]["schemas"]["MyData"]["properties"]
    assert me["verified"]["type"] == "boolean" and me["verified_at"]["format"] == "date-time"
