"""``/health/``: is each part the platform needs answering?

Anyone (a load balancer, a monitor) learns whether the platform is up: 200 with
``{"status": "ok"}``, or 503 with ``{"status": "unavailable"}``. What each
check found (versions, backends, error messages) is for platform admins only:
signed in, or with a platform admin's API token (``Authorization: Token ...``),
the pipeline's figures included (queue depths, photos waiting and the oldest's
age, the last worker heartbeat: classification.pipeline).
"""

import logging
import sys

from django.conf import settings
from django.core.files.storage import default_storage
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from rest_framework.exceptions import AuthenticationFailed

from accounts.api.authentication import ApiTokenAuthentication
from accounts.roles import Capability, user_can

logger = logging.getLogger(__name__)


def _check_database() -> dict:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return {"ok": True, "vendor": connection.vendor}


def _check_storage() -> dict:
    default_storage.exists("health/probe")
    backend = settings.STORAGES["default"]["BACKEND"].rsplit(".", 1)[-1]
    return {"ok": True, "backend": backend}


def _check_broker() -> dict:
    if settings.CELERY_TASK_ALWAYS_EAGER:
        return {"ok": True, "mode": "in-process (no broker configured)"}
    from config.celery import app

    with app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=1, timeout=2)
    return {"ok": True, "mode": "broker"}


def _check_model() -> dict:
    from classification.selectors import model_version_active

    version = model_version_active()
    if version is None:
        return {
            "ok": True,
            "active_version": None,
            "note": "The default version is registered on the first classification.",
        }
    artifact_ok = default_storage.exists(version.artifact.name)
    # Look without importing: a web process that never classified has no torch.
    registry = sys.modules.get("classification.ml.registry")
    loaded = registry is not None and str(version.pk) in registry.loaded_keys()
    return {
        "ok": artifact_ok,
        "active_version": version.name,
        "artifact_stored": artifact_ok,
        "loaded_in_this_process": loaded,
    }


def _check_pipeline() -> dict:
    """Photos waiting, queue depths, the last worker's heartbeat; fails when
    photos wait past VITRINE_READY_MAX_WAIT_SECONDS with no live worker."""
    from classification.pipeline import pipeline_state

    state = pipeline_state()
    return {"ok": not state.stalled, **state.as_dict()}


CHECKS = {
    "database": _check_database,
    "storage": _check_storage,
    "broker": _check_broker,
    "model": _check_model,
    "pipeline": _check_pipeline,
}


def _may_see_details(request: HttpRequest) -> bool:
    """Is the caller a platform admin, by session or by API token?"""
    if user_can(request.user, Capability.HEALTH_DETAILS_VIEW):
        return True
    try:
        authenticated = ApiTokenAuthentication().authenticate(request)
    except AuthenticationFailed:
        return False  # a bad token gets what anyone gets
    return authenticated is not None and user_can(
        authenticated[0], Capability.HEALTH_DETAILS_VIEW
    )


def _answer(request: HttpRequest, checks: dict, ok_word: str) -> JsonResponse:
    """Run the checks: 200 when every one passes, else 503; platform admins
    also read what each check found."""
    results = {}
    for name, check in checks.items():
        try:
            results[name] = check()
        except Exception as error:  # any failure is the answer, not a crash
            logger.warning("health check %s failed: %s", name, error)
            results[name] = {"ok": False, "error": f"{type(error).__name__}: {error}"}
    healthy = all(result["ok"] for result in results.values())
    body = {"status": ok_word if healthy else "unavailable"}
    if _may_see_details(request):
        body["checks"] = results
    return JsonResponse(body, status=200 if healthy else 503)


@never_cache
@require_GET
def health(request: HttpRequest) -> JsonResponse:
    """Liveness of every part the platform needs, the model included."""
    return _answer(request, CHECKS, "ok")


def _check_migrations() -> dict:
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    pending = executor.migration_plan(executor.loader.graph.leaf_nodes())
    return {"ok": not pending, "pending": len(pending)}


READY_CHECKS = {
    "database": _check_database,
    "migrations": _check_migrations,
    "storage": _check_storage,
    "broker": _check_broker,
    "pipeline": _check_pipeline,
}


@never_cache
@require_GET
def health_ready(request: HttpRequest) -> JsonResponse:
    """Readiness: may this process take traffic? 200, or 503 naming what is not.

    What a web process needs to answer requests: the database with every
    migration applied, the storage and the broker, and a pipeline that is not
    stalled (photos waiting past the threshold with no live worker: uploads
    would be stored and never classified). The model is left to ``/health/``:
    web processes load it only for ``/api/v1/classify/``.
    """
    return _answer(request, READY_CHECKS, "ready")
