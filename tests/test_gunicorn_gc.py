"""The cycle collector in gunicorn's workers (gunicorn.conf.py, ``GUNICORN_GC_THRESHOLD``).

A real gunicorn from gunicorn.conf.py, with the application imported in the master as the
portal's is (``preload_app``), serves tests/gunicorn_gc_probe.py, which answers with its
worker's collector settings: what a worker serving the portal runs with.
"""

import json
import os
import signal
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

from tests.services import free_port

ROOT = Path(__file__).resolve().parent.parent
GUNICORN = ROOT / ".venv" / "bin" / "gunicorn"
PYTHON_DEFAULT_FIRST_THRESHOLD = 700


def _worker_collector(tmp_path: Path, **env: str) -> dict:
    port = free_port()
    log = tmp_path / "gunicorn.log"
    environ = {
        **os.environ,
        "GUNICORN_BIND": f"127.0.0.1:{port}",
        "GUNICORN_WORKERS": "1",
        "GUNICORN_CONTROL_SOCKET": "",
        **env,
    }
    with log.open("wb") as out:
        server = subprocess.Popen(  # noqa: S603 - our own gunicorn, fixed argv
            [str(GUNICORN), "-c", "gunicorn.conf.py", "tests.gunicorn_gc_probe:application"],
            cwd=ROOT,
            env=environ,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as response:  # noqa: S310 - loopback
                    return json.loads(response.read())
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"gunicorn did not answer on port {port}:\n{log.read_text(errors='replace')}")
                time.sleep(0.2)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)


def test_a_worker_collects_less_often_and_skips_what_it_started_with(tmp_path):
    collector = _worker_collector(tmp_path)
    assert collector["threshold"][0] == 10_000
    # gunicorn, the probe and what they import: far more than the probe's own objects.
    assert collector["frozen"] > 10_000


def test_the_threshold_comes_from_the_environment(tmp_path):
    assert _worker_collector(tmp_path, GUNICORN_GC_THRESHOLD="50000")["threshold"][0] == 50_000


def test_zero_leaves_pythons_collector_as_it_is(tmp_path):
    collector = _worker_collector(tmp_path, GUNICORN_GC_THRESHOLD="0")
    assert collector["threshold"][0] == PYTHON_DEFAULT_FIRST_THRESHOLD
    assert collector["frozen"] == 0
