"""Booking a chosen plan: all or nothing, re-checked inside the transaction, safe under two writers."""

from __future__ import annotations

import dataclasses
import threading
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import select

from kdash.domain.access import Actor, Forbidden
from kdash.domain.errors import NotFound, Refused
from kdash.domain.vocab import InfusionStatus, Role, ScreeningStatus, TrialOutcome
from kdash.planner.plan import PlannedSlot
from kdash.services.booking import SlotTaken, book_plan, plan_for_mrn
from kdash.services.planner_inputs import load_planner_inputs
from kdash.storage.database import Database, make_engine
from kdash.storage.models import AuditEvent, Closure, Infusion
from tests.seeded import BOOKING_TODAY as TODAY
from tests.seeded import add_patient

SCHEDULER = Actor("sched", Role.SCHEDULER, "Scheduler")
START = TODAY + timedelta(days=7)  # Monday 2026-11-30
TRIAL_AT = datetime(2026, 11, 23, 9)


def infusions(db: Database, course_id: int) -> list[tuple[int, datetime, int | None, str]]:
    with db.read() as s:
        rows = s.execute(
            select(Infusion.number, Infusion.scheduled_at, Infusion.chair, Infusion.status)
            .where(Infusion.course_id == course_id)
            .order_by(Infusion.number)
        )
        return [tuple(r) for r in rows]


def test_a_chosen_plan_becomes_scheduled_infusions_with_their_chairs(db: Database) -> None:
    _, course_id = add_patient(db, "SYN-A", trial_at=TRIAL_AT)
    result = plan_for_mrn(db, SCHEDULER, "SYN-A", START, "induction", today=TODAY)
    assert result.plan.allowed
    ids = book_plan(db, SCHEDULER, course_id, result.plan, today=TODAY)
    assert len(ids) == 5
    booked = infusions(db, course_id)[1:]
    assert [(n, when, chair) for n, when, chair, _ in booked] == [
        (s.number, s.start, s.chair) for s in result.plan.slots
    ]
    assert {status for *_, status in booked} == {InfusionStatus.SCHEDULED.value}
    with db.read() as s:
        actions = list(s.scalars(select(AuditEvent.action).where(AuditEvent.outcome == "ok")))
    assert actions.count("book_infusion") == 5
    assert "plan_course" in actions


def test_a_slot_taken_meanwhile_books_nothing_and_names_the_slot(db: Database) -> None:
    _, course_a = add_patient(db, "SYN-A", trial_at=TRIAL_AT)
    plan_a = plan_for_mrn(db, SCHEDULER, "SYN-A", START, "induction", today=TODAY).plan
    fourth = plan_a.slots[2]  # infusion 4
    # Meanwhile another patient's trial is booked on exactly that chair and time.
    _, course_b = add_patient(db, "SYN-B")
    book_plan(db, SCHEDULER, course_b, [dataclasses.replace(fourth, number=1)], today=TODAY)
    with pytest.raises(SlotTaken) as err:
        book_plan(db, SCHEDULER, course_a, plan_a, today=TODAY)
    day = fourth.start.date()
    assert f"infusion 4 on {day:%a} {day.isoformat()} {fourth.start:%H:%M}, chair {fourth.chair}" in str(
        err.value
    )
    assert "the chair was booked meanwhile" in str(err.value)
    assert "Nothing was booked" in str(err.value)
    assert len(infusions(db, course_a)) == 1  # only the trial
    with db.read() as s:
        refused = list(s.scalars(select(AuditEvent.reason).where(AuditEvent.outcome == "refused")))
    assert len(refused) == 1
    assert "SYN-A" not in refused[0]


def test_booking_the_same_plan_twice_finds_the_numbers_taken(db: Database) -> None:
    _, course_id = add_patient(db, "SYN-A", trial_at=TRIAL_AT)
    plan = plan_for_mrn(db, SCHEDULER, "SYN-A", START, "weekly", sessions=2, today=TODAY).plan
    book_plan(db, SCHEDULER, course_id, plan, today=TODAY)
    with pytest.raises(SlotTaken, match="number 2 is already taken"):
        book_plan(db, SCHEDULER, course_id, plan, today=TODAY)
    assert len(infusions(db, course_id)) == 3


def test_more_than_ten_live_is_refused_and_nothing_is_booked(db: Database) -> None:
    _, course_id = add_patient(db, "SYN-A", trial_at=TRIAL_AT, extra_live=7)  # 8 live
    slots = [
        PlannedSlot(n, datetime(2026, 12, d, 8), datetime(2026, 12, d, 10), 1, date(2026, 12, d))
        for n, d in ((9, 1), (10, 3), (9, 7))
    ]
    with pytest.raises(Refused, match="would pass 10"):
        book_plan(db, SCHEDULER, course_id, slots, today=TODAY)
    assert len(infusions(db, course_id)) == 8


def test_a_slot_on_a_closure_or_outside_hours_is_refused(db: Database) -> None:
    _, course_id = add_patient(db, "SYN-A", trial_at=TRIAL_AT)
    with db.write() as s:
        s.add(Closure(day=date(2026, 12, 2), reason="training day"))
    closed = PlannedSlot(2, datetime(2026, 12, 2, 8), datetime(2026, 12, 2, 10), 1, date(2026, 12, 2))
    late = PlannedSlot(3, datetime(2026, 12, 4, 17), datetime(2026, 12, 4, 19), 1, date(2026, 12, 4))
    with pytest.raises(SlotTaken) as err:
        book_plan(db, SCHEDULER, course_id, [closed, late], today=TODAY)
    assert "infusion 2 on Wed 2026-12-02 08:00, chair 1: the clinic is closed that day" in str(err.value)
    assert "infusion 3 on Fri 2026-12-04 17:00, chair 1: the chair time does not fit" in str(err.value)


def test_spacing_is_rechecked_at_booking(db: Database) -> None:
    _, course_id = add_patient(db, "SYN-A", trial_at=TRIAL_AT)
    next_day = PlannedSlot(2, datetime(2026, 11, 24, 8), datetime(2026, 11, 24, 10), 1, date(2026, 11, 24))
    with pytest.raises(SlotTaken, match="another infusion within 2 days"):
        book_plan(db, SCHEDULER, course_id, [next_day], today=TODAY)


def test_the_course_rules_are_rechecked_at_booking(db: Database) -> None:
    _, course_id = add_patient(db, "SYN-A", trial_at=TRIAL_AT, outcome=TrialOutcome.NO_BENEFIT)
    slot = PlannedSlot(2, datetime(2026, 12, 2, 8), datetime(2026, 12, 2, 10), 1, date(2026, 12, 2))
    with pytest.raises(Refused, match="no benefit"):
        book_plan(db, SCHEDULER, course_id, [slot], today=TODAY)
    _, other = add_patient(db, "SYN-B", cleared=False)
    with pytest.raises(Refused, match="not cleared"):
        book_plan(db, SCHEDULER, other, [dataclasses.replace(slot, number=1)], today=TODAY)


def test_a_refused_plan_or_a_forbidden_role_books_nothing(db: Database) -> None:
    _, course_id = add_patient(db, "SYN-A", trial_at=TRIAL_AT, outcome=TrialOutcome.PENDING)
    plan = plan_for_mrn(db, SCHEDULER, "SYN-A", START, "induction", today=TODAY).plan
    assert not plan.allowed
    with pytest.raises(Refused, match="This plan was refused"):
        book_plan(db, SCHEDULER, course_id, plan, today=TODAY)
    with pytest.raises(Forbidden):
        book_plan(db, Actor("ro", Role.READ_ONLY), course_id, plan, today=TODAY)
    with pytest.raises(NotFound):
        book_plan(db, SCHEDULER, 9999, [PlannedSlot(1, TRIAL_AT, TRIAL_AT, 1, TRIAL_AT.date())], today=TODAY)
    assert len(infusions(db, course_id)) == 1


def test_rescreening_due_refuses_the_plan(db: Database) -> None:
    add_patient(db, "SYN-A", trial_at=TRIAL_AT, screened_on=date(2025, 10, 1))
    plan = plan_for_mrn(db, SCHEDULER, "SYN-A", START, "weekly", today=TODAY).plan
    assert not plan.allowed
    assert any("older than 12 months" in r for r in plan.reasons)


def test_the_loader_reads_only_the_window_a_plan_can_reach(db: Database) -> None:
    add_patient(db, "SYN-A", trial_at=TRIAL_AT)
    far_past = datetime(2020, 1, 6, 8)
    far_future = datetime(2031, 1, 6, 8)
    _, other = add_patient(db, "SYN-B")
    with db.write() as s:
        for number, when in enumerate((far_past, far_future, datetime(2026, 12, 2, 8)), start=1):
            s.add(
                Infusion(
                    course_id=other,
                    number=number,
                    scheduled_at=when,
                    chair=3,
                    status=InfusionStatus.SCHEDULED.value,
                )
            )
        s.add(Closure(day=date(2026, 12, 25), reason="holiday"))
    with db.read() as s:
        inputs = load_planner_inputs(s, "SYN-A", START, TODAY)
    assert [b.start for b in inputs.bookings if b.course_id == other] == [datetime(2026, 12, 2, 8)]
    assert inputs.closures == frozenset({date(2026, 12, 25)})
    assert inputs.screening.status is ScreeningStatus.CLEARED
    assert [i.number for i in inputs.course.live_infusions] == [1]
    with pytest.raises(NotFound, match="No patient with that MRN"), db.read() as s:
        load_planner_inputs(s, "NOPE", START, TODAY)


def _book_in_thread(
    url: str, course_id: int, slot: PlannedSlot, barrier: threading.Barrier, out: dict
) -> None:
    engine = make_engine(url)
    try:
        barrier.wait()
        out[course_id] = book_plan(Database(engine=engine), SCHEDULER, course_id, [slot], today=TODAY)
    except Exception as exc:  # collected and asserted on by the test
        out[course_id] = exc
    finally:
        engine.dispose()


def test_two_writers_booking_the_same_chair_at_once_one_wins(any_url: str, db: Database) -> None:
    _, course_a = add_patient(db, "SYN-A")
    _, course_b = add_patient(db, "SYN-B")
    plan_a = plan_for_mrn(db, SCHEDULER, "SYN-A", START, "weekly", today=TODAY).plan
    plan_b = plan_for_mrn(db, SCHEDULER, "SYN-B", START, "weekly", today=TODAY).plan
    assert plan_a.slots[0].start == plan_b.slots[0].start
    assert plan_a.slots[0].chair == plan_b.slots[0].chair
    barrier = threading.Barrier(2)
    out: dict[int, object] = {}
    threads = [
        threading.Thread(target=_book_in_thread, args=(any_url, c, p.slots[0], barrier, out))
        for c, p in ((course_a, plan_a), (course_b, plan_b))
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    errors = [v for v in out.values() if isinstance(v, Exception)]
    assert len(out) == 2
    assert len(errors) == 1, out
    assert isinstance(errors[0], SlotTaken)
    assert "infusion 1 on Mon 2026-11-30 08:00, chair 1" in str(errors[0])
    with db.read() as s:
        booked = list(
            s.scalars(select(Infusion.course_id).where(Infusion.scheduled_at == plan_a.slots[0].start))
        )
    assert len(booked) == 1
