"""The Celery application.

With no ``CELERY_BROKER_URL`` the settings make tasks run in-process (eager), so
the embedded stack needs no broker. Inference and training use their own queues.
"""

import functools
import logging
import os

from celery import Celery
from celery.signals import worker_init

from config.hardware import prefer_passive_waits

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
# Before any task module loads PyTorch, in this process and the pool's children.
prefer_passive_waits()

app = Celery("vitrine")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
logger = logging.getLogger(__name__)


def guard_restore_unacked() -> None:
    """Keep a worker alive when kombu restores unacknowledged Redis messages on
    a connection already gone.

    On a broker loss kombu's Redis ``QoS.restore_unacked`` may run after its
    connection was closed and raise ``AttributeError: 'NoneType' object has no
    attribute 'hostname'``, which ends the worker process. Nothing is lost by
    not restoring there: the messages stay in Redis's unacked set (handed out
    again after the visibility timeout) and the upkeep dispatches every photo
    still owed. So the error is logged, clearly, and the worker reconnects.
    """
    from kombu.transport import redis as kombu_redis

    original = kombu_redis.QoS.restore_unacked
    if getattr(original, "guarded", False):
        return

    @functools.wraps(original)
    def restore_unacked(qos, client=None):
        try:
            return original(qos, client)
        except AttributeError as error:
            logger.error(
                "Broker connection lost before %s unacknowledged message(s) could "
                "be restored (%s); the worker carries on: Redis hands them out "
                "again after the visibility timeout, and the upkeep dispatches "
                "what is owed.",
                len(qos._delivered),
                error,
            )
            qos._delivered.clear()

    restore_unacked.guarded = True
    kombu_redis.QoS.restore_unacked = restore_unacked


@worker_init.connect
def _on_worker_init(**kwargs) -> None:
    guard_restore_unacked()


# The queues the workers consume (CELERY_TASK_ROUTES sends tasks to them).
QUEUES = ("default", "inference", "training")


def queue_depths(*, timeout: float = 2.0) -> dict[str, int]:
    """How many messages wait in each queue, not counting those a worker holds.

    Asks the broker (a passive declare: nothing is created); a queue the broker
    does not know yet holds nothing. Raise the broker's error when it cannot be
    reached.
    """
    from kombu.exceptions import ChannelError

    depths = {}
    with app.connection_for_read() as conn:
        conn.ensure_connection(max_retries=1, timeout=timeout)
        for name in QUEUES:
            channel = conn.channel()
            try:
                depths[name] = channel.queue_declare(
                    queue=name, passive=True
                ).message_count
            except ChannelError:
                depths[name] = 0
            finally:
                channel.close()
    return depths
