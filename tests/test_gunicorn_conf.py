"""gunicorn.conf.py's defaults for the number of processes and threads, and the environment's say.

The conf file is run as gunicorn runs it (``runpy``), with the cores this process may run
on set as a container's cpuset would set them.
"""

import os
import runpy
from pathlib import Path

import pytest

CONF = Path(__file__).resolve().parent.parent / "gunicorn.conf.py"


def _conf(monkeypatch, cores: int, **environ: str) -> dict:
    for name in ("GUNICORN_WORKERS", "GUNICORN_THREADS", "GUNICORN_WORKER_CLASS"):
        monkeypatch.delenv(name, raising=False)
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: set(range(cores)))
    return runpy.run_path(str(CONF))


@pytest.mark.parametrize(("cores", "workers"), [(1, 2), (2, 2), (3, 3), (4, 4), (32, 8)])
def test_one_gthread_process_per_core_between_two_and_eight(monkeypatch, cores, workers):
    conf = _conf(monkeypatch, cores)

    assert conf["worker_class"] == "gthread"
    assert conf["workers"] == workers
    assert conf["threads"] == 4


def test_the_environment_sets_processes_threads_and_class(monkeypatch):
    conf = _conf(monkeypatch, 2, GUNICORN_WORKERS="5", GUNICORN_THREADS="8", GUNICORN_WORKER_CLASS="sync")

    assert (conf["workers"], conf["threads"], conf["worker_class"]) == (5, 8, "sync")
