"""Settings that refuse to start wrong, and the embedded mode that the README's command serves.

Each case starts a fresh Python process with the environment an operator would give it, because
the settings are read once per process: what is asserted is what that operator would see (the
exit status and the message), not a value patched into a running test.
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


def run(code: str, *args: str, **env: str) -> subprocess.CompletedProcess:
    """``python -c code`` in the project with the suite's environment changed by ``env``
    (a value of None removes the variable)."""
    environment = {**os.environ, "DJANGO_SETTINGS_MODULE": "portal.settings"}
    for name, value in env.items():
        if value is None:
            environment.pop(name, None)
        else:
            environment[name] = value
    return subprocess.run(  # noqa: S603 (the test's own code, with this interpreter)
        [sys.executable, "-c", code, *args],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


PRODUCTION = {"DEBUG": "0", "EMBEDDED": None, "SECRET_KEY": "k" * 50, "ALLOWED_HOSTS": "portal.example.cn"}


def test_the_suites_own_environment_starts() -> None:
    """The control case: with both URLs (as scripts/test gives them) the settings load."""
    started = run(SETUP, **PRODUCTION)
    assert started.returncode == 0, started.stderr


@pytest.mark.parametrize("missing", ["DATABASE_URL", "REDIS_URL"])
def test_debug_off_refuses_to_start_without(missing) -> None:
    started = run(SETUP, **PRODUCTION, **{missing: None})
    assert started.returncode != 0
    last_line = started.stderr.strip().splitlines()[-1]
    assert "ImproperlyConfigured" in last_line
    assert missing in last_line
    other = ({"DATABASE_URL", "REDIS_URL"} - {missing}).pop()
    assert other not in last_line


def test_an_empty_value_counts_as_missing() -> None:
    started = run(SETUP, **PRODUCTION, REDIS_URL="")
    assert started.returncode != 0
    assert "REDIS_URL must be set" in started.stderr


def test_both_missing_are_named_at_once() -> None:
    started = run(SETUP, **PRODUCTION, DATABASE_URL=None, REDIS_URL=None)
    assert started.returncode != 0
    assert "DATABASE_URL and REDIS_URL must be set" in started.stderr


@pytest.mark.parametrize("mode", [{"DEBUG": "1"}, {"EMBEDDED": "1"}])
def test_development_and_embedded_modes_may_go_without_them(mode) -> None:
    code = SETUP + "; from django.conf import settings as s; print(s.DATABASES['default']['ENGINE'])"
    code += "; print(s.CACHES)"
    started = run(code, **{**PRODUCTION, **mode}, DATABASE_URL=None, REDIS_URL=None)
    assert started.returncode == 0, started.stderr
    assert "sqlite3" in started.stdout
    assert "LocMemCache" in started.stdout


# --- The embedded mode: what `scripts/serve` runs ---------------------------------------


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


def test_embedded_mode_shows_residents_a_plain_404(tmp_path) -> None:
    code = (
        SETUP + "\n"
        "from django.core.management import call_command\n"
        "from django.test import Client\n"
        "call_command('migrate', verbosity=0)\n"
        "r = Client(HTTP_HOST='127.0.0.1').get('/no-such-page/')\n"
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


def test_embedded_mode_settings(tmp_path) -> None:
    code = SETUP + (
        "; from django.conf import settings as s; import json; print(json.dumps({"
        "'debug': s.DEBUG, 'ssl_redirect': s.SECURE_SSL_REDIRECT, 'secure_cookies': "
        "[s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE], 'hsts': s.SECURE_HSTS_SECONDS, "
        "'static': s.STORAGES['staticfiles']['BACKEND'], 'eager': s.CELERY_TASK_ALWAYS_EAGER, "
        "'hosts': s.ALLOWED_HOSTS}))"
    )
    started = run(code, **serve_environment(), DATABASE_URL=f"sqlite:///{tmp_path / 'unused.sqlite3'}")
    assert started.returncode == 0, started.stderr
    assert json.loads(started.stdout) == {
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
    code = "import sys; from django.core.management import execute_from_command_line as run; run(sys.argv)"
    checked = run(
        code,
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
    code = "import sys; from django.core.management import execute_from_command_line as run; run(sys.argv)"
    checked = run(code, "check", "--deploy", **PRODUCTION)
    assert checked.returncode == 0, checked.stderr
    assert "portal.W001" not in checked.stdout + checked.stderr


def test_photos_from_an_object_store_are_allowed_as_images_only() -> None:
    code = SETUP + (
        "; from django.conf import settings as s; import json;"
        " print(json.dumps(s.CONTENT_SECURITY_POLICY['DIRECTIVES'], default=str))"
    )
    started = run(
        code,
        **PRODUCTION,
        S3_BUCKET="photos",
        S3_ENDPOINT_URL="http://127.0.0.1:9000",
        S3_CUSTOM_DOMAIN="img.example.cn",
    )
    assert started.returncode == 0, started.stderr
    directives = json.loads(started.stdout)
    assert directives["img-src"] == ["'self'", "data:", "http://127.0.0.1:9000", "https://img.example.cn"]
    assert all("example.cn" not in " ".join(v) for k, v in directives.items() if k != "img-src")


@pytest.mark.parametrize(
    ("site_url", "warned"),
    [
        (None, True),  # the default, http://127.0.0.1:8000
        ("", True),
        ("https://other.example.cn", True),  # not a host this site answers to
        ("https://portal.example.cn", False),
    ],
)
def test_check_deploy_wants_the_public_site_url(site_url, warned) -> None:
    """Share links, QR codes and e-mails carry SITE_URL: a deployment must set it to itself."""
    code = "import sys; from django.core.management import execute_from_command_line as run; run(sys.argv)"
    checked = run(code, "check", "--deploy", **PRODUCTION, SITE_URL=site_url)
    assert ("portal.W002" in checked.stdout + checked.stderr) is warned, checked.stderr
