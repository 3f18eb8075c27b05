"""Scale benchmark of ratings and aggregates (issue 3, point 10). Not a test.

Run it with ``bench/run`` (a private PostgreSQL and Redis, the 2023 report and
survey loaded). It loads ratings straight in SQL (``INSERT … SELECT
generate_series``), first 1,000 then up to 1,000,000, spread over every
published indicator and story and the 16 districts (each bench resident rates
10 different items), and at both sizes measures:

- the queries and median time of an indicator page, a story page and the
  aggregate endpoints (they read stored aggregates only, so the ratio should
  stay near 1);
- a full reconciliation (``aggregates_reconcile``) against the plain SQL
  GROUP BY queries it needs, run in the same process on the same data;
- the peak memory of a reconciliation run in a fresh process, as a worker
  would run it (peak RSS and the tracemalloc peak of Python objects).

Prints a Markdown report and writes it to ``bench/results.md``.
"""

import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client, override_settings  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from feedback import aggregates  # noqa: E402
from feedback.aggregation import (  # noqa: E402
    SCOPES,
    grouped_district_raters,
    grouped_raters,
    grouped_scores,
)
from feedback.models import Survey  # noqa: E402
from indicators.models import Chapter, District, Indicator, Story  # noqa: E402

RATINGS_PER_RESIDENT = 10
SIZES = [int(n) for n in os.environ.get("BENCH_SIZES", "1000,100000,1000000").split(",")]
PAGE_RUNS = 100
RECONCILE_RUNS = 3
BATCH = 200_000


def _setup_items(cursor) -> int:
    cursor.execute("DROP TABLE IF EXISTS bench_items; DROP TABLE IF EXISTS bench_districts")
    cursor.execute(
        """
        CREATE TABLE bench_items AS
        SELECT (row_number() OVER (ORDER BY kind, id) - 1)::int AS idx, indicator_id, story_id FROM (
            SELECT 0 AS kind, id, id AS indicator_id, NULL::bigint AS story_id
              FROM indicators_indicator WHERE status = 'published'
            UNION ALL
            SELECT 1, id, NULL::bigint, id FROM indicators_story WHERE status = 'published'
        ) AS items
        """
    )
    cursor.execute(
        "CREATE TABLE bench_districts AS "
        "SELECT (row_number() OVER (ORDER BY id) - 1)::int AS idx, id FROM indicators_district"
    )
    cursor.execute("SELECT count(*) FROM bench_items")
    return cursor.fetchone()[0]


def load_ratings(start: int, stop: int, n_items: int, n_districts: int) -> None:
    """Ratings ``start``…``stop - 1``: resident i // 10 rates item (i // 10 + i % 10) mod items.

    A year's history, as a site has it after a year: rating i was made i minutes before
    the anomaly rules' window (``ANOMALY_WINDOW_MINUTES``) began, modulo a year, by a
    resident who arrived more than a year ago. All "now" instead made the whole load one
    storm in the window, which the rules hold or not by the hour of the day (in Beijing's
    night hours, the off-hours rule held nearly all of it), and the pages measured then
    showed what was left.
    """
    before = settings.ANOMALY_WINDOW_MINUTES + 1
    with connection.cursor() as cursor:
        cursor.execute("SELECT setseed(0.42)")
        for lo in range(start, stop, BATCH):
            hi = min(lo + BATCH, stop)
            first_resident = lo // RATINGS_PER_RESIDENT
            last_resident = (hi - 1) // RATINGS_PER_RESIDENT
            cursor.execute(
                """
                INSERT INTO feedback_resident (key_hash, district_id, created_at, phone_hash, notify_email)
                SELECT 'bench' || lpad(r::text, 59, '0'), d.id, now() - interval '400 days', '', ''
                  FROM generate_series(%s, %s) AS r
                  JOIN bench_districts d ON d.idx = r %% %s
                ON CONFLICT (key_hash) DO NOTHING
                """,
                [first_resident, last_resident, n_districts],
            )
            cursor.execute(
                """
                INSERT INTO feedback_rating
                    (resident_id, indicator_id, story_id, score, district_id, created_at, updated_at,
                     trust, hold_reason, source_hash, trust_note)
                SELECT res.id, it.indicator_id, it.story_id, 1 + floor(random() * 5)::int,
                       res.district_id, made.at, made.at, 'counted', '', '', ''
                  FROM generate_series(%s, %s) AS g(i)
                  CROSS JOIN LATERAL (SELECT now() - make_interval(mins => %s + g.i %% 525600) AS at) AS made
                  JOIN feedback_resident res
                    ON res.key_hash = 'bench' || lpad((g.i / %s)::text, 59, '0')
                  JOIN bench_items it ON it.idx = ((g.i / %s) + (g.i %% %s)) %% %s
                """,
                [lo, hi - 1, before, *[RATINGS_PER_RESIDENT] * 3, n_items],
            )
        # As autovacuum would after a bulk load; done now so it does not run during the timings.
        cursor.execute("VACUUM ANALYZE feedback_resident")
        cursor.execute("VACUUM ANALYZE feedback_rating")


def rating_count() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM feedback_rating")
        return cursor.fetchone()[0]


def measure_pages(client: Client, urls: dict[str, str]) -> dict[str, dict]:
    """Queries of each request, then its timings in interleaved rounds (so a burst of
    load on the machine hits every request alike)."""
    queries: dict[str, list[str]] = {}
    for name, url in urls.items():
        for _ in range(3):
            client.get(url)
        # The plain SQL, not "EXECUTE portal_c…": compiled reads are prepared statements, whose
        # tables are named only in the PREPARE a connection sends once (indicators.compiled).
        plain = override_settings(DATABASE_PREPARED_STATEMENTS=False)
        with plain, CaptureQueriesContext(connection) as captured:
            status = client.get(url).status_code
        if status != 200:
            raise SystemExit(f"{url} answered {status}")
        # Copy now: the next request resets the connection's query log.
        queries[name] = [q["sql"] for q in captured.captured_queries]
    times: dict[str, list[float]] = {name: [] for name in urls}
    for _ in range(PAGE_RUNS):
        for name, url in urls.items():
            began = time.perf_counter()
            client.get(url)
            times[name].append(time.perf_counter() - began)
    return {
        name: {
            "queries": len(queries[name]),
            "ms": statistics.median(times[name]) * 1000,
            "min_ms": min(times[name]) * 1000,
            "reads_ratings": any("feedback_rating" in sql for sql in queries[name]),
        }
        for name in urls
    }


def plain_group_by_seconds() -> float:
    """The GROUP BY queries a reconciliation needs (scores, and distinct raters where
    a scope needs them), run and fetched, nothing else."""
    began = time.perf_counter()
    with connection.cursor() as cursor:
        for scope in SCOPES:
            for queryset in (grouped_scores(scope), grouped_raters(scope), grouped_district_raters(scope)):
                if queryset is None:
                    continue
                sql, params = queryset.query.sql_with_params()
                cursor.execute(sql, params)
                cursor.fetchall()
    return time.perf_counter() - began


def reconcile_seconds() -> float:
    began = time.perf_counter()
    aggregates.aggregates_reconcile()
    return time.perf_counter() - began


def reconcile_memory_in_fresh_process() -> dict:
    """Run one reconciliation in a new process, as a worker would, and read its peaks."""
    code = (
        "import os, sys, json, resource, tracemalloc\n"
        f"sys.path.insert(0, {str(ROOT)!r})\n"
        "os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'portal.settings')\n"
        "import django; django.setup()\n"
        "from feedback import aggregates\n"
        "from django.db import connection; connection.ensure_connection()\n"
        "base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
        "tracemalloc.start()\n"
        "aggregates.aggregates_reconcile()\n"
        "peak = tracemalloc.get_traced_memory()[1]\n"
        "tracemalloc.stop()\n"
        "rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
        "print(json.dumps({'rss_kib': rss, 'rss_before_kib': base, 'tracemalloc_peak': peak}))\n"
    )
    env = {**os.environ, "LOG_LEVEL": "WARNING"}
    out = subprocess.run(  # noqa: S603 - our own interpreter and code
        [sys.executable, "-c", code], check=True, capture_output=True, text=True, env=env, cwd=ROOT
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


def measure_size(client: Client, urls: dict[str, str]) -> dict:
    aggregates.aggregates_reconcile()  # the stored aggregates the pages read
    pages = measure_pages(client, urls)
    group_by, reconcile = [], []
    for _ in range(RECONCILE_RUNS):
        group_by.append(plain_group_by_seconds())
        reconcile.append(reconcile_seconds())
    return {
        "ratings": rating_count(),
        "pages": pages,
        "group_by_s": statistics.median(group_by),
        "reconcile_s": statistics.median(reconcile),
        "memory": reconcile_memory_in_fresh_process(),
    }


def report(results: list[dict]) -> str:
    small, large = results[0], results[-1]
    lines = [
        f"Measured on {time.strftime('%Y-%m-%d %H:%M %Z')}, PostgreSQL "
        f"{connection.cursor().connection.info.server_version // 10000}, "
        f"{small['ratings']:,} vs {large['ratings']:,} ratings "
        f"({Indicator.objects.published().count()} indicators + {Story.objects.published().count()} stories, "
        f"{District.objects.count()} districts).",
        "",
        "| request | queries (small → large) | median ms (small → large) | ratio of medians "
        "| fastest ms (small → large) | ratio of fastest | reads feedback_rating |",
        "|---|---|---|---|---|---|---|",
    ]
    for name in small["pages"]:
        a, b = small["pages"][name], large["pages"][name]
        lines.append(
            f"| {name} | {a['queries']} → {b['queries']} | {a['ms']:.2f} → {b['ms']:.2f} | "
            f"{b['ms'] / a['ms']:.2f}× | {a['min_ms']:.2f} → {b['min_ms']:.2f} | "
            f"{b['min_ms'] / a['min_ms']:.2f}× | {'yes' if b['reads_ratings'] else 'no'} |"
        )
    lines += [
        "",
        "| ratings | plain GROUP BY (s) | full reconciliation (s) | ratio | peak RSS of a fresh "
        "reconciling process (MiB) | tracemalloc peak (KiB) |",
        "|---|---|---|---|---|---|",
    ]
    for row in results:
        memory = row["memory"]
        lines.append(
            f"| {row['ratings']:,} | {row['group_by_s']:.3f} | {row['reconcile_s']:.3f} | "
            f"{row['reconcile_s'] / row['group_by_s']:.2f}× | {memory['rss_kib'] / 1024:.1f} | "
            f"{memory['tracemalloc_peak'] / 1024:.0f} |"
        )
    return "\n".join(lines) + "\n"


def main() -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM feedback_rating WHERE resident_id IN "
            "(SELECT id FROM feedback_resident WHERE key_hash LIKE 'bench%%')"
        )
        if cursor.fetchone()[0]:
            sys.exit("This database already holds bench ratings: run bench/run on a fresh database.")
        n_items = _setup_items(cursor)
    n_districts = District.objects.count()
    indicator = Indicator.objects.published().select_related("edition").order_by("pk").first()
    story = Story.objects.published().select_related("edition").order_by("pk").first()
    chapter = Chapter.objects.order_by("pk").first()
    survey = Survey.objects.published().order_by("pk").first()
    district = District.objects.order_by("pk").first()
    urls = {
        "indicator page": indicator.get_absolute_url(),
        "story page": story.get_absolute_url(),
        "GET aggregates/indicators/{id}": f"/api/v1/aggregates/indicators/{indicator.pk}/",
        "GET aggregates/stories/{id}": f"/api/v1/aggregates/stories/{story.pk}/",
        "GET aggregates/chapters/{id}": f"/api/v1/aggregates/chapters/{chapter.pk}/",
        "GET aggregates/districts/": "/api/v1/aggregates/districts/",
        "GET aggregates/districts/{id}": f"/api/v1/aggregates/districts/{district.pk}/",
    }
    if survey is not None:
        urls["GET aggregates/surveys/{id}"] = f"/api/v1/aggregates/surveys/{survey.pk}/"
    client = Client()
    results = []
    loaded = 0
    for size in SIZES:
        began = time.perf_counter()
        load_ratings(loaded, size, n_items, n_districts)
        loaded = size
        print(f"loaded {rating_count():,} ratings in {time.perf_counter() - began:.1f}s", flush=True)
        results.append(measure_size(client, urls))
        print(json.dumps(results[-1], indent=1), flush=True)
    text = report(results)
    (ROOT / "bench" / "results.md").write_text(text, encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
