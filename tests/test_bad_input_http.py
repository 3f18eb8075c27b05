"""Bad input at the HTTP level never gets a 500, and stores nothing (issue 11).

Each case the probe of the production topology found, against the real app:
through Django's test client where it can say it (JSON nested 10,000 deep, bodies
not valid in their charset, the Excel export of a comment holding U+0001), and over
raw sockets against a live gunicorn from gunicorn.conf.py — and nginx in front of it,
rendered from deploy/nginx.conf.template as the stack renders it — for what only a
real connection can do: a body shorter than its Content-Length, chunked bodies.
"""

import http.client
import io
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from openpyxl import load_workbook

from deploy import stack as deploy_stack
from feedback.models import Comment, OfficialReply, Rating, Resident, SurveyAnswer, SurveyResponse
from portal.api_parsers import MAX_DEPTH
from portal.request_guards import BODY_IDLE_SECONDS
from portal.wsgi import application
from tests.factories import DistrictFactory, StoryFactory
from tests.feedback.helpers import API_COMMENTS, API_RATINGS, API_SURVEY, api_post, kind_of
from tests.review.helpers import login, make_planner
from tests.services import free_port, suite_database_url

ROOT = Path(__file__).resolve().parent.parent
API_VERIFICATION = "/api/v1/verification/"
API_VERIFICATION_CONFIRM = "/api/v1/verification/confirm/"
API_SUBMISSIONS = [API_RATINGS, API_COMMENTS, API_SURVEY, API_VERIFICATION, API_VERIFICATION_CONFIRM]
STORED = (Rating, Comment, SurveyResponse, SurveyAnswer, Resident, OfficialReply)
INVALID_UTF8 = "请求内容不是有效的 UTF-8 编码"


def stored_rows() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in STORED}


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


# --- Through Django's test client ----------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("url", API_SUBMISSIONS)
@pytest.mark.parametrize("depth", [10_000, MAX_DEPTH + 1])
def test_json_nested_too_deep_is_400(client, indicator, url, depth):
    before = stored_rows()
    for body in (nested(depth), '{"target_type": "indicator", "score": ' + nested(depth) + "}"):
        response = client.post(url, data=body, content_type="application/json")
        assert response.status_code == 400, (url, response.content[:200])
        assert "JSON 嵌套过深" in response.json()["detail"]
    assert stored_rows() == before


@pytest.mark.django_db
def test_json_as_deep_as_allowed_is_read(client, indicator):
    """The limit refuses depth, not JSON: a well-formed rating inside it is stored."""
    payload = {"target_type": "indicator", "target_id": indicator.pk, "score": 4, "extra": [[[1]]]}
    assert api_post(client, API_RATINGS, payload).status_code == 201
    assert Rating.objects.get().score == 4


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("application/json", b'{"target_type": "indicator", "target_id": %d, "body": "\xe5\xa5\xbd\xff"}'),
        ("application/x-www-form-urlencoded", b"target_type=indicator&target_id=%d&body=%%E5%%A5%%BD%%FF"),
        ("application/x-www-form-urlencoded", b"target_type=indicator&target_id=%d&body=\xe5\xa5\xbd\xff"),
    ],
    ids=["json", "form-escaped", "form-raw"],
)
def test_api_body_not_utf8_is_400_and_stores_nothing(client, indicator, content_type, body):
    response = client.post(API_COMMENTS, data=body % indicator.pk, content_type=content_type)
    assert response.status_code == 400
    assert INVALID_UTF8 in response.json()["detail"]
    assert stored_rows() == dict.fromkeys(stored_rows(), 0)


@pytest.mark.django_db
def test_api_json_string_with_a_lone_surrogate_is_400(client, indicator):
    body = f'{{"target_type": "indicator", "target_id": {indicator.pk}, "body": "好\\ud800"}}'
    response = client.post(API_COMMENTS, data=body, content_type="application/json")
    assert response.status_code == 400
    assert INVALID_UTF8 in response.json()["detail"]
    assert not Comment.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("form", ["rate", "comment"])
def test_html_form_body_not_utf8_is_400_and_stores_nothing(client, indicator, form):
    """A form body used to be decoded with replacement characters and stored as mojibake."""
    url = reverse(f"feedback:{form}", args=[kind_of(indicator), indicator.pk])
    body = b"score=3&body=%E8%B7%AF%E7%81%AF%FF%FE&nickname=%C0"
    response = client.post(url, data=body, content_type="application/x-www-form-urlencoded")
    assert response.status_code == 400
    assert INVALID_UTF8 in response.content.decode()
    assert stored_rows() == dict.fromkeys(stored_rows(), 0)
    # The same form, well encoded, is stored: it is the encoding that is refused.
    good = b"score=3&body=%E8%B7%AF%E7%81%AF"
    assert client.post(url, data=good, content_type="application/x-www-form-urlencoded").status_code == 302


@pytest.mark.django_db
@pytest.mark.parametrize("content_type", ["application/x-www-form-urlencoded", "application/json"])
def test_a_body_in_another_charset_is_400(client, indicator, content_type):
    """Forms and JSON are UTF-8; a body in another charset would be read wrong or not at all."""
    url = reverse("feedback:comment", args=[kind_of(indicator), indicator.pk])
    body = "body=路灯坏了" if "form" in content_type else '{"body": "路灯坏了"}'
    for path in (url, API_COMMENTS):
        declared = f"{content_type}; charset=gbk"
        response = client.generic("POST", path, body.encode("gb18030"), content_type=declared)
        assert response.status_code == 400
        assert "请求内容须为 UTF-8 编码，不能是 gbk" in response.content.decode()
    assert stored_rows() == dict.fromkeys(stored_rows(), 0)


@pytest.mark.django_db
def test_a_charset_that_is_not_text_is_400(client, indicator):
    """Django takes bz2_codec as a charset and then cannot decode the body with it."""
    content_type = "application/x-www-form-urlencoded; charset=bz2_codec"
    response = client.generic("POST", API_RATINGS, b"score=3", content_type=content_type)
    assert response.status_code == 400
    assert "不支持的字符集 bz2_codec" in response.json()["detail"]
    assert not Rating.objects.exists()


def test_a_charset_that_is_not_text_with_a_query_is_400_before_django():
    """With a query string Django fails while building the request (LookupError: a 500):
    the WSGI application gunicorn runs refuses it first."""
    statuses: list[str] = []
    environ = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": "/",
        "QUERY_STRING": "q=1",
        "CONTENT_TYPE": "text/plain; charset=bz2_codec",
        "SERVER_NAME": "testserver",
        "SERVER_PORT": "80",
        "wsgi.input": BytesIO(b""),
        "wsgi.url_scheme": "http",
    }
    body = b"".join(application(environ, lambda status, headers: statuses.append(status)))
    assert statuses == ["400 Bad Request"]
    assert "不支持的字符集 bz2_codec" in json.loads(body)["detail"]


def _without_length(client: Client, path: str, body: bytes, **environ) -> object:
    """A chunked POST: no Content-Length (the test client's other methods always give one)."""
    return client.request(
        REQUEST_METHOD="POST",
        PATH_INFO=path,
        CONTENT_TYPE="application/json",
        HTTP_TRANSFER_ENCODING="chunked",
        **{"wsgi.input": BytesIO(body)},
        **environ,
    )


def _chunked(body: bytes, size: int = 7) -> bytes:
    pieces = [body[i : i + size] for i in range(0, len(body), size)]
    return b"".join(b"%x\r\n%s\r\n" % (len(p), p) for p in pieces) + b"0\r\n\r\n"


@pytest.mark.django_db
def test_chunked_body_where_the_server_does_not_terminate_the_input_is_411(client, indicator):
    """Without wsgi.input_terminated nothing says where a chunked body ends: a length is required."""
    response = _without_length(client, API_RATINGS, _chunked(rating_json(indicator, 5)))
    assert response.status_code == 411
    assert "Content-Length" in response.json()["detail"]
    assert not Rating.objects.exists()


@pytest.mark.django_db
def test_chunked_body_the_server_terminates_is_read_whole(client, indicator):
    """What gunicorn hands over: the decoded body, and wsgi.input_terminated."""
    terminated = {"wsgi.input_terminated": True}
    response = _without_length(client, API_RATINGS, rating_json(indicator, 5), **terminated)
    assert response.status_code == 201, response.content
    assert Rating.objects.get().score == 5


@pytest.mark.django_db
def test_chunked_body_over_the_limit_is_413(client, indicator):
    body = b'{"x": "' + b"a" * settings.DATA_UPLOAD_MAX_MEMORY_SIZE + b'"}'
    response = _without_length(client, API_RATINGS, body, **{"wsgi.input_terminated": True})
    assert response.status_code == 413
    assert "过大" in response.json()["detail"]
    assert not Rating.objects.exists()


@pytest.mark.django_db
def test_review_exports_hold_a_comment_with_control_characters(chapter):
    """openpyxl refused U+0001 (IllegalCharacterError: a 500); both exports drop such characters."""
    story = StoryFactory(chapter=chapter, district=DistrictFactory())
    resident = Client()
    body = "路灯\x01坏了\x0b很久\ufffe"
    payload = {"target_type": "story", "target_id": story.pk, "body": body}
    assert api_post(resident, API_COMMENTS, payload).status_code == 201
    assert api_post(resident, API_COMMENTS, {**payload, "body": "\x01=HYPERLINK(1)"}).status_code == 201
    assert Comment.objects.filter(body=body).exists()  # stored as the resident typed it
    planner = login(Client(), make_planner("planner_x", districts=[story.district]))

    response = planner.get(reverse("review:export_xlsx"))
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.content)).active
    texts = {row[9] for row in sheet.iter_rows(min_row=2, values_only=True)}
    assert texts == {"路灯坏了很久", "'=HYPERLINK(1)"}

    response = planner.get(reverse("review:export_csv"))
    assert response.status_code == 200
    csv_text = b"".join(response.streaming_content).decode("utf-8-sig")
    assert "路灯坏了很久" in csv_text and "\x01" not in csv_text


# --- Over raw sockets: a live gunicorn (gunicorn.conf.py) and nginx in front ------------------------


def _wait_answering(port: int, process: subprocess.Popen, log: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            break
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as response:  # noqa: S310
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    pytest.fail(f"{log.name} did not answer within {timeout}s:\n{log.read_text(errors='replace')[-3000:]}")


@dataclass
class Server:
    port: int
    log: Path

    def seen(self, marker: str) -> bool:
        return marker in self.log.read_text(errors="replace")


@dataclass
class Servers:
    gthread: Server
    sync: Server
    nginx: Server


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


@pytest.fixture(scope="module")
def servers(django_db_setup, django_db_blocker) -> Iterator[Servers]:
    """gunicorn from gunicorn.conf.py with each worker class, and nginx in front of the gthread one."""
    if not shutil.which("nginx"):
        pytest.fail("nginx is not installed: run the suite with scripts/test", pytrace=False)
    state = Path(tempfile.mkdtemp(prefix="badinput-", dir="/tmp"))
    state.chmod(0o755)
    processes: list[subprocess.Popen] = []
    try:
        started = {}
        for worker_class in ("gthread", "sync"):
            port = free_port()
            log = state / f"gunicorn-{worker_class}.log"
            environment = {
                **os.environ,
                "DATABASE_URL": suite_database_url(),
                "TRUSTED_PROXIES": "127.0.0.1",
                "GUNICORN_BIND": f"127.0.0.1:{port}",
                "GUNICORN_WORKERS": "1",
                "GUNICORN_THREADS": "4",
                "GUNICORN_WORKER_CLASS": worker_class,
            }
            processes.append(
                subprocess.Popen(  # noqa: S603 - our own gunicorn, fixed argv
                    [str(ROOT / ".venv" / "bin" / "gunicorn"), "-c", "gunicorn.conf.py", "portal.wsgi"],
                    cwd=ROOT,
                    env=environment,
                    stdout=log.open("wb"),
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            )
            started[worker_class] = Server(port, log)
        nginx_port = free_port()
        (state / "nginx").mkdir()
        (state / "media").mkdir()
        (state / "static").symlink_to(settings.STATIC_ROOT)
        facts = {"stack": str(state), "port": nginx_port, "web_port": started["gthread"].port}
        (state / "nginx" / "nginx.conf").write_text(deploy_stack.nginx_render(facts=facts))
        nginx_log = state / "nginx.log"
        argv = deploy_stack.command(deploy_stack.definition()["services"]["nginx"]["command"], facts=facts)
        processes.append(
            subprocess.Popen(  # noqa: S603 - the stack's own nginx command
                argv,
                cwd=ROOT,
                stdout=nginx_log.open("wb"),
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        )
        for server, process in zip([*started.values()], processes, strict=False):
            _wait_answering(server.port, process, server.log)
        _wait_answering(nginx_port, processes[-1], nginx_log)
        yield Servers(started["gthread"], started["sync"], Server(nginx_port, nginx_log))
    finally:
        for process in processes:
            _stop(process)
        shutil.rmtree(state, ignore_errors=True)


@dataclass
class Answer:
    status: int | None  # None: the connection closed without a response
    body: bytes
    seconds: float

    def detail(self) -> str:
        return json.loads(self.body)["detail"]


def exchange(port: int, raw: bytes, *, close_write: bool = False, timeout: float = 30) -> Answer:
    """Send raw bytes on a fresh connection and read one response (waiting at most ``timeout``)."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        started = time.monotonic()
        sock.sendall(raw)
        if close_write:
            sock.shutdown(socket.SHUT_WR)
        response = http.client.HTTPResponse(sock)
        try:
            response.begin()
            body = response.read()
        except (http.client.RemoteDisconnected, ConnectionResetError):
            return Answer(None, b"", time.monotonic() - started)
        return Answer(response.status, body, time.monotonic() - started)


def head(path: str, port: int, headers: dict[str, str]) -> bytes:
    lines = [f"POST {path} HTTP/1.1", f"Host: 127.0.0.1:{port}", "Connection: close"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def rating_json(indicator, score: int = 4) -> bytes:
    return json.dumps({"target_type": "indicator", "target_id": indicator.pk, "score": score}).encode()


live = pytest.mark.django_db(transaction=True)
CHUNKED_JSON = {"Content-Type": "application/json", "Transfer-Encoding": "chunked"}


@live
@pytest.mark.parametrize("worker_class", ["gthread", "sync"])
def test_a_body_shorter_than_its_length_is_400_quickly_at_gunicorn(servers, indicator, worker_class):
    """Content-Length: 100 and 10 bytes sent, the connection held open: a 400 after the idle
    timeout, not a worker held for ever (gthread) or killed with a 500 after 30 s (sync)."""
    server = getattr(servers, worker_class)
    request = head(API_RATINGS, server.port, {"Content-Type": "application/json", "Content-Length": "100"})
    answer = exchange(server.port, request + b'{"score":4')
    assert answer.status == 400, answer
    assert "不完整" in answer.detail()
    assert BODY_IDLE_SECONDS - 0.5 <= answer.seconds < BODY_IDLE_SECONDS + 5
    assert stored_rows() == dict.fromkeys(stored_rows(), 0)
    # The worker is free again at once.
    started = time.monotonic()
    assert exchange(server.port, head("/healthz", server.port, {}).replace(b"POST", b"GET")).status == 200
    assert time.monotonic() - started < 2


@live
@pytest.mark.parametrize("worker_class", ["gthread", "sync"])
def test_a_body_cut_short_by_the_client_is_400_at_once(servers, indicator, worker_class):
    server = getattr(servers, worker_class)
    request = head(API_RATINGS, server.port, {"Content-Type": "application/json", "Content-Length": "100"})
    answer = exchange(server.port, request + b'{"score":4', close_write=True)
    assert answer.status == 400, answer
    assert "不完整" in answer.detail()
    assert answer.seconds < 2
    assert stored_rows() == dict.fromkeys(stored_rows(), 0)


@live
@pytest.mark.parametrize("worker_class", ["gthread", "sync"])
def test_a_chunked_rating_is_stored_at_gunicorn(servers, indicator, worker_class):
    server = getattr(servers, worker_class)
    request = head(API_RATINGS, server.port, CHUNKED_JSON)
    answer = exchange(server.port, request + _chunked(rating_json(indicator, 2)))
    assert answer.status == 201, answer
    assert json.loads(answer.body)["score"] == 2
    assert list(Rating.objects.values_list("score", flat=True)) == [2]


@live
def test_a_chunked_html_form_is_stored_at_gunicorn(servers, indicator):
    server = servers.gthread
    path = reverse("feedback:comment", args=[kind_of(indicator), indicator.pk])
    body = "body=路灯坏了".encode().replace("路灯坏了".encode(), b"%E8%B7%AF%E7%81%AF%E5%9D%8F%E4%BA%86")
    headers = {"Content-Type": "application/x-www-form-urlencoded", "Transfer-Encoding": "chunked"}
    answer = exchange(server.port, head(path, server.port, headers) + _chunked(body))
    assert answer.status == 302, answer
    assert Comment.objects.get().body == "路灯坏了"


@live
def test_a_chunked_body_over_the_limit_is_413_at_gunicorn(servers, indicator):
    server = servers.gthread
    fields = {"target_type": "indicator", "target_id": indicator.pk, "score": 3, "x": "评" * 30_000}
    payload = json.dumps(fields)
    request = head(API_RATINGS, server.port, CHUNKED_JSON)
    answer = exchange(server.port, request + _chunked(payload.encode(), size=4096))
    assert answer.status == 413, answer
    assert "过大" in answer.detail()
    assert stored_rows() == dict.fromkeys(stored_rows(), 0)


@live
def test_a_chunked_rating_through_nginx_is_stored(servers, indicator):
    """nginx reads the chunked body whole and hands gunicorn a Content-Length."""
    nginx = servers.nginx
    request = head(API_RATINGS, nginx.port, CHUNKED_JSON)
    answer = exchange(nginx.port, request + _chunked(rating_json(indicator, 5)))
    assert answer.status == 201, answer
    assert list(Rating.objects.values_list("score", flat=True)) == [5]


@live
def test_a_short_body_never_reaches_the_app_behind_nginx(servers, indicator):
    """nginx buffers whole bodies: one cut short is dropped (400), one that stalls is timed out
    after client_body_timeout (408, the connection closed); gunicorn sees neither."""
    nginx = servers.nginx
    answers = {}
    for case in ("cut", "held"):
        path = f"{API_RATINGS}?probe={case}-{uuid.uuid4().hex}"
        request = head(path, nginx.port, {"Content-Type": "application/json", "Content-Length": "100"})
        answers[case] = (path, exchange(nginx.port, request + b'{"score":4', close_write=case == "cut"))
    for case, status in (("cut", 400), ("held", 408)):
        path, answer = answers[case]
        assert answer.status in (None, status), (case, answer)
        assert nginx.seen(f'"POST {path} HTTP/1.1" {status} '), (case, nginx.log.read_text()[-2000:])
        assert not servers.gthread.seen(path), f"a short body reached gunicorn ({case})"
    assert stored_rows() == dict.fromkeys(stored_rows(), 0)
