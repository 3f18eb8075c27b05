"""Fixtures shared by the whole suite.

The suite runs on the real services that ``scripts/test`` starts: PostgreSQL
(``DATABASE_URL``), Redis (``REDIS_URL``) and Celery workers started here as
subprocesses against the test database. A missing service fails the run with
a message saying which one; nothing is skipped or faked. Under pytest-xdist
each worker has its own test database and its own Redis (``tests/parallel.py``).

Fixtures that several folders use live here once: settings that make each
test cheap (the fast password hasher, static files looked up per request) and
a small published report (``edition``, ``chapter``, ``indicator``, ``story``,
``districts``); a module needing a richer one defines its own.

Rows that many tests of a module only read (the whole 2023 report) are
created once, by a module-scoped fixture that asks for ``module_transaction``;
each test still runs in its own savepoint, and the rows are rolled back when
the module's tests are done. Those tests run last in their module (see
``pytest_collection_modifyitems``), so no other test ever sees the rows; under
xdist that holds with ``--dist load`` and with the full run's ``loadscope``
(each worker runs its tests in collection order, tests/parallel.py), not with
``worksteal``. The order of the modules is chosen for speed (``_stretch``).
"""

import io
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from django.apps import apps
from django.conf import settings
from django.core.management import call_command
from django.db import connection, models, transaction
from django.test.utils import override_settings
from django.utils import translation
from redis import Redis
from redis.exceptions import RedisError

from tests.factories import ChapterFactory, DistrictFactory, EditionFactory, IndicatorFactory, StoryFactory
from tests.parallel import RedisServer
from tests.services import suite_environment

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session", autouse=True)
def _require_real_services(django_db_setup, django_db_blocker) -> None:
    """Fail loudly unless the suite is on PostgreSQL and Redis answers."""
    if connection.vendor != "postgresql":
        pytest.fail(
            f"The test suite needs PostgreSQL, got {connection.vendor!r}. Run it with scripts/test.",
            pytrace=False,
        )
    if not settings.REDIS_URL:
        pytest.fail("REDIS_URL is not set. Run the suite with scripts/test.", pytrace=False)
    try:
        Redis.from_url(settings.REDIS_URL, socket_connect_timeout=2).ping()
    except RedisError as error:
        pytest.fail(f"Redis at {settings.REDIS_URL} does not answer: {error}", pytrace=False)


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix) -> None:
    """Each test database a copy of TEST_DATABASE_TEMPLATE when there is one.

    scripts/test's full run migrates that template while its checks run, so the
    parallel workers copy it (under a second) instead of each migrating its own.
    """
    template = os.environ.get("TEST_DATABASE_TEMPLATE")
    if template:
        settings.DATABASES["default"]["TEST"]["TEMPLATE"] = template


@pytest.fixture(scope="session", autouse=True)
def _cheap_per_test_setup() -> Iterator[None]:
    with override_settings(
        # Tests create accounts all the time; the production hasher costs ~0.5 s each.
        PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"],
        # Every test Client builds the middleware afresh, and WhiteNoise would scan
        # STATIC_ROOT each time (~50 ms; a server process does it once): look files
        # up per request instead, from the same STATIC_ROOT.
        WHITENOISE_AUTOREFRESH=True,
    ):
        yield


def _transactional(item: pytest.Item) -> bool:
    marker = item.get_closest_marker("django_db")
    return bool(marker and marker.kwargs.get("transaction")) or "transactional_db" in item.fixturenames


def _shares_module_rows(item: pytest.Item) -> bool:
    return "module_transaction" in getattr(item, "fixturenames", ())


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Within each stretch of one module's tests (as pytest-django ordered them:
    plain database tests, then transactional ones), the tests that share the
    module's rows go last, so those rows never show in a test that did not ask."""
    runs: list[list[pytest.Item]] = []
    for item in items:
        if _shares_module_rows(item) and _transactional(item):
            raise pytest.UsageError(f"{item.nodeid}: module_transaction cannot serve a transactional test")
        last = runs[-1][-1] if runs else None
        if last is not None and last.module is item.module and _transactional(last) == _transactional(item):
            runs[-1].append(item)
        else:
            runs.append([item])
    items[:] = [item for run in runs for item in sorted(run, key=_shares_module_rows)]
    items.sort(key=_stretch)


# The modules that each keep a worker busy for half a minute or more (a stack of real
# processes, a browser, a server under schemathesis, bursts through real workers), longest
# first. Most of their time is spent waiting (a minute's Redis outage, Celery's countdowns,
# timeouts), so they start first, beside the other worker's work, and never end a run.
LONG_MODULES = (
    "tests/stack/",
    "tests/test_schema_contract.py",
    "tests/browser/",
    "tests/feedback/test_ratings.py",
    "tests/feedback/test_nothing_lost.py",
)


def _stretch(item: pytest.Item) -> tuple[int, int]:
    """Where a test runs, in a stable sort. Tests that touch no database go first (they care
    about no order); then the long modules, longest first, whole (each as pytest-django ordered
    it: its plain database tests before its transactional ones); then, as pytest-django has
    them, the other plain database tests before the other transactional ones. Under xdist the
    long ones (mostly waiting) overlap the short ones, and the workers finish together.

    A plain test may follow a transactional one on a worker (a long module's): it finds the
    tables emptied, as the transactional test leaves them (``flush``), and the rows of every
    migration that writes any (the content types and permissions) written again by ``flush``."""
    if not _transactional(item) and not _uses_database(item):
        return (0, 0)
    ranks = (n for n, prefix in enumerate(LONG_MODULES) if item.nodeid.startswith(prefix))
    rank = next(ranks, None)
    if rank is not None:
        return (1, rank)
    return (3, 0) if _transactional(item) else (2, 0)


def _uses_database(item: pytest.Item) -> bool:
    return item.get_closest_marker("django_db") is not None or "db" in getattr(item, "fixturenames", ())


@pytest.fixture(scope="module")
def module_transaction(django_db_setup, django_db_blocker) -> Iterator[None]:
    """An open transaction around the tests of a module that ask for it, rolled back after them."""
    with django_db_blocker.unblock(), transaction.atomic():
        yield
        transaction.set_rollback(True)


REPORT_FILE = ROOT / "indicators" / "data" / "report_2023.yaml"
SURVEY_FILE = ROOT / "feedback" / "data" / "survey_2023.yaml"

# Per worker process: the rows each set of data files left, to be inserted again.
_data_files_rows: dict[tuple[Path, ...], list[tuple[type[models.Model], list[models.Model]]]] = {}


def data_files_load(*files: Path) -> None:
    """The 2023 report (``REPORT_FILE``) and survey (``SURVEY_FILE``) as ``load_report`` and
    ``load_survey`` leave them, for a module-scoped fixture under ``module_transaction``.

    The commands run for the first module of a worker that asks; the modules after it get the
    same rows back, primary keys included, by one bulk INSERT per table (the foreign keys of
    PostgreSQL are checked at commit, and this transaction is rolled back, never committed).
    The sequences have moved past those keys already, so the rows a test adds never collide.
    """
    saved = _data_files_rows.get(files)
    if saved is not None:
        for model, rows in saved:
            model._base_manager.bulk_create(rows, batch_size=1000)
        return
    commands = {REPORT_FILE: "load_report", SURVEY_FILE: "load_survey"}
    for path in files:
        call_command(commands[path], str(path), stdout=io.StringIO())
    _data_files_rows[files] = [
        (model, rows)
        for label in ("indicators", "feedback")
        for model in apps.get_app_config(label).get_models(include_auto_created=True)
        if (rows := list(model._base_manager.order_by("pk")))
    ]


@pytest.fixture(scope="session")
def openapi_schema(tmp_path_factory, django_db_blocker) -> dict:
    """The OpenAPI schema as ``manage.py spectacular --validate --fail-on-warn`` writes it
    (the command fails the test on any error or warning), made once per worker for the
    tests that read it."""
    target = tmp_path_factory.mktemp("schema") / "schema.yaml"
    with django_db_blocker.unblock():
        call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(target))
    return yaml.safe_load(target.read_text(encoding="utf-8"))


@pytest.fixture
def redis_server() -> Iterator[RedisServer]:
    """This run's Redis, to stop and start (outage tests); running again after the test."""
    server = RedisServer()
    try:
        yield server
    finally:
        server.start()


@pytest.fixture
def redis_client() -> Redis:
    return Redis.from_url(settings.REDIS_URL)


class WorkerProcess:
    """A real ``celery worker`` subprocess bound to the test database."""

    def __init__(self, log_path: Path, concurrency: int = 1) -> None:
        env = suite_environment()
        self.log_path = log_path
        self._log = log_path.open("wb")
        self.process = subprocess.Popen(  # noqa: S603 - fixed argv of our own worker
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "portal",
                "worker",
                "--loglevel=INFO",
                f"--concurrency={concurrency}",
                "--pool=prefork",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
                "-n",
                f"test-{os.getpid()}-{time.monotonic_ns()}@%h",
            ],
            cwd=ROOT,
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self._wait_ready()

    def _wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"Celery worker exited at start:\n{self.log()}", pytrace=False)
            if b"ready." in self.log_path.read_bytes():
                return
            time.sleep(0.2)
        pytest.fail(f"Celery worker not ready after {timeout}s:\n{self.log()}", pytrace=False)

    def log(self) -> str:
        return self.log_path.read_bytes().decode(errors="replace")[-4000:]

    def kill(self) -> None:
        """SIGKILL the worker and all its children, as a crash would."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=30)

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()
        self._log.close()


@pytest.fixture
def celery_worker(transactional_db, tmp_path) -> Iterator[WorkerProcess]:
    """A real worker for a test whose data is committed (transactional)."""
    worker = WorkerProcess(tmp_path / "worker.log")
    try:
        yield worker
    finally:
        worker.stop()


@pytest.fixture
def start_worker(transactional_db, tmp_path):
    """Start workers on demand (e.g. one to kill and one to replace it)."""
    workers: list[WorkerProcess] = []

    def start(concurrency: int = 1) -> WorkerProcess:
        worker = WorkerProcess(tmp_path / f"worker-{len(workers)}.log", concurrency=concurrency)
        workers.append(worker)
        return worker

    yield start
    for worker in workers:
        worker.stop()


@pytest.fixture(autouse=True)
def _clear_cache_and_queue(redis_client) -> None:
    """Each test starts with an empty cache and broker: no limits or tasks carried over."""
    redis_client.flushdb()


@pytest.fixture(autouse=True)
def _language_reset() -> Iterator[None]:
    """Each test starts in the site's default language: a request in English leaves English
    active in the thread (the locale middleware activates and never deactivates), and a
    test rendering a template after it in the same process would render English."""
    translation.deactivate()
    yield
    translation.deactivate()


@pytest.fixture(autouse=True)
def _page_cache_off(settings) -> None:
    """Tests set rows up with factories, which no cached page hears of, and count the
    queries of pages being built: the page cache is off unless a test turns it on
    (tests/test_page_cache.py, through the site's own writes)."""
    settings.PAGE_CACHE = False


# --- A small published report, for tests that need "an indicator" or "a story" ----------


@pytest.fixture
def edition(db):
    return EditionFactory(year=2023)


@pytest.fixture
def chapter(edition):
    return ChapterFactory(edition=edition)


@pytest.fixture
def indicator(chapter):
    return IndicatorFactory(chapter=chapter)


@pytest.fixture
def story(chapter):
    return StoryFactory(chapter=chapter)


@pytest.fixture
def districts(db):
    return [DistrictFactory() for _ in range(3)]
