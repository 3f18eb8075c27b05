"""HTTP throughput of the portal against a bare-Django floor (issue 9, point 6). Not a test.

Run it with ``bench/http``, which starts a private PostgreSQL and Redis, loads
the 2023 report and survey into a database ``bench``, copies it to
``bench_scale`` and exports where they are. This script then:

1. serves, under gunicorn with the same settings (``gunicorn.conf.py`` at the
   top of the repository when it exists, else 2 sync workers), the portal with
   its production settings twice — *uncached* (``PAGE_CACHE=0``, which the
   page cache must honour by serving every request from a fresh render) and
   *cached* (the settings as deployed) — plus the floor project
   (``bench/floor/``) and a Celery worker, all on ``bench``;
2. measures every request with ``wrk -t2 -c16`` (a warm-up, then the timed
   run), checking once beforehand that it answers the expected status; the
   requests in blocks, each between two runs of its floor, whose mean it is
   divided by (on a shared machine the load moves during the run); and the CPU
   time the servers' processes (gunicorn, the worker, PostgreSQL, Redis) spent per
   request in each run, which another tenant's load on the machine hardly moves;
3. serves the portal (uncached) and the floor on ``bench_scale``, loads 1k
   then 1M ratings in SQL (``bench/ratings_scale.py``'s loader), reconciles
   the stored aggregates and measures the pages at each size, with the floor's
   chapter page built the adhocracy4 way (live ``annotate(Avg, Count)``);
4. prints the tables with the ratios and the issue's goals, and writes them to
   ``bench/http-results.md``.
"""

import http.client
import json
import math
import os
import platform
import runpy
import signal
import socket
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
RUN_DIR = Path(os.environ["RUN_DIR"])
MAIN_DATABASE_URL = os.environ["MAIN_DATABASE_URL"]
SCALE_DATABASE_URL = os.environ["SCALE_DATABASE_URL"]
# This process only reads the report's URLs and loads ratings into the copy.
os.environ["DATABASE_URL"] = SCALE_DATABASE_URL

QUICK = os.environ.get("BENCH_QUICK", "") not in ("", "0")
DURATION = int(os.environ.get("BENCH_DURATION", 3 if QUICK else 6))
WARMUP = int(os.environ.get("BENCH_WARMUP", 1 if QUICK else 2))
SIZES = [int(n) for n in os.environ.get("BENCH_SIZES", "1000,100000" if QUICK else "1000,1000000").split(",")]
# Each request measured this many times, in rounds (each round all blocks, each ratio
# against the floor runs around it); a ratio reported is the median of its rounds'.
# Three by default: on a shared machine one run of a request can fall in a burst of
# another tenant's load (a cached page once gave 0.25× between runs of 0.6×).
ROUNDS = int(os.environ.get("BENCH_ROUNDS", 1 if QUICK else 3))
# wrk's threads and connections: the issue's -t2 -c16. BENCH_CONNECTIONS=1 BENCH_WRK_THREADS=1
# sends one request at a time: each one's own cost, without the queueing of concurrent ones.
THREADS = int(os.environ.get("BENCH_WRK_THREADS", 2))
CONNECTIONS = int(os.environ.get("BENCH_CONNECTIONS", 16))
GUNICORN_CONF = ROOT / "gunicorn.conf.py"
# Decided once, so that every server of the run has the same settings.
USE_GUNICORN_CONF = GUNICORN_CONF.exists()
# Without the conf file: what the figures were measured with.
GUNICORN_FALLBACK = ["--workers", "2", "--worker-class", "sync"]
WRK_SCRIPT = BENCH / "wrk_report.lua"
VENV_BIN = Path(sys.executable).parent

sys.path.insert(0, str(BENCH))
import ratings_scale  # noqa: E402  (sets Django up with the portal's settings)
from django.db import connection  # noqa: E402
from redis import Redis  # noqa: E402

from feedback.aggregates import aggregates_reconcile  # noqa: E402
from indicators.models import Chapter, District, Indicator, Story  # noqa: E402


@dataclass
class Target:
    """One request to measure: where it goes, and the status it must answer."""

    label: str
    path: str
    method: str = "GET"
    body: str = ""
    expect: int = 200


class Process:
    """A server or worker in its own process group, logged to RUN_DIR, stopped by id."""

    def __init__(self, name: str, argv: list[str], env: dict[str, str], cwd: Path = ROOT) -> None:
        self.name = name
        self.log = RUN_DIR / f"{name}.log"
        with self.log.open("ab") as log:
            self.popen = subprocess.Popen(  # noqa: S603 - our own interpreter and servers
                argv, env=env, cwd=cwd, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        # bench/http kills these groups if this script dies without stopping them.
        with (RUN_DIR / "pgids").open("a") as pgids:
            pgids.write(f"{self.popen.pid}\n")

    def alive(self) -> bool:
        return self.popen.poll() is None

    def tail(self, lines: int = 40) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])

    def stop(self) -> None:
        if self.alive():
            os.killpg(self.popen.pid, signal.SIGTERM)
            try:
                self.popen.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.popen.pid, signal.SIGKILL)
                self.popen.wait()
        # Gone: bench/http must not signal that id later (it may belong to another process by then).
        pgids = RUN_DIR / "pgids"
        kept = [line for line in pgids.read_text().splitlines() if line != str(self.popen.pid)]
        pgids.write_text("".join(f"{line}\n" for line in kept))


class Server(Process):
    def __init__(
        self, name: str, app: str, env: dict[str, str], chdir: Path = ROOT, conf_file: Path = GUNICORN_CONF
    ) -> None:
        self.port = free_port()
        conf = ["-c", str(conf_file)] if USE_GUNICORN_CONF else GUNICORN_FALLBACK
        # The command line wins over the conf file: the bind address and the app are ours.
        bind = ["--bind", f"127.0.0.1:{self.port}", "--chdir", str(chdir)]
        argv = [str(VENV_BIN / "gunicorn"), *conf, *bind, app]
        super().__init__(name, argv, env, cwd=chdir)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def wait_ready(self, path: str) -> None:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            if not self.alive():
                sys.exit(f"{self.name} stopped:\n{self.tail()}")
            try:
                if request(self.port, Target("ready", path))[0] == 200:
                    return
            except OSError:
                pass
            time.sleep(0.5)
        sys.exit(f"{self.name} not ready on port {self.port}:\n{self.tail()}")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def request(port: int, target: Target) -> tuple[int, bytes]:
    """One request as wrk sends it (no cookie; the proxy's X-Forwarded-Proto)."""
    headers = {"X-Forwarded-Proto": "https"}
    if target.body:
        headers["Content-Type"] = "application/json"
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        conn.request(target.method, target.path, body=target.body or None, headers=headers)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def portal_env(database_url: str, *, cached: bool) -> dict[str, str]:
    env = {**os.environ, "DATABASE_URL": database_url}
    if not cached:
        env["PAGE_CACHE"] = "0"
    return env


def start_portal(name: str, database_url: str, *, cached: bool) -> Server:
    return Server(name, "portal.wsgi", portal_env(database_url, cached=cached))


def start_floor(name: str, database_url: str) -> Server:
    env = {**os.environ, "DATABASE_URL": database_url, "DJANGO_SETTINGS_MODULE": "floor.settings"}
    return Server(name, "floor.wsgi", env, chdir=BENCH / "floor")


def start_worker(name: str, database_url: str) -> Process:
    argv = [str(VENV_BIN / "celery"), "-A", "portal", "worker", "--loglevel=INFO", "--concurrency=2"]
    worker = Process(name, argv, portal_env(database_url, cached=True))
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if not worker.alive():
            sys.exit(f"{name} stopped:\n{worker.tail()}")
        if " ready." in worker.log.read_text(errors="replace"):
            return worker
        time.sleep(0.5)
    sys.exit(f"{name} not ready:\n{worker.tail()}")


def worker_idle(timeout: float = 120) -> None:
    """Wait until the worker has run every queued task (acks are late: a task stays in
    ``unacked`` until done), so that one write storm's refreshes do not load the next run."""
    broker = Redis.from_url(os.environ["REDIS_URL"])
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not broker.llen("celery") and not broker.hlen("unacked"):
            return
        time.sleep(0.5)
    print(f"  (the worker was still busy after {timeout:.0f}s)", flush=True)


def _measure_block(
    t: dict[str, Target], servers: list[Server], runs: list[dict], floor_key: str, keys: list[str]
) -> dict[str, dict[str, tuple[dict, float]]]:
    """One block: its requests, uncached and cached, between two runs of its floor (``runs``,
    the floor's runs so far: the one that closed the previous block opens this one).
    Each result with the mean of those two floor runs."""
    floor, cold, cached = servers
    if not runs:
        runs.append(wrk(floor, t[floor_key]))
    first = len(runs) - 1
    measured: dict[str, dict[str, dict]] = {}
    for key in keys:
        measured[key] = {}
        for column, server in (("cold", cold), ("cached", cached)):
            if t[key].method == "POST":
                worker_idle()
            measured[key][column] = wrk(server, t[key])
    worker_idle()
    runs.append(wrk(floor, t[floor_key]))
    floor_rps = (runs[first]["rps"] + runs[-1]["rps"]) / 2
    floor_cpu_ms = (runs[first]["cpu_ms"] + runs[-1]["cpu_ms"]) / 2
    for columns in measured.values():
        for result in columns.values():
            result["floor_cpu_ms"] = floor_cpu_ms
    return {
        key: {column: (result, floor_rps) for column, result in columns.items()}
        for key, columns in measured.items()
    }


def _median_rps(runs: list[dict]) -> dict:
    """The run with the median req/s (the lower middle of an even number)."""
    return sorted(runs, key=lambda run: run["rps"])[(len(runs) - 1) // 2]


def _live_ratio(row: dict) -> float:
    """The stored-aggregate chapter page over the live-annotation page at one size: the
    median of the rounds' ratios."""
    return statistics.median(row["live_ratios"])


def _median_round(measured: list[tuple[dict, float]]) -> dict:
    """Of one request's rounds (each a wrk result and the floor around it), the round whose
    ratio is the median (the lower middle of an even number), with every round's ratio."""
    ordered = sorted(measured, key=lambda pair: _ratio(*pair))
    result, floor_rps = ordered[(len(ordered) - 1) // 2]
    return {
        **result,
        "floor_rps": floor_rps,
        "ratios": [_ratio(*pair) for pair in measured],
        "cpu_ratios": [_cpu_ratio(result) for result, _floor_rps in measured],
        "cpu_ms_rounds": [result["cpu_ms"] for result, _floor_rps in measured],
    }


def _cpu_ratio(result: dict) -> float:
    """The floor's CPU per request over this request's: what req/s would give on a machine
    the servers had to themselves."""
    return result["floor_cpu_ms"] / result["cpu_ms"]


WARMED: set[tuple[str, str]] = set()


def _ticks(pid: int, *, children: bool) -> int:
    """A process's CPU time in clock ticks (``/proc/<pid>/stat``), with that of the children
    it has reaped when ``children`` (a gunicorn master's restarted workers, PostgreSQL's
    ended backends); 0 for a process gone meanwhile."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0
    fields = stat[stat.rindex(")") + 2 :].split()
    used = int(fields[11]) + int(fields[12])  # utime, stime
    return used + (int(fields[13]) + int(fields[14]) if children else 0)  # cutime, cstime


def _pid_file(path: Path) -> int:
    return int(path.read_text().split()[0])


def server_cpu_seconds() -> float:
    """CPU time used so far by every process that serves a request: the servers and the
    worker this script started (their process groups), PostgreSQL and Redis. Each leader
    counts its reaped children too, so a process that ended during a run still counts."""
    groups = {int(line) for line in (RUN_DIR / "pgids").read_text().split()}
    postmaster = _pid_file(RUN_DIR / "pg" / "postmaster.pid")
    leaders = groups | {postmaster, _pid_file(RUN_DIR / "redis.pid")}
    ticks = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        pid = int(entry.name)
        if pid in leaders:
            ticks += _ticks(pid, children=True)
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        parent, group = int(fields[1]), int(fields[2])
        if group in groups or parent == postmaster:
            ticks += _ticks(pid, children=False)
    return ticks / os.sysconf("SC_CLK_TCK")


def wrk(server: Server, target: Target) -> dict:
    """Check the answer once, warm up (once per server and request), then the timed run."""
    status, body = request(server.port, target)
    if status != target.expect:
        sys.exit(
            f"{target.method} {target.path} on {server.name} answered {status} "
            f"(expected {target.expect}): {body[:300]!r}\n{server.tail()}"
        )
    env = {**os.environ, "WRK_METHOD": target.method, "WRK_BODY": target.body}

    def run(seconds: int) -> dict:
        argv = ["wrk", f"-t{THREADS}", f"-c{CONNECTIONS}", f"-d{seconds}s", "--timeout", "30s"]
        out = subprocess.run(  # noqa: S603 - wrk from Debian
            [*argv, "-s", str(WRK_SCRIPT), server.url(target.path)],
            env=env,
            capture_output=True,
            text=True,
            check=True,
            timeout=seconds + 90,
        ).stdout
        line = next(line for line in out.splitlines() if line.startswith("WRK_JSON "))
        return json.loads(line.removeprefix("WRK_JSON "))

    if WARMUP and (server.name, target.path) not in WARMED:
        run(WARMUP)
        WARMED.add((server.name, target.path))
    cpu_before = server_cpu_seconds()
    raw = run(DURATION)
    cpu = server_cpu_seconds() - cpu_before
    result = {
        "rps": raw["requests"] / (raw["duration_us"] / 1e6),
        "p50_ms": raw["p50_us"] / 1000,
        "p99_ms": raw["p99_us"] / 1000,
        "requests": raw["requests"],
        "failed": raw["non2xx3xx"] + raw["socket_errors"] + raw["timeouts"],
        "load": os.getloadavg()[0],
        # The servers' CPU per request: a figure the machine's other load hardly moves.
        "cpu_ms": cpu * 1000 / raw["requests"] if raw["requests"] else float("nan"),
    }
    note = f"  ({result['failed']} failed)" if result["failed"] else ""
    print(
        f"  {target.label:<58} {server.name:<14} {result['rps']:8.1f} req/s  "
        f"p50 {result['p50_ms']:7.1f} ms  p99 {result['p99_ms']:7.1f} ms  "
        f"CPU {result['cpu_ms']:6.2f} ms/req  load {result['load']:.1f}{note}",
        flush=True,
    )
    return result


# --- What is measured --------------------------------------------------------------------


def report_items() -> dict:
    """The first chapter of the latest edition (29 of the 224 items in 2023, near the
    mean of 32 per chapter), and the first published indicator and story, as
    bench/ratings_scale.py takes them."""
    indicators = list(Indicator.objects.published().select_related("edition").order_by("pk"))
    stories = list(Story.objects.published().select_related("edition").order_by("pk"))
    chapter = Chapter.objects.select_related("edition").order_by("-edition__year", "number").first()
    return {
        "chapter": chapter,
        "chapter_items": sum(item.chapter_id == chapter.pk for item in [*indicators, *stories]),
        "indicator": indicators[0],
        "story": stories[0],
        "indicators": len(indicators),
        "stories": len(stories),
    }


def targets(items: dict) -> dict[str, Target]:
    indicator = items["indicator"]
    rating = json.dumps({"target_type": "indicator", "target_id": indicator.pk, "score": 4})
    return {
        "floor_ok": Target('floor: bare Django view (`HttpResponse("ok")`, default middleware)', "/ok"),
        "floor_list": Target(
            "floor: 100-row DRF list (`ListAPIView`, `ModelSerializer`, 7 fields)", "/drf-list"
        ),
        "floor_insert": Target(
            "floor: one-row INSERT POST (JSON body, `csrf_exempt`)", "/insert", "POST", rating, 201
        ),
        "floor_live": Target(
            f"live-annotation chapter page (adhocracy4 way, {items['chapter_items']} items)",
            f"/live-chapter/{items['chapter'].pk}",
        ),
        "home": Target("home `/`", "/"),
        "chapter": Target(
            f"chapter page ({items['chapter_items']} items)", items["chapter"].get_absolute_url()
        ),
        # The same page from the portal as deployed (page cache on), in the scale table only.
        "chapter_deployed": Target(
            f"chapter page ({items['chapter_items']} items), as deployed: page cache on",
            items["chapter"].get_absolute_url(),
        ),
        "indicator": Target("indicator page", indicator.get_absolute_url()),
        "story": Target("story page", items["story"].get_absolute_url()),
        "api_list": Target("`GET /api/v1/indicators/` (50 rows)", "/api/v1/indicators/"),
        "aggregate": Target(
            "`GET /api/v1/aggregates/indicators/{id}/`", f"/api/v1/aggregates/indicators/{indicator.pk}/"
        ),
        "rating": Target("`POST /api/v1/ratings/` (new resident)", "/api/v1/ratings/", "POST", rating, 201),
    }


# The table in blocks: each block of portal requests is measured between two runs
# of its floor and compared with their mean, so that a change of the machine's load during
# the run (a shared machine) weighs on a request and on its floor alike. Writes last.
BLOCKS = [
    ("floor_ok", ["home", "chapter"]),
    ("floor_ok", ["indicator", "story"]),
    ("floor_ok", ["aggregate"]),
    ("floor_list", ["api_list"]),
    ("floor_insert", ["rating"]),
]
ROWS = [key for _floor, keys in BLOCKS for key in keys]
# BENCH_ONLY=rating (comma-separated keys of ``targets``): only the blocks holding them,
# no scale part and no report written; the raw figures are printed (a developer's check).
ONLY = [key for key in os.environ.get("BENCH_ONLY", "").split(",") if key]
FLOOR_ORDER = ["floor_ok", "floor_list", "floor_insert"]
# Issue 9's goals: (request, column, minimum ratio to its floor).
GOALS = [
    ("home", "cached", 0.5),
    ("chapter", "cached", 0.5),
    ("indicator", "cached", 0.5),
    ("story", "cached", 0.5),
    ("api_list", "cached", 1.0),
    ("aggregate", "cached", 0.5),
    ("chapter", "cold", 0.15),
    ("rating", "cached", 0.5),
]
LIVE_GOAL = 10.0
SCALE_ROWS = ["chapter", "floor_live", "indicator", "story", "aggregate", "chapter_deployed"]


def start_main_servers(floor: str, cold: str, cached: str) -> list[Server]:
    """The floor project and the portal uncached and cached on the report, so named."""
    return [
        start_floor(floor, MAIN_DATABASE_URL),
        start_portal(cold, MAIN_DATABASE_URL, cached=False),
        start_portal(cached, MAIN_DATABASE_URL, cached=True),
    ]


def wait_main_servers(servers: list[Server]) -> None:
    floor, cold, cached = servers
    floor.wait_ready("/ok")
    cold.wait_ready("/healthz")
    cached.wait_ready("/healthz")


def measure_main(t: dict[str, Target]) -> dict:
    """The issue's table, uncached and cached, on the report without ratings."""
    print("==> portal (uncached and cached), floor and a Celery worker on the report", flush=True)
    servers = start_main_servers("floor", "portal-cold", "portal-cached")
    floor, cold, cached = servers
    worker = start_worker("worker", MAIN_DATABASE_URL)
    try:
        wait_main_servers(servers)
        floors: dict[str, list[dict]] = {key: [] for key in FLOOR_ORDER}
        rounds: dict[str, dict[str, list[tuple[dict, float]]]] = {}
        for _round in range(ROUNDS):
            for floor_key, keys in BLOCKS:
                if ONLY and not set(keys) & set(ONLY):
                    continue
                block = _measure_block(t, servers, floors[floor_key], floor_key, keys)
                for key, columns in block.items():
                    for column, pair in columns.items():
                        rounds.setdefault(key, {}).setdefault(column, []).append(pair)
        rows: dict[str, dict] = {}
        for key, columns in rounds.items():
            floor_key = next(floor_key for floor_key, keys in BLOCKS if key in keys)
            rows[key] = {"floor": floor_key}
            for column, measured in columns.items():
                rows[key][column] = _median_round(measured)
            rows[key]["floor_rps"] = statistics.median(floor_rps for _result, floor_rps in columns["cold"])
        return {"floors": floors, "rows": rows}
    finally:
        for process in [*servers, worker]:
            process.stop()


def measure_scale(t: dict[str, Target]) -> dict:
    """The pages at each size of SIZES, uncached, next to the live-annotation page; and the
    chapter page as deployed (page cache on: its entry renewed by each reconciliation)."""
    print("==> portal (uncached) and floor on the copy, ratings loaded in SQL", flush=True)
    subprocess.run(  # noqa: S603 - the run's own Redis: no cache or limit left from the table
        ["redis-cli", "-p", os.environ["REDIS_PORT"], "flushall"],  # noqa: S607 - as scripts/_services.sh
        check=True,
        capture_output=True,
    )
    floor = start_floor("floor-scale", SCALE_DATABASE_URL)
    cold = start_portal("portal-scale", SCALE_DATABASE_URL, cached=False)
    deployed = start_portal("portal-scale-cached", SCALE_DATABASE_URL, cached=True)
    server = {"chapter_deployed": deployed}
    results: dict = {"sizes": []}
    try:
        with connection.cursor() as cursor:
            n_items = ratings_scale._setup_items(cursor)
        n_districts = District.objects.count()
        floor.wait_ready("/ok")
        cold.wait_ready("/healthz")
        deployed.wait_ready("/healthz")
        loaded = 0
        for size in SIZES:
            began = time.perf_counter()
            ratings_scale.load_ratings(loaded, size, n_items, n_districts)
            loaded = size
            load_s = time.perf_counter() - began
            began = time.perf_counter()
            aggregates_reconcile()
            reconcile_s = time.perf_counter() - began
            count = ratings_scale.rating_count()
            print(f"  {count:,} ratings: loaded in {load_s:.1f}s, reconciled in {reconcile_s:.1f}s")
            # The floor at each size too: the sizes are minutes apart, and the machine's load moves.
            row = {"ratings": count, "load_s": load_s, "reconcile_s": reconcile_s}
            measured: dict[str, list[dict]] = {}
            for _round in range(ROUNDS):
                for key in ["floor_ok", *SCALE_ROWS]:
                    target = floor if key.startswith("floor_") else server.get(key, cold)
                    measured.setdefault(key, []).append(wrk(target, t[key]))
            row.update({key: _median_rps(runs) for key, runs in measured.items()})
            # The goal's ratio in each round (the two pages measured one after the other).
            pairs = zip(measured["chapter"], measured["floor_live"], strict=True)
            row["live_ratios"] = [_ratio(chapter, live) for chapter, live in pairs]
            results["sizes"].append(row)
        results["floor_ok_final"] = wrk(floor, t["floor_ok"])
        return results
    finally:
        floor.stop()
        cold.stop()
        deployed.stop()


# --- Report ------------------------------------------------------------------------------


def _ms(result: dict) -> str:
    return f"{result['p50_ms']:.0f} / {result['p99_ms']:.0f}"


def _rps(result: dict) -> str:
    rps = f"{result['rps']:,.0f}" if result["rps"] >= 10 else f"{result['rps']:.1f}"
    return rps + (f" ({result['failed']} failed)" if result["failed"] else "")


def _ratio(a: dict, b: dict | float) -> float:
    """a's req/s over b's; NaN when b completed no request within the run (too short)."""
    below = b if isinstance(b, float) else b["rps"]
    return a["rps"] / below if below else float("nan")


def _met(ratio: float, minimum: float) -> str:
    return f"≥ {minimum:g}×: **{'met' if ratio >= minimum else 'not met'}**"


def _spread(result: dict) -> str:
    """`` (0.49–0.61)``: the range of a request's ratios over the rounds, when there are several."""
    ratios = result.get("ratios", [])
    if len(ratios) < 2:
        return ""
    return f" ({_down(min(ratios), 2)}–{_down(max(ratios), 2)})"


def _down(ratio: float, places: int) -> str:
    """``ratio`` to ``places`` decimals, rounded down: a figure judged against a goal never
    shows the goal when it falls short of it (9.996× as 9.99×, not 10.00× "not met")."""
    step = 10**places
    return f"{math.floor(ratio * step) / step:.{places}f}" if math.isfinite(ratio) else f"{ratio}"


def _cpu_cell(result: dict) -> str:
    ratios = result["cpu_ratios"]
    spread = f" ({_down(min(ratios), 2)}–{_down(max(ratios), 2)})" if len(ratios) > 1 else ""
    cpu_ms = statistics.median(result["cpu_ms_rounds"])
    return f"{cpu_ms:.2f} | {_down(statistics.median(ratios), 2)}×{spread}"


def _cpu_table(t: dict[str, Target], floors: dict, rows: dict) -> list[str]:
    """The same runs by the servers' CPU time per request (not the goals' figure)."""
    lines = [
        "**CPU per request**, from the same runs (not the goals' figure, which is req/s): the CPU "
        "time of the servers' processes (gunicorn, the Celery worker, PostgreSQL, Redis; not wrk) "
        "over the requests of the run, in ms, and the floor's over the request's (each the median of "
        "the rounds', the ratio's range in brackets). Another tenant's load on the machine moves req/s "
        "far more than this: where the two disagree, the machine was not the servers' alone.",
        "",
        "| request | uncached CPU ms | ratio | cached CPU ms | ratio |",
        "|---|---|---|---|---|",
    ]
    for key in FLOOR_ORDER:
        runs = " → ".join(format(run["cpu_ms"], ".2f") for run in floors[key])
        lines.append(f"| {t[key].label} | {runs} | — | | |")
    for key in ROWS:
        cold, cached = rows[key]["cold"], rows[key]["cached"]
        lines.append(f"| {t[key].label} | {_cpu_cell(cold)} | {_cpu_cell(cached)} |")
    return [*lines, ""]


def report(items: dict, t: dict[str, Target], main: dict, scale: dict, context: dict) -> str:
    floors, rows = main["floors"], main["rows"]
    lines = [
        f"Measured {context['when']} on {context['cpus']} CPUs, load average {context['load_start']} "
        f"at the start and {context['load_end']} at the end; Python {platform.python_version()}, "
        f"PostgreSQL {context['pg']}, {context['wrk']}; gunicorn {context['gunicorn']}; "
        f"`wrk -t{THREADS} -c{CONNECTIONS} -d{DURATION}s` after a {WARMUP} s warm-up; "
        f"{items['indicators']} indicators and {items['stories']} stories published, no ratings "
        "but those the rating POSTs add at the end.",
        "",
        "Each portal request is compared with its floor (the bare view for pages and the "
        "aggregate API, the 100-row DRF list for the indicator list API, the one-row INSERT POST "
        "for the rating POST), taken as the mean of the floor's runs just before and just after "
        "it. *Uncached*: the portal with `PAGE_CACHE=0`; *cached*: its settings as deployed. "
        "Latency p50 / p99 in ms."
        + (
            f" Every block was measured in {ROUNDS} rounds, one after the other: a ratio is the "
            "median of its rounds' (each against the floor runs around it), the range in brackets; "
            "req/s and latency are that median round's. At scale, req/s is the median run's and the "
            "goal's ratio the median of the rounds' ratios."
            if ROUNDS > 1
            else ""
        ),
        "",
        "| request | uncached req/s | ratio | p50 / p99 | cached req/s | ratio | p50 / p99 "
        "| floor req/s | goal (issue 9) |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for key in FLOOR_ORDER:
        runs = floors[key]
        spread = " → ".join(f"{run['rps']:,.0f}" for run in runs)
        lines.append(f"| {t[key].label} | {spread} | — | {' → '.join(_ms(run) for run in runs)} | | | | | |")
    goals: list[tuple[str, float, float]] = []
    for key in ROWS:
        row = rows[key]
        ratios = {column: _ratio(row[column], row[column]["floor_rps"]) for column in ("cold", "cached")}
        marks = []
        for goal_key, column, minimum in GOALS:
            if goal_key == key:
                name = "uncached" if column == "cold" else column
                marks.append(f"{name} {_met(ratios[column], minimum)}")
                goals.append((f"{t[key].label}, {name}", ratios[column], minimum))
        lines.append(
            f"| {t[key].label} | {_rps(row['cold'])} | {_down(ratios['cold'], 2)}×{_spread(row['cold'])} "
            f"| {_ms(row['cold'])} | {_rps(row['cached'])} "
            f"| {_down(ratios['cached'], 2)}×{_spread(row['cached'])} | {_ms(row['cached'])} "
            f"| {row['floor_rps']:,.0f} | {'; '.join(marks)} |"
        )
    ok_runs = [run["rps"] for run in floors["floor_ok"]]
    final = scale["floor_ok_final"]["rps"]
    lines += [
        "",
        f"Noise: the bare floor view gave {ok_runs[0]:,.0f} req/s at the start of the table, "
        f"{ok_runs[-1]:,.0f} at the end of its pages ({(ok_runs[-1] / ok_runs[0] - 1) * 100:+.0f} %) "
        f"and {final:,.0f} at the very end of the run ({(final / ok_runs[0] - 1) * 100:+.0f} %); "
        f"its runs ranged {min(ok_runs):,.0f}–{max(ok_runs):,.0f}.",
        "",
        *_cpu_table(t, floors, rows),
        "**At scale, uncached** (`PAGE_CACHE=0`; ratings loaded in SQL as `bench/run` loads "
        "them, stored aggregates reconciled). The live-annotation page is a floor view over the "
        "portal's tables: the chapter's published indicators and stories, each with "
        "`annotate(Avg('ratings__score'), Count('ratings'))` over its counted ratings, in a plain "
        "template (the adhocracy4 way), next to the portal's pages that read stored aggregates. "
        "The last row is the chapter page from the portal as deployed (page cache on; each "
        "reconciliation renews its entry, so the first request after it builds the page): what "
        "a resident gets, but not like for like with the live page, which caches nothing.",
        "",
    ]
    sizes = scale["sizes"]
    head = " | ".join(f"req/s at {row['ratings']:,} | ÷ floor | p50 / p99" for row in sizes)
    lines += [
        f"| request | {head} | last ÷ first, req/s | last ÷ first, ÷ floor |",
        "|---|" + "---|---|---|" * len(sizes) + "---|---|",
    ]
    floor_change = _ratio(sizes[-1]["floor_ok"], sizes[0]["floor_ok"])
    for key in ["floor_ok", *SCALE_ROWS]:
        cells = []
        for row in sizes:
            to_floor = "—" if key == "floor_ok" else f"{_ratio(row[key], row['floor_ok']):.3f}×"
            cells.append(f"{_rps(row[key])} | {to_floor} | {_ms(row[key])}")
        change = _ratio(sizes[-1][key], sizes[0][key])
        relative = "—" if key == "floor_ok" else f"{change / floor_change:.2f}×"
        lines.append(f"| {t[key].label} | {' | '.join(cells)} | {change:.2f}× | {relative} |")
    largest = sizes[-1]
    live = largest["floor_live"]
    lines += ["", f"At {largest['ratings']:,} ratings, req/s against the live-annotation chapter page:", ""]
    for key in ["chapter", "indicator", "story", "aggregate"]:
        ratio = _live_ratio(largest) if key == "chapter" else _ratio(largest[key], live)
        goal = f" — goal {_met(ratio, LIVE_GOAL)} (like for like)" if key == "chapter" else ""
        lines.append(f"- {t[key].label} (stored aggregates): {_down(ratio, 1)}×{goal}")
    lines.append(
        f"- {t['chapter_deployed'].label}: {_ratio(largest['chapter_deployed'], live):.1f}× "
        "(not like for like: the page cache against a page that caches nothing; not the goal's figure)"
    )
    goals.append(
        (
            f"chapter page vs live annotation at {largest['ratings']:,}",
            _live_ratio(largest),
            LIVE_GOAL,
        )
    )
    met = sum(ratio >= minimum for _label, ratio, minimum in goals)
    lines += ["", f"**Goals met: {met} of {len(goals)}**", ""]
    lines += [f"- {label}: {_down(ratio, 2)}× ({_met(ratio, minimum)})" for label, ratio, minimum in goals]
    return "\n".join(lines) + "\n"


def gunicorn_settings() -> str:
    """The command's flags and what they amount to (the conf file reads the environment)."""
    if not USE_GUNICORN_CONF:
        return f"`{' '.join(GUNICORN_FALLBACK)}` (no gunicorn.conf.py)"
    conf = runpy.run_path(str(GUNICORN_CONF))
    threads = f" × {conf.get('threads', 1)} threads" if conf.get("worker_class") == "gthread" else ""
    workers = f"{conf.get('worker_class', 'sync')}, {conf.get('workers', 1)} workers{threads}"
    return f"`-c gunicorn.conf.py` ({workers})"


def context_now() -> dict:
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        pg = cursor.fetchone()[0].split()[0]
    wrk_version = subprocess.run(["wrk", "--version"], capture_output=True, text=True).stdout.split()  # noqa: S607
    return {
        "when": time.strftime("%Y-%m-%d %H:%M %Z"),
        "cpus": os.cpu_count(),
        "pg": pg,
        "wrk": " ".join(wrk_version[:2]) if wrk_version else "wrk",
        "gunicorn": gunicorn_settings(),
        "load_start": f"{os.getloadavg()[0]:.1f}",
    }


# BENCH_WORKERS=5x4,2x4 (processes x threads, comma-separated): instead of the table,
# gunicorn's process and thread counts compared, each setting's floor view, uncached and
# cached chapter page and rating POST in turn, round after round (BENCH_ROUNDS), so
# that the machine's load weighs on every setting alike; the environment overrides
# gunicorn.conf.py's defaults for each (GUNICORN_WORKERS, GUNICORN_THREADS).
WORKER_SETTINGS = [
    tuple(int(n) for n in setting.split("x"))
    for setting in os.environ.get("BENCH_WORKERS", "").split(",")
    if setting
]


def compare_workers(t: dict[str, Target]) -> None:
    """Each of WORKER_SETTINGS' floor and portal servers, measured in turn in every round."""
    servers: dict[str, list[Server]] = {}
    worker = None
    try:
        for workers, threads in WORKER_SETTINGS:
            os.environ["GUNICORN_WORKERS"], os.environ["GUNICORN_THREADS"] = str(workers), str(threads)
            name = f"{workers}x{threads}"
            servers[name] = start_main_servers(f"floor-{name}", f"cold-{name}", f"cached-{name}")
        worker = start_worker("worker", MAIN_DATABASE_URL)
        for trio in servers.values():
            wait_main_servers(trio)
        runs: dict[str, list[dict[str, dict]]] = {name: [] for name in servers}
        for round_ in range(ROUNDS):
            print(f"==> round {round_ + 1} of {ROUNDS}", flush=True)
            for name, (floor, cold, cached) in servers.items():
                runs[name].append(
                    {
                        "floor": wrk(floor, t["floor_ok"]),
                        "cold": wrk(cold, t["chapter"]),
                        "cached": wrk(cached, t["chapter"]),
                        "rating": wrk(cached, t["rating"]),
                    }
                )
                worker_idle()
    finally:
        for trio in servers.values():
            for server in trio:
                server.stop()
        if worker is not None:
            worker.stop()
    print(
        "\n| processes × threads | floor CPU ms | uncached chapter CPU ms | its ratio (req/s) "
        "| p99 ms | cached chapter CPU ms | rating POST CPU ms |\n|---|---|---|---|---|---|---|"
    )
    for name, rounds in runs.items():
        ratios = [_ratio(run["cold"], run["floor"]) for run in rounds]
        print(
            f"| {name} | {_spread_cell(rounds, 'floor', 'cpu_ms')} "
            f"| {_spread_cell(rounds, 'cold', 'cpu_ms')} "
            f"| {statistics.median(ratios):.3f}× ({min(ratios):.3f}–{max(ratios):.3f}) "
            f"| {_spread_cell(rounds, 'cold', 'p99_ms')} | {_spread_cell(rounds, 'cached', 'cpu_ms')} "
            f"| {_spread_cell(rounds, 'rating', 'cpu_ms')} |"
        )
    print("\nMedian (range) of the rounds; CPU: the servers' processes, PostgreSQL and Redis, per request.")


# BENCH_BASE=<commit> (bench/http checks out its tree): instead of the table, the requests of
# BENCH_ONLY (by default the pages and the rating POST) on that commit's tree and on this
# one, both uncached (BENCH_BASE_CACHED=1: both cached), each under its own gunicorn.conf.py
# (the same settings from the environment) and on one database, one after the other in
# each round (the order alternating from round to round), with their floors in every
# round: what a change did, measured in one run.
BASE_TREE = os.environ.get("BENCH_BASE_TREE", "")
BASE_CACHED = os.environ.get("BENCH_BASE_CACHED", "") not in ("", "0")
BASE_KEYS = ["home", "chapter", "indicator", "story", "rating"]


def compare_trees(t: dict[str, Target]) -> None:
    """BENCH_BASE's tree and this one, each request in turn on both in every round."""
    keys = ONLY or BASE_KEYS
    floor_of = {key: next(floor for floor, block in BLOCKS if key in block) for key in keys}
    base = os.environ["BENCH_BASE"]
    floor = start_floor("floor", MAIN_DATABASE_URL)
    env = portal_env(MAIN_DATABASE_URL, cached=BASE_CACHED)
    trees = {
        # Its own gunicorn.conf.py, which puts its tree first on the path (and so imports its code).
        base: Server(
            "base", "portal.wsgi", env, chdir=Path(BASE_TREE), conf_file=Path(BASE_TREE, GUNICORN_CONF.name)
        ),
        "this tree": Server("this", "portal.wsgi", env),
    }
    worker = start_worker("worker", MAIN_DATABASE_URL)
    runs: dict[str, dict[str, list[dict]]] = {name: {key: [] for key in keys} for name in trees}
    floors: dict[str, list[dict]] = {key: [] for key in set(floor_of.values())}
    try:
        floor.wait_ready("/ok")
        for server in trees.values():
            server.wait_ready("/healthz")
        for round_ in range(ROUNDS):
            print(f"==> round {round_ + 1} of {ROUNDS}", flush=True)
            for key in floors:
                floors[key].append(wrk(floor, t[key]))
            order = list(trees) if round_ % 2 == 0 else list(reversed(trees))
            for key in keys:
                for name in order:
                    runs[name][key].append(wrk(trees[name], t[key]))
                worker_idle()
    finally:
        for server in [floor, *trees.values()]:
            server.stop()
        worker.stop()
    column = "cached" if BASE_CACHED else "uncached"
    names = list(trees)
    print(
        f"\n| request ({column}) | {names[0]}: req/s, ratio to its floor | this tree: req/s, ratio "
        f"| this ÷ {names[0]} (rounds faster) | {names[0]}: CPU ms | this tree: CPU ms |"
    )
    print("|---|---|---|---|---|---|")
    for key in keys:
        floor_rps = [run["rps"] for run in floors[floor_of[key]]]
        cells = []
        for name in names:
            rps = [run["rps"] for run in runs[name][key]]
            ratio = statistics.median([r / f for r, f in zip(rps, floor_rps, strict=True)])
            cells.append(f"{statistics.median(rps):.0f}, {ratio:.3f}×")
        gains = [b["rps"] / a["rps"] for a, b in zip(runs[names[0]][key], runs[names[1]][key], strict=True)]
        faster = sum(gain > 1 for gain in gains)
        cpu = [_median_range([run["cpu_ms"] for run in runs[name][key]]) for name in names]
        print(
            f"| {t[key].label} | {cells[0]} | {cells[1]} "
            f"| {statistics.median(gains):.2f}× ({faster} of {ROUNDS}) | {cpu[0]} | {cpu[1]} |"
        )
    print(
        "\nMedians of the rounds; a ratio to the floor: each round's against that round's floor; "
        "CPU: median (min–max) of the servers' processes, PostgreSQL and Redis, per request."
    )


def _spread_cell(rounds: list[dict[str, dict]], key: str, field: str) -> str:
    """``median (min–max)`` of one figure of one request over the rounds."""
    return _median_range([run[key][field] for run in rounds])


def _median_range(values: list[float]) -> str:
    return f"{statistics.median(values):.2f} ({min(values):.2f}–{max(values):.2f})"


def main() -> None:
    # Stop the servers (finally blocks) when bench/http is interrupted.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    items = report_items()
    t = targets(items)
    if WORKER_SETTINGS:
        compare_workers(t)
        return
    if BASE_TREE:
        compare_trees(t)
        return
    context = context_now()
    print(f"==> load average {context['load_start']}; {DURATION}s per measurement; sizes {SIZES}", flush=True)
    main_results = measure_main(t)
    if ONLY:
        print(json.dumps(main_results, indent=1))
        return
    scale_results = measure_scale(t)
    context["load_end"] = f"{os.getloadavg()[0]:.1f}"
    text = report(items, t, main_results, scale_results, context)
    (BENCH / "http-results.md").write_text(text, encoding="utf-8")
    (RUN_DIR / "http-results.json").write_text(
        json.dumps({"main": main_results, "scale": scale_results}, indent=1), encoding="utf-8"
    )
    print()
    print(text)


if __name__ == "__main__":
    main()
