"""Planner timing: index 10,000 bookings and replan one course (target: well under 50 ms together).

Run: ``python benchmarks/bench_planner.py``. Prints the median of several runs in milliseconds.
"""

from __future__ import annotations

import statistics
import sys
import time
from datetime import date, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from kdash.domain.policy import ClinicPolicy
from kdash.domain.vocab import InfusionStatus, ScreeningStatus
from kdash.planner.plan import ClinicCalendar, clinic_utilisation, plan_course
from tests.records import course_with, random_bookings


def main(runs: int = 15) -> dict[str, float]:
    settings = ClinicPolicy()
    bookings = random_bookings(10_000, seed=7)
    trial = course_with((datetime(2025, 3, 3, 9), InfusionStatus.COMPLETED))
    build, plan, util = [], [], []
    for _ in range(runs):
        t0 = time.perf_counter()
        calendar = ClinicCalendar.build(settings, bookings, ())
        t1 = time.perf_counter()
        result = plan_course(
            trial, ScreeningStatus.CLEARED, date(2025, 3, 3), "twice-weekly", calendar, sessions=9
        )
        t2 = time.perf_counter()
        clinic_utilisation(calendar, settings, (), date(2025, 3, 3), date(2025, 6, 1), extra=result.slots)
        t3 = time.perf_counter()
        build.append(t1 - t0)
        plan.append(t2 - t1)
        util.append(t3 - t2)
    out = {
        "index_10000_bookings_ms": 1000 * statistics.median(build),
        "plan_9_sessions_ms": 1000 * statistics.median(plan),
        "utilisation_13_weeks_ms": 1000 * statistics.median(util),
    }
    out["index_plus_plan_ms"] = out["index_10000_bookings_ms"] + out["plan_9_sessions_ms"]
    return out


if __name__ == "__main__":
    for key, value in main().items():
        print(f"{key}: {value:.1f}")
