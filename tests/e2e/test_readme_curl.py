"""README.md's "A session with curl", run command by command against what
`make run` starts and seeds, and each answer compared with the README's.

The commands are read from the README; only the address (a free loopback port
instead of 8000) and `.venv/bin/python` (this interpreter) are put in. An
answer matches when every `"key": value` the README shows is in it, at any
depth: a string ending in "…" matches by its beginning, a number to the
decimals shown.
"""

import json
import re
import subprocess
import sys
import time

import pytest

from tests.e2e.make_run import run_local
from tests.services import ROOT

pytestmark = pytest.mark.slow
README_URL = "http://127.0.0.1:8000"
PAIR = re.compile(
    r'"(\w+)":\s*("(?:[^"\\]|\\.)*"|-?\d+(?:\.\d+)?|null|true|false)(?=\s*[,}\]])'
)


def readme_session() -> list[tuple[str, str]]:
    """(command, the answer the README shows) for each `$` line of the section."""
    text = (ROOT / "README.md").read_text()
    section = text.split("### A session with curl\n", 1)[1].split("\n## ", 1)[0]
    session = []
    for block in re.findall(r"```console\n(.*?)```", section, re.S):
        lines = block.splitlines()
        while lines:
            assert lines[0].startswith("$ "), lines[0]
            command = [lines.pop(0)[2:]]
            while command[-1].endswith("\\"):
                command.append(lines.pop(0))
            answer = []
            while lines and not lines[0].startswith("$ "):
                answer.append(lines.pop(0))
            session.append(("\n".join(command), "\n".join(answer)))
    return session


def walk(value):
    """Every (key, value) pair of a decoded JSON answer, at any depth."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield key, item
            yield from walk(item)
    elif isinstance(value, list):
        for item in value:
            yield from walk(item)


def matches(shown: str, got) -> bool:
    if shown.startswith('"'):
        text = json.loads(shown)
        if text.endswith("…"):
            return isinstance(got, str) and got.startswith(text[:-1])
        return got == text
    expected = json.loads(shown)
    if isinstance(expected, float):
        decimals = len(shown.split(".")[1])
        return isinstance(got, float) and abs(got - expected) < 10**-decimals
    return got == expected and type(got) is type(expected)


def unmatched(shown: str, answer: str) -> list[str]:
    """The README's pairs the answer lacks (all of them if it is not JSON)."""
    pairs = PAIR.findall(shown)
    try:
        got = list(walk(json.loads(answer)))
    except json.JSONDecodeError:
        return [f"{k}: {v}" for k, v in pairs] or ["(JSON)"]
    return [
        f"{key}: {value}"
        for key, value in pairs
        if not any(k == key and matches(value, v) for k, v in got)
    ]


def test_the_readmes_curl_session_works_on_what_make_run_seeds(tmp_path):
    session = readme_session()
    assert any("auth/token/" in command for command, _ in session)
    work = tmp_path / "work"
    work.mkdir()
    state = work / "shell-state.sh"
    with run_local(tmp_path) as (base_url, _, _):
        for command, shown in session:
            command = command.replace(README_URL, base_url)
            command = re.sub(r"^\.venv/bin/python\b", sys.executable, command)
            shown = shown.replace(README_URL, base_url)
            # One shell per command, the variables of the last one carried over.
            script = f"set -a; . ./{state.name} 2>/dev/null\n{command}\n"
            script += f"export -p > ./{state.name}"
            deadline = time.monotonic() + 240
            while True:
                done = subprocess.run(
                    ["bash", "-c", script], cwd=work, capture_output=True, text=True
                )
                assert done.returncode == 0, (command, done.stderr)
                answer = done.stdout.strip()
                # "A moment later": the photo may still wait for the worker.
                waiting = '"status":"pending"' in answer.replace(" ", "") or (
                    '"status":"processing"' in answer.replace(" ", "")
                )
                if not (waiting and '"status": "classified"' in shown):
                    break
                assert time.monotonic() < deadline, answer
                time.sleep(1)
            if not shown:
                assert answer == "", (command, answer)
                continue
            missing = unmatched(shown, answer)
            assert not missing, f"{command}\nanswered {answer}\nlacks {missing}"
