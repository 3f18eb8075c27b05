"""In-process cost of the requests bench/http measures (issue 9, points 3 and 4). Not a test.

Run it with ``bench/profile`` (a private PostgreSQL and Redis, the 2023 report
and survey loaded, production settings). The Django test client calls the
portal in this process, so the figure is the server's own work per request
without HTTP, gunicorn or the machine's other load weighing on it as much:
what a change to a template tag, a serializer or a service saves shows here
first, and ``bench/http`` then says what it is worth against the floor.

For each request: the SQL queries of one request, then ``--runs`` timed
requests of every kind, interleaved (a burst of load on a shared machine hits
them alike), reported as median and fastest. Every rating POST is a new
resident (no cookie), as in bench/http.

``--ratings 1000000`` loads that many ratings first (in SQL, as bench/run does) and
reconciles the stored aggregates, so the pages are measured as at that scale (a
chapter's chart and scores filled) rather than on the report alone.

``--profile chapter`` (or any other name below) runs that request ``--runs``
times under pyinstrument (installed separately: ``.venv/bin/pip install
pyinstrument``; it is not a requirement of the portal) and prints the call tree.
"""

import argparse
import cProfile
import importlib.util
import json
import os
import pstats
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

# The requests of the table (``requests()``), by name.
NAMES = (
    *("floor_ok", "floor_insert", "home", "chapter", "indicator", "story"),
    *("api_list", "aggregate", "rating"),
)


def arguments() -> argparse.Namespace:
    """The command line, checked before Django is set up (and, with ``--check``, before
    bench/profile starts PostgreSQL and Redis and loads the report: half a minute): a
    misspelt name or a missing profiler is refused at once, with what there is."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", metavar="NAME", help="requests to measure (default: all)")
    parser.add_argument("--runs", type=int, default=100)
    parser.add_argument("--profile", metavar="NAME", help="profile one request with pyinstrument")
    parser.add_argument("--cprofile", metavar="NAME", help="profile one request with cProfile (CPU time)")
    parser.add_argument("--queries", metavar="NAME", help="print the SQL of one request")
    parser.add_argument("--ratings", type=int, default=0, help="load this many ratings first (SQL)")
    parser.add_argument("--check", action="store_true", help="check the command line, then stop")
    args = parser.parse_args()
    unknown = [n for n in (*args.names, args.profile, args.cprofile, args.queries) if n and n not in NAMES]
    if unknown:
        parser.error(f"unknown request(s) {', '.join(unknown)}: choose from {', '.join(NAMES)}")
    if args.profile and importlib.util.find_spec("pyinstrument") is None:
        parser.error("--profile needs pyinstrument (not the portal's): .venv/bin/pip install pyinstrument")
    return args


if __name__ == "__main__":
    ARGS = arguments()
    if ARGS.check:
        sys.exit(0)

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from indicators.models import Chapter, Indicator, Story  # noqa: E402

sys.path.insert(0, str(ROOT / "bench"))
import profile_urls  # noqa: E402

# The portal's URLs and the two in-process floors.
settings.ROOT_URLCONF = "profile_urls"

# https, as gunicorn sets the scheme of a request the TLS proxy forwarded.
HEADERS = {"secure": True}


# One request of the table: it makes the request with the client and gives the status.
Call = Callable[[Client], int]


def requests() -> dict[str, Call]:
    """The requests of bench/http's table: the same chapter, indicator, story and POST body."""
    chapter = Chapter.objects.select_related("edition").order_by("-edition__year", "number").first()
    indicator = Indicator.objects.published().select_related("edition").order_by("pk").first()
    story = Story.objects.published().select_related("edition").order_by("pk").first()
    rating = json.dumps({"target_type": "indicator", "target_id": indicator.pk, "score": 4})

    def get(path: str) -> Call:
        return lambda client: client.get(path, **HEADERS).status_code

    def post(path: str, body: str) -> Call:
        def call(client: Client) -> int:
            # No resident cookie, so a new resident each time, as wrk sends it.
            client.cookies.clear()
            return client.post(path, body, content_type="application/json", **HEADERS).status_code

        return call

    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TABLE IF NOT EXISTS {profile_urls.INSERT_TABLE} "
            "(id bigserial PRIMARY KEY, target_id bigint NOT NULL, score smallint NOT NULL)"
        )
    return {
        "floor_ok": get("/bench-floor/ok"),
        "floor_insert": post("/bench-floor/insert", rating),
        "home": get("/"),
        "chapter": get(chapter.get_absolute_url()),
        "indicator": get(indicator.get_absolute_url()),
        "story": get(story.get_absolute_url()),
        "api_list": get("/api/v1/indicators/"),
        "aggregate": get(f"/api/v1/aggregates/indicators/{indicator.pk}/"),
        "rating": post("/api/v1/ratings/", rating),
    }


def _expected(name: str) -> int:
    return 201 if name in ("rating", "floor_insert") else 200


# Each request's floor: the POST is compared with the INSERT, every GET with "ok".
def _floor(name: str) -> str:
    return "floor_insert" if name == "rating" else "floor_ok"


def measure(table: dict[str, Call], names: list[str], runs: int) -> None:
    names = list(dict.fromkeys(["floor_ok", "floor_insert", *names]))
    client = Client()
    print(f"{runs} interleaved runs; CPU: this process's CPU time, which a busy machine disturbs least")
    print("| request | queries | median ms | fastest ms | median CPU ms | floor CPU ÷ its CPU |")
    print("|---|---|---|---|---|---|")
    times: dict[str, list[float]] = {name: [] for name in names}
    cpu: dict[str, list[float]] = {name: [] for name in names}
    queries: dict[str, int] = {}
    for name in names:
        # The first request warms the template and URL caches; then count one.
        table[name](client)
        with CaptureQueriesContext(connection) as captured:
            status = table[name](client)
        if status != _expected(name):
            sys.exit(f"{name}: status {status}, expected {_expected(name)}")
        queries[name] = len(captured)
    for _ in range(runs):
        for name in names:
            start, start_cpu = time.perf_counter(), time.process_time()
            table[name](client)
            times[name].append((time.perf_counter() - start) * 1000)
            cpu[name].append((time.process_time() - start_cpu) * 1000)
    for name in names:
        median_cpu = statistics.median(cpu[name])
        ratio = (
            "" if name.startswith("floor") else f"{statistics.median(cpu[_floor(name)]) / median_cpu:.3f}×"
        )
        print(
            f"| {name} | {queries[name]} | {statistics.median(times[name]):.2f} "
            f"| {min(times[name]):.2f} | {median_cpu:.2f} | {ratio} |"
        )


def profile(call: Call, runs: int) -> None:
    from pyinstrument import Profiler  # noqa: PLC0415 - optional, only for --profile

    client = Client()
    call(client)
    profiler = Profiler(interval=0.0002)
    profiler.start()
    for _ in range(runs):
        call(client)
    profiler.stop()
    print(profiler.output_text(unicode=True, color=False, show_all=bool(os.environ.get("PROFILE_ALL"))))


def profile_cpu(call: Call, runs: int) -> None:
    """cProfile on CPU time: on a loaded machine, waiting for a core does not count."""
    client = Client()
    call(client)
    profiler = cProfile.Profile(time.process_time)
    profiler.enable()
    for _ in range(runs):
        call(client)
    profiler.disable()
    stats = pstats.Stats(profiler)
    if os.environ.get("PROFILE_DUMP"):
        stats.dump_stats(os.environ["PROFILE_DUMP"])  # for pstats' callers/callees, snakeviz...
    lines = int(os.environ.get("PROFILE_LINES", 40))
    stats.sort_stats(os.environ.get("PROFILE_SORT", "tottime")).print_stats(lines)


def show_queries(call: Call) -> None:
    client = Client()
    call(client)
    with CaptureQueriesContext(connection) as captured:
        call(client)
    for query in captured:
        print(f"-- {query['time']}s\n{query['sql']}\n")


def load_ratings(count: int) -> None:
    """``count`` ratings in SQL as bench/run and bench/http's scale part load them, then
    the stored aggregates reconciled: the pages as at that scale (their charts and scores
    filled), the raw ratings never read by them."""
    import ratings_scale  # noqa: PLC0415 - only with --ratings (it loads bench/run's helpers)

    from feedback.aggregates import aggregates_reconcile  # noqa: PLC0415 - idem
    from indicators.models import District  # noqa: PLC0415 - idem

    with connection.cursor() as cursor:
        n_items = ratings_scale._setup_items(cursor)
    already = ratings_scale.rating_count()
    if count > already:
        ratings_scale.load_ratings(already, count, n_items, District.objects.count())
        aggregates_reconcile()
    print(f"{ratings_scale.rating_count():,} ratings, stored aggregates reconciled")


if __name__ == "__main__":
    table = requests()
    if tuple(table) != NAMES:
        sys.exit(f"NAMES {NAMES} is not the table's {tuple(table)}")
    if ARGS.ratings:
        load_ratings(ARGS.ratings)
    if ARGS.profile:
        profile(table[ARGS.profile], ARGS.runs)
    elif ARGS.cprofile:
        profile_cpu(table[ARGS.cprofile], ARGS.runs)
    elif ARGS.queries:
        show_queries(table[ARGS.queries])
    else:
        measure(table, ARGS.names or list(table), ARGS.runs)
