"""What every request pays in the portal's own layers, done once where it can be (issue 9).

The middleware and the page shell were trimmed of work that depends only on the
settings or on the parsed templates; each keeps what a visitor and a shared cache
see: the language's ``Vary``/``Content-Language``, the Content-Security-Policy and
its nonce rule, the charset refusals, and the shell's blocks overridable by every page.
"""

import pytest
from csp.exceptions import CSPNonceError
from django.http import HttpResponse
from django.template import Context, Engine
from django.test import RequestFactory
from django.utils import translation

from portal.middleware import ChineseFirstLocaleMiddleware, ContentSecurityPolicyMiddleware
from portal.request_guards import charset_refusal
from portal.templatetags.chrome import ShellNode

# --- The language -----------------------------------------------------------------------------


def _locale(request, response: HttpResponse) -> HttpResponse:
    seen = {}

    def view(request):
        seen["active"] = translation.get_language()
        return response

    with translation.override("zh-hans"):
        answered = ChineseFirstLocaleMiddleware(view)(request)
    assert seen["active"] == request.LANGUAGE_CODE, "the request says the language the view ran in"
    return answered


@pytest.mark.parametrize(
    ("cookie", "language"),
    [
        (None, "zh-hans"),
        ("en", "en"),
        ("EN", "en"),
        ("zh-Hans", "zh-hans"),
        ("xx", "zh-hans"),
        ("../x", "zh-hans"),
    ],
)
def test_the_language_is_the_cookies_else_chinese_and_the_response_says_so(cookie, language) -> None:
    request = RequestFactory().get("/")
    if cookie is not None:
        request.COOKIES["django_language"] = cookie
    response = _locale(request, HttpResponse())
    assert language == request.LANGUAGE_CODE
    assert response["Content-Language"] == language
    assert response["Vary"] == "Cookie"


def test_a_response_keeps_its_own_vary_and_content_language() -> None:
    response = HttpResponse()
    response["Vary"] = "Accept-Encoding, cookie"
    response["Content-Language"] = "en"
    _locale(RequestFactory().get("/"), response)
    assert response["Vary"] == "Accept-Encoding, cookie"  # Cookie is there already, in any case
    assert response["Content-Language"] == "en"
    response = HttpResponse()
    response["Vary"] = "Accept"
    _locale(RequestFactory().get("/"), response)
    assert response["Vary"] == "Accept, Cookie"


@pytest.mark.django_db
def test_pages_and_the_api_say_their_language_and_vary_on_the_cookie(client, settings) -> None:
    page = client.get("/privacy/")
    assert (page.status_code, page["Content-Language"], page["Vary"]) == (200, "zh-hans", "Cookie")
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    api = client.get("/api/v1/indicators/")
    assert (api.status_code, api["Content-Language"], api["Vary"]) == (200, "en", "Accept, Cookie")


# --- The Content-Security-Policy's nonce ----------------------------------------------------------


def test_a_nonce_asked_for_after_the_header_is_written_is_an_error() -> None:
    middleware = ContentSecurityPolicyMiddleware(lambda request: HttpResponse())
    requests = [RequestFactory().get("/"), RequestFactory().get("/")]
    for request in requests:
        response = middleware(request)
        assert "nonce-" not in response["Content-Security-Policy"]
        assert not request.csp_nonce  # never made
        with pytest.raises(CSPNonceError):
            str(request.csp_nonce)
        with pytest.raises(CSPNonceError):
            str(request.csp_nonce)  # every time, not once


def test_a_nonce_used_by_the_page_is_in_its_header() -> None:
    def view(request):
        return HttpResponse(f'<style nonce="{request.csp_nonce}"></style>')

    request = RequestFactory().get("/")
    response = ContentSecurityPolicyMiddleware(view)(request)
    nonce = str(request.csp_nonce)
    assert f"'nonce-{nonce}'" in response["Content-Security-Policy"]
    assert response.content.decode() == f'<style nonce="{nonce}"></style>'


# --- Charsets -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content_type", "refused"),
    [
        ("", False),
        ("application/json", False),
        ("application/x-www-form-urlencoded; charset=utf-8", False),
        ("text/plain; charset=bz2_codec", True),
        ("text/plain; CHARSET=rot13", True),
        ("text/plain; charset*=utf-8''bz2_codec", True),
        ("text/plain; charset=no-such-codec", False),  # unknown: Django reads UTF-8
    ],
)
def test_a_charset_that_is_no_text_encoding_is_refused_whatever_its_spelling(content_type, refused) -> None:
    assert (charset_refusal(content_type) is not None) is refused


# --- The shell ------------------------------------------------------------------------------------


def _engine() -> Engine:
    parent = (
        "{% load chrome %}{% shell %}<title>{% block title %}T{% endblock %}</title>"
        "{% if x %}{% block body %}B{% endblock %}{% endif %}{% endshell %}\n"
    )
    templates = {
        "parent.html": parent,
        "plain.html": parent.replace("{% shell %}", "").replace("{% endshell %}", ""),
        "child.html": '{% extends "parent.html" %}{% block body %}<b>{{ x }}</b>{% endblock %}',
        "plain_child.html": '{% extends "plain.html" %}{% block body %}<b>{{ x }}</b>{% endblock %}',
        "grandchild.html": '{% extends "child.html" %}{% block title %}G{{ block.super }}{% endblock %}',
    }
    return Engine(
        loaders=[("django.template.loaders.locmem.Loader", templates)],
        libraries={"chrome": "portal.templatetags.chrome"},
    )


def test_the_shell_renders_as_it_is_and_every_page_overrides_its_blocks() -> None:
    engine = _engine()
    for x in ("<x>", ""):
        context = {"x": x}
        shell = engine.get_template("child.html").render(Context(context))
        assert shell == engine.get_template("plain_child.html").render(Context(context))
        assert engine.get_template("grandchild.html").render(Context(context)) == shell.replace(
            "<title>T", "<title>GT"
        )
    assert engine.get_template("child.html").render(Context({"x": "<x>"})) == (
        "<title>T</title><b>&lt;x&gt;</b>\n"
    )


def test_the_shell_lists_its_blocks_once() -> None:
    engine = _engine()
    template = engine.get_template("child.html")
    template.render(Context({"x": 1}))
    shell = next(node for node in engine.get_template("parent.html").nodelist if isinstance(node, ShellNode))
    walked = []
    nodelist_walk = type(shell.nodelist).get_nodes_by_type

    def counting(self, nodetype):
        walked.append(nodetype)
        return nodelist_walk(self, nodetype)

    shell.nodelist.get_nodes_by_type = counting.__get__(shell.nodelist)
    for _ in range(3):
        assert template.render(Context({"x": 1})) == "<title>T</title><b>1</b>\n"
    assert walked == []
