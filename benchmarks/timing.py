"""Small timing helpers shared by the measures: wall-clock milliseconds, medians, peak memory.

Peak memory is the process's high-water mark of resident memory (``VmHWM`` in ``/proc/self/status``):
it is what the operating system had to give the process at its worst moment, which is what a server
sizing question needs; the current RSS would hide a spike that has since been freed.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any


def vmhwm_mb() -> float | None:
    """Peak resident memory of this process in MB (None where /proc is not there)."""
    status = Path("/proc/self/status")
    if not status.exists():
        return None
    for line in status.read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024.0
    return None


@dataclass
class Timed:
    """First (cold) call, the warm calls after it, and the first call's answer.

    ``warm_cpu_ms`` is this process's CPU time per warm call: on a machine shared with other work the
    wall-clock time swings with the load, the CPU time much less (for SQLite all the work is in-process;
    for PostgreSQL the server's share is not in it).
    """

    cold_ms: float
    warm_ms: list[float]
    result: Any
    warm_cpu_ms: list[float]

    @property
    def median_ms(self) -> float:
        return statistics.median(self.warm_ms) if self.warm_ms else self.cold_ms

    @property
    def median_cpu_ms(self) -> float | None:
        return statistics.median(self.warm_cpu_ms) if self.warm_cpu_ms else None


def time_call(fn: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    result = fn()
    return (time.perf_counter() - start) * 1000.0, result


def _timed_cpu(fn: Callable[[], Any]) -> tuple[float, float]:
    cpu = time.process_time()
    wall, _ = time_call(fn)
    return wall, (time.process_time() - cpu) * 1000.0


def time_runs(fn: Callable[[], Any], runs: int) -> Timed:
    """Call ``fn`` once (cold in a fresh process) and then ``runs`` more times (warm)."""
    cold_ms, result = time_call(fn)
    pairs = [_timed_cpu(fn) for _ in range(runs)]
    return Timed(
        cold_ms=cold_ms, warm_ms=[w for w, _ in pairs], result=result, warm_cpu_ms=[c for _, c in pairs]
    )


def warm_median(fn: Callable[[], Any], runs: int) -> tuple[float, Any]:
    """Median of ``runs`` calls after one untimed warm-up call; returns (median ms, answer)."""
    result = fn()
    times = [time_call(fn)[0] for _ in range(runs)]
    return statistics.median(times), result


def empty_row(measure: str) -> dict[str, Any]:
    """A measure's result row before anything is timed: every field the JSON promises, ``None``."""
    return {
        "measure": measure,
        "median_ms": None,
        "cold_ms": None,
        "naive_ms": None,
        "limit_ms": None,
        "rss_mb": None,
        "rows": None,
    }
