"""Several small writes to the shared cache in one round trip.

A submission counts itself against two or three limits and marks the
aggregates it changes "refresh queued". Through Django's cache API each is
one or two round trips to Redis (``add``, then an ``incr`` that runs a Lua
script); under a storm of submissions those round trips are a good part of
a request. Here they go out together: one pipeline on the Redis behind the
``default`` cache, with the keys that cache would use.

Other cache backends (the local-memory cache of the one-machine first look)
get the same answers through the plain cache API, one key at a time.

Like the cache itself (``IGNORE_EXCEPTIONS``), an unreachable Redis is not an
error here: the functions answer ``None`` and callers fail open.
"""

import contextlib

from django.core.cache import caches
from django_redis import get_redis_connection
from django_redis.cache import RedisCache
from redis.exceptions import RedisError


def _redis_cache():
    """The Redis behind the default cache, or None when that cache is not Redis."""
    # ``caches[...]``, not the ``cache`` proxy: isinstance must see the backend itself.
    return caches["default"] if isinstance(caches["default"], RedisCache) else None


def _pipeline():
    # No MULTI/EXEC: each command is safe on its own (SET NX; INCR, then EXPIRE NX with
    # every hit, see counters_hit).
    return get_redis_connection("default").pipeline(transaction=False)


def counters_hit(counters: list[tuple[str, int]]) -> list[int] | None:
    """Add one to each ``(key, ttl)`` counter; their new values, or None if the cache cannot count.

    A counter is created by its first hit and lives ``ttl`` seconds from then;
    later hits never extend it (``EXPIRE … NX``, Redis 7), so a fixed window
    ends when it should however busy it is. A counter that missed its expiry
    (the connection lost between the two commands) gets it with the next hit,
    and a limit's key names its window, so a stale counter never counts again.
    """
    if not counters:
        return []
    cache = _redis_cache()
    if cache is None:
        return _counters_hit_one_by_one(counters)
    pipe = _pipeline()
    for key, ttl in counters:
        full_key = cache.make_key(key)
        pipe.incr(full_key)
        pipe.expire(full_key, ttl, nx=True)
    try:
        replies = pipe.execute()
    except RedisError:
        return None
    return [int(count) for count in replies[::2]]


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
    cache = _redis_cache()
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
    cache = _redis_cache()
    if cache is None:
        return [caches["default"].add(key, 1, ttl) for key in keys]
    pipe = _pipeline()
    for key in keys:
        # The value django-redis itself writes for the integer 1, so cache.get reads it back.
        pipe.set(cache.make_key(key), 1, ex=ttl, nx=True)
    try:
        replies = pipe.execute()
    except RedisError:
        return [None] * len(keys)
    return [bool(reply) for reply in replies]
