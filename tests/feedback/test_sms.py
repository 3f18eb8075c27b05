"""Sending text messages: the development backends, and the HTTP backend against a local provider
that checks signatures the way a real one does."""

import hashlib
import hmac
import io
import json
import logging
import time
import urllib.error
import urllib.request

import pytest
from django.core.exceptions import ImproperlyConfigured

from feedback import sms
from feedback.sms import SmsMessage, SmsSendError, SmsUnavailable, get_connection, send_sms
from tests.feedback.sms_fixtures import SIGN_NAME, TEMPLATE_ID, sms_outbox, sms_provider  # noqa: F401
from tests.sms_provider import LocalSmsProvider

PHONE = "+8613812345678"
MASKED = "138****5678"
CODE = "947261"
PARAMS = {"code": CODE, "minutes": "5"}


def message(phone: str = PHONE, **params: str) -> SmsMessage:
    return SmsMessage(phone=phone, template=TEMPLATE_ID, params=params or PARAMS)


# --- the message ---------------------------------------------------------------------


def test_a_message_needs_a_number_in_e164_form():
    for phone in ("13812345678", "8613812345678", "+86 138 1234 5678", "+0123456789", ""):
        with pytest.raises(ValueError, match="E.164"):
            message(phone=phone)


def test_a_message_does_not_change_with_the_dict_it_was_made_from_nor_show_its_secrets():
    params = {"code": CODE, "minutes": "5"}
    sent = message(**params)
    params["code"] = "000000"

    assert sent.params == {"code": CODE, "minutes": "5"}
    with pytest.raises(TypeError):
        sent.params["code"] = "000000"  # type: ignore[index]
    assert "13812345678" not in repr(sent)
    assert CODE not in repr(sent)
    assert MASKED in repr(sent)


# --- development backends -----------------------------------------------------------------


def test_the_console_backend_writes_number_template_and_params_to_its_stream():
    stream = io.StringIO()
    connection = get_connection("feedback.sms.backends.console.SmsBackend", stream=stream)

    assert connection.send_messages([message(), message(phone="+8613900001111")]) == 2

    output = stream.getvalue()
    assert f"SMS to {PHONE} · template {TEMPLATE_ID}" in output
    assert "SMS to +8613900001111" in output
    assert f'"code": "{CODE}"' in output


def test_send_sms_through_the_console_backend_prints_to_stdout_with_the_default_template(settings, capsys):
    settings.SMS_BACKEND = "feedback.sms.backends.console.SmsBackend"
    settings.SMS_TEMPLATE_ID = "2100009"

    send_sms(phone=PHONE, template_params=PARAMS)

    out = capsys.readouterr().out
    assert f"SMS to {PHONE} · template 2100009" in out
    assert CODE in out


def test_the_file_backend_writes_one_json_file_per_message(settings, tmp_path):
    settings.SMS_BACKEND = "feedback.sms.backends.filebased.SmsBackend"
    settings.SMS_FILE_PATH = str(tmp_path / "sent-sms")  # created on first use

    send_sms(phone=PHONE, template_params=PARAMS, template="2100002")
    send_sms(phone="+8613900001111", template_params={"code": "555111"}, template="2100002")

    files = sorted((tmp_path / "sent-sms").glob("*.json"))
    records = [json.loads(path.read_text(encoding="utf-8")) for path in files]
    assert [(r["phone"], r["template"], r["params"]) for r in records] == [
        (PHONE, "2100002", PARAMS),
        ("+8613900001111", "2100002", {"code": "555111"}),
    ]


def test_the_file_backend_refuses_a_path_that_is_a_file(settings, tmp_path):
    settings.SMS_BACKEND = "feedback.sms.backends.filebased.SmsBackend"
    settings.SMS_FILE_PATH = str(tmp_path / "not-a-directory")
    (tmp_path / "not-a-directory").write_text("")

    with pytest.raises(ImproperlyConfigured, match="not a directory"):
        send_sms(phone=PHONE, template_params=PARAMS)


def test_the_locmem_backend_keeps_messages_in_the_outbox(sms_outbox):  # noqa: F811
    send_sms(phone=PHONE, template_params=PARAMS, template="2100003")

    assert sms_outbox == [SmsMessage(phone=PHONE, template="2100003", params=PARAMS)]
    assert sms.outbox is sms_outbox
    assert list(sms_outbox[0].params.values()) == [CODE, "5"]


# --- the HTTP backend against the local provider ------------------------------------------


def test_the_http_backend_delivers_number_template_and_params_with_a_valid_signature(sms_provider):  # noqa: F811
    send_sms(phone=PHONE, template_params=PARAMS)

    [received] = sms_provider.received
    assert (received.phone, received.app_id, received.sign_name, received.template, received.params) == (
        PHONE,
        sms_provider.app_id,
        SIGN_NAME,
        TEMPLATE_ID,
        [CODE, "5"],
    )
    # The documented formula, computed here independently of the backend's own helper.
    timestamp = received.headers["x-sms-timestamp"]
    expected = hmac.new(b"test-secret", timestamp.encode() + b"\n" + received.body, hashlib.sha256)
    assert received.headers["x-sms-signature"] == expected.hexdigest()
    assert received.headers["x-sms-key"] == "test-key"
    assert abs(int(timestamp) - time.time()) < 60


def test_send_messages_counts_what_the_provider_accepted(sms_provider):  # noqa: F811
    sent = get_connection().send_messages([message(), message(phone="+8613900001111", code="555111")])

    assert sent == 2
    assert [r.phone for r in sms_provider.received] == [PHONE, "+8613900001111"]


def test_a_wrong_secret_is_refused_by_the_provider(settings, sms_provider):  # noqa: F811
    settings.SMS_API_SECRET = "not-the-secret"

    with pytest.raises(SmsSendError) as refused:
        send_sms(phone=PHONE, template_params=PARAMS)

    assert refused.value.code == "AuthFailure.SignatureFailure"
    assert sms_provider.received == []


def test_an_unknown_key_is_refused_by_the_provider(settings, sms_provider):  # noqa: F811
    settings.SMS_API_KEY = "someone-else"

    with pytest.raises(SmsSendError) as refused:
        send_sms(phone=PHONE, template_params=PARAMS)

    assert refused.value.code == "AuthFailure.SecretIdNotFound"
    assert sms_provider.received == []


def test_the_provider_refuses_a_request_signed_more_than_five_minutes_ago(sms_provider):  # noqa: F811
    # A captured request cannot be replayed later: the local provider checks freshness like a real one.
    body = b'{"PhoneNumberSet":["+8613812345678"]}'
    timestamp = str(int(time.time()) - 301)
    signature = hmac.new(b"test-secret", timestamp.encode() + b"\n" + body, hashlib.sha256).hexdigest()
    request = urllib.request.Request(  # noqa: S310 - the local provider's http:// URL
        sms_provider.url,
        data=body,
        method="POST",
        headers={"X-Sms-Key": "test-key", "X-Sms-Timestamp": timestamp, "X-Sms-Signature": signature},
    )

    with pytest.raises(urllib.error.HTTPError) as answer:
        urllib.request.urlopen(request, timeout=5)  # noqa: S310

    assert answer.value.code == 401
    assert json.loads(answer.value.read())["Error"]["Code"] == "AuthFailure.SignatureExpire"


def test_a_provider_error_code_is_a_send_error_with_that_code_and_no_echoed_number(sms_provider):  # noqa: F811
    sms_provider.answer_with_code(
        "LimitExceeded.PhoneNumberDailyLimit", f"{PHONE} reached its daily limit, last code {CODE}"
    )

    with pytest.raises(SmsSendError) as refused:
        send_sms(phone=PHONE, template_params=PARAMS)

    assert refused.value.code == "LimitExceeded.PhoneNumberDailyLimit"
    assert refused.value.request_id
    assert refused.value.provider_message == f"{MASKED} reached its daily limit, last code ****"
    assert sms_provider.received == []


def test_an_answer_that_is_not_json_is_a_send_error(sms_provider):  # noqa: F811
    sms_provider.fail_with_status(200)

    with pytest.raises(SmsSendError) as refused:
        send_sms(phone=PHONE, template_params=PARAMS)

    assert refused.value.code == "InvalidResponse"


def test_a_provider_answering_500_is_unavailable(sms_provider):  # noqa: F811
    sms_provider.fail_with_status(500)

    with pytest.raises(SmsUnavailable):
        send_sms(phone=PHONE, template_params=PARAMS)


def test_a_hanging_provider_is_unavailable_within_the_timeout(settings, sms_provider):  # noqa: F811
    settings.SMS_TIMEOUT = 0.5
    sms_provider.hang(30)
    started = time.monotonic()

    with pytest.raises(SmsUnavailable):
        send_sms(phone=PHONE, template_params=PARAMS)

    assert time.monotonic() - started < 2.5
    assert sms_provider.received == []


def test_an_unreachable_provider_is_unavailable(settings, sms_provider):  # noqa: F811
    with LocalSmsProvider() as gone:
        settings.SMS_API_URL = gone.url
    # Its port is closed now: the connection is refused.

    with pytest.raises(SmsUnavailable):
        send_sms(phone=PHONE, template_params=PARAMS)


def test_fail_silently_returns_what_was_sent_and_stops_while_the_provider_is_down(sms_provider):  # noqa: F811
    sms_provider.fail_with_status(503)
    connection = get_connection(fail_silently=True)

    assert connection.send_messages([message(), message(phone="+8613900001111")]) == 0
    # One attempt: the second message would only have waited out the same failure.
    assert sms_provider.requests == 1


def test_fail_silently_goes_on_after_a_refused_message(sms_provider):  # noqa: F811
    sms_provider.answer_with_code("InvalidParameterValue.IncorrectPhoneNumber")
    connection = get_connection(fail_silently=True)

    assert connection.send_messages([message(), message(phone="+8613900001111")]) == 0
    assert sms_provider.requests == 2


@pytest.mark.parametrize("name", ["SMS_API_URL", "SMS_API_KEY", "SMS_API_SECRET", "SMS_TEMPLATE_ID"])
def test_a_missing_provider_setting_is_improperly_configured_when_sending(settings, sms_provider, name):  # noqa: F811
    setattr(settings, name, "")

    # Not hidden by fail_silently: a deployment without a provider is not a flaky provider.
    with pytest.raises(ImproperlyConfigured, match=name):
        get_connection(fail_silently=True).send_messages(
            [SmsMessage(phone=PHONE, template=settings.SMS_TEMPLATE_ID, params=PARAMS)]
        )
    with pytest.raises(ImproperlyConfigured, match=name):
        send_sms(phone=PHONE, template_params=PARAMS)
    assert sms_provider.requests == 0


def test_plain_http_to_another_machine_is_improperly_configured(settings, sms_provider):  # noqa: F811
    settings.SMS_API_URL = "http://sms.example.com/sms/send"

    with pytest.raises(ImproperlyConfigured, match="https"):
        send_sms(phone=PHONE, template_params=PARAMS)


def test_the_log_never_holds_the_full_number_or_the_code(settings, sms_provider, caplog):  # noqa: F811
    caplog.set_level(logging.DEBUG)

    send_sms(phone=PHONE, template_params=PARAMS)
    sms_provider.answer_with_code("LimitExceeded.PhoneNumberDailyLimit", f"{PHONE} over limit, code {CODE}")
    get_connection(fail_silently=True).send_messages([message()])
    sms_provider.fail_with_status(500)
    get_connection(fail_silently=True).send_messages([message()])
    settings.SMS_TIMEOUT = 0.3
    sms_provider.hang(30)
    get_connection(fail_silently=True).send_messages([message()])

    assert "SMS sent to 138****5678" in caplog.text
    assert "LimitExceeded.PhoneNumberDailyLimit" in caplog.text
    assert "HTTP 500" in caplog.text
    assert "unreachable for 138****5678" in caplog.text
    assert "13812345678" not in caplog.text
    assert CODE not in caplog.text
