"""The chair calendar the demo clinic is booked on: open days, the slot grid and free chairs.

Kept apart from :mod:`kdash.demo.clinic` so the booking arithmetic (which days are open, which chair-slots are
free, the nearest bookable day before or after a date) can be read and tested on its own. Everything is
derived from :class:`~kdash.domain.policy.ClinicPolicy` (clinical-reference.md "Planning decisions": open
weekdays, opening hours, chairs, chair time), so a clinic with 8 chairs or longer hours gets a wider grid.

A booking always starts on the grid (opening time + k × chair time, ending by closing time), so two live
bookings of one chair never overlap and at most ``chairs`` patients sit at once.
"""

from __future__ import annotations

import random
from datetime import date, timedelta

from kdash.domain.policy import ClinicPolicy


def slot_starts(settings: ClinicPolicy) -> list[int]:
    """Start times (minutes after midnight) of the day's booking grid, one booking per chair each.

    With the defaults (08:00–18:00, 120-minute chair time, clinical-reference.md "Planning decisions",
    calendar) that is 08, 10, 12, 14 and 16 o'clock.
    """
    start, end, step = settings.open_hour * 60, settings.close_hour * 60, settings.chair_minutes
    if step <= 0:
        raise ValueError("chair time must be positive")
    return list(range(start, end - step + 1, step))


def day_capacity(settings: ClinicPolicy) -> int:
    """The most live infusions one open day can hold: grid starts × chairs (20 with the defaults)."""
    return len(slot_starts(settings)) * settings.chairs


def easter_sunday(year: int) -> date:
    """Western Easter Sunday (anonymous Gregorian algorithm), for Good Friday and Easter Monday."""
    a = year % 19
    b, c = divmod(year, 100)
    d, e = divmod(b, 4)
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    m = (32 + 2 * e + 2 * i - h - k) % 7
    n = (a + 11 * h + 22 * m) // 451
    month, day = divmod(h + m - 7 * n + 114, 31)
    return date(year, month, day + 1)


def _last_monday(year: int, month: int) -> date:
    first_next = date(year + (month == 12), month % 12 + 1, 1)
    last = first_next - timedelta(days=1)
    return last - timedelta(days=last.weekday())


def holidays(year: int) -> dict[date, str]:
    """A synthetic list of public holidays (a demo clinic's closures, not any one country's calendar)."""
    easter = easter_sunday(year)
    return {
        date(year, 1, 1): "New Year's Day",
        easter - timedelta(days=2): "Good Friday",
        easter + timedelta(days=1): "Easter Monday",
        _last_monday(year, 5): "Spring bank holiday",
        _last_monday(year, 8): "Summer bank holiday",
        date(year, 12, 25): "Christmas Day",
        date(year, 12, 26): "Boxing Day",
    }


class ChairCalendar:
    """Free chair-slots per day, with the nearest bookable day found in near-constant time.

    Days are proleptic ordinals (``date.toordinal``). ``exempt`` days are open even on a holiday (the
    schedule day is always open); ``reserved`` days take only explicit :meth:`take` calls, never the
    nearest-day search (the schedule day and a benchmark's extra day hold exactly what is pinned there).
    Once a day is full it stays full, so the skip pointers of :meth:`latest_on_or_before` and
    :meth:`earliest_on_or_after` never need undoing.
    """

    def __init__(
        self,
        settings: ClinicPolicy,
        rng: random.Random,
        *,
        exempt: frozenset[int] = frozenset(),
        reserved: frozenset[int] = frozenset(),
    ) -> None:
        if not settings.open_weekdays:
            raise ValueError("the clinic has no open weekday: nothing can be booked")
        starts = slot_starts(settings)
        if not starts or settings.chairs < 1:
            raise ValueError("the opening hours hold no chair time: nothing can be booked")
        self._slots = [(start, chair) for start in starts for chair in range(1, settings.chairs + 1)]
        self._weekdays = frozenset(settings.open_weekdays)
        self._rng = rng
        self._exempt = exempt
        self._reserved = reserved
        self._free: dict[int, list[tuple[int, int]]] = {}
        self._holiday_years: dict[int, frozenset[int]] = {}
        self._back: dict[int, int] = {}
        self._fwd: dict[int, int] = {}

    def is_open(self, day: int) -> bool:
        """The clinic opens on that day (an open weekday and not a holiday, or an exempt day)."""
        if day in self._exempt:
            return True
        if (day - 1) % 7 not in self._weekdays:  # ordinal 1 (0001-01-01) is a Monday
            return False
        year = date.fromordinal(day).year
        closed = self._holiday_years.get(year)
        if closed is None:
            closed = self._holiday_years[year] = frozenset(d.toordinal() for d in holidays(year))
        return day not in closed

    def _bookable(self, day: int) -> bool:
        if day in self._reserved:
            return False
        free = self._free.get(day)
        return self.is_open(day) if free is None else bool(free)

    def free_count(self, day: int) -> int:
        free = self._free.get(day)
        if free is None:
            return len(self._slots) if self.is_open(day) else 0
        return len(free)

    def take(self, day: int) -> tuple[int, int]:
        """Book a random free (start minute, chair) on ``day``; the caller made sure one is free."""
        free = self._free.get(day)
        if free is None:
            free = self._free[day] = list(self._slots)
        i = self._rng.randrange(len(free))
        slot = free[i]
        free[i] = free[-1]
        free.pop()
        return slot

    def any_slot(self) -> tuple[int, int]:
        """A grid slot for a booking that holds no chair (a cancelled or missed one)."""
        return self._slots[self._rng.randrange(len(self._slots))]

    def latest_on_or_before(self, day: int) -> int:
        """The latest bookable day not after ``day`` (the calendar is unbounded into the past)."""
        path = []
        while not self._bookable(day):
            path.append(day)
            day = self._back.get(day, day - 1)
        for p in path:
            self._back[p] = day
        return day

    def earliest_on_or_after(self, day: int) -> int:
        """The earliest bookable day not before ``day``."""
        path = []
        while not self._bookable(day):
            path.append(day)
            day = self._fwd.get(day, day + 1)
        for p in path:
            self._fwd[p] = day
        return day
