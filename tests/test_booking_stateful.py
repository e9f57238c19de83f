"""Book, record, cancel and amend in any order: the booking invariants hold on a real SQLite database.

A Hypothesis state machine keeps a model of what the clinic's rules allow and checks every step
against the service: a booking is accepted exactly when the course has fewer than ten live infusions
and the chair is free for the whole chair time; after every step the database holds at most ten live
infusions per course, unique live numbers, and no chair booked twice at overlapping times. A cancelled
infusion frees its number and its chair (CLINICAL.md decision).
"""

from __future__ import annotations

import itertools
import shutil
import tempfile
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, consumes, invariant, rule
from sqlalchemy import select

from kdash.auth import Actor
from kdash.db import Database, make_engine
from kdash.errors import Refused
from kdash.migrate import upgrade
from kdash.models import Infusion
from kdash.services.booking_core import add_infusion, cancel_infusion, complete_infusion, move_infusion
from kdash.settings import DEFAULT_SETTINGS
from kdash.vocab import LIVE_INFUSION_STATUSES, MAX_INFUSIONS_PER_COURSE, Role
from tests.helpers import seed_patient

NURSE = Actor("nurse.jo", Role.NURSE)
MONDAY = datetime(2026, 12, 7)
SPAN = timedelta(minutes=DEFAULT_SETTINGS.chair_minutes)
LIVE = {s.value for s in LIVE_INFUSION_STATUSES}

_template_dir = Path(tempfile.mkdtemp(prefix="kdash-stateful-"))
_TEMPLATE = _template_dir / "template.db"


def _template() -> Path:
    """A migrated database with two courses, made once and copied for every example (fast)."""
    if not _TEMPLATE.exists():
        engine = make_engine(f"sqlite:///{_TEMPLATE}")
        upgrade(engine)
        db = Database(engine=engine)
        with db.write() as s:
            seed_patient(s, "MRN-SM-1")
            seed_patient(s, "MRN-SM-2")
        engine.dispose()
    return _TEMPLATE


@dataclass
class Model:
    course: int
    when: datetime
    chair: int
    status: str


# Few chairs, few days and half-hour steps: collisions and full courses happen often.
slots = st.tuples(
    st.integers(0, 2),  # day of the week (Mon-Wed)
    st.integers(0, 16),  # half hours after 08:00 (last start 16:00 leaves the two-hour chair time)
    st.integers(1, 2),  # chair
)


class BookingMachine(RuleBasedStateMachine):
    infusions = Bundle("infusions")

    def __init__(self) -> None:
        super().__init__()
        self.dir = Path(tempfile.mkdtemp(prefix="kdash-sm-"))
        path = self.dir / "kdash.db"
        shutil.copy(_template(), path)
        self.engine = make_engine(f"sqlite:///{path}")
        self.db = Database(engine=self.engine)
        self.courses = [1, 2]
        self.model: dict[int, Model] = {}

    def teardown(self) -> None:
        self.engine.dispose()
        shutil.rmtree(self.dir, ignore_errors=True)

    def _live(self, course: int | None = None) -> list[Model]:
        return [m for m in self.model.values() if m.status in LIVE and (course is None or m.course == course)]

    def _chair_free(self, when: datetime, chair: int, exclude: int | None = None) -> bool:
        return not any(
            m.chair == chair and abs(m.when - when) < SPAN
            for i, m in self.model.items()
            if m.status in LIVE and i != exclude
        )

    @staticmethod
    def _when(day: int, half_hours: int) -> datetime:
        return MONDAY + timedelta(days=day, hours=8, minutes=30 * half_hours)

    @rule(target=infusions, course=st.sampled_from([1, 2]), slot=slots)
    def book(self, course: int, slot: tuple[int, int, int]) -> int:
        when, chair = self._when(slot[0], slot[1]), slot[2]
        expect_ok = len(self._live(course)) < MAX_INFUSIONS_PER_COURSE and self._chair_free(when, chair)
        try:
            booking = add_infusion(self.db, NURSE, course, when, chair, DEFAULT_SETTINGS)
        except Refused as exc:
            refusal = str(exc)
            assert not expect_ok, f"refused although allowed: {refusal}"
            event("booking refused: " + ("course full" if "10 infusions" in refusal else "chair taken"))
            return -1
        assert expect_ok, "accepted although the cap or the chair forbids it"
        self.model[booking.infusion_id] = Model(course, when, chair, booking.status)
        return booking.infusion_id

    @rule(infusion=infusions)
    def record_given(self, infusion: int) -> None:
        if infusion < 0:
            return
        m = self.model[infusion]
        try:
            complete_infusion(self.db, NURSE, infusion)
        except Refused:
            assert m.status != "scheduled"
            return
        assert m.status == "scheduled"
        m.status = "completed"

    @rule(infusion=consumes(infusions))
    def cancel(self, infusion: int) -> None:
        if infusion < 0:
            return
        m = self.model[infusion]
        try:
            cancel_infusion(self.db, NURSE, infusion, "patient unwell")
        except Refused:
            assert m.status != "scheduled"
            return
        assert m.status == "scheduled"
        m.status = "cancelled"

    @rule(infusion=infusions, slot=slots)
    def amend(self, infusion: int, slot: tuple[int, int, int]) -> None:
        if infusion < 0:
            return
        m = self.model[infusion]
        when, chair = self._when(slot[0], slot[1]), slot[2]
        expect_ok = m.status == "scheduled" and self._chair_free(when, chair, exclude=infusion)
        try:
            move_infusion(self.db, NURSE, infusion, when, chair, "patient asked", DEFAULT_SETTINGS)
        except Refused as exc:
            refusal = str(exc)
            assert not expect_ok, f"move refused although allowed: {refusal}"
            return
        assert expect_ok
        m.when, m.chair = when, chair

    @invariant()
    def database_keeps_the_rules(self) -> None:
        with self.db.read() as s:
            rows = s.scalars(select(Infusion).where(Infusion.status.in_(LIVE))).all()
        for course in self.courses:
            numbers = [r.number for r in rows if r.course_id == course]
            assert len(numbers) <= MAX_INFUSIONS_PER_COURSE
            assert len(numbers) == len(set(numbers))
            assert all(1 <= n <= MAX_INFUSIONS_PER_COURSE for n in numbers)
        by_chair: dict[int | None, list[datetime]] = {}
        for r in rows:
            by_chair.setdefault(r.chair, []).append(r.scheduled_at)
        for starts in by_chair.values():
            starts.sort()
            assert all(b - a >= SPAN for a, b in itertools.pairwise(starts))
        # The database and the model agree on every live booking (no write lost, none invented).
        assert {r.id: (r.scheduled_at, r.chair, r.status) for r in rows} == {
            i: (m.when, m.chair, m.status) for i, m in self.model.items() if m.status in LIVE
        }


BookingMachine.TestCase.settings = settings(
    max_examples=25,
    stateful_step_count=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
TestBookingInvariants = BookingMachine.TestCase
