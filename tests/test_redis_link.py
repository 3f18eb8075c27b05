"""Reads of the page cache on each thread's own connection (``indicators.redis_link``).

On the real Redis of the run: they give exactly what the cache's own ``get_many`` gives;
a Redis gone away answers nothing (misses), and one back answers again; a thread connects
once for all its reads and the submissions' scripts, not once a command.
"""

import threading

import pytest
from django.core.cache import caches

from feedback import cache_batch
from indicators import redis_link
from indicators.cache import ALIAS, _Entry


@pytest.fixture
def pages():
    cache = caches[ALIAS]
    cache.clear()
    yield cache
    cache.clear()


def _connections_made(redis_client) -> int:
    """Connections Redis has accepted since it started."""
    return redis_client.info("stats")["total_connections_received"]


def test_what_is_read_is_what_the_cache_reads(pages):
    assert redis_link.redis_cache(ALIAS) is pages  # the run's cache is Redis
    entry = _Entry(versions={"report": 17}, status=200, headers=[("Vary", "Cookie")], body=b"<p>", etag='"e"')
    pages.set_many({"v:report": 1_796_000_000_000_000, "e:page": entry, "text": "留白增绿", "zero": 0})
    keys = ["e:page", "v:report", "missing", "text", "zero"]
    read = redis_link.get_many(ALIAS, keys)
    assert read == pages.get_many(keys)
    assert read["v:report"] == 1_796_000_000_000_000 and read["zero"] == 0
    assert read["e:page"] == entry and read["text"] == "留白增绿"
    assert "missing" not in read
    assert redis_link.get_many(ALIAS, []) == {}


def test_a_redis_gone_away_answers_misses_and_one_back_answers_again(pages, redis_server):
    pages.set("v:report", 5)
    assert redis_link.get_many(ALIAS, ["v:report"]) == {"v:report": 5}
    redis_server.stop()
    assert redis_link.get_many(ALIAS, ["v:report"]) == {}
    redis_server.start()
    # A new server (nothing persisted) on the same port: the held socket is dead.
    assert redis_link.get_many(ALIAS, ["v:report"]) == {}
    pages.set("v:report", 6)
    assert redis_link.get_many(ALIAS, ["v:report"]) == {"v:report": 6}


def test_a_socket_the_server_closed_is_opened_again(pages, redis_client):
    pages.set("v:report", 7)
    assert redis_link.get_many(ALIAS, ["v:report"]) == {"v:report": 7}
    redis_client.client_kill_filter(_type="normal", skipme=True)
    assert redis_link.get_many(ALIAS, ["v:report"]) == {"v:report": 7}


def test_each_thread_connects_once_for_all_its_reads_and_scripts(pages, redis_client):
    pages.set("v:report", 1)

    def turns() -> None:
        # The page cache's reads and the default cache's scripts, in turn.
        for _ in range(30):
            assert redis_link.get_many(ALIAS, ["v:report"]) == {"v:report": 1}
            assert cache_batch.counters_hit([("turns", 60)]) is not None

    turns()  # this thread's link, made at most once
    before = _connections_made(redis_client)
    turns()
    assert _connections_made(redis_client) == before
    threads = [threading.Thread(target=turns) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # One connection for each new thread, whatever the number of turns: both caches are on
    # one Redis, so django-redis gives them one pool, and a thread one link to it.
    assert _connections_made(redis_client) - before == 3
    assert cache_batch.counters_hit([("turns", 60)]) == [151]
