"""The clinic's booking service in any order of book, record, cancel and amend (state machine).

Through ``kdash.services.clinical`` — the functions the pages call — booking either the earliest free
chair or a chair asked for (``chair=``); a patient's infusions stay ``min_days_between_infusions``
apart. A model predicts every answer: a booking is accepted exactly when the course has fewer than ten
live infusions, the patient has no live infusion too close, and a chair (the one asked for, or else
any) is free for the whole chair time (without a chair asked for, the lowest free chair is the one
given). After every step the database holds at most ten live infusions per course with unique numbers
from 1 to 10, and no chair is booked twice at overlapping times; a cancelled infusion frees its number
and its chair (clinical-reference.md "Planning decisions"). Two chairs make clashes frequent.
"""

from __future__ import annotations

import itertools
import shutil
import tempfile
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, invariant, rule
from sqlalchemy import select

from kdash.domain.access import Actor
from kdash.domain.errors import Refused
from kdash.domain.policy import DEFAULT_SETTINGS
from kdash.domain.vocab import LIVE_INFUSION_STATUSES, MAX_INFUSIONS_PER_COURSE, Role
from kdash.storage import record_cache
from kdash.storage.database import Database, make_engine
from kdash.storage.migrate import upgrade
from kdash.storage.models import Infusion, Patient
from kdash.storage.patient_records import load_records
from kdash.storage.policy_repo import save_setting
from tests.seeded import seed_cleared_patient

clinical = pytest.importorskip("kdash.services.clinical")

NURSE = Actor("nurse.jo", Role.NURSE)
CHAIRS = 2
BOOKED_AT = datetime(2026, 12, 4, 7, 0)  # "now" when booking: before every slot below
FIRST_MONDAY = datetime(2026, 12, 7)
WEEKDAYS = [
    FIRST_MONDAY + timedelta(days=d) for d in range(14) if (FIRST_MONDAY + timedelta(days=d)).weekday() < 5
]
SPAN = timedelta(minutes=DEFAULT_SETTINGS.chair_minutes)
MIN_DAYS = DEFAULT_SETTINGS.min_days_between_infusions
LIVE = {s.value for s in LIVE_INFUSION_STATUSES}
PATIENTS = 5

_template_dir = Path(tempfile.mkdtemp(prefix="kdash-sm-clinical-"))


def _template() -> tuple[Path, list[int]]:
    path = _template_dir / "template.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    db = Database(engine=engine)
    with db.write() as s:
        courses = [
            seed_cleared_patient(
                s, f"MRN-SMC-{i}", trial_given_on=datetime(2026, 11, 23 + i % 3, 9 + 2 * (i // 3), 0)
            )
            for i in range(PATIENTS)
        ]
        # The first patient already had infusions 2-8 in November: two more bookings reach the cap.
        for number, day in zip(range(2, 9), (2, 4, 6, 10, 12, 16, 18), strict=True):
            s.add(
                Infusion(
                    course_id=courses[0],
                    number=number,
                    scheduled_at=datetime(2026, 11, day, 9, 0),
                    chair=1,
                    status="completed",
                )
            )
        save_setting(s, "chairs", CHAIRS, "admin", BOOKED_AT)
    engine.dispose()
    return path, courses


_TEMPLATE: tuple[Path, list[int]] | None = None


@dataclass
class Model:
    course: int
    when: datetime
    chair: int
    status: str


class ClinicalBookingMachine(RuleBasedStateMachine):
    infusions = Bundle("infusions")

    def __init__(self) -> None:
        global _TEMPLATE
        super().__init__()
        if _TEMPLATE is None:
            _TEMPLATE = _template()
        template, self.courses = _TEMPLATE
        self.dir = Path(tempfile.mkdtemp(prefix="kdash-smc-"))
        shutil.copy(template, self.dir / "kdash.db")
        self.engine = make_engine(f"sqlite:///{self.dir / 'kdash.db'}")
        self.db = Database(engine=self.engine)
        with self.db.read() as s:
            trials = s.scalars(select(Infusion)).all()
        # The trials (completed before the first slot) count toward ten and hold chair 1 on their day.
        self.model: dict[int, Model] = {t.id: Model(t.course_id, t.scheduled_at, 1, t.status) for t in trials}

    def teardown(self) -> None:
        self.engine.dispose()
        shutil.rmtree(self.dir, ignore_errors=True)

    def _live(self) -> list[Model]:
        return [m for m in self.model.values() if m.status in LIVE]

    def _free_chairs(self, when: datetime) -> list[int]:
        busy = {m.chair for m in self._live() if abs(m.when - when) < SPAN}
        return [c for c in range(1, CHAIRS + 1) if c not in busy]

    @rule(
        target=infusions,
        patient=st.integers(0, PATIENTS - 1),
        day=st.sampled_from(WEEKDAYS),
        half_hours=st.integers(0, 6),  # 08:00-11:00: chair clashes are frequent
    )
    def book(self, patient: int, day: datetime, half_hours: int) -> int:
        course = self.courses[patient]
        when = day + timedelta(hours=8, minutes=30 * half_hours)
        mine = [m for m in self._live() if m.course == course]
        too_close = any(abs((m.when.date() - when.date()).days) < MIN_DAYS for m in mine)
        free = self._free_chairs(when)
        expect_ok = len(mine) < MAX_INFUSIONS_PER_COURSE and not too_close and bool(free)
        try:
            booking = clinical.book_infusion(self.db, NURSE, course, when, now=BOOKED_AT)
        except Refused as exc:
            refusal = str(exc)
            assert not expect_ok, f"refused although allowed: {refusal}"
            event(
                "refused: "
                + ("cap" if len(mine) >= MAX_INFUSIONS_PER_COURSE else "spacing" if too_close else "chairs")
            )
            return -1
        assert expect_ok, "accepted although the cap, the spacing or the chairs forbid it"
        assert booking.chair == free[0]
        self.model[booking.infusion_id] = Model(course, when, booking.chair, "scheduled")
        return int(booking.infusion_id)

    @rule(
        target=infusions,
        patient=st.integers(0, PATIENTS - 1),
        day=st.sampled_from(WEEKDAYS),
        half_hours=st.integers(0, 6),
        chair=st.integers(1, CHAIRS),
    )
    def book_in_chair(self, patient: int, day: datetime, half_hours: int, chair: int) -> int:
        """The front desk asks for a chair: booked only if that chair is free for the whole chair time."""
        course = self.courses[patient]
        when = day + timedelta(hours=8, minutes=30 * half_hours)
        mine = [m for m in self._live() if m.course == course]
        too_close = any(abs((m.when.date() - when.date()).days) < MIN_DAYS for m in mine)
        chair_free = chair in self._free_chairs(when)
        expect_ok = len(mine) < MAX_INFUSIONS_PER_COURSE and not too_close and chair_free
        try:
            booking = clinical.book_infusion(self.db, NURSE, course, when, now=BOOKED_AT, chair=chair)
        except Refused as exc:
            refusal = str(exc)
            assert not expect_ok, f"refused although allowed: {refusal}"
            if len(mine) < MAX_INFUSIONS_PER_COURSE and not too_close:
                assert f"Chair {chair} is taken" in refusal
            event(
                "chair refused: "
                + ("cap" if len(mine) >= MAX_INFUSIONS_PER_COURSE else "spacing" if too_close else "chair")
            )
            return -1
        assert expect_ok, "accepted although the cap, the spacing or the chair forbid it"
        assert booking.chair == chair
        self.model[booking.infusion_id] = Model(course, when, chair, "scheduled")
        return int(booking.infusion_id)

    @rule(infusion=infusions)
    def record_given(self, infusion: int) -> None:
        if infusion < 0 or self.model[infusion].status != "scheduled":
            return
        m = self.model[infusion]
        clinical.record_infusion(
            self.db, NURSE, infusion, dose_mg_per_kg=0.5, premed_given=True, bp_pre_sys=128, bp_pre_dia=82,
            escort_confirmed=True, discharged_at=m.when + SPAN, now=m.when + SPAN + timedelta(minutes=1),
        )  # fmt: skip
        m.status = "completed"

    @rule(infusion=infusions)
    def cancel(self, infusion: int) -> None:
        if infusion < 0:
            return
        m = self.model[infusion]
        try:
            clinical.cancel_infusion(self.db, NURSE, infusion, "patient unwell", now=BOOKED_AT)
        except Refused:
            assert m.status != "scheduled"
            return
        assert m.status == "scheduled"
        m.status = "cancelled"

    @rule(infusion=infusions, dose=st.sampled_from([0.4, 0.5, 0.6]))
    def amend(self, infusion: int, dose: float) -> None:
        """Correct the dose of a recorded infusion (kept as an amendment); bookings are unchanged."""
        if infusion < 0 or self.model[infusion].status != "completed":
            return
        m = self.model[infusion]
        clinical.record_infusion(
            self.db, NURSE, infusion, dose_mg_per_kg=dose, premed_given=True, bp_pre_sys=128, bp_pre_dia=82,
            escort_confirmed=True, discharged_at=m.when + SPAN, reason="dose corrected from the pump log",
            now=m.when + SPAN + timedelta(minutes=5),
        )  # fmt: skip

    @invariant()
    def database_keeps_the_rules(self) -> None:
        with self.db.read() as s:
            rows = s.scalars(select(Infusion).where(Infusion.status.in_(LIVE))).all()
        for course in self.courses:
            numbers = [r.number for r in rows if r.course_id == course]
            assert len(numbers) <= MAX_INFUSIONS_PER_COURSE
            assert len(numbers) == len(set(numbers))
            assert all(1 <= n <= MAX_INFUSIONS_PER_COURSE for n in numbers)
        for chair in range(1, CHAIRS + 1):
            starts = sorted(r.scheduled_at for r in rows if r.chair == chair)
            assert all(b - a >= SPAN for a, b in itertools.pairwise(starts))
        assert {r.id: (r.scheduled_at, r.chair, r.status) for r in rows} == {
            i: (m.when, m.chair, m.status) for i, m in self.model.items() if m.status in LIVE
        }

    @invariant()
    def records_kept_in_the_process_are_current(self) -> None:
        """Every booking, session record, amendment and cancellation reaches the record cache."""
        with self.db.read() as s:
            ids = list(s.scalars(select(Patient.id)))
            assert record_cache.records(s, ids, load_records) == load_records(s, ids)


ClinicalBookingMachine.TestCase.settings = settings(
    max_examples=20, stateful_step_count=40, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
TestClinicalBookingInvariants = ClinicalBookingMachine.TestCase
