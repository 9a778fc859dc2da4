"""Worker sizes come from the CPUs a process may use: one single-threaded
inference process per CPU, never more threads in all than CPUs, and OpenMP
threads that sleep rather than spin. Each case runs in a process of its own,
pinned to the CPUs the test gives it."""

import json
import os
import subprocess

import pytest

from tests.services import BIN, ROOT, project_env

SHOW = """
import json, os
import config  # the Celery app, as a worker loads it
from django.conf import settings
print(json.dumps({
    "processes": settings.VITRINE_INFERENCE_PROCESSES,
    "threads": settings.VITRINE_INFERENCE_THREADS,
    "training": settings.VITRINE_TRAINING_THREADS,
    "concurrency": settings.CELERY_WORKER_CONCURRENCY,
    "omp_wait_policy": os.environ.get("OMP_WAIT_POLICY"),
}))
"""
CPUS = sorted(os.sched_getaffinity(0))


def layout(cpus: list[int], **overrides: str) -> dict:
    env = project_env(**overrides)
    if "OMP_WAIT_POLICY" not in overrides:
        env.pop("OMP_WAIT_POLICY", None)
    done = subprocess.run(
        [str(BIN / "python"), "-c", SHOW],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        preexec_fn=lambda: os.sched_setaffinity(0, cpus),
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.splitlines()[-1])


def test_one_single_threaded_inference_process_per_usable_cpu():
    shown = layout(CPUS)
    assert shown["processes"] == len(CPUS)
    assert shown["threads"] == 1
    assert shown["concurrency"] == len(CPUS)
    assert shown["training"] == len(CPUS)


def test_a_process_pinned_to_one_cpu_gets_one_process_of_one_thread():
    shown = layout(CPUS[:1])
    assert (shown["processes"], shown["threads"], shown["training"]) == (1, 1, 1)


@pytest.mark.skipif(len(CPUS) < 2, reason="needs two CPUs")
def test_fewer_processes_share_the_cpus_out_as_threads():
    shown = layout(CPUS, VITRINE_INFERENCE_PROCESSES="1")
    assert (shown["processes"], shown["threads"]) == (1, len(CPUS))


def test_explicit_threads_are_used_as_given():
    shown = layout(CPUS, VITRINE_INFERENCE_PROCESSES="1", VITRINE_INFERENCE_THREADS="3")
    assert (shown["processes"], shown["threads"]) == (1, 3)


def test_openmp_waits_passively_unless_the_environment_says_otherwise():
    assert layout(CPUS)["omp_wait_policy"] == "PASSIVE"
    assert layout(CPUS, OMP_WAIT_POLICY="ACTIVE")["omp_wait_policy"] == "ACTIVE"
