"""The progress line the benchmarks' training runs draw on stderr."""

import sys
import time
from collections.abc import Callable


def progress_line(started: float) -> Callable[[float, str], None]:
    """A progress callback that rewrites one line of stderr in place, with the
    seconds since ``started`` (a ``time.perf_counter()`` reading)."""

    def progress(fraction: float, message: str) -> None:
        elapsed = time.perf_counter() - started
        print(
            f"\r{fraction:6.1%} {elapsed:6.0f} s {message:40}", end="", file=sys.stderr
        )

    return progress
