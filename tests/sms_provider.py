"""A local SMS provider speaking the protocol of ``feedback/sms/backends/http.py``, for tests.

It is strict where a real provider is: the key must be known, the timestamp within
``max_skew`` seconds of now, the HMAC-SHA256 signature right and the body complete, else
the request is refused with HTTP 401/400 and an ``Error`` code. Accepted messages are
recorded in :attr:`LocalSmsProvider.received`. A test can make it answer with an error code
for every number (:meth:`answer_with_code`), fail with an HTTP status (:meth:`fail_with_status`)
or hang before answering (:meth:`hang`).

    with LocalSmsProvider() as provider:
        settings.SMS_API_URL = provider.url
        ...
"""

import contextlib
import hashlib
import hmac
import json
import re
import threading
import time
import uuid
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self

E164_RE = re.compile(r"^\+[1-9]\d{6,14}$")


@dataclass(frozen=True)
class ReceivedSms:
    """One number of one accepted request, as the provider saw it."""

    phone: str
    app_id: str
    sign_name: str
    template: str
    params: list[str]
    headers: dict[str, str]
    body: bytes


class LocalSmsProvider:
    path = "/sms/send"

    def __init__(
        self,
        *,
        api_key: str = "test-key",
        api_secret: str = "test-secret",  # noqa: S107 - the local test provider's own secret
        app_id: str = "1400000001",
        max_skew: int = 300,
    ) -> None:
        self.api_key = api_key
        self.api_secret = api_secret
        self.app_id = app_id
        self.max_skew = max_skew
        self.received: list[ReceivedSms] = []
        self.refused: list[str] = []
        self.requests = 0
        self._code = "Ok"
        self._code_message = "send success"
        self._status: int | None = None
        self._hang_seconds = 0.0
        self._released = threading.Event()
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # --- what the test tells it -------------------------------------------------------

    def answer_with_code(self, code: str, message: str = "") -> None:
        """Answer HTTP 200 with this status code for every number (``"Ok"`` is success)."""
        self._code, self._code_message = code, message or code

    def fail_with_status(self, status: int) -> None:
        """Answer every request with this HTTP status and a non-JSON body."""
        self._status = status

    def hang(self, seconds: float = 30.0) -> None:
        """Hold every request this long (or until the provider stops) before answering."""
        self._hang_seconds = seconds

    # --- life cycle -----------------------------------------------------------------

    @property
    def url(self) -> str:
        assert self._server is not None, "the provider is not running"
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}{self.path}"

    def __enter__(self) -> Self:
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="sms-provider", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        assert self._server is not None and self._thread is not None
        self._released.set()  # ends a hang at once
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    # --- the protocol -----------------------------------------------------------------

    def _answer(self, headers: dict[str, str], body: bytes) -> tuple[int, dict[str, Any] | None]:  # noqa: C901 - one check per rule of the protocol, in its documented order
        """The status and JSON answer to one request (None: a non-JSON body)."""
        with self._lock:
            self.requests += 1
        if self._hang_seconds:
            self._released.wait(self._hang_seconds)
        if self._status is not None:
            return self._status, None
        request_id = str(uuid.uuid4())

        def refuse(status: int, code: str, message: str) -> tuple[int, dict[str, Any]]:
            with self._lock:
                self.refused.append(code)
            return status, {"Error": {"Code": code, "Message": message}, "RequestId": request_id}

        if headers.get("x-sms-key") != self.api_key:
            return refuse(401, "AuthFailure.SecretIdNotFound", "unknown key")
        try:
            timestamp = int(headers.get("x-sms-timestamp", ""))
        except ValueError:
            return refuse(401, "AuthFailure.SignatureExpire", "no timestamp")
        if abs(time.time() - timestamp) > self.max_skew:
            return refuse(401, "AuthFailure.SignatureExpire", "timestamp too far from now")
        # The documented formula, written out here rather than borrowed from the backend under test.
        signed = headers["x-sms-timestamp"].encode() + b"\n" + body
        expected = hmac.new(self.api_secret.encode(), signed, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(headers.get("x-sms-signature", ""), expected):
            return refuse(401, "AuthFailure.SignatureFailure", "signature does not match")
        try:
            payload = json.loads(body)
            phones = payload["PhoneNumberSet"]
            params = payload["TemplateParamSet"]
            fields = (payload["SmsSdkAppId"], payload["SignName"], payload["TemplateId"])
        except (ValueError, KeyError, TypeError):
            return refuse(400, "InvalidParameter", "body is not a complete SendSms request")
        if fields[0] != self.app_id:
            return refuse(400, "InvalidParameterValue.SdkAppIdNotExist", "unknown SmsSdkAppId")
        if not all(isinstance(value, str) and value for value in fields) or not (
            isinstance(params, list) and all(isinstance(value, str) for value in params)
        ):
            return refuse(400, "InvalidParameter", "SignName, TemplateId and TemplateParamSet are strings")
        if not (isinstance(phones, list) and phones and all(E164_RE.fullmatch(str(p)) for p in phones)):
            return refuse(400, "InvalidParameterValue.IncorrectPhoneNumber", "numbers in E.164 form")

        statuses = []
        for phone in phones:
            if self._code == "Ok":
                with self._lock:
                    self.received.append(
                        ReceivedSms(phone, fields[0], fields[1], fields[2], params, headers, body)
                    )
            statuses.append(
                {
                    "Code": self._code,
                    "Message": self._code_message,
                    "SerialNo": uuid.uuid4().hex,
                    "PhoneNumber": phone,
                }
            )
        return 200, {"SendStatusSet": statuses, "RequestId": request_id}


def _handler_for(provider: LocalSmsProvider) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            if self.path != provider.path:
                self._reply(404, None)
                return
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length)
            headers = {name.lower(): value for name, value in self.headers.items()}
            status, answer = provider._answer(headers, body)
            self._reply(status, answer)

        def _reply(self, status: int, answer: dict[str, Any] | None) -> None:
            if answer is None:
                data, content_type = HTTPStatus(status).phrase.encode(), "text/plain"
            else:
                data, content_type = json.dumps(answer).encode(), "application/json"
            # The client may have given up (the timeout test): nobody is left to answer.
            with contextlib.suppress(OSError):
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        def log_message(self, format: str, *args: object) -> None:
            # Quiet: the test output is the tests', and request lines would print numbers.
            pass

    return Handler
