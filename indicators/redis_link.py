"""Commands to the Redis behind a django-redis cache, on a connection each thread keeps.

The requests that matter most on launch day make one or two small commands to
Redis each: a cached page's ``MGET`` of its entry and its tags' versions
(``indicators.cache``), a submission's scripts (``feedback.cache_batch``). redis-py's
client and pool do a good deal around each command (taking a connection from the
pool and checking it for unread data with a poll, their retry wrapper, metrics,
locks), and django-redis more (a key object per key, a dict from them back to the
keys): for a cached page, several times the work of the command itself. Here the
command goes out on a connection this thread holds rather than takes from the
pool for each command, made as the cache's pool makes its connections (same
class and arguments: address, timeouts…), with the keys made and the values read
back exactly as the cache makes and reads them.

One connection per thread and connection pool (django-redis gives every cache on
one Redis URL one pool, so the page cache's reads and the submissions' scripts
share it), per process too: a forked child never shares its parent's socket.
After any error on it redis-py disconnects it; the next command connects again.
"""

import os
import threading
from collections.abc import Iterable
from typing import Any

from django.core.cache import caches
from django_redis.cache import RedisCache
from redis.connection import AbstractConnection
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError, ResponseError


def redis_cache(alias: str) -> RedisCache | None:
    """The cache ``alias`` when it is django-redis's, else None (the local-memory cache of
    the one-machine first look)."""
    # ``caches[...]``, not the ``cache`` proxy: isinstance must see the backend itself.
    cache = caches[alias]
    return cache if isinstance(cache, RedisCache) else None


class _Link:
    """A connection of one thread to the Redis of one pool, and whether its last command was
    answered: a later connection error may then be a socket the server closed meanwhile,
    worth one more try on a new one."""

    def __init__(self, connection: AbstractConnection) -> None:
        self.connection = connection
        self.answered = False


class _Links(threading.local):
    """This thread's links, by their pool, and the process they were made in."""

    def __init__(self) -> None:
        self.pid = 0
        self.by_pool: dict[int, tuple[object, _Link]] = {}


_links = _Links()


def _link(cache: RedisCache) -> _Link:
    pool = cache.client.get_client(write=True).connection_pool
    links = _links
    if links.pid != os.getpid():
        links.pid, links.by_pool = os.getpid(), {}
    held = links.by_pool.get(id(pool))
    if held is None or held[0] is not pool:
        held = links.by_pool[id(pool)] = (pool, _Link(pool.connection_class(**pool.connection_kwargs)))
    return held[1]


def command(cache: RedisCache, *args: Any) -> Any:
    """Send one command to the cache's Redis on this thread's connection and read its reply.
    A socket that was open but is dead (the server restarted or closed it) is reconnected
    once. Raises redis-py's errors."""
    link = _link(cache)
    answered, link.answered = link.answered, False
    try:
        try:
            link.connection.send_command(*args)
            reply = link.connection.read_response()
        except RedisConnectionError:
            if not answered:
                raise
            link.connection.send_command(*args)  # redis-py disconnected it: connects anew
            reply = link.connection.read_response()
    except ResponseError:
        link.answered = True  # the server answered, with an error
        raise
    link.answered = True
    return reply


def get_many(alias: str, keys: Iterable[str]) -> dict[str, Any]:
    """``caches[alias].get_many(keys)``, in one ``MGET`` on this thread's connection. A
    Redis that cannot be reached answers nothing (every key a miss), as the cache does with
    ``IGNORE_EXCEPTIONS``."""
    keys = list(keys)
    cache = redis_cache(alias)
    if cache is None:
        return caches[alias].get_many(keys)
    if not keys:
        return {}
    # As django-redis's client makes a key (``DefaultClient.make_key``) and reads a value.
    key_func, prefix, version = cache.key_func, cache.key_prefix, cache.version
    try:
        values = command(cache, "MGET", *(key_func(key, prefix, version) for key in keys))
    except RedisError:
        return {}
    decode = cache.client.decode
    return {key: decode(value) for key, value in zip(keys, values, strict=True) if value is not None}
