"""Several small writes to the shared cache in one round trip.

A submission counts itself against two or three limits and marks the
aggregates it changes "refresh queued". Through Django's cache API each is
one or two round trips to Redis (``add``, then an ``incr`` that runs a Lua
script); under a storm of submissions those round trips are a good part of
a request. Here they go out together, to the Redis behind the ``default``
cache with the keys that cache would use, as one command: a small Lua script
run by its digest (``EVALSHA``). redis-py's own work per command (packing,
parsing, its bookkeeping) made a pipeline of six commands cost a submission
more than the round trip itself; and its client's work around even one command
(the pool's checks, retries, metrics) about as much again, so the scripts go
out on a connection each thread keeps (``indicators.redis_link``).

Other cache backends (the local-memory cache of the one-machine first look)
get the same answers through the plain cache API, one key at a time.

Like the cache itself (``IGNORE_EXCEPTIONS``), an unreachable Redis is not an
error here: the functions answer ``None`` and callers fail open.
"""

import contextlib
import hashlib

from django.core.cache import caches
from django_redis import get_redis_connection
from django_redis.cache import RedisCache
from redis.exceptions import NoScriptError, RedisError

from indicators import redis_link

# INCR each key, then EXPIRE … NX with its TTL (ARGV, in the same order): see counters_hit.
_COUNTERS_HIT = """
local counts = {}
for i, key in ipairs(KEYS) do
  counts[i] = redis.call('INCR', key)
  redis.call('EXPIRE', key, ARGV[i], 'NX')
end
return counts
"""
# SET key 1 EX ttl NX for each key (ARGV[1]: the TTL): 1 where the mark is new, else 0.
_MARKS_ADD = """
local added = {}
for i, key in ipairs(KEYS) do
  added[i] = redis.call('SET', key, '1', 'EX', ARGV[1], 'NX') and 1 or 0
end
return added
"""
# The scripts' names in Redis's script cache (SHA-1, as EVALSHA wants).
_DIGESTS = {
    source: hashlib.sha1(source.encode(), usedforsecurity=False).hexdigest()
    for source in (_COUNTERS_HIT, _MARKS_ADD)
}


def _script_run(cache: RedisCache, source: str, keys: list[str], args: list) -> list:
    """``EVALSHA`` of ``source``, ``EVAL`` when Redis does not have it yet (a new or
    restarted server; ``EVAL`` caches it there)."""
    try:
        return redis_link.command(cache, "EVALSHA", _DIGESTS[source], len(keys), *keys, *args)
    except NoScriptError:
        return redis_link.command(cache, "EVAL", source, len(keys), *keys, *args)


def counters_hit(counters: list[tuple[str, int]]) -> list[int] | None:
    """Add one to each ``(key, ttl)`` counter; their new values, or None if the cache cannot count.

    A counter is created by its first hit and lives ``ttl`` seconds from then;
    later hits never extend it (``EXPIRE … NX``, Redis 7), so a fixed window
    ends when it should however busy it is. (The script runs whole or not at
    all; should a counter still lack its expiry, the next hit gives it one.) A
    limit's key names its window, so a stale counter never counts again.
    """
    if not counters:
        return []
    cache = redis_link.redis_cache("default")
    if cache is None:
        return _counters_hit_one_by_one(counters)
    keys = [cache.make_key(key) for key, _ttl in counters]
    try:
        replies = _script_run(cache, _COUNTERS_HIT, keys, [ttl for _key, ttl in counters])
    except RedisError:
        return None
    return [int(count) for count in replies]


def _counters_hit_one_by_one(counters: list[tuple[str, int]]) -> list[int] | None:
    cache = caches["default"]
    counts = []
    for key, ttl in counters:
        if cache.add(key, 1, ttl):
            counts.append(1)
            continue
        try:
            counts.append(cache.incr(key))
        except ValueError:  # expired between the two calls
            return None
    return counts


def counter_undo(key: str) -> None:
    """Take back one hit of a counter (a request that turned out not to count)."""
    cache = redis_link.redis_cache("default")
    if cache is not None:
        # The counter expires anyway; one hit too many errs on the safe side.
        with contextlib.suppress(RedisError):
            get_redis_connection("default").decr(cache.make_key(key))
        return
    with contextlib.suppress(ValueError):  # already expired: nothing to take back
        caches["default"].decr(key)


def marks_add(keys: list[str], ttl: int) -> list[bool | None]:
    """``cache.add(key, 1, ttl)`` for each key, in one round trip: True where the mark
    is new, False where it was already there, None for all when the cache is unreachable."""
    cache = redis_link.redis_cache("default")
    if cache is None:
        return [caches["default"].add(key, 1, ttl) for key in keys]
    # The script writes "1", the value django-redis itself writes for the integer 1, so
    # cache.get reads it back.
    try:
        replies = _script_run(cache, _MARKS_ADD, [cache.make_key(key) for key in keys], [ttl])
    except RedisError:
        return [None] * len(keys)
    return [bool(reply) for reply in replies]
