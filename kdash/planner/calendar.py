"""The clinic calendar the planner places infusions on: open days, chairs and existing bookings.

Bookings are indexed once by (date, chair) and by patient, so finding a free chair for one candidate day
looks at that day's few bookings only, never at all of the clinic's bookings (clinical-reference.md
"Planning decisions": a booking holds one chair for its whole chair time, inside opening hours).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from kdash.domain.policy import ClinicPolicy
from kdash.domain.records import LiveBooking

#: Candidate start times are on this grid from opening (a planner choice: half-hour appointments are
#: what a front desk books; see docs/planner.md).
DEFAULT_STEP_MINUTES = 30


class DayClosed(StrEnum):
    """Why a day takes no infusion at all."""

    CLOSURE = "closure"
    WEEKDAY = "weekday"


def to_clinic_local(moment: datetime, settings: ClinicPolicy) -> datetime:
    """A naive clinic-local datetime (clinical-reference.md "Decisions": datetimes without a zone are in the
    clinic's zone)."""
    if moment.tzinfo is None:
        return moment
    zone = ZoneInfo(settings.timezone) if settings.timezone else None
    return moment.astimezone(zone).replace(tzinfo=None)


def _minute_of_day(moment: datetime) -> int:
    return moment.hour * 60 + moment.minute


@dataclass
class ClinicCalendar:
    """Settings, closures and every live booking of the clinic, indexed for quick look-ups.

    Build it once with :meth:`build` and plan several scenarios against it. Intervals are minutes of the
    day, half-open ``[start, end)``: a booking ending at 10:00 leaves the chair free at 10:00.
    """

    settings: ClinicPolicy
    closures: frozenset[date] = frozenset()
    step_minutes: int = DEFAULT_STEP_MINUTES
    _by_day_chair: dict[tuple[date, int], list[tuple[int, int]]] = field(default_factory=dict)
    _chairs_by_day: dict[date, set[int]] = field(default_factory=dict)
    _patient_days: dict[int, set[date]] = field(default_factory=dict)

    @classmethod
    def build(
        cls,
        settings: ClinicPolicy,
        bookings: Iterable[LiveBooking] = (),
        closures: Iterable[date] = (),
        *,
        step_minutes: int = DEFAULT_STEP_MINUTES,
    ) -> ClinicCalendar:
        if step_minutes <= 0:
            raise ValueError("the slot step must be a positive number of minutes")
        calendar = cls(settings=settings, closures=frozenset(closures), step_minutes=step_minutes)
        unassigned: dict[date, list[LiveBooking]] = defaultdict(list)
        for booking in bookings:
            start = to_clinic_local(booking.start, settings)
            calendar._patient_days.setdefault(booking.patient_id, set()).add(start.date())
            if booking.chair is None:
                unassigned[start.date()].append(booking)
                continue
            calendar._add(start, booking.chair, booking.minutes)
        for day in sorted(unassigned):
            for booking in sorted(unassigned[day], key=lambda b: to_clinic_local(b.start, settings)):
                calendar._add_without_chair(to_clinic_local(booking.start, settings), booking.minutes)
        for intervals in calendar._by_day_chair.values():
            intervals.sort()
        return calendar

    # --- building -------------------------------------------------------------------------------
    def _minutes(self, minutes: int | None) -> int:
        return self.settings.chair_minutes if minutes is None else minutes

    def _add(self, start: datetime, chair: int, minutes: int | None) -> None:
        begin = _minute_of_day(start)
        key = (start.date(), chair)
        self._by_day_chair.setdefault(key, []).append((begin, begin + self._minutes(minutes)))
        self._chairs_by_day.setdefault(start.date(), set()).add(chair)

    def _add_without_chair(self, start: datetime, minutes: int | None) -> None:
        """Give a chair-less booking the lowest chair free for its whole time (clinical-reference.md "Planning
        decisions").

        With every chair taken it goes on an extra chair beyond the clinic's count, so it still counts
        toward the day's use instead of vanishing.
        """
        begin = _minute_of_day(start)
        end = begin + self._minutes(minutes)
        chair = 1
        while not self.chair_free(start.date(), chair, begin, end):
            chair += 1
        self._add(start, chair, minutes)
        self._by_day_chair[(start.date(), chair)].sort()

    # --- questions the planner asks -------------------------------------------------------------
    def closed_why(self, day: date) -> DayClosed | None:
        if day in self.closures:
            return DayClosed.CLOSURE
        if day.weekday() not in self.settings.open_weekdays:
            return DayClosed.WEEKDAY
        return None

    def intervals(self, day: date, chair: int) -> list[tuple[int, int]]:
        return self._by_day_chair.get((day, chair), [])

    def chairs_used_on(self, day: date) -> set[int]:
        """Every chair number holding a booking that day (may exceed the clinic's chair count)."""
        return self._chairs_by_day.get(day, set())

    def chair_free(self, day: date, chair: int, begin: int, end: int) -> bool:
        return all(end <= b or begin >= e for b, e in self.intervals(day, chair))

    def patient_days(self, patient_id: int) -> set[date]:
        """Days on which the patient already has a live booking (any course)."""
        return self._patient_days.get(patient_id, set())

    def grid_starts(self) -> list[int]:
        """Candidate starts (minute of day) whose whole chair time fits inside opening hours."""
        opening = self.settings.open_hour * 60
        closing = self.settings.close_hour * 60
        last = closing - self.settings.chair_minutes
        return list(range(opening, last + 1, self.step_minutes)) if last >= opening else []

    def free_slot(self, day: date, preferred: time | None = None) -> tuple[int, int] | None:
        """(start minute, chair) of the best free chair that day, or None.

        Without a preference: the earliest start, then the lowest chair. With a preferred clinic-local
        time: the start nearest to it (the earlier one on a tie), then the lowest chair.
        """
        duration = self.settings.chair_minutes
        starts = self.grid_starts()
        if preferred is not None:
            target = preferred.hour * 60 + preferred.minute
            starts = sorted(starts, key=lambda s: (abs(s - target), s))
        for begin in starts:
            for chair in range(1, self.settings.chairs + 1):
                if self.chair_free(day, chair, begin, begin + duration):
                    return begin, chair
        return None


def at_minute(day: date, minute: int) -> datetime:
    return datetime.combine(day, time()) + timedelta(minutes=minute)
