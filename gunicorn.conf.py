"""gunicorn's settings for the portal, read from the environment.

Used by docker-compose.yml (the image's CMD) and by scripts/stack alike:
``gunicorn -c gunicorn.conf.py portal.wsgi``. gunicorn always runs behind nginx
(deploy/nginx.conf.template), which buffers request bodies and slow clients'
responses, so gunicorn only ever talks to nginx.

Worker class: ``gthread``. The portal's requests are short and spend most of
their time waiting on PostgreSQL and Redis, with the GIL released; threads let
one process overlap those waits, at a fraction of a process's memory. nginx
hands over complete requests only, so a slow client never holds a thread, and
gthread (unlike sync) keeps nginx's upstream connections alive. The cost: a
request stuck in the database does not trip ``timeout`` (that watches the
worker process, not a thread), so PostgreSQL's own timeouts matter. Switch to
``GUNICORN_WORKER_CLASS=sync`` (threads are then ignored) to trade
throughput for one-request-per-process isolation.

Database connections: Django keeps one connection per thread, reused for
``CONN_MAX_AGE`` seconds and health-checked before reuse once it has been idle
for ``CONN_HEALTH_CHECK_DELAY`` seconds (``CONN_HEALTH_CHECKS``, portal/settings.py,
portal/db/postgresql/base.py), so each web process holds up to ``threads`` connections:
``workers × threads`` per web container, which PostgreSQL's ``max_connections``
(100 by default) must cover together with the Celery workers.
"""

import gc
import os
import sys
from pathlib import Path

# The project's modules, wherever gunicorn is started from (the bench's floor project uses
# this file from its own directory).
_ROOT = str(Path(__file__).resolve().parent)
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)

from feedback.addresses import parse_trusted_proxies  # noqa: E402 - after the path above


def _int(name: str, default: int) -> int:
    return int(os.environ.get(name) or default)


def _cores() -> int:
    # The CPUs this process may run on (a container's cpuset), not the host's count.
    return len(os.sched_getaffinity(0))


bind = os.environ.get("GUNICORN_BIND") or "127.0.0.1:8000"
worker_class = os.environ.get("GUNICORN_WORKER_CLASS") or "gthread"
# One process per core (at least two, so that one serves while the other is replaced;
# at most 8: with 4 threads each, 32 concurrent requests and database connections per
# host; beyond it add hosts). Not gunicorn's 2 × cores + 1, which is for sync workers,
# whose processes are their only concurrency: here each process's threads overlap its
# waits on PostgreSQL and Redis, and what is left of a request is Python holding the GIL
# (an uncached chapter page: ~2.3 ms of Python to ~0.6 ms of PostgreSQL), so processes
# beyond the cores only take turns on them. Measured on 2 cores with
# ``BENCH_WORKERS=5x4,2x4 BENCH_ROUNDS=5 bench/http`` (each setting's servers in turn,
# round after round, so that the machine's load weighs on both alike): an uncached
# chapter page cost less CPU with 2 processes than with 5 in 14 of 16 rounds over four
# runs (medians of one run 3.92 against 4.68 ms; its p99 87 against 180 ms; the floor view
# 0.54 against 0.48 ms). Whole bench/http runs, one after another on that noisy machine,
# gave the page 0.12× the floor view with 5 processes and 0.08×, 0.08×, 0.15× and 0.17×
# with 2; the last two, with replacements of processes (max_requests) off and on, showed
# that replacing them is not what cost the first two.
workers = _int("GUNICORN_WORKERS", min(max(_cores(), 2), 8))
threads = _int("GUNICORN_THREADS", 4)

# A worker process that stops answering its heartbeat for this long is killed.
timeout = _int("GUNICORN_TIMEOUT", 30)
# On a restart or shutdown, requests in flight get this long to finish.
graceful_timeout = _int("GUNICORN_GRACEFUL_TIMEOUT", 30)
# nginx keeps idle upstream connections for 4 s (keepalive_timeout in its
# upstream block): gunicorn must hold them longer, or nginx may send a request
# on a connection gunicorn is closing.
keepalive = _int("GUNICORN_KEEPALIVE", 5)

# Processes are replaced after about this many requests (jittered so they are
# not all replaced at once): a slow leak never grows for long. Not much more often:
# a new process starts with none of what each process keeps (compiled templates
# and queries, the fixed chrome, the resolved cache policies), and at 1,000 a
# launch-day worker serving a few hundred requests a second was replaced every few
# seconds: bench/http measured a third of the bare floor's own throughput and more
# of the portal's going to replacing processes.
max_requests = _int("GUNICORN_MAX_REQUESTS", 20_000)
max_requests_jitter = _int("GUNICORN_MAX_REQUESTS_JITTER", 2_000)
# The application is imported once, in the master, before the workers are forked: a
# replaced worker costs a fork, not an import of Django and the portal (about a second
# of CPU). Nothing opens a connection at import (connections are per thread, on first
# use), so no socket is shared between processes. The price: new code needs a restart
# of the master (a deploy restarts the container), not a HUP.
preload_app = os.environ.get("GUNICORN_PRELOAD", "1") != "0"

# X-Forwarded-Proto is believed only from the proxies the app trusts (nginx): the list
# is TRUSTED_PROXIES read by the app's own parser, so gunicorn and the app trust the same
# networks and refuse the same typos (a bad entry stops the start). The app reads
# X-Forwarded-For from that list in one function (feedback.addresses.client_address).
# Empty TRUSTED_PROXIES: no forwarding header is believed.
forwarded_allow_ips = ",".join(
    str(network) for network in parse_trusted_proxies(os.environ.get("TRUSTED_PROXIES", ""))
)
# Only the header nginx sets (and overwrites): a client's own X-Forwarded-Ssl or
# X-Forwarded-Protocol must not turn into a scheme, or into a 400 when they disagree.
secure_scheme_headers = {"X-FORWARDED-PROTO": "https"}
# Nor may a client pass SCRIPT_NAME or PATH_INFO into the WSGI environ through nginx.
forwarder_headers = ""

# No client address in any log (PIPL; the privacy notice promises it): the
# access log has no %(h)s and no forwarding header, only time, request line,
# status, size and duration. nginx logs the same way.
accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "-") or None
access_log_format = '%(t)s "%(r)s" %(s)s %(b)s %(L)s'
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")

# gunicorn ≥ 25 opens a control socket in $HOME by default: two instances on one
# host (compose scaled, the stack beside the tests) would fight over it.
control_socket = os.environ.get("GUNICORN_CONTROL_SOCKET", "")
control_socket_disable = not control_socket

# Python's cycle collector in the workers. A page allocates thousands of short-lived
# containers; with the default first threshold (700 net allocations) the collector ran
# during most renders and moved what was still in use into the older generations. A worker
# measured with gc.callbacks under wrk (uncached chapter page and rating POST): 0.28 ms of
# collection a request, 0.16-0.18 ms at 10,000 with what the worker started with frozen.
# ``gc.freeze()`` after the worker has the application (imported once in the master,
# ``preload_app``): those objects live as long as the process, so the collections skip
# them and never write to the memory pages the worker shares with the master. 0 leaves
# Python's collector as it is.
gc_threshold = _int("GUNICORN_GC_THRESHOLD", 10_000)


def post_worker_init(worker) -> None:
    """gunicorn's hook, in each worker once it has the application."""
    if gc_threshold > 0:
        gc.freeze()
        gc.set_threshold(gc_threshold, *gc.get_threshold()[1:])
    # The requests' "refresh queued" marks, set together by one thread (feedback/tasks.py;
    # what it holds is marked at exit, which gunicorn's workers reach through sys.exit).
    # Imported here: the application (Django) is set up by now. The floor project of
    # bench/http runs under this file too, without the portal's apps.
    from django.apps import apps  # noqa: PLC0415

    if apps.ready and apps.is_installed("feedback"):
        from feedback.tasks import refresh_batching_start  # noqa: PLC0415

        refresh_batching_start()
