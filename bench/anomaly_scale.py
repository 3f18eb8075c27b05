"""Cost of one anomaly screen during a rating storm, at growing windows (issue 9, point 4).
Not a test.

Run it with ``bench/anomaly`` (a private PostgreSQL and Redis, the 2023 report
loaded). For each window size (``BENCH_WINDOWS``, default 1,000 / 10,000 /
50,000 ratings changed within the last hour) and each pattern:

- ``storm``: one indicator rated by fresh residents all from one address, score 4,
  as ``bench/http``'s rating POST storm (rules a, b, c and d all match);
- ``spread``: the same from a new address each time (rule c's territory);
- ``quiet``: the window spread over every item, old residents, distinct
  addresses, mixed scores (nothing to hold: the common case);

the window is loaded in SQL and screened once (as the worker already did during
the storm), then 200 new ratings arrive and the item's key is screened, as
``aggregates_refresh`` does (``ratings_screen(keys=[…])``), ``ROUNDS`` times. It prints
the median time of a screen, its queries and the rows it newly holds; with
``--explain``, the EXPLAIN ANALYZE of the screen's slowest queries (run in a
transaction that is rolled back, on the state the timed screen saw).

``BENCH_BEFORE=<git revision>`` measures that revision's ``feedback/anomaly.py`` too,
in the same run, without the indexes migration 0006 added (dropped for its measurements,
then made again), and prints the ratios. The time to insert
the 200 new ratings is printed as well: what the indexes cost the writes.
"""

import cProfile
import importlib
import os
import pstats
import statistics
import subprocess
import sys
import time
import types
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

import django  # noqa: E402

django.setup()

from django.db import connection, transaction  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from feedback import anomaly  # noqa: E402
from indicators.models import Indicator  # noqa: E402

WINDOWS = [int(n) for n in os.environ.get("BENCH_WINDOWS", "1000,10000,50000").split(",")]
PATTERNS = os.environ.get("BENCH_PATTERNS", "storm,spread,quiet").split(",")
NEW = 200  # ratings arriving between two screens (2 s of a storm at ~100/s)
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "5"))
EXPLAIN_TOP = 4
# A cProfile of the last screen of each measurement (BENCH_PROFILE_FILTER: a regex on its lines).
PROFILE = "--profile" in sys.argv
BEFORE = os.environ.get("BENCH_BEFORE", "")
ADDED_BY = "feedback.migrations.0006_rating_anomaly_screen_indexes"
STORM_SOURCE = "b" * 32

_serial = 0


class _Rollback(Exception):
    pass


def _insert(n: int, *, item: int | None, pattern: str, first_minute: float, last_minute: float) -> None:
    """``n`` ratings, each by a new resident, ``updated_at`` evenly from ``first_minute`` to
    ``last_minute`` minutes ago; ``item`` None: spread over every published indicator."""
    global _serial  # noqa: PLW0603 - a bench counter
    lo, _serial = _serial, _serial + n
    resident_age = "interval '3 days'" if pattern == "quiet" else "interval '0'"
    source = {
        "storm": f"'{STORM_SOURCE}'",
        "spread": "md5('spread' || g.i)",
        "quiet": "md5('quiet' || g.i)",
    }[pattern]
    score = "1 + g.i %% 5" if pattern == "quiet" else "4"
    step = (first_minute - last_minute) / max(n - 1, 1)
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            WITH moments AS (
                SELECT g.i, now() - make_interval(secs => 60 * (%s - (g.i - %s) * %s)) AS at
                  FROM generate_series(%s, %s) AS g(i)
            )
            INSERT INTO feedback_resident (key_hash, district_id, created_at, phone_hash, notify_email)
            SELECT 'anomaly' || lpad(m.i::text, 57, '0'), NULL, m.at - {resident_age}, '', ''
              FROM moments m
            """,  # noqa: S608 - the bench's own fragments
            [first_minute, lo, step, lo, lo + n - 1],
        )
        item_expr = "%s" if item is not None else "(SELECT id FROM bench_indicators WHERE idx = g.i %% %s)"
        item_param = item if item is not None else _indicator_count(cursor)
        cursor.execute(
            f"""
            INSERT INTO feedback_rating
                (resident_id, indicator_id, story_id, score, district_id, created_at, updated_at,
                 trust, hold_reason, source_hash, trust_note)
            SELECT res.id, {item_expr}, NULL, {score}, NULL, res.created_at + {resident_age},
                   res.created_at + {resident_age}, 'counted', '', {source}, ''
              FROM generate_series(%s, %s) AS g(i)
              JOIN feedback_resident res ON res.key_hash = 'anomaly' || lpad(g.i::text, 57, '0')
            """,  # noqa: S608 - the bench's own fragments
            [item_param, lo, lo + n - 1],
        )


def _indicator_count(cursor) -> int:
    cursor.execute("SELECT count(*) FROM bench_indicators")
    return cursor.fetchone()[0]


def _reset() -> None:
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM feedback_rating")
        cursor.execute("DELETE FROM feedback_resident WHERE key_hash LIKE 'anomaly%%'")
        cursor.execute("VACUUM ANALYZE feedback_rating")
        cursor.execute("VACUUM ANALYZE feedback_resident")


def _explain(queries: list[dict]) -> list[str]:
    """EXPLAIN ANALYZE of the slowest queries, replaying the screen's statements in order in
    a transaction rolled back at the end (so each sees the state it saw)."""
    slowest = sorted(range(len(queries)), key=lambda i: -float(queries[i]["time"]))[:EXPLAIN_TOP]
    out = [
        "Queries of the screen: "
        + ", ".join(f"{i + 1}: {float(query['time']) * 1000:.0f} ms" for i, query in enumerate(queries))
    ]
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            for i, query in enumerate(queries):
                if i in slowest:
                    cursor.execute("EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) " + query["sql"])
                    plan = "\n".join(row[0] for row in cursor.fetchall())
                    out.append(
                        f"-- query {i + 1} ({float(query['time']) * 1000:.1f} ms)\n{query['sql']}\n{plan}"
                    )
                else:
                    cursor.execute(query["sql"])
            raise _Rollback
    except _Rollback:
        pass
    return out


def _held() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM feedback_rating WHERE trust = 'held'")
        return cursor.fetchone()[0]


def _before_module(revision: str) -> types.ModuleType:
    """``feedback/anomaly.py`` as it was at ``revision``, as a module of its own."""
    source = subprocess.run(  # noqa: S603 - git, on our own repository
        ["git", "show", f"{revision}:feedback/anomaly.py"],  # noqa: S607
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    module = types.ModuleType("anomaly_before")
    exec(compile(source, f"{revision}:feedback/anomaly.py", "exec"), module.__dict__)  # noqa: S102
    return module


def _added_indexes() -> list[str]:
    migration = importlib.import_module(ADDED_BY).Migration
    return [op.index.name for op in migration.operations if hasattr(op, "index")]


def measure(screen, pattern: str, window: int, item: int, *, explain: bool, drop: list[str]) -> dict:
    """One pattern and window, each statement in its own transaction as in the worker
    (``drop``: indexes dropped for the measurement, as before they existed, then made again)."""
    _reset()
    definitions = []
    if drop:
        with connection.cursor() as cursor:
            cursor.execute("SELECT indexdef FROM pg_indexes WHERE indexname = ANY(%s)", [drop])
            definitions = [row[0] for row in cursor.fetchall()]
            cursor.execute("DROP INDEX " + ", ".join(drop))
    try:
        return _measure(screen, pattern, window, item, explain=explain)
    finally:
        with connection.cursor() as cursor:
            for definition in definitions:
                cursor.execute(definition)


def _measure(screen, pattern: str, window: int, item: int, *, explain: bool) -> dict:
    keys = [f"indicator:{item}"]
    # The window, older than the new arrivals: 59 to 5 minutes ago.
    _insert(
        window, item=None if pattern == "quiet" else item, pattern=pattern, first_minute=59, last_minute=5
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE feedback_rating")
        cursor.execute("ANALYZE feedback_resident")
    screen(keys=keys)  # what the storm's earlier screens did
    with connection.cursor() as cursor:  # as autovacuum would after those holds
        cursor.execute("ANALYZE feedback_rating")
    times, inserts, counts, held, plans = [], [], [], [], []
    for round_ in range(ROUNDS):
        minute = 4 - round_ * 0.5
        began = time.perf_counter()
        _insert(
            NEW,
            item=None if pattern == "quiet" else item,
            pattern=pattern,
            first_minute=minute,
            last_minute=minute - 0.4,
        )
        inserts.append(time.perf_counter() - began)
        if explain and round_ == ROUNDS - 1:
            try:
                with transaction.atomic(), CaptureQueriesContext(connection) as captured:
                    screen(keys=keys)
                    raise _Rollback
            except _Rollback:
                pass
            plans = _explain(list(captured.captured_queries))
        if PROFILE and round_ == ROUNDS - 1:
            profiler = cProfile.Profile()
            try:
                with transaction.atomic():
                    profiler.runcall(screen, keys=keys)
                    raise _Rollback
            except _Rollback:
                pass
            stats = pstats.Stats(profiler).sort_stats("cumtime")
            stats.print_stats(os.environ.get("BENCH_PROFILE_FILTER", ""), 20)
        before = _held()
        with CaptureQueriesContext(connection) as captured:
            began = time.perf_counter()
            screen(keys=keys)
            times.append(time.perf_counter() - began)
        counts.append(len(captured.captured_queries))
        held.append(_held() - before)
    return {
        "pattern": pattern,
        "window": window,
        "ms": statistics.median(times) * 1000,
        "min_ms": min(times) * 1000,
        "insert_ms": statistics.median(inserts) * 1000,
        "queries": max(counts),
        "held_per_screen": statistics.median(held),
        "plans": plans,
    }


def main() -> None:
    explain = "--explain" in sys.argv
    item = Indicator.objects.filter(status="published").order_by("pk").values_list("pk", flat=True).first()
    with connection.cursor() as cursor:
        cursor.execute(
            "DROP TABLE IF EXISTS bench_indicators; CREATE TABLE bench_indicators AS "
            "SELECT (row_number() OVER (ORDER BY id) - 1)::int AS idx, id FROM indicators_indicator "
            "WHERE status = 'published'"
        )
    variants = [("after", anomaly.ratings_screen, [])]
    if BEFORE:
        variants.insert(0, (f"before ({BEFORE})", _before_module(BEFORE).ratings_screen, _added_indexes()))
    print(f"One screen of indicator {item} after {NEW} new ratings (median of {ROUNDS}), window = ratings")
    print("changed within the last hour before they arrived.\n")
    print(
        "| pattern | window | code | screen ms (median) | fastest ms | queries | newly held | insert 200 ms |"
    )
    print("|---|---|---|---|---|---|---|---|")
    results = []
    for pattern in PATTERNS:
        for window in WINDOWS:
            for name, screen, drop in variants:
                row = measure(screen, pattern, window, item, explain=explain, drop=drop)
                row["code"] = name
                results.append(row)
                print(
                    f"| {pattern} | {window:,} | {name} | {row['ms']:.1f} | {row['min_ms']:.1f} "
                    f"| {row['queries']} | {row['held_per_screen']:.0f} | {row['insert_ms']:.1f} |",
                    flush=True,
                )
    if BEFORE:
        print("\n| pattern | window | screen: after / before | insert 200: after / before |")
        print("|---|---|---|---|")
        for old, new in zip(results[0::2], results[1::2], strict=True):
            print(
                f"| {new['pattern']} | {new['window']:,} | {new['ms'] / old['ms']:.2f} "
                f"| {new['insert_ms'] / old['insert_ms']:.2f} |"
            )
    if explain:
        for row in results:
            print(f"\n### {row['pattern']} at {row['window']:,}, {row['code']}\n")
            print("\n\n".join(row["plans"]))


if __name__ == "__main__":
    main()
