"""The Celery application: configured from Django settings (``CELERY_*``).

``RedisTransport`` is the broker transport the settings choose when Redis is the
broker (``CELERY_BROKER_TRANSPORT``). It is kombu's own, with one guard that keeps
a worker alive through a Redis outage; the docstring of ``_OutageSafeQoS`` says why.
"""

import logging
import os

from celery import Celery
from kombu.transport import redis as kombu_redis

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

logger = logging.getLogger(__name__)


class _OutageSafeQoS(kombu_redis.QoS):
    """Does not try to reach Redis to hand messages back once the connection is gone.

    When the worker loses Redis (celery 5.7, kombu 5.7), the consumer closes its
    channel twice, both at once when the loss is noticed
    (``Consumer.on_connection_error_after_connected``): first in
    ``Connection.collect()``, then in ``Connection.close()``, after ``collect()``
    has detached the transport from its connection (``transport.client = None``).
    Either close may be the one that puts the messages the worker holds back on
    the queue (``restore_unacked``): every refresh is queued with a countdown, so
    under load there is always one such message. Which one it is depends on the
    socket on which the worker notices the loss first:

    - on another one (the broadcast channel's): the first close stops half-way,
      at the channel's pending BRPOP read failing on the dead socket, and the
      second close restores. Building a Redis client then reads
      ``transport.client.hostname``, and the worker died with "Unrecoverable
      error: AttributeError('NoneType' object has no attribute 'hostname')". No
      setting avoids that path.
    - on the BRPOP socket: the first close gets as far as restoring, and that
      fails for want of Redis (a connection error that kombu swallows after
      logging "Restoring N unacknowledged message(s)", which did not happen).

    Both paths log the same warning instead, once. Not restoring them loses
    nothing: the Redis transport keeps every delivered, unacknowledged message in
    its ``unacked`` hash until it is acknowledged, and workers put those back on
    the queue once ``visibility_timeout`` has passed (the same way a killed
    worker's messages come back). The periodic reconciliation repairs the
    aggregates meanwhile.
    """

    def restore_unacked(self, client=None):
        transport = self.channel.connection
        if client is None and (transport is None or transport.client is None):
            self._left_in_redis()
            self._delivered.clear()
            return
        try:
            super().restore_unacked(client)
        except self.channel.connection_errors:
            # Each message is restored in a transaction of its own: those not
            # restored are still in the unacked hash. Raised on, as without this
            # guard: kombu's channel close stops there and the connection close
            # swallows it.
            self._left_in_redis()
            raise

    def _left_in_redis(self) -> None:
        logger.warning(
            "Broker connection lost: %d unacknowledged message(s) stay in Redis "
            "and are redelivered after the visibility timeout",
            len(self._delivered),
        )


class _Channel(kombu_redis.Channel):
    QoS = _OutageSafeQoS


class RedisTransport(kombu_redis.Transport):
    Channel = _Channel


app = Celery("portal")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
