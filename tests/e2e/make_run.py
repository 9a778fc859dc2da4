"""Start what `make run` starts (its commands read from `make -n run`) on a
scratch var/ folder and a free loopback port."""

import os
import re
import shlex
import signal
import subprocess
import sys
from contextlib import contextmanager, suppress
from pathlib import Path

from tests.services import ROOT, free_port, project_env, running, wait_for_port


def group_members(pgid: int) -> list[int]:
    """The live processes of a process group."""
    pids = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid and fields[0] != "Z":
            pids.append(int(stat.parent.name))
    return pids


def make_run_commands(port: int) -> list[list[str]]:
    """The Python commands `make run` runs (from `make -n`), with this
    interpreter; the last one serves."""
    dry_run = subprocess.run(
        ["make", "-n", "run", "HOST=127.0.0.1", f"PORT={port}"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    commands = [
        [sys.executable, *shlex.split(line)[1:]]
        for line in dry_run.splitlines()
        if line.startswith(".venv/bin/python ") and " pip " not in line
    ]
    assert "config.run_local" in commands[-1], dry_run
    return commands


@contextmanager
def run_local(tmp_path: Path, **env_overrides: str):
    """What `make run` runs (migrate, seed_demo, config.run_local) on a scratch
    var/ folder; yields the site's address, the supervisor and the pids it
    started."""
    env = project_env(VITRINE_VAR_DIR=str(tmp_path / "var"), **env_overrides)
    port = free_port()
    *setup, serve = make_run_commands(port)
    for command in setup:
        subprocess.run(command, cwd=ROOT, env=env, check=True, capture_output=True)
    log_path = tmp_path / "run_local.log"
    pids = {}
    # Stopped as Ctrl-C stops it: SIGINT (tests.services.stop_process).
    with running(serve, env=env, log_name=log_path.name, log_dir=tmp_path) as proc:
        try:
            wait_for_port(port, timeout=90, proc=proc)
            found = re.search(
                r"\(pid (\d+)\), worker \(pid (\d+)\)", log_path.read_text()
            )
            assert found, log_path.read_text()
            pids = {"web": int(found[1]), "worker": int(found[2])}
            yield f"http://127.0.0.1:{port}", proc, pids
        finally:
            proc.send_signal(signal.SIGINT)
            with suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=60)
            for pgid in pids.values():  # never leave one behind, even on failure
                if group_members(pgid):
                    os.killpg(pgid, signal.SIGKILL)
    print(log_path.read_text()[-3000:])
