"""Settings that refuse to start wrong, and the embedded mode that the README's command serves.

The settings are read once per process, so what is asserted is what an operator starting a
process with that environment would see (the exit status and the message), not a value patched
into a running test. A refused start, the embedded 404 page and ``check --deploy`` each start a
real process as the operator would; the variants of the same claims (which variable is missing,
the modes, the ``SITE_URL`` values) are read by one process, tests/settings_probe.py, that
evaluates ``portal/settings.py`` afresh for each environment.
"""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(settings.BASE_DIR)
SETUP = "import django; django.setup()"


def run(code: str, *args: str, **env: str | None) -> subprocess.CompletedProcess:
    """``python -c code`` in the project with the suite's environment changed by ``env``
    (a value of None removes the variable)."""
    return python(["-c", code, *args], env)


def python(argv: list[str], env: dict, stdin: str | None = None) -> subprocess.CompletedProcess:
    environment = {**os.environ, "DJANGO_SETTINGS_MODULE": "portal.settings"}
    for name, value in env.items():
        if value is None:
            environment.pop(name, None)
        else:
            environment[name] = value
    return subprocess.run(  # noqa: S603 (the test's own code, with this interpreter)
        [sys.executable, *argv],
        cwd=ROOT,
        env=environment,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


PRODUCTION = {"DEBUG": "0", "EMBEDDED": None, "SECRET_KEY": "k" * 50, "ALLOWED_HOSTS": "portal.example.cn"}
CHECK_DEPLOY = (
    "import sys; from django.core.management import execute_from_command_line as run; run(sys.argv)"
)


def serve_environment() -> dict[str, str | None]:
    """The variables scripts/serve exports for the embedded mode, read from the script itself."""
    script = (ROOT / "scripts" / "serve").read_text()
    exported = dict(re.findall(r'^export (DEBUG|EMBEDDED|ALLOWED_HOSTS)="?([^"\n]*)"?$', script, re.M))
    assert exported == {
        "DEBUG": "${DEBUG:-0}",
        "EMBEDDED": "1",
        "ALLOWED_HOSTS": "${ALLOWED_HOSTS:-127.0.0.1,localhost}",
    }, "scripts/serve no longer serves the embedded mode with DEBUG off"
    return {
        "DEBUG": "0",
        "EMBEDDED": "1",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SECRET_KEY": "k" * 50,
        "REDIS_URL": None,
    }


SITE_URLS = [
    (None, True),  # the default, http://127.0.0.1:8000
    ("", True),
    ("https://other.example.cn", True),  # not a host this site answers to
    ("https://portal.example.cn", False),
]


@pytest.fixture(scope="module")
def probed(tmp_path_factory) -> dict[str, dict]:
    """The settings of every environment below, as tests/settings_probe.py read them in one
    process started, like the control case, with the suite's own environment in production."""
    unused = tmp_path_factory.mktemp("embedded") / "unused.sqlite3"
    environments = {
        "control": {},
        "missing DATABASE_URL": {"DATABASE_URL": None},
        "missing REDIS_URL": {"REDIS_URL": None},
        "empty REDIS_URL": {"REDIS_URL": ""},
        "DEBUG": {"DEBUG": "1", "DATABASE_URL": None, "REDIS_URL": None},
        "EMBEDDED": {"EMBEDDED": "1", "DATABASE_URL": None, "REDIS_URL": None},
        "scripts/serve": {**serve_environment(), "DATABASE_URL": f"sqlite:///{unused}"},
        "object store": {
            "S3_BUCKET": "photos",
            "S3_ENDPOINT_URL": "http://127.0.0.1:9000",
            "S3_CUSTOM_DOMAIN": "img.example.cn",
        },
    }
    cases = {name: {"environment": changes, "check": False} for name, changes in environments.items()}
    for site_url, _warned in SITE_URLS:
        cases[f"SITE_URL={site_url!r}"] = {"environment": {"SITE_URL": site_url}, "check": True}
    started = python(["-m", "tests.settings_probe"], PRODUCTION, stdin=json.dumps(cases))
    assert started.returncode == 0, started.stderr
    return json.loads(started.stdout)


def test_the_suites_own_environment_starts(probed) -> None:
    """The control case: with both URLs (as scripts/test gives them) the settings load (the
    probe started Django with them)."""
    assert "settings" in probed["control"], probed["control"]


@pytest.mark.parametrize("missing", ["DATABASE_URL", "REDIS_URL"])
def test_debug_off_refuses_to_start_without(probed, missing) -> None:
    last_line = probed[f"missing {missing}"].get("error", "")
    assert "ImproperlyConfigured" in last_line
    assert missing in last_line
    other = ({"DATABASE_URL", "REDIS_URL"} - {missing}).pop()
    assert other not in last_line


def test_an_empty_value_counts_as_missing(probed) -> None:
    assert "REDIS_URL must be set" in probed["empty REDIS_URL"].get("error", "")


def test_both_missing_are_named_at_once() -> None:
    started = run(SETUP, **PRODUCTION, DATABASE_URL=None, REDIS_URL=None)
    assert started.returncode != 0
    assert "DATABASE_URL and REDIS_URL must be set" in started.stderr


@pytest.mark.parametrize("mode", ["DEBUG", "EMBEDDED"])
def test_development_and_embedded_modes_may_go_without_them(probed, mode) -> None:
    assert "settings" in probed[mode], probed[mode]
    assert "sqlite3" in probed[mode]["settings"]["DATABASE_ENGINE"]
    assert "LocMemCache" in probed[mode]["settings"]["CACHES"]


# --- The embedded mode: what `scripts/serve` runs ---------------------------------------


# The embedded mode's tables made straight from the models, as the migrations leave a new
# database (their one data migration only updates existing rows; `makemigrations --check`
# holds models and migrations together): under half a second of CPU instead of five for
# every migration.
EMBEDDED_SETUP = (
    SETUP + "\n"
    "from django.apps import apps\n"
    "from django.conf import settings\n"
    "from django.core.management import call_command\n"
    "from django.test import Client\n"
    "settings.MIGRATION_MODULES = {app.label: None for app in apps.get_app_configs()}\n"
    "call_command('migrate', run_syncdb=True, verbosity=0)\n"
)


def test_embedded_mode_shows_residents_a_plain_404(tmp_path) -> None:
    code = (
        EMBEDDED_SETUP + "r = Client(HTTP_HOST='127.0.0.1').get('/no-such-page/')\n"
        "print(r.status_code)\n"
        "print(r.content.decode())\n"
    )
    started = run(code, **serve_environment(), DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}")
    assert started.returncode == 0, started.stderr
    status, page = started.stdout.split("\n", 1)
    assert status == "404"
    assert "页面不存在" in page  # templates/404.html, in the site's look
    assert "URLconf" not in page  # not Django's debug page listing every URL pattern
    assert "admin/" not in page


def test_embedded_mode_serves_a_chapter_and_takes_a_new_residents_rating(tmp_path) -> None:
    # The reads compiled once per process and the new resident's one-statement rating are
    # PostgreSQL's way; on SQLite, README's run command, the same pages and answers.
    code = (
        EMBEDDED_SETUP + "import json\n"
        "from tests.factories import ChapterFactory, EditionFactory, IndicatorFactory\n"
        "chapter = ChapterFactory(edition=EditionFactory(year=2023))\n"
        "item = IndicatorFactory(chapter=chapter)\n"
        "client = Client(HTTP_HOST='127.0.0.1')\n"
        "page = client.get(chapter.get_absolute_url(), secure=True)\n"
        "body = {'target_type': 'indicator', 'target_id': item.pk, 'score': 4}\n"
        "rated = client.post('/api/v1/ratings/', json.dumps(body), content_type='application/json',"
        " secure=True)\n"
        "shown = item.name in page.content.decode()\n"
        "print(page.status_code, shown, rated.status_code, rated.json()['score'])\n"
    )
    started = run(code, **serve_environment(), DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}")
    assert started.returncode == 0, started.stderr
    assert started.stdout.split() == ["200", "True", "201", "4"]


def test_embedded_mode_holds_a_burst_from_one_address(tmp_path) -> None:
    # The anomaly rules run in-process there (tasks run eagerly), on SQLite: 22 new
    # residents behind one address rate one item (scores 1-5 in turn: no run of one
    # score), the request-time limit on new residents raised so that all get through.
    code = (
        EMBEDDED_SETUP + "import json\n"
        "from feedback.models import Rating\n"
        "from tests.factories import IndicatorFactory\n"
        "item = IndicatorFactory()\n"
        "answers = []\n"
        "for n in range(22):\n"
        "    body = {'target_type': 'indicator', 'target_id': item.pk, 'score': n % 5 + 1}\n"
        "    answers.append(Client(HTTP_HOST='127.0.0.1').post('/api/v1/ratings/', json.dumps(body),"
        " content_type='application/json', secure=True).status_code)\n"
        "states = [(r.trust, r.hold_reason) for r in Rating.objects.order_by('updated_at', 'id')]\n"
        "print(json.dumps({'answers': answers, 'states': states}))\n"
    )
    environment = {**serve_environment(), "RATE_LIMIT_NEW_RESIDENTS": "1000/h"}
    environment["RATE_LIMIT_RATINGS"] = "1000/h"
    started = run(code, **environment, DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}")
    assert started.returncode == 0, started.stderr
    result = json.loads(started.stdout.splitlines()[-1])
    assert result["answers"] == [201] * 22
    # The first 20 from the address counted, the rest held with the burst's reason.
    assert result["states"] == [["counted", ""]] * 20 + [["held", "同一来源短时集中评分"]] * 2


def test_embedded_mode_settings(probed) -> None:
    assert "settings" in probed["scripts/serve"], probed["scripts/serve"]
    read = probed["scripts/serve"]["settings"]
    assert {
        "debug": read["DEBUG"],
        "ssl_redirect": read["SECURE_SSL_REDIRECT"],
        "secure_cookies": [read["SESSION_COOKIE_SECURE"], read["CSRF_COOKIE_SECURE"]],
        "hsts": read["SECURE_HSTS_SECONDS"],
        "static": read["STATICFILES_BACKEND"],
        "eager": read["CELERY_TASK_ALWAYS_EAGER"],
        "hosts": read["ALLOWED_HOSTS"],
    } == {
        "debug": False,
        # Plain http on loopback: an https redirect or secure-only cookies would lock it out.
        "ssl_redirect": False,
        "secure_cookies": [False, False],
        "hsts": 0,
        "static": "whitenoise.storage.CompressedManifestStaticFilesStorage",
        "eager": True,
        "hosts": ["127.0.0.1", "localhost"],
    }


def test_check_deploy_refuses_the_embedded_mode(tmp_path) -> None:
    checked = run(
        CHECK_DEPLOY,
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        **serve_environment(),
        DATABASE_URL=f"sqlite:///{tmp_path / 'unused.sqlite3'}",
    )
    assert checked.returncode != 0
    assert "portal.W001" in checked.stderr
    assert "EMBEDDED is on" in checked.stderr


def test_check_deploy_is_silent_about_embedded_when_it_is_off() -> None:
    checked = run(CHECK_DEPLOY, "check", "--deploy", **PRODUCTION)
    assert checked.returncode == 0, checked.stderr
    assert "portal.W001" not in checked.stdout + checked.stderr


def test_photos_from_an_object_store_are_allowed_as_images_only(probed) -> None:
    assert "settings" in probed["object store"], probed["object store"]
    directives = probed["object store"]["settings"]["CSP_DIRECTIVES"]
    assert directives["img-src"] == ["'self'", "data:", "http://127.0.0.1:9000", "https://img.example.cn"]
    assert all("example.cn" not in " ".join(v) for k, v in directives.items() if k != "img-src")


@pytest.mark.parametrize(("site_url", "warned"), SITE_URLS)
def test_check_deploy_wants_the_public_site_url(probed, site_url, warned) -> None:
    """Share links, QR codes and e-mails carry SITE_URL: a deployment must set it to itself.
    (``check --deploy`` run with each value's settings, in the probe.)"""
    result = probed[f"SITE_URL={site_url!r}"]
    assert "check" in result, result
    assert ("portal.W002" in result["check"]) is warned, result["check"]
