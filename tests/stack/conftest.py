"""The production stack as scripts/stack runs it, against the suite's PostgreSQL and Redis.

nginx, gunicorn (gunicorn.conf.py), a Celery worker and Celery beat run under
supervisord from the configuration deploy/stack.py renders from
deploy/processes.yaml — the files scripts/stack uses — with the app environment
declared there. Only the stores differ: the test database and this run's Redis
(per xdist worker, tests/parallel.py) instead of the stack's own, so the tests
can set data up, read it back and stop Redis.

The stack is started once per module and stopped after it; stopping it must
leave no process behind (checked by session id: every process the stack
started, and their children, share the session of its supervisord).
"""

import os
import shutil
import signal
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.conf import settings

from deploy import stack as deploy_stack
from tests.services import free_port, suite_database_url

SERVICES = ["web", "worker", "beat", "nginx"]
# Everything the tests send comes from 127.0.0.1 (nginx tells the app so, truthfully):
# the per-address limits and anomaly rules would hold most of it. They have tests of
# their own; here they are set out of the way.
RELAXED_LIMITS = {
    "RATE_LIMIT_RATINGS": "100000/h",
    "RATE_LIMIT_NEW_RESIDENTS": "100000/h",
    "RATE_LIMIT_PER_IP_FACTOR": "1",
    "ANOMALY_SOURCE_ITEM_MAX": "100000",
    "ANOMALY_FEW_SOURCES_MIN_RATINGS": "100000",
    "ANOMALY_RUN_MIN": "100000",
    "ANOMALY_NEW_RESIDENTS_PER_SOURCE": "100000",
    "ANOMALY_NIGHT_START_HOUR": "0",
    "ANOMALY_NIGHT_END_HOUR": "0",
}


def _session_processes(session_id: int) -> list[str]:
    """``pid command`` of every live process in the session (from /proc)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            cmdline = (stat.parent / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except (OSError, IndexError):
            continue  # the process ended while we looked
        # After the command: state, ppid, pgrp, session. A zombie has exited already.
        if int(fields[3]) == session_id and fields[0] != "Z":
            found.append(f"{stat.parent.name} {cmdline.strip()}")
    return found


@dataclass
class Stack:
    url: str
    port: int
    state_dir: Path
    config: Path
    supervisor: subprocess.Popen

    def supervisorctl(self, *args: str) -> str:
        return subprocess.run(  # noqa: S603 - fixed argv
            ["supervisorctl", "-c", str(self.config), *args],  # noqa: S607
            capture_output=True,
            text=True,
            check=False,
        ).stdout.strip()

    def pid(self, service: str) -> int:
        return int(self.supervisorctl("pid", deploy_stack.program_name(service)))

    def state(self, service: str) -> str:
        return self.supervisorctl("status", deploy_stack.program_name(service)).split()[1]

    def log(self, service: str) -> str:
        return (self.state_dir / "logs" / f"{service}.log").read_text(errors="replace")

    def get(self, path: str, timeout: float = 10) -> tuple[int, bytes]:
        try:
            with urllib.request.urlopen(self.url + path, timeout=timeout) as response:  # noqa: S310 - loopback
                return response.status, response.read()
        except urllib.error.HTTPError as error:
            return error.code, error.read()


def _wait_up(stack: Stack, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if stack.supervisor.poll() is not None:
            break
        worker_log = stack.state_dir / "logs" / "worker.log"
        ready = worker_log.exists() and "ready." in worker_log.read_text(errors="replace")
        try:
            healthy = stack.get("/healthz", timeout=2)[0] == 200
        except OSError:
            healthy = False
        if healthy and ready:
            return
        time.sleep(0.5)
    logs = "\n".join(
        f"--- {path.name}\n{path.read_text(errors='replace')[-2000:]}"
        for path in sorted((stack.state_dir / "logs").glob("*.log"))
    )
    pytest.fail(f"The stack did not come up within {timeout}s:\n{logs}", pytrace=False)


@pytest.fixture(scope="module")
def stack(django_db_setup, django_db_blocker) -> Iterator[Stack]:
    missing = [tool for tool in ("supervisord", "supervisorctl", "nginx") if not shutil.which(tool)]
    if missing:
        pytest.fail(f"{', '.join(missing)} not installed: run the suite with scripts/test", pytrace=False)
    # Short, in /tmp: supervisord's socket path must stay under the 108-byte limit.
    state_dir = Path(tempfile.mkdtemp(prefix="stack-", dir="/tmp"))
    state_dir.chmod(0o755)  # nginx's workers read static/ through it
    for folder in ("logs", "run", "nginx", "media"):
        (state_dir / folder).mkdir()
    # The suite's collected static files (scripts/test), where the stack keeps its own.
    (state_dir / "static").symlink_to(settings.STATIC_ROOT)
    port = free_port()
    facts = {
        "stack": str(state_dir),
        "port": port,
        "web_port": free_port(),
        "pg_port": "",
        "redis_port": "",
        "pg_bin": "",
        # The suite's own key, so that the tests compute the same address hashes as the stack.
        "secret_key": settings.SECRET_KEY,
        "postgres_password": "",
    }
    environment = {
        **os.environ,
        **deploy_stack.app_environment(facts=facts, environ=os.environ),
        "DATABASE_URL": suite_database_url(),
        "REDIS_URL": settings.REDIS_URL,
        # Two cores are shared by the whole suite.
        "GUNICORN_WORKERS": "2",
        **RELAXED_LIMITS,
    }
    config = state_dir / "run" / "supervisord.conf"
    rendered = deploy_stack.supervisord_render(
        services=SERVICES, facts=facts, state_dir=state_dir, autostart=SERVICES
    )
    config.write_text(rendered)
    (state_dir / "nginx" / "nginx.conf").write_text(deploy_stack.nginx_render(facts=facts))
    supervisor = subprocess.Popen(  # noqa: S603 - fixed argv
        ["supervisord", "-c", str(config)],  # noqa: S607
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    running = Stack(f"http://127.0.0.1:{port}", port, state_dir, config, supervisor)
    try:
        _wait_up(running, timeout=120)
        yield running
    finally:
        supervisor.send_signal(signal.SIGTERM)
        try:
            supervisor.wait(timeout=120)
        except subprocess.TimeoutExpired:
            supervisor.kill()
        left = _session_processes(supervisor.pid)
        for line in left:
            os.kill(int(line.split()[0]), signal.SIGKILL)
        shutil.rmtree(state_dir, ignore_errors=True)
        assert not left, "Processes outlived the stack:\n" + "\n".join(left)
