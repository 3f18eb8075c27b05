"""What ``portal/settings.py`` makes of several environments, read in one process.

``python -m tests.settings_probe`` (run by tests/test_settings_guard.py and
tests/indicators/test_photo_storage.py) reads on stdin a JSON
object ``{case: {"environment": {variable: value, or null to remove it}, "check": bool}}``.
The process itself starts Django with the environment it was given; then for each case it
sets its environment to that one with the case's changes and evaluates ``portal/settings.py``
afresh, as a new process importing it would, and prints one JSON object ``{case: result}``:

- ``{"error": "..."}`` when the settings refuse: the last line a traceback would end with;
- else ``{"settings": {...}}``, the values the tests read, and with ``"check"`` what
  ``manage.py check --deploy`` writes with that environment's settings in place of its own.

One process instead of one per case: starting Django costs seconds on a loaded machine, and
evaluating the settings module again costs milliseconds. What only a real start shows (a
refused start's exit status, the embedded 404 page, ``check --deploy`` as an operator runs
it) the tests still start a process for.
"""

import io
import json
import os
import runpy
import sys
import traceback
from pathlib import Path

import django
from django.core.management import call_command
from django.test.utils import override_settings

SETTINGS_FILE = Path(__file__).resolve().parent.parent / "portal" / "settings.py"


def _read(namespace: dict) -> dict:
    return {
        "DATABASE_ENGINE": namespace["DATABASES"]["default"]["ENGINE"],
        "CACHES": repr(namespace["CACHES"]),
        "DEBUG": namespace["DEBUG"],
        "SECURE_SSL_REDIRECT": namespace["SECURE_SSL_REDIRECT"],
        "SESSION_COOKIE_SECURE": namespace["SESSION_COOKIE_SECURE"],
        "CSRF_COOKIE_SECURE": namespace["CSRF_COOKIE_SECURE"],
        "SECURE_HSTS_SECONDS": namespace["SECURE_HSTS_SECONDS"],
        "STATICFILES_BACKEND": namespace["STORAGES"]["staticfiles"]["BACKEND"],
        "STORAGES": namespace["STORAGES"],
        "CELERY_TASK_ALWAYS_EAGER": namespace["CELERY_TASK_ALWAYS_EAGER"],
        "ALLOWED_HOSTS": namespace["ALLOWED_HOSTS"],
        "CSP_DIRECTIVES": json.loads(
            json.dumps(namespace["CONTENT_SECURITY_POLICY"]["DIRECTIVES"], default=str)
        ),
    }


def _check_deploy(namespace: dict, own: dict) -> str:
    """``check --deploy``'s output with the settings of ``namespace`` where they differ from
    ``own``, what the same file made of this process's environment."""
    changed = {name: value for name, value in namespace.items() if name.isupper() and own.get(name) != value}
    out = io.StringIO()
    with override_settings(**changed):
        call_command("check", deploy=True, stdout=out, stderr=out)
    return out.getvalue()


def probe(changes: dict[str, str | None], started: dict[str, str], own: dict, *, check: bool) -> dict:
    os.environ.clear()
    os.environ.update(started)
    for name, value in changes.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value
    try:
        namespace = runpy.run_path(str(SETTINGS_FILE))
    except Exception as error:  # noqa: BLE001 - reported as the traceback's last line
        return {"error": traceback.format_exception_only(error)[-1].strip()}
    finally:
        os.environ.clear()
        os.environ.update(started)
    result = {"settings": _read(namespace)}
    if check:
        result["check"] = _check_deploy(namespace, own)
    return result


def main() -> None:
    cases = json.load(sys.stdin)
    django.setup()
    started = dict(os.environ)
    own = runpy.run_path(str(SETTINGS_FILE))
    results = {
        name: probe(case["environment"], started, own, check=case["check"]) for name, case in cases.items()
    }
    json.dump(results, sys.stdout)


if __name__ == "__main__":
    main()
