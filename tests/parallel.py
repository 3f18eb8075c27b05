"""Gives each pytest-xdist worker a Redis server of its own, and the tests a handle on it.

Loaded with ``-p tests.parallel`` (see ``[tool.pytest.ini_options]``) because
it must act before pytest-django imports the settings, which read
``REDIS_URL`` once: conftest files are imported only after that.

Why a server per worker and not a database number per worker: every test
flushes its Redis database, and the outage tests stop the server itself, which
would take the cache and broker away from the tests running beside them.
PostgreSQL needs nothing here: pytest-django already gives each worker its
own test database (``test_portal_gw0``, ...).
"""

import contextlib
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest
from redis import Redis
from redis.backoff import NoBackoff
from redis.exceptions import RedisError
from redis.retry import Retry
from xdist.scheduler import LoadScopeScheduling

from tests.services import free_port

_SERVER_DIR = pytest.StashKey[Path]()


def redis_alive(port: int | str) -> bool:
    # One attempt: redis-py's default retries with backoff would spend seconds on every "no".
    client = Redis(host="127.0.0.1", port=int(port), socket_connect_timeout=0.5, retry=Retry(NoBackoff(), 0))
    try:
        return bool(client.ping())
    except RedisError:
        return False
    finally:
        client.close()


def redis_server_start(*, port: int | str, run_dir: Path | str, timeout: float = 10) -> None:
    """Start a throwaway Redis (no persistence) as scripts/_services.sh does, and wait for it."""
    subprocess.run(  # noqa: S603 - fixed argv
        [  # noqa: S607
            "redis-server",
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--daemonize",
            "yes",
            "--pidfile",
            f"{run_dir}/redis.pid",
            "--logfile",
            f"{run_dir}/redis.log",
        ],
        check=True,
    )
    deadline = time.monotonic() + timeout
    while not redis_alive(port):
        if time.monotonic() > deadline:
            raise RuntimeError(f"Redis did not start on port {port} (log: {run_dir}/redis.log)")
        time.sleep(0.05)


@pytest.hookimpl(tryfirst=True)
def pytest_load_initial_conftests(early_config: pytest.Config) -> None:
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not worker:
        return
    if "RUN_DIR" not in os.environ:
        raise pytest.UsageError("A parallel run starts a Redis per worker: run it with scripts/test -n 2.")
    run_dir = Path(os.environ["RUN_DIR"]) / worker
    run_dir.mkdir(exist_ok=True)
    port = free_port()
    redis_server_start(port=port, run_dir=run_dir)
    early_config.stash[_SERVER_DIR] = run_dir
    # Read by the settings (cache and broker), by the Celery worker
    # subprocesses the fixtures start, and by the fixture that stops Redis.
    os.environ["RUN_DIR"] = str(run_dir)
    os.environ["REDIS_PORT"] = str(port)
    os.environ["REDIS_URL"] = f"redis://127.0.0.1:{port}/0"


def pytest_unconfigure(config: pytest.Config) -> None:
    run_dir = config.stash.get(_SERVER_DIR, None)
    if run_dir is None:
        return
    try:
        pid = int((run_dir / "redis.pid").read_text())
    except (OSError, ValueError):
        return  # a test stopped it and it was not restarted
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)


class RedisServer:
    """Stops and restarts this run's Redis (same port and pidfile; a worker's own under xdist)."""

    def __init__(self) -> None:
        self.port = os.environ["REDIS_PORT"]
        self.run_dir = os.environ["RUN_DIR"]

    def stop(self, timeout: float = 10) -> None:
        subprocess.run(  # noqa: S603 - fixed argv
            ["redis-cli", "-p", self.port, "shutdown", "nosave"],  # noqa: S607
            check=False,
            capture_output=True,
        )
        deadline = time.monotonic() + timeout
        while redis_alive(self.port):
            if time.monotonic() > deadline:
                raise RuntimeError(f"Redis on port {self.port} did not stop")
            time.sleep(0.05)

    def start(self) -> None:
        if not redis_alive(self.port):
            redis_server_start(port=self.port, run_dir=self.run_dir)


# Folders whose tests share package-scoped fixtures (tests/browser/: one browser and one
# loaded report for all its modules), handed to one worker as one unit.
PACKAGE_UNITS = ("tests/browser/",)


class ModuleScheduling(LoadScopeScheduling):
    """xdist's ``loadscope``, with a module (or a package of ``PACKAGE_UNITS``) as the unit
    handed to a worker, so that a module-scoped fixture (``module_transaction`` and the rows it
    holds, a server or a stack started for the module) is set up on one worker only.

    xdist's ``loadgroup`` would do it with ``xdist_group`` marks, but under pytest 9 it no longer
    renames the tests it groups, and its groups are ignored. With ``--no-loadscope-reorder`` the
    units are handed out in collection order (tests/conftest.py's ``_stretch``: the long ones
    first), each unit's tests in that order too.
    """

    def _split_scope(self, nodeid: str) -> str:
        path = nodeid.split("::", 1)[0]
        return next((prefix for prefix in PACKAGE_UNITS if path.startswith(prefix)), path)


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log) -> LoadScopeScheduling | None:
    return ModuleScheduling(config, log) if config.getvalue("dist") == "loadscope" else None
