"""The Content-Security-Policy: strict on every page, and nothing in the templates that it would refuse.

The header is read as a browser reads it (directive by directive); the pages are the ones a
resident, an integrator, a planner and a staff editor open. The static scan reads every template
of the project, so a new inline script or style attribute fails here before a browser refuses it.
"""

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client

from feedback.aggregates import aggregates_reconcile
from tests.factories import IndicatorFactory
from tests.feedback.conftest import new_resident_client
from tests.feedback.helpers import api_rate

pytestmark = pytest.mark.django_db

ROOT = Path(settings.BASE_DIR)

# What every page gets; a page may add only what its test below names.
STRICT = {
    "default-src": {"'self'"},
    "script-src": {"'self'"},
    "style-src": {"'self'"},
    "img-src": {"'self'", "data:"},
    "connect-src": {"'self'"},
    "font-src": {"'self'"},
    "object-src": {"'none'"},
    "base-uri": {"'self'"},
    "form-action": {"'self'"},
    "frame-ancestors": {"'none'"},
}


def policy_of(response) -> dict[str, set[str]]:
    """The enforced policy, directive → sources; fails when the header is missing."""
    assert "Content-Security-Policy-Report-Only" not in response, "report-only is not a policy"
    header = response.get("Content-Security-Policy")
    assert header, f"no Content-Security-Policy on {response.request['PATH_INFO']}"
    policy = {}
    for part in header.split(";"):
        name, *sources = part.split()
        policy[name] = set(sources)
    return policy


def assert_strict(policy: dict[str, set[str]], path: str) -> None:
    sources = {source for values in policy.values() for source in values}
    assert not sources & {"'unsafe-inline'", "'unsafe-eval'", "'unsafe-hashes'", "*", "http:", "https:"}, path
    assert policy == STRICT, path


def inline_code(page: str) -> list[str]:
    """What a strict policy refuses in an HTML page: inline scripts, <style>, style and on* attributes."""
    found = [m.group(0) for m in re.finditer(r"<script\b(?![^>]*\bsrc=)[^>]*>", page)]
    # Data for scripts (Django's json_script) is not run, and a policy does not refuse it.
    found = [tag for tag in found if 'type="application/json"' not in tag]
    found += re.findall(r"<style\b[^>]*>", page)
    found += re.findall(r"<[a-zA-Z][^>]*?\s(?:style|on[a-z]+)\s*=[^>]*>", page)
    found += re.findall(r"javascript:", page)
    return found


@pytest.fixture
def staff_client(django_user_model) -> Client:
    client = Client()
    client.force_login(django_user_model.objects.create_superuser("editor", "editor@example.cn", "x"))
    return client


@pytest.fixture
def rated_indicator(settings, chapter):
    """An indicator whose score shows its distribution bars (one rating is enough here)."""
    settings.AGGREGATE_MIN_COUNT = 1
    indicator = IndicatorFactory(chapter=chapter)
    assert api_rate(new_resident_client(), indicator, 4).status_code == 201
    aggregates_reconcile()
    return indicator


def public_pages(rated_indicator, story) -> list[str]:
    return [
        "/",
        rated_indicator.chapter.get_absolute_url(),
        rated_indicator.get_absolute_url(),
        story.get_absolute_url(),
        "/survey/",
        "/my-data/",
        "/privacy/",
        "/api/v1/docs/",
        "/review/login/",
        "/admin/login/",
        "/no-such-page/",
    ]


def test_every_page_has_the_strict_policy_and_no_inline_code(rated_indicator, story, client) -> None:
    for path in public_pages(rated_indicator, story):
        response = client.get(path)
        assert response.status_code in (200, 404), path
        assert_strict(policy_of(response), path)
        assert inline_code(response.content.decode()) == [], path


def test_the_distribution_bars_draw_without_a_style_attribute(rated_indicator, client) -> None:
    page = client.get(rated_indicator.get_absolute_url()).content.decode()
    # One rating of 4: its bar is the whole width, drawn by the SVG rect's own attribute.
    assert '<rect class="dist__fill" width="100.0" height="1"/>' in page
    assert '<rect class="dist__fill" width="0.0" height="1"/>' in page


def test_the_admin_pages_have_the_strict_policy(staff_client, rated_indicator) -> None:
    for path in [
        "/admin/",
        "/admin/indicators/indicator/",
        f"/admin/indicators/indicator/{rated_indicator.pk}/change/",
    ]:
        response = staff_client.get(path)
        assert response.status_code == 200, path
        assert_strict(policy_of(response), path)
        # The publication badges are coloured by class, not by a style attribute.
        assert inline_code(response.content.decode()) == [], path


def test_the_api_answers_carry_the_policy_too(indicator, client) -> None:
    response = client.get("/api/v1/indicators/", HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    assert_strict(policy_of(response), "/api/v1/indicators/")


def test_swagger_ui_loads_its_start_script_from_the_site(client) -> None:
    page = client.get("/api/v1/docs/").content.decode()
    script = re.search(r'<script src="([^"]*\?[^"]*script[^"]*)"', page)
    assert script, "the page loads no start script"
    response = client.get(script.group(1).replace("&amp;", "&"))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/javascript")
    assert "SwaggerUIBundle(" in response.content.decode()
    # Swagger UI must not send the schema's address to an outside validator.
    assert '"validatorUrl": null' in response.content.decode()


def test_redoc_gets_a_fresh_nonce_for_its_styles_and_nothing_more(client) -> None:
    nonces = []
    for _ in range(2):
        response = client.get("/api/v1/redoc/")
        policy = policy_of(response)
        page = response.content.decode()
        assert inline_code(page) == []
        (nonce,) = policy["style-src"] - {"'self'"}
        assert re.fullmatch(r"'nonce-[A-Za-z0-9+/=]{16,}'", nonce)
        # The script that hands the nonce to ReDoc carries the same one.
        assert f'nonce="{nonce[7:-1]}"' in page
        # Its search index runs in a worker built from a blob: URL; scripts stay 'self' only.
        assert policy.pop("worker-src") == {"'self'", "blob:"}
        policy["style-src"] = {"'self'"}
        assert_strict(policy, "/api/v1/redoc/")
        nonces.append(nonce)
    assert nonces[0] != nonces[1]


# --- The templates themselves ---------------------------------------------------------------

TEMPLATE_DIRS = [ROOT / "templates", *sorted(ROOT.glob("*/templates"))]
COMMENTS = re.compile(r"{%\s*comment\s*%}.*?{%\s*endcomment\s*%}|{#.*?#}", re.S)
REFUSED = {
    "an inline <script>": re.compile(r"<script\b(?![^>]*\bsrc=)[^>]*>"),
    "a <style> element": re.compile(r"<style\b"),
    "a style attribute": re.compile(r"<[a-zA-Z][^>]*?\sstyle\s*=", re.S),
    "an on* handler attribute": re.compile(r"<[a-zA-Z][^>]*?\son[a-z]+\s*=", re.S),
    "a javascript: URL": re.compile(r"javascript:", re.I),
}


def test_the_scan_finds_what_it_looks_for() -> None:
    samples = {
        "an inline <script>": "<script>alert(1)</script>",
        "a <style> element": "<style>p{}</style>",
        "a style attribute": '<td class="x" style="width: 5%">',
        "an on* handler attribute": '<input type="checkbox"\n onchange="go(event)">',
        "a javascript: URL": '<a href="javascript:void(0)">',
    }
    for what, sample in samples.items():
        assert REFUSED[what].search(sample), what
    assert not any(rule.search('<script src="/static/js/a.js" defer></script>') for rule in REFUSED.values())


def test_no_template_holds_inline_script_or_style() -> None:
    templates = [path for folder in TEMPLATE_DIRS for path in folder.rglob("*.html")]
    assert len(templates) > 30, "the scan found too few templates to be looking in the right place"
    found = []
    for path in templates:
        text = COMMENTS.sub("", path.read_text())
        found += [f"{path.relative_to(ROOT)}: {what}" for what, rule in REFUSED.items() if rule.search(text)]
    assert found == []


def test_no_python_code_writes_style_or_handler_attributes() -> None:
    """The admin's HTML built in Python (format_html) follows the same rule."""
    attribute = re.compile(r"<[a-zA-Z][^>]*?\s(?:style|on[a-z]+)\s*=")
    found = [
        str(path.relative_to(ROOT))
        for app in ("indicators", "feedback", "review", "portal")
        for path in (ROOT / app).rglob("*.py")
        if "migrations" not in path.parts and attribute.search(path.read_text())
    ]
    assert found == []
