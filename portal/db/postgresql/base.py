"""Django's PostgreSQL backend, health-checking a persistent connection only when it has been idle.

With ``CONN_HEALTH_CHECKS`` Django sends ``SELECT 1`` before the first query of every
request that reuses a connection, so that a connection PostgreSQL dropped (a restart, a
failover, an idle timeout) is replaced instead of failing the request. Under load that is
one more round trip per request, for a connection that answered the previous request a
few milliseconds earlier: on a rating POST, a sixth of what the request sends to the
database.

``CONN_HEALTH_CHECK_DELAY`` (seconds, in the database's settings) skips the check for a
connection that served a request without a database error less than that long ago, as
PgBouncer's ``server_check_delay`` does for its server connections. A connection idle
for longer is checked as before, and one that had an error is checked by Django at the
end of its request (``close_if_unusable_or_obsolete``), whatever the delay. What this
trades: a connection dropped within the delay after its last request fails the next
query on it (an error for that request, then Django closes it) instead of being
replaced before it. ``0`` is Django's own behaviour, a check before every request.
"""

import time

from django.db.backends.postgresql import base


class DatabaseWrapper(base.DatabaseWrapper):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # When the connection last ended a request in which it answered without a database
        # error (monotonic seconds), and whether it has been used since the last request ended.
        self.answered_at: float | None = None
        self.used = False

    def connect(self) -> None:
        super().connect()
        self.answered_at = None

    def _cursor(self, name=None):
        cursor = super()._cursor(name)
        self.used = True
        return cursor

    def close_if_unusable_or_obsolete(self) -> None:
        # Django calls this when a request starts and when it ends (close_old_connections).
        answered = self.connection is not None and self.used and not self.errors_occurred
        super().close_if_unusable_or_obsolete()
        self.used = False
        if answered and self.connection is not None:
            self.answered_at = time.monotonic()

    def close_if_health_check_failed(self) -> None:
        delay = self.settings_dict.get("CONN_HEALTH_CHECK_DELAY", 0)
        if (
            delay
            and self.connection is not None
            and self.health_check_enabled
            and not self.health_check_done
            and self.answered_at is not None
            and time.monotonic() - self.answered_at < delay
        ):
            self.health_check_done = True
            return
        super().close_if_health_check_failed()
