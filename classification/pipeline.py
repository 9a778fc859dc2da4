"""How the classification pipeline is doing: reads for /health/ and the dashboard.

What is owed (the outbox, classification.services.dispatch), how long the
oldest photo has waited, what waits in each queue, and whether a worker ran the
upkeep lately (its heartbeat). The pipeline is *stalled* when photos have
waited longer than ``VITRINE_READY_MAX_WAIT_SECONDS`` and no worker was seen
within ``VITRINE_WORKER_STALE_SECONDS``; without a broker (tasks in-process)
it never is.
"""

import logging
from dataclasses import asdict, dataclass
from datetime import datetime

from django.conf import settings
from django.db.models import Count, Max, Min
from django.utils import timezone

from classification.models import ClassificationRequest, WorkerHeartbeat
from config.celery import app, queue_depths

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class PipelineState:
    in_process: bool
    waiting: int
    oldest_waiting_seconds: float | None
    worker_seen_seconds_ago: float | None
    worker_alive: bool
    stalled: bool
    # None when the broker could not be asked (or there is none).
    queues: dict[str, int] | None

    def as_dict(self) -> dict:
        return asdict(self)


def _seconds_since(then: datetime | None, now: datetime) -> float | None:
    return None if then is None else round((now - then).total_seconds(), 1)


def pipeline_state(*, with_queues: bool = True) -> PipelineState:
    """The pipeline's figures now; ``with_queues`` asks the broker for each
    queue's depth (a round trip)."""
    now = timezone.now()
    in_process = bool(app.conf.task_always_eager)
    owed = ClassificationRequest.objects.aggregate(
        oldest=Min("created_at"), waiting=Count("id")
    )
    waiting = owed["waiting"]
    seen = WorkerHeartbeat.objects.aggregate(last=Max("seen_at"))["last"]
    oldest = _seconds_since(owed["oldest"], now)
    seen_ago = _seconds_since(seen, now)
    alive = seen_ago is not None and seen_ago <= settings.VITRINE_WORKER_STALE_SECONDS
    queues = None
    if with_queues and not in_process:
        try:
            queues = queue_depths()
        except Exception as error:  # the broker's own errors vary by transport
            logger.warning("could not read the queue depths: %s", error)
    stalled = (
        not in_process
        and not alive
        and oldest is not None
        and oldest > settings.VITRINE_READY_MAX_WAIT_SECONDS
    )
    return PipelineState(
        in_process=in_process,
        waiting=waiting,
        oldest_waiting_seconds=oldest,
        worker_seen_seconds_ago=seen_ago,
        worker_alive=alive,
        stalled=stalled,
        queues=queues,
    )
