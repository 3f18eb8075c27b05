"""Request bodies the portal can trust to be whole, bounded and text.

Every view reads ``request.body`` or ``request.POST`` assuming what Django assumes:
a body of exactly ``Content-Length`` bytes, which arrives, in the charset it
declares. HTTP clients can break each assumption, and each break used to end in a
500 or in stored garbage. :class:`RequestBodyGuardMiddleware` settles them once,
before any view or other middleware reads the body, and answers a clear 400, 411 or
413 instead (JSON under ``/api/``, a page elsewhere); nothing reaches a view:

- **short body** — ``Content-Length: 100`` and 10 bytes sent. Directly at gunicorn
  the read waited for the other 90 (for ever in a gthread worker; until the worker
  was killed and the client got a 500 in a sync one). The body is read here with a
  timeout between two reads of :data:`BODY_IDLE_SECONDS`: a body that stalls or ends
  early gets 400. Behind nginx this never reaches the app (nginx buffers whole
  bodies); the guard is for a process run without it (``scripts/serve``, a
  misconfigured proxy).
- **chunked body** — ``Transfer-Encoding: chunked`` has no ``Content-Length``, and
  Django (and DRF) then read an empty body: a valid rating was refused as empty.
  gunicorn decodes chunked input and says so (``wsgi.input_terminated``, WSGI's
  convention): the body is read here, up to ``DATA_UPLOAD_MAX_MEMORY_SIZE`` (413
  beyond), and handed on with its length. A server that does not say it terminates
  the input (Django's runserver) cannot be read safely: 411 Length Required.
- **too large** — more than ``DATA_UPLOAD_MAX_MEMORY_SIZE``: 413 (Django itself
  answered 400 to most views). Multipart bodies above it are left to Django, which
  streams uploaded files to disk (staff photos in the admin, up to nginx's 10 MiB).
- **not UTF-8** — a form or JSON body must be UTF-8 (Django refuses forms in any
  other charset; JSON between systems is UTF-8, RFC 8259), and its bytes, for a form
  once its %-escapes are decoded, must be valid UTF-8. Django decoded invalid bytes
  with replacement characters, so a comment was stored as mojibake; now 400
  ``请求内容不是有效的 UTF-8 编码``. JSON strings that escape a lone surrogate
  (``"\\ud800"``) are the API parser's part of the same rule (portal/api_parsers.py).
- **a charset that is not text** — ``charset=bz2_codec``: Django takes any codec
  Python knows and then fails to decode the query or the body with it (a 500). With
  a query string it fails while building the request, before any middleware runs,
  so :func:`charset_guard` wraps the WSGI application (portal/wsgi.py) to refuse it
  first; the middleware applies the same rule to requests that do not come through
  that entry point (the test client).

In ``portal`` (wiring), because the rules are about HTTP requests, not about
participation: they hold for every view, the admin and the review workspace
included, and call nothing of the apps.
"""

import codecs
import contextlib
import json
from collections.abc import Callable, Iterable
from io import BytesIO
from urllib.parse import unquote_to_bytes

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.core.handlers.wsgi import LimitedStream
from django.http import HttpRequest, HttpResponse, JsonResponse, UnreadablePostError
from django.shortcuts import render
from django.utils.http import parse_header_parameters
from django.utils.translation import gettext as _

# Seconds a body may pause between two reads before it counts as short. Behind nginx
# a body arrives whole, at once; directly at gunicorn a client that declared more than
# it sends holds a worker this long, not until the worker is killed.
BODY_IDLE_SECONDS = 5.0
# Media types whose body is text: UTF-8, checked.
TEXT_MEDIA_TYPES = frozenset({"application/x-www-form-urlencoded", "application/json"})


class BodyRefused(Exception):
    """The request cannot be read as sent; ``status`` and ``message`` say why."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def invalid_utf8_message() -> str:
    return _("请求内容不是有效的 UTF-8 编码。")


def charset_refusal(content_type: str) -> BodyRefused | None:
    """A Content-Type whose charset Python knows but is no text encoding (bz2_codec, rot13)."""
    if "charset" not in content_type.lower():
        return None  # no parameter named charset (nor charset*): nothing to parse, as on most requests
    charset = parse_header_parameters(content_type)[1].get("charset")
    if not charset:
        return None
    try:
        codecs.lookup(charset)
    except LookupError:
        return None  # unknown: Django ignores it and reads the default, UTF-8
    try:
        "".encode(charset)
    except (LookupError, UnicodeError):
        return BodyRefused(400, _("不支持的字符集 %(charset)s：请使用 UTF-8。") % {"charset": charset})
    return None


def charset_guard(application: Callable) -> Callable:
    """WSGI middleware: refuse a non-text charset before Django builds the request from it."""

    def guarded(environ: dict, start_response: Callable) -> Iterable[bytes]:
        refusal = charset_refusal(environ.get("CONTENT_TYPE", ""))
        if refusal is None:
            return application(environ, start_response)
        body = json.dumps({"detail": refusal.message}, ensure_ascii=False).encode()
        headers = [("Content-Type", "application/json"), ("Content-Length", str(len(body)))]
        start_response("400 Bad Request", headers)
        return [body]

    return guarded


class RequestBodyGuardMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            body_check(request)
        except BodyRefused as refusal:
            return refusal_response(request, refusal)
        return self.get_response(request)


def body_check(request: HttpRequest) -> None:
    """Read the body whole (or leave a large upload to Django) and check it; raise BodyRefused."""
    refusal = charset_refusal(request.META.get("CONTENT_TYPE", ""))
    if refusal is not None:
        raise refusal
    meta = request.META
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    chunked = "chunked" in meta.get("HTTP_TRANSFER_ENCODING", "").lower()
    if chunked and not meta.get("CONTENT_LENGTH"):
        if not meta.get("wsgi.input_terminated"):
            raise BodyRefused(411, _("无法读取分块传输的请求内容：请带 Content-Length 请求头重新提交。"))
        _chunked_body_adopt(request, limit)
    else:
        try:
            declared = int(meta.get("CONTENT_LENGTH") or 0)
        except ValueError:
            raise BodyRefused(400, _("Content-Length 请求头无效。")) from None
        if declared <= 0:
            return
        if declared > limit and request.content_type == "multipart/form-data":
            return
        _body_read(request, declared)
    if request.content_type in TEXT_MEDIA_TYPES:
        _utf8_check(request)


def _too_large() -> BodyRefused:
    return BodyRefused(413, _("提交的内容过大。"))


def _incomplete() -> BodyRefused:
    return BodyRefused(400, _("请求内容不完整：收到的字节数少于 Content-Length 声明的长度。"))


class _IdleTimeout:
    """gunicorn's socket, with a timeout between two reads while the body is read."""

    def __init__(self, request: HttpRequest) -> None:
        self.sock = request.META.get("gunicorn.socket")
        self.previous: float | None = None

    def __enter__(self) -> None:
        if self.sock is not None:
            self.previous = self.sock.gettimeout()
            self.sock.settimeout(BODY_IDLE_SECONDS)

    def __exit__(self, *exc_info) -> None:
        if self.sock is not None:
            with contextlib.suppress(OSError):  # the client is gone; gunicorn closes the socket
                self.sock.settimeout(self.previous)


def _body_read(request: HttpRequest, declared: int) -> None:
    try:
        with _IdleTimeout(request):
            body = request.body
    except RequestDataTooBig:
        raise _too_large() from None
    except UnreadablePostError:  # the socket timed out or failed: the body stalled
        raise _incomplete() from None
    if len(body) < declared:  # the client closed before sending it all
        raise _incomplete()


def _chunked_body_adopt(request: HttpRequest, limit: int) -> None:
    stream = request.META["wsgi.input"]
    try:
        with _IdleTimeout(request):
            body = stream.read(limit + 1)
    except OSError:
        raise _incomplete() from None
    if len(body) > limit:
        raise _too_large()
    # Django built the request's stream from CONTENT_LENGTH (absent: an empty body)
    # before any middleware runs, and offers no public way to give it another body:
    # the environ gets the body and its length, and the stream is rebuilt from them
    # exactly as WSGIRequest.__init__ builds it.
    request.META["wsgi.input"] = BytesIO(body)
    request.META["CONTENT_LENGTH"] = str(len(body))
    request._stream = LimitedStream(request.META["wsgi.input"], len(body))


def _utf8_check(request: HttpRequest) -> None:
    charset = request.encoding or settings.DEFAULT_CHARSET
    if codecs.lookup(charset).name != "utf-8":
        raise BodyRefused(400, _("请求内容须为 UTF-8 编码，不能是 %(charset)s。") % {"charset": charset})
    body = request.body
    try:
        body.decode("utf-8")
        if request.content_type == "application/x-www-form-urlencoded":
            for pair in body.split(b"&"):
                for part in pair.split(b"=", 1):
                    unquote_to_bytes(part.replace(b"+", b" ")).decode("utf-8")
    except UnicodeDecodeError:
        raise BodyRefused(400, invalid_utf8_message()) from None


def refusal_response(request: HttpRequest, refusal: BodyRefused) -> HttpResponse:
    if request.path.startswith("/api/"):
        return JsonResponse(
            {"detail": refusal.message}, status=refusal.status, json_dumps_params={"ensure_ascii": False}
        )
    context = {"message": refusal.message, "back_url": "/"}
    return render(request, "feedback/refused.html", context, status=refusal.status)
