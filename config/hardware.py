"""How many processes and threads this host's CPUs allow, read once at start-up.

Plain Python, no Django: the settings ask here, and so does the Celery app before
any worker process imports PyTorch.
"""

import os


def usable_cpus() -> int:
    """The CPUs this process may run on (a container or ``taskset`` may limit it)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def inference_layout(
    *, cpus: int, processes: int = 0, threads: int = 0
) -> tuple[int, int]:
    """Return (pool processes, threads each) for classifying on ``cpus`` CPUs.

    0 means "derive it". One single-threaded process per CPU by default: a
    photo's network is too small to split well over threads (each layer ends in
    a barrier, which stalls when anything else shares the cores), and with
    several processes the cores stay busy while one of them waits for the
    database. Derived values never ask for more threads than there are CPUs.
    """
    processes = processes if processes > 0 else cpus
    threads = threads if threads > 0 else max(1, cpus // processes)
    return processes, threads


def prefer_passive_waits() -> None:
    """Make OpenMP threads sleep, not spin, between parallel regions.

    Spinning threads of several processes on the same cores take the CPU from
    each other. OpenMP reads the variable when PyTorch loads, so this must run
    before the first ``import torch``; an explicit value in the environment wins.
    """
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
