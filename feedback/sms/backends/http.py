"""Sends through a provider's HTTP API, in the shape common to Chinese SMS services.

The protocol follows Tencent Cloud SMS (``SendSms``) and Alibaba Cloud dysms, kept
self-contained so that an adapter or gateway for either speaks it with little work:

Request: ``POST {SMS_API_URL}`` with a JSON body (UTF-8)::

    {"PhoneNumberSet": ["+8613812345678"], "SmsSdkAppId": SMS_APP_ID, "SignName": SMS_SIGN_NAME,
     "TemplateId": SMS_TEMPLATE_ID, "TemplateParamSet": ["947261", "5"]}

``TemplateParamSet`` holds the message's parameters in order (the template's ``{1}``, ``{2}``).
Headers::

    X-Sms-Key:       SMS_API_KEY
    X-Sms-Timestamp: Unix time in seconds; the provider refuses one more than 300 s off
    X-Sms-Signature: hex(HMAC-SHA256(SMS_API_SECRET, timestamp + "\\n" + body))

so the secret never travels and a captured request cannot be replayed after five minutes.

Answer, HTTP 200, one status per number::

    {"SendStatusSet": [{"Code": "Ok", "Message": "send success", "SerialNo": "…",
                        "PhoneNumber": "+8613812345678"}], "RequestId": "…"}

A request the provider rejects as a whole (bad signature, unknown key, bad parameter) gets
HTTP 4xx with ``{"Error": {"Code": "AuthFailure.SignatureFailure", "Message": "…"}, "RequestId": "…"}``.

Mapping to exceptions: a status ``Code`` other than ``"Ok"``, an ``Error``, any other 4xx or an
unreadable answer is :class:`~feedback.sms.SmsSendError` with the code; HTTP 5xx and 429,
timeouts and network errors are :class:`~feedback.sms.SmsUnavailable`.

``SMS_TIMEOUT`` bounds each socket operation (connect, each read), so a provider that hangs
costs at most a few times that; the standard library suffices, no HTTP client is added.
"""

import hashlib
import hmac
import http.client
import json
import logging
import time
import urllib.error
import urllib.request
from typing import NoReturn
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from feedback.sms import SmsMessage, SmsSendError, SmsUnavailable, mask_phone
from feedback.sms.backends.base import BaseSmsBackend

logger = logging.getLogger("feedback.sms")

# Plain http would carry numbers and codes in clear; allowed only to this machine (a local
# gateway, the test suite's provider).
LOOPBACK_HOSTS = {"127.0.0.1", "::1", "localhost"}
# A provider's answer is a few hundred bytes; a larger one is not an answer.
MAX_ANSWER_BYTES = 64 * 1024


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A redirect answer is an error: following it could send the signed request elsewhere."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


_opener = urllib.request.build_opener(_NoRedirects)


def sign(*, secret: str, timestamp: str, body: bytes) -> str:
    """The ``X-Sms-Signature`` of a request."""
    return hmac.new(secret.encode(), timestamp.encode() + b"\n" + body, hashlib.sha256).hexdigest()


class SmsBackend(BaseSmsBackend):
    def __init__(
        self,
        *,
        api_url: str | None = None,
        api_key: str | None = None,
        api_secret: str | None = None,
        app_id: str | None = None,
        sign_name: str | None = None,
        timeout: float | None = None,
        **kwargs: object,
    ) -> None:
        super().__init__(**kwargs)
        self.api_url = api_url or settings.SMS_API_URL
        self.api_key = api_key or settings.SMS_API_KEY
        self.api_secret = api_secret or settings.SMS_API_SECRET
        self.app_id = app_id or settings.SMS_APP_ID
        self.sign_name = sign_name or settings.SMS_SIGN_NAME
        self.timeout = timeout if timeout is not None else settings.SMS_TIMEOUT

    def _check_configuration(self, message: SmsMessage) -> None:
        # Checked when sending, not at start-up: `manage.py check` and the tests run without a provider.
        required = {
            "SMS_API_URL": self.api_url,
            "SMS_API_KEY": self.api_key,
            "SMS_API_SECRET": self.api_secret,
            "SMS_APP_ID": self.app_id,
            "SMS_SIGN_NAME": self.sign_name,
            "SMS_TEMPLATE_ID": message.template,
        }
        missing = [name for name, value in required.items() if not value]
        if missing:
            raise ImproperlyConfigured(f"The HTTP SMS backend needs {', '.join(missing)}.")
        url = urlsplit(self.api_url)
        if url.scheme != "https" and not (url.scheme == "http" and url.hostname in LOOPBACK_HOSTS):
            raise ImproperlyConfigured("SMS_API_URL must be an https:// URL (http only to this machine).")

    def send(self, message: SmsMessage) -> None:
        self._check_configuration(message)
        masked = mask_phone(message.phone)
        try:
            status, raw = _post(self._request(message), timeout=self.timeout)
        except (OSError, http.client.HTTPException) as exc:
            # OSError covers URLError, refused connections and socket timeouts.
            logger.warning("SMS provider unreachable for %s: %s", masked, type(exc).__name__)
            raise SmsUnavailable(f"SMS provider unreachable: {type(exc).__name__}") from exc
        if status >= 500 or status == 429:
            logger.warning("SMS provider answered HTTP %s for %s", status, masked)
            raise SmsUnavailable(f"SMS provider answered HTTP {status}")
        result, request_id = self._result(message, status, _parse(raw))
        logger.info(
            "SMS sent to %s (template %s, serial %s, request %s)",
            masked,
            message.template,
            result.get("SerialNo", "-"),
            request_id or "-",
        )

    def _request(self, message: SmsMessage) -> urllib.request.Request:
        """The signed SendSms request (see the module docstring for the protocol)."""
        body = json.dumps(
            {
                "PhoneNumberSet": [message.phone],
                "SmsSdkAppId": self.app_id,
                "SignName": self.sign_name,
                "TemplateId": message.template,
                "TemplateParamSet": list(message.params.values()),
            },
            ensure_ascii=False,
            separators=(",", ":"),
        ).encode()
        timestamp = str(int(time.time()))
        return urllib.request.Request(  # noqa: S310 - the scheme is checked above
            self.api_url,
            data=body,
            method="POST",
            headers={
                "Content-Type": "application/json; charset=utf-8",
                "Accept": "application/json",
                "X-Sms-Key": self.api_key,
                "X-Sms-Timestamp": timestamp,
                "X-Sms-Signature": sign(secret=self.api_secret, timestamp=timestamp, body=body),
            },
        )

    def _result(self, message: SmsMessage, status: int, answer: dict | None) -> tuple[dict, str]:
        """The one send status of an answer, or ``SmsSendError`` for any refusal or odd answer."""
        if answer is None:
            code = "InvalidResponse" if status == 200 else f"HTTP{status}"
            self._refused(message, code=code, text="", request_id="")
        request_id = str(answer.get("RequestId", ""))
        problem = answer.get("Error")
        if status != 200 or problem:
            problem = problem if isinstance(problem, dict) else {}
            self._refused(
                message,
                code=str(problem.get("Code") or f"HTTP{status}"),
                text=str(problem.get("Message", "")),
                request_id=request_id,
            )
        statuses = answer.get("SendStatusSet")
        if not isinstance(statuses, list) or len(statuses) != 1 or not isinstance(statuses[0], dict):
            self._refused(message, code="InvalidResponse", text="", request_id=request_id)
        result = statuses[0]
        if result.get("Code") != "Ok":
            self._refused(
                message,
                code=str(result.get("Code") or "InvalidResponse"),
                text=str(result.get("Message", "")),
                request_id=request_id,
            )
        return result, request_id

    def _refused(self, message: SmsMessage, *, code: str, text: str, request_id: str) -> NoReturn:
        text = _scrub(text, message)
        logger.warning(
            "SMS to %s refused by the provider: %s %s (request %s)",
            mask_phone(message.phone),
            code,
            text,
            request_id or "-",
        )
        raise SmsSendError(code=code, provider_message=text, request_id=request_id)


def _post(request: urllib.request.Request, *, timeout: float) -> tuple[int, bytes]:
    """The status and body of the answer, whatever its status; network failures raise."""
    try:
        with _opener.open(request, timeout=timeout) as response:
            return response.status, response.read(MAX_ANSWER_BYTES)
    except urllib.error.HTTPError as answer:
        with answer:
            return answer.code, answer.read(MAX_ANSWER_BYTES)


def _parse(raw: bytes) -> dict | None:
    try:
        answer = json.loads(raw)
    except ValueError:
        return None
    return answer if isinstance(answer, dict) else None


def _scrub(text: str, message: SmsMessage) -> str:
    """The provider's text, without the number or the parameters it may echo (it goes to logs)."""
    text = text[:300]
    for secret in (message.phone, message.phone.removeprefix("+86")):
        text = text.replace(secret, mask_phone(message.phone))
    for value in message.params.values():
        # Short values ("5" minutes) are not personal and replacing them would garble the text.
        if len(value) >= 4:
            text = text.replace(value, "****")
    return text
