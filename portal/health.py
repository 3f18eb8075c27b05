"""``GET /healthz``: can this process reach its database and Redis?"""

from django.conf import settings
from django.db import DatabaseError, connection
from django.http import HttpRequest, JsonResponse
from redis import Redis
from redis.exceptions import RedisError


def _database_ok() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            return cursor.fetchone() == (1,)
    except DatabaseError:
        return False


def _redis_status() -> str:
    if not settings.REDIS_URL:
        return "not configured"
    try:
        client = Redis.from_url(settings.REDIS_URL, socket_connect_timeout=1, socket_timeout=1)
        return "ok" if client.ping() else "unreachable"
    except RedisError:
        return "unreachable"


def healthz(request: HttpRequest) -> JsonResponse:
    database = "ok" if _database_ok() else "unreachable"
    redis = _redis_status()
    healthy = database == "ok" and redis in {"ok", "not configured"}
    return JsonResponse(
        {"status": "ok" if healthy else "error", "database": database, "redis": redis},
        status=200 if healthy else 503,
    )
