"""The README's run command, ``scripts/serve``, run as a new user runs it: an empty SQLite
database, the 2023 report loaded, the site on the port asked for (``PORT``).

The only test that runs the script itself (tests/test_settings_guard.py reads its settings).
"""

import os
import re
import signal
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.services import free_port

ROOT = Path(__file__).resolve().parent.parent
CHAPTER = "/2023/chapters/capital-functions/"
READY_SECONDS = 240  # migrate, load the report and survey, collectstatic: ~30 s on an idle machine


def _get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 - loopback
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


@pytest.fixture(scope="module")
def served(tmp_path_factory) -> Iterator[str]:
    """``scripts/serve`` on a free port, with nothing of the suite's environment but ``PATH``
    and ``HOME``: its key, database and collected static files in a temporary folder, so
    that it writes nothing into the checkout."""
    folder = tmp_path_factory.mktemp("serve")
    port = free_port()
    environment = {
        "PATH": os.environ["PATH"],
        "HOME": os.environ.get("HOME", str(folder)),
        "PORT": str(port),
        "SECRET_KEY": "serve-test-" + "k" * 50,
        "DATABASE_URL": f"sqlite:///{folder / 'db.sqlite3'}",
        "STATIC_ROOT": str(folder / "static"),
        "MEDIA_ROOT": str(folder / "media"),
    }
    log_path = folder / "serve.log"
    with log_path.open("w") as log:
        process = subprocess.Popen(  # noqa: S603 - the repository's own script
            [str(ROOT / "scripts" / "serve")],
            cwd=ROOT,
            env=environment,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + READY_SECONDS
        while True:
            if process.poll() is not None:
                pytest.fail(f"scripts/serve exited ({process.returncode}):\n{log_path.read_text()[-3000:]}")
            try:
                if _get(base + "/")[0] == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                tail = log_path.read_text()[-3000:]
                pytest.fail(f"scripts/serve did not answer in {READY_SECONDS} s:\n{tail}")
            time.sleep(0.5)
        yield base
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)


def test_the_site_serves_the_whole_report(served):
    status, page = _get(served + CHAPTER)
    assert status == 200
    assert "首都功能" in page
    # The report's 29 items of the chapter, each a link to its own page.
    assert len(set(re.findall(r'href="(/2023/(?:indicators|stories)/[^"/]+/)"', page))) == 29
    assert _get(served + "/1999/")[0] == 404


def test_links_the_site_gives_others_name_the_port_it_serves_on(served):
    """Share links, QR codes and Open Graph tags: copied from the page, they must open it."""
    page = _get(served + CHAPTER)[1]
    shared = set(re.findall(r"https?://[^\s\"'<>]+" + re.escape(CHAPTER), page))
    assert shared == {served + CHAPTER}
    assert f'<meta property="og:url" content="{served}{CHAPTER}">' in page
