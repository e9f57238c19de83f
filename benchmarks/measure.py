"""One measure of one clinic, in a fresh process: the cold first call, warm runs, naive, limit, VmHWM.

``run.py`` starts ``python -m benchmarks.measure --measure NAME --scale S --db sqlite`` once per measure,
so every cold number is a first call in a process that has imported kdash but touched no data yet, and
every peak-memory number is that one measure's own high-water mark. The process prints one JSON line.

Order inside the process: kdash cold, kdash warm runs, VmHWM (so the naive way's data frames never count
against kdash), for the huddles kdash after one write each time (``after_write_ms``: one patient's
records changed, so kdash reads that patient again and reuses the others), then the limit and the naive
way, each after one untimed warm-up call.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.clinic import Clinic, load_meta  # noqa: E402
from benchmarks.timing import empty_row, time_call, time_runs, vmhwm_mb, warm_median  # noqa: E402


class Missing(Exception):
    """The kdash function this measure needs is not in the code base (yet)."""


@dataclass
class Spec:
    """What to time for one measure: kdash's function, and the naive and limit ones when there are."""

    kdash: Callable[[], Any]
    naive: Callable[[], Any] | None = None
    limit: Callable[[], Any] | None = None
    rows: Callable[[Any], int] = len
    extra: dict[str, Any] = field(default_factory=dict)
    #: Run before each timed call of ``after_write_ms`` (untimed): a write that kdash's caches must see.
    write: Callable[[], None] | None = None


def _need(module: str, name: str) -> Any:
    """``module.name`` or :class:`Missing` saying which kdash function is absent."""
    import importlib

    try:
        return getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError) as exc:
        raise Missing(f"{module}.{name} is not available: {exc}") from exc


def _settings(db: Any) -> Any:
    """The clinic's stored settings, read once outside the timing (naive and limit take them as given)."""
    from kdash.storage.policy_repo import load_policy

    with db.read() as session:
        return load_policy(session)


# --- the measures --------------------------------------------------------------------------------------


def _huddle(clinic: Clinic, day_attr: str) -> Spec:
    from benchmarks import limit, naive
    from benchmarks.rawdb import RawDb
    from kdash.storage.database import Database

    huddle_for_day = _need("kdash.services.huddle", "huddle_from_session")
    huddle_to_json = _need("kdash.interchange.huddle_json", "huddle_to_json")
    day = getattr(clinic, day_attr)
    db = Database(clinic.url)
    raw = RawDb(clinic.url)
    settings = _settings(db)

    def kdash() -> Any:
        # As the huddle page calls it: with the clinic's settings, which the page keeps cached.
        with db.read() as session:
            return huddle_to_json(huddle_for_day(session, day, settings))

    def write() -> None:
        # What a write to one of the day's patients does to the cached records: a new version token
        # (kdash.storage.write_hooks), here without changing the clinical data the other runs compare.
        from kdash.storage import record_cache
        from kdash.storage.patient_records import booked_patient_ids

        with db.write() as session:
            record_cache.bump(session, booked_patient_ids(session, day)[:1])

    return Spec(
        kdash=kdash,
        naive=lambda: naive.huddle(db.engine, day, settings),
        limit=lambda: limit.huddle(raw, day, settings),
        rows=lambda r: len(r["patients"]),
        write=write,
    )


def _roster_spec(clinic: Clinic, name: str, naive_name: str, limit_name: str, *, page: bool) -> Spec:
    """kdash's roster function ``name`` with the naive and limit functions giving the same answer."""
    from benchmarks import limit, naive
    from benchmarks.rawdb import RawDb
    from kdash.storage.database import Database

    kdash_fn = _need("kdash.services.roster", name)
    db = Database(clinic.url)
    raw = RawDb(clinic.url)
    settings = _settings(db)
    today = clinic.today
    naive_fn, limit_fn = getattr(naive, naive_name), getattr(limit, limit_name)
    return Spec(
        kdash=lambda: kdash_fn(db, settings, today),
        naive=lambda: naive_fn(db.engine, settings, today),
        limit=lambda: limit_fn(raw, settings, today),
        rows=(lambda p: len(p.rows)) if page else len,
    )


def _roster(clinic: Clinic) -> Spec:
    """The roster as the page gets it: its first page of 100 with the counts around it."""
    return _roster_spec(clinic, "roster_page", "roster_page", "roster_page", page=True)


def _roster_all(clinic: Clinic) -> Spec:
    """Every active patient's roster row: the CSV download of an unfiltered roster, the clinic's rates."""
    return _roster_spec(clinic, "roster", "roster", "roster", page=False)


def _screening_queue(clinic: Clinic) -> Spec:
    """The screening page's queue: every active patient whose screening is not cleared or is due again."""
    from kdash.storage.database import Database

    queue = _need("kdash.services.screening_queue", "screening_queue")
    db = Database(clinic.url)
    settings = _settings(db)
    return Spec(kdash=lambda: queue(db, settings, clinic.today))


def _trend(clinic: Clinic) -> Spec:
    from benchmarks import limit, naive
    from benchmarks.rawdb import RawDb
    from kdash.storage.database import Database

    patient_trend = _need("kdash.services.trends", "patient_trend")
    db = Database(clinic.url)
    raw = RawDb(clinic.url)
    settings = _settings(db)
    pid = clinic.trend_patient_id
    return Spec(
        kdash=lambda: patient_trend(db, settings, pid),
        naive=lambda: naive.patient_trend(db.engine, settings, pid),
        limit=lambda: limit.patient_trend(raw, settings, pid),
        rows=lambda t: sum(len(i.points) for i in t.instruments),
    )


#: Existing bookings the replan measure plans against (issue: "with 10,000 existing bookings").
REPLAN_BOOKINGS = 10_000
REPLAN_CADENCE = "twice-weekly"


def _replan_start(db: Any) -> Any:
    """The plan start from which the planner's window holds the clinic's last 10,000 live bookings.

    The demo clinic books only weeks ahead, so the window must reach back into the history to hold
    10,000 bookings; a smaller clinic simply has fewer (the row count says how many).
    """
    from datetime import timedelta

    from sqlalchemy import select

    from kdash.storage.models import Infusion, live_infusion_clause

    with db.read() as session:
        at = session.scalar(
            select(Infusion.scheduled_at)
            .where(live_infusion_clause())  # type: ignore[arg-type]
            .order_by(Infusion.scheduled_at.desc())
            .offset(REPLAN_BOOKINGS - 1)
            .limit(1)
        )
        if at is None:
            at = session.scalar(select(Infusion.scheduled_at).order_by(Infusion.scheduled_at).limit(1))
    # The loader looks back min_days_between_infusions before the start: start that far after.
    return at.date() + timedelta(days=2)


def _replan_target(db: Any, earliest: Any) -> tuple[str, Any]:
    """(MRN, start) of a current course that can be planned, with the start as near ``earliest`` as the
    course allows (a plan starts after the course's last live infusion). Oldest last infusion first."""
    from datetime import timedelta

    from sqlalchemy import func, select

    from kdash.domain.vocab import MAX_INFUSIONS_PER_COURSE, CourseStatus, TrialOutcome
    from kdash.planner.plan import plan_course
    from kdash.services.planner_inputs import load_planner_inputs
    from kdash.storage.models import Course, Infusion, Patient, live_infusion_clause

    last_live = func.max(Infusion.scheduled_at)
    with db.read() as session:
        candidates = session.execute(
            select(Patient.mrn, last_live)
            .join(Course, Course.patient_id == Patient.id)
            .join(Infusion, Infusion.course_id == Course.id)
            .where(
                Course.trial_outcome == TrialOutcome.BENEFIT.value,
                Course.status == CourseStatus.ACTIVE.value,
                live_infusion_clause(),  # type: ignore[arg-type]
            )
            .group_by(Patient.mrn, Course.id)
            .having(func.count() < MAX_INFUSIONS_PER_COURSE)
            .order_by(last_live, Course.id)
            .limit(300)
        ).all()
        for mrn, last in candidates:
            start = max(earliest, last.date() + timedelta(days=1))
            inputs = load_planner_inputs(session, mrn, start, start)
            if inputs.course.status is not CourseStatus.ACTIVE:
                continue  # not the patient's current course
            plan = plan_course(
                inputs.course,
                inputs.screening,
                start,
                REPLAN_CADENCE,
                inputs.calendar(),
                blockers=inputs.rescreen.reasons if inputs.rescreen.due else (),
            )
            if plan.allowed and plan.slots:
                return str(mrn), start
    raise Missing("no course in this clinic can be planned")


def _replan(clinic: Clinic) -> Spec:
    from kdash.domain.access import Actor
    from kdash.domain.vocab import Role
    from kdash.storage.database import Database

    plan_for_mrn = _need("kdash.services.booking", "plan_for_mrn")
    db = Database(clinic.url)
    mrn, start = _replan_target(db, _replan_start(db))
    actor = Actor("benchmark", Role.PROVIDER, "Benchmark")

    def kdash() -> Any:
        return plan_for_mrn(db, actor, mrn, start, REPLAN_CADENCE, today=start)

    def rows(result: Any) -> int:
        assert result.plan.allowed, "the benchmark plan was refused"
        assert result.plan.slots, "the benchmark plan placed nothing"
        return len(result.inputs.bookings)

    return Spec(kdash=kdash, rows=rows, extra={"start": start.isoformat()})


MEASURES: dict[str, Callable[[Clinic], Spec]] = {
    "huddle": lambda c: _huddle(c, "day"),
    "huddle_fixed": lambda c: _huddle(c, "day2"),
    "roster": _roster,
    "roster_all": _roster_all,
    "screening_queue": _screening_queue,
    "patient_trend": _trend,
    "replan": _replan,
}


def run_measure(
    name: str, clinic: Clinic, runs: int, naive_runs: int, *, with_naive: bool = True
) -> dict[str, Any]:
    """Time one measure in this process and return its result row (without scale and db)."""
    row = empty_row(name)
    try:
        spec = MEASURES[name](clinic)
    except Missing as exc:
        row["missing"] = str(exc)
        return row
    timed = time_runs(spec.kdash, runs)
    cpu = timed.median_cpu_ms
    row.update(
        median_ms=round(timed.median_ms, 2),
        cold_ms=round(timed.cold_ms, 2),
        cpu_ms=None if cpu is None else round(cpu, 2),
        rss_mb=_round(vmhwm_mb()),
        rows=spec.rows(timed.result),
    )
    if spec.write is not None:
        after: list[float] = []
        for _ in range(runs):
            spec.write()
            after.append(time_call(spec.kdash)[0])
        row["after_write_ms"] = round(statistics.median(after), 2)
    if spec.limit is not None:
        row["limit_ms"] = round(warm_median(spec.limit, runs)[0], 2)
    if spec.naive is not None and with_naive:
        row["naive_ms"] = round(warm_median(spec.naive, naive_runs)[0], 2)
    row.update(spec.extra)
    return row


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Time one benchmark measure in this process.")
    parser.add_argument("--measure", required=True, choices=sorted(MEASURES))
    parser.add_argument("--scale", required=True)
    parser.add_argument("--db", default="sqlite", choices=["sqlite", "postgresql"])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--naive-runs", type=int, default=5)
    parser.add_argument("--no-naive", action="store_true")
    args = parser.parse_args(argv)
    clinic = load_meta(args.scale, args.db)
    row = run_measure(args.measure, clinic, args.runs, args.naive_runs, with_naive=not args.no_naive)
    print(json.dumps(row))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
