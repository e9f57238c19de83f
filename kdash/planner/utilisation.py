"""Chair utilisation: chair-hours used against chair-hours open, per day and per hour.

clinical-reference.md "Capacity": chair-hours = opening hours × chairs; a day above ``capacity_warning_pct``
of its chair-hours gets a warning (the best centres use 82–90%, vendor benchmark, *secondary*). A scenario's
planned slots can be added on top to see the load it would bring.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Protocol

from kdash.domain.policy import ClinicPolicy
from kdash.domain.records import LiveBooking
from kdash.planner.calendar import ClinicCalendar, to_clinic_local


class ChairTime(Protocol):
    """Anything that holds a chair from ``start`` to ``end`` (a planned slot)."""

    @property
    def start(self) -> datetime: ...

    @property
    def end(self) -> datetime: ...


@dataclass(frozen=True, slots=True)
class HourUse:
    hour: int
    used_minutes: int
    available_minutes: int

    @property
    def pct(self) -> float:
        return 100.0 * self.used_minutes / self.available_minutes if self.available_minutes else 0.0


@dataclass(frozen=True, slots=True)
class DayUse:
    """One open day's chair use; ``added_minutes`` is the part a scenario adds (already in ``used``)."""

    day: date
    used_minutes: int
    available_minutes: int
    added_minutes: int
    over: bool
    hours: tuple[HourUse, ...] = ()

    @property
    def pct(self) -> float:
        return 100.0 * self.used_minutes / self.available_minutes if self.available_minutes else 0.0

    @property
    def used_hours(self) -> float:
        return self.used_minutes / 60

    @property
    def available_hours(self) -> float:
        return self.available_minutes / 60


@dataclass(frozen=True, slots=True)
class Utilisation:
    days: tuple[DayUse, ...]
    warning_pct: float

    @property
    def over_days(self) -> tuple[date, ...]:
        """Days above the capacity warning share, with the scenario's load."""
        return tuple(d.day for d in self.days if d.over)

    @property
    def used_minutes(self) -> int:
        return sum(d.used_minutes for d in self.days)

    @property
    def available_minutes(self) -> int:
        return sum(d.available_minutes for d in self.days)


def _overlap(a: int, b: int, c: int, d: int) -> int:
    return max(0, min(b, d) - max(a, c))


def day_use(calendar: ClinicCalendar, day: date, extra: Iterable[tuple[int, int]] = ()) -> DayUse | None:
    """Chair use of one day, or None when the clinic is closed that day.

    Bookings count only inside opening hours (a booking cannot run past them, but imported history
    might); chairs beyond the clinic's count (an overbooked import) still count as use.
    """
    settings = calendar.settings
    if calendar.closed_why(day) is not None:
        return None
    opening, closing = settings.open_hour * 60, settings.close_hour * 60
    intervals = [iv for chair in calendar.chairs_used_on(day) for iv in calendar.intervals(day, chair)]
    added = list(extra)
    everything = intervals + added
    hours = []
    for hour in range(settings.open_hour, settings.close_hour):
        h0, h1 = hour * 60, hour * 60 + 60
        hours.append(
            HourUse(
                hour=hour,
                used_minutes=sum(_overlap(b, e, h0, h1) for b, e in everything),
                available_minutes=60 * settings.chairs,
            )
        )
    used = sum(_overlap(b, e, opening, closing) for b, e in everything)
    available = (closing - opening) * settings.chairs
    pct = 100.0 * used / available if available else 0.0
    return DayUse(
        day=day,
        used_minutes=used,
        available_minutes=available,
        added_minutes=sum(_overlap(b, e, opening, closing) for b, e in added),
        # Capacity warning above settings.capacity_warning_pct (clinical-reference.md "Capacity", best centres
        # 82–90%)
        over=pct > settings.capacity_warning_pct,
        hours=tuple(hours),
    )


def clinic_utilisation(
    bookings: ClinicCalendar | Iterable[LiveBooking],
    settings: ClinicPolicy,
    closures: Iterable[date],
    start: date,
    end: date,
    extra: Iterable[ChairTime] = (),
) -> Utilisation:
    """Chair use of every open day from ``start`` to ``end`` (both included), with ``extra`` added.

    ``bookings`` may be a prebuilt :class:`ClinicCalendar` (its settings and closures then win) so a page
    that already built one for planning does not index the bookings twice.
    """
    if end < start:
        raise ValueError("the utilisation range ends before it starts")
    calendar = (
        bookings
        if isinstance(bookings, ClinicCalendar)
        else ClinicCalendar.build(settings, bookings, closures)
    )
    extra_by_day: dict[date, list[tuple[int, int]]] = {}
    for slot in extra:
        begin = to_clinic_local(slot.start, calendar.settings)
        finish = to_clinic_local(slot.end, calendar.settings)
        b = begin.hour * 60 + begin.minute
        extra_by_day.setdefault(begin.date(), []).append((b, b + int((finish - begin).total_seconds() // 60)))
    days = []
    day = start
    while day <= end:
        use = day_use(calendar, day, extra_by_day.get(day, ()))
        if use is not None:
            days.append(use)
        day += timedelta(days=1)
    return Utilisation(days=tuple(days), warning_pct=calendar.settings.capacity_warning_pct)
