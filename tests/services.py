"""What a process or server that a test starts needs to find the suite's own services."""

import os
import socket

from django.db import connection


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now (the kernel's choice)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def suite_database_url() -> str:
    """The URL of the test database this test process uses, for a process it starts."""
    db = connection.settings_dict
    return f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"


def suite_environment() -> dict[str, str]:
    """This process's environment for a Django process that a test starts: the test
    database, and tasks sent to the broker (a real worker) instead of run in place."""
    return {**os.environ, "DATABASE_URL": suite_database_url(), "CELERY_TASK_ALWAYS_EAGER": "0"}
