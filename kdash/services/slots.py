"""Whether one infusion slot (start, chair) can be booked for a patient now, and why not.

Both ways of booking — one infusion (:func:`kdash.services.clinical.book_infusion`) and a whole planned
course (:func:`kdash.services.booking.book_plan`) — ask this same question inside their locked write
transaction (:mod:`kdash.services.locks`), against the clinic's bookings as they are at that moment:
the day is open (no closure, an open weekday), the whole chair time fits inside opening hours, the chair
exists and is free for the whole chair time, and the patient has no other live infusion within
``min_days_between_infusions`` days (one a day at most; clinical-reference.md "Planning decisions"). Each
problem comes in two wordings: a sentence for one booking, and a clause said after a planned slot's name.

A chair holds one patient for the chair time: each stored booking keeps the chair time it was booked
with (``Infusion.chair_until``), the import judges its rows by :func:`chair_clashes`, and the database
refuses an overlap whoever writes it (migration 0009).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from kdash.domain.policy import ClinicPolicy
from kdash.domain.records import LiveBooking
from kdash.planner.calendar import ClinicCalendar
from kdash.storage.models import Closure, Course, Infusion, live_infusion_clause


def held_minutes(start: datetime, until: datetime | None) -> int | None:
    """Minutes a stored booking holds its chair (None: the clinic's chair time, for rows without one).

    A booking keeps the chair time it was booked with (``Infusion.chair_until``), so a later change of
    the clinic's chair time never makes two stored bookings overlap.
    """
    if until is None:
        return None
    return max(0, int((until - start).total_seconds() // 60))


@dataclass(frozen=True, slots=True)
class SlotProblem:
    """One reason a slot cannot be booked: ``sentence`` on its own, ``clause`` after a slot's name."""

    sentence: str
    clause: str


def _day_windows(days: Collection[date], pad: int) -> object:
    """SQL: scheduled_at within ``pad`` days of any of ``days`` (targeted, uses the scheduled_at index)."""
    return or_(
        *(
            and_(
                Infusion.scheduled_at >= datetime.combine(d - timedelta(days=pad), time()),
                Infusion.scheduled_at < datetime.combine(d + timedelta(days=pad + 1), time()),
            )
            for d in sorted(days)
        )
    )


@dataclass
class SlotCheck:
    """The clinic around some days, read once inside a booking's locked transaction."""

    settings: ClinicPolicy
    patient_id: int
    calendar: ClinicCalendar
    closure_reasons: dict[date, str]
    _held_days: set[date] = field(default_factory=set)

    @classmethod
    def load(
        cls, session: Session, settings: ClinicPolicy, patient_id: int, days: Collection[date]
    ) -> SlotCheck:
        """Read the live bookings near ``days`` (wide enough for the spacing rule) and their closures.

        Call it after :func:`kdash.services.locks.lock_days` for the same days, so no other writer can
        book those days' chairs until this transaction ends.
        """
        pad = max(1, settings.min_days_between_infusions)
        rows = session.execute(
            select(
                Infusion.scheduled_at,
                Infusion.chair,
                Course.patient_id,
                Infusion.course_id,
                Infusion.chair_until,
            )
            .join(Course, Course.id == Infusion.course_id)
            .where(live_infusion_clause(), _day_windows(days, pad))  # type: ignore[arg-type]
        )
        bookings = [
            LiveBooking(
                start=r[0], chair=r[1], patient_id=r[2], course_id=r[3], minutes=held_minutes(r[0], r[4])
            )
            for r in rows
        ]
        closures = {
            row.day: row.reason
            for row in session.scalars(
                select(Closure).where(Closure.day >= min(days), Closure.day <= max(days))
            )
        }
        return cls(settings, patient_id, ClinicCalendar.build(settings, bookings, closures), closures)

    def _span(self, start: datetime) -> tuple[int, int]:
        begin = start.hour * 60 + start.minute
        return begin, begin + self.settings.chair_minutes

    def free_chair(self, start: datetime) -> int | None:
        """The lowest-numbered chair free for the whole chair time from ``start`` (clinical-reference.md
        "Planning decisions")."""
        begin, end = self._span(start)
        for chair in range(1, self.settings.chairs + 1):
            if self.calendar.chair_free(start.date(), chair, begin, end):
                return chair
        return None

    def problems(self, start: datetime, chair: int | None) -> list[SlotProblem]:
        """Every reason ``start`` in ``chair`` cannot be booked for the patient (None: any chair will do).

        With ``chair`` None only the day, the hours and the spacing are judged: the caller then takes
        :meth:`free_chair`.
        """
        s = self.settings
        day = start.date()
        out: list[SlotProblem] = []
        if day in self.closure_reasons:
            out.append(
                SlotProblem(
                    f"The clinic is closed on {day} ({self.closure_reasons[day]}).",
                    "the clinic is closed that day",
                )
            )
        if day.weekday() not in s.open_weekdays:
            out.append(
                SlotProblem(f"The clinic is not open on {start:%A}s.", "the clinic is closed that day")
            )
        begin, end = self._span(start)
        if begin < s.open_hour * 60 or end > s.close_hour * 60:
            last = s.close_hour * 60 - s.chair_minutes
            out.append(
                SlotProblem(
                    f"A booking holds a chair for {s.chair_minutes} minutes inside opening hours "
                    f"{s.open_hour:02d}:00–{s.close_hour:02d}:00: start between "
                    f"{s.open_hour:02d}:00 and {last // 60:02d}:{last % 60:02d}.",
                    "the chair time does not fit inside opening hours",
                )
            )
        if chair is not None:
            if not 1 <= chair <= s.chairs:
                out.append(
                    SlotProblem(
                        f"Choose a chair from 1 to {s.chairs}.", f"the clinic has chairs 1 to {s.chairs}"
                    )
                )
            elif not self.calendar.chair_free(day, chair, begin, end):
                out.append(
                    SlotProblem(
                        f"Chair {chair} is taken around {start:%Y-%m-%d %H:%M}: "
                        "choose another chair or time.",
                        "the chair was booked meanwhile",
                    )
                )
        # One infusion a day, and settings.min_days_between_infusions between them (clinical-reference.md
        # "Planning decisions").
        min_days = s.min_days_between_infusions
        near = sorted(
            d
            for d in self.calendar.patient_days(self.patient_id) | self._held_days
            if abs((d - day).days) < max(1, min_days)
        )
        if near:
            out.append(
                SlotProblem(
                    f"The patient has an infusion on {near[0]}; leave at least {min_days} days between "
                    "infusions.",
                    f"the patient has another infusion within {min_days} days",
                )
            )
        return out

    def hold(self, start: datetime) -> None:
        """Count ``start`` as the patient's (an earlier slot of the same plan) for the spacing rule."""
        self._held_days.add(start.date())


@dataclass(frozen=True, slots=True)
class ChairHold:
    """A live booking's hold on a chair, ``[start, until)``, and where it comes from (for messages)."""

    chair: int
    start: datetime
    until: datetime
    where: str
    stored: bool = False


def chair_clashes(holds: Iterable[ChairHold]) -> list[tuple[ChairHold, ChairHold]]:
    """Pairs of holds of one chair whose chair times overlap: ``(held, clashing)``.

    A chair holds one patient for the chair time (clinical-reference.md "Planning decisions"), half-open:
    a booking ending at 10:00 leaves the chair free at 10:00. Of each pair, ``clashing`` is the one to
    refuse: a hold not yet stored rather than a stored one, else the later in input order. Each pair is
    reported once.
    """
    listed = list(holds)
    order = {id(h): i for i, h in enumerate(listed)}
    by_chair: dict[int, list[ChairHold]] = {}
    for hold in sorted(listed, key=lambda h: (h.chair, h.start, not h.stored, order[id(h)])):
        by_chair.setdefault(hold.chair, []).append(hold)
    pairs: list[tuple[ChairHold, ChairHold]] = []
    for chair_holds in by_chair.values():
        active: list[ChairHold] = []
        for hold in chair_holds:
            active = [a for a in active if a.until > hold.start]
            for other in active:
                first, second = sorted((other, hold), key=lambda h: (not h.stored, order[id(h)]))
                pairs.append((first, second))
            active.append(hold)
    return pairs


def stored_chair_holds(session: Session, days: Collection[date]) -> list[tuple[int, ChairHold]]:
    """Every live booking with a chair within a day of ``days`` (any patient), with its infusion id."""
    if not days:
        return []
    rows = session.execute(
        select(Infusion.id, Infusion.chair, Infusion.scheduled_at, Infusion.chair_until).where(
            live_infusion_clause(),  # type: ignore[arg-type]
            Infusion.chair.is_not(None),
            _day_windows(days, 1),  # type: ignore[arg-type]
        )
    )
    return [
        (row_id, ChairHold(chair, start, until or start, "the database", stored=True))
        for row_id, chair, start, until in rows
        if chair is not None
    ]
