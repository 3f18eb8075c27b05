"""The limits' counters and the refresh marks on the connection each thread keeps for them.

On the real Redis of the run: they count and mark as the cache would; a server that
forgot the scripts, closed the connection, or went away and came back costs no count
(while it is away, nothing is counted: callers fail open).
"""

import threading

from django.core.cache import cache

from feedback import cache_batch


def _hit(key: str = "c") -> list[int] | None:
    return cache_batch.counters_hit([(key, 60)])


def test_counters_count_and_expire_and_marks_are_added_once(redis_client):
    assert _hit() == [1]
    assert cache_batch.counters_hit([("c", 60), ("d", 30)]) == [2, 1]
    assert 55 <= redis_client.ttl(cache.make_key("c")) <= 60
    assert 25 <= redis_client.ttl(cache.make_key("d")) <= 30
    assert cache_batch.marks_add(["m1", "m2"], 60) == [True, True]
    assert cache_batch.marks_add(["m2", "m3"], 60) == [False, True]
    assert cache.get("m1") == 1  # django-redis reads the script's mark as the integer 1


def test_a_server_that_forgot_the_scripts_or_closed_the_connection_still_counts(redis_client):
    assert _hit() == [1]
    redis_client.script_flush()
    assert _hit() == [2]
    redis_client.client_kill_filter(_type="normal", skipme=True)
    assert _hit() == [3]


def test_while_redis_is_down_nothing_counts_and_afterwards_it_counts_again(redis_server):
    assert _hit() == [1]
    redis_server.stop()
    assert _hit() is None
    assert cache_batch.marks_add(["m"], 60) == [None]
    redis_server.start()
    # A new server (nothing persisted): the old socket is dead and the scripts unknown.
    assert _hit() == [1]
    assert cache_batch.marks_add(["m"], 60) == [True]


def test_each_thread_counts_on_its_own_connection():
    counts: list[int] = []

    def hit() -> None:
        for _ in range(50):
            counts.extend(_hit())

    threads = [threading.Thread(target=hit) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(counts) == list(range(1, 201))
