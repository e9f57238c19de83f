"""Course cadences: the presets (clinical-reference.md "Course schedules", "Planning decisions"), grids.

A cadence says on which date the next infusion *should* fall; the calendar then says whether it can. The
next cadence date is computed from where the previous infusion actually landed, so one move does not drag
every later infusion with it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from kdash.domain.policy import ClinicPolicy

#: Depression induction: six infusions including the trial over about two weeks, about three a week
#: (clinical-reference.md "Course schedules", clinic pages, *secondary*).
INDUCTION_SESSIONS = 6

WEEKDAY_NAMES: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_WEEKDAY_ALIASES: dict[str, int] = {
    **{name: i for i, name in enumerate(WEEKDAY_NAMES)},
    **{
        full: i
        for i, full in enumerate(
            ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
        )
    },
}


class CadenceKind(StrEnum):
    INDUCTION = "induction"
    TWICE_WEEKLY = "twice-weekly"
    WEEKLY = "weekly"
    BOOSTER = "booster"
    WEEKDAYS = "weekdays"


#: Weekday grids of the grid presets (clinical-reference.md "Planning decisions": induction Mon/Wed/Fri,
#: twice-weekly Mon/Thu). ``weekly`` takes the start's weekday; ``booster`` is not a grid.
_PRESET_GRIDS: dict[CadenceKind, tuple[int, ...]] = {
    CadenceKind.INDUCTION: (0, 2, 4),
    CadenceKind.TWICE_WEEKLY: (0, 3),
}

PRESET_NAMES: tuple[str, ...] = (
    CadenceKind.INDUCTION.value,
    CadenceKind.TWICE_WEEKLY.value,
    CadenceKind.WEEKLY.value,
    CadenceKind.BOOSTER.value,
)


@dataclass(frozen=True, slots=True)
class Cadence:
    """A parsed cadence. ``weekdays`` is the fixed weekly grid (0 = Monday); empty for booster/weekly."""

    kind: CadenceKind
    weekdays: tuple[int, ...] = ()

    @property
    def label(self) -> str:
        if self.kind is CadenceKind.WEEKDAYS:
            return ",".join(WEEKDAY_NAMES[d] for d in self.weekdays)
        return self.kind.value

    def grid(self, chosen_start: date) -> tuple[int, ...]:
        """The weekly grid this cadence follows; ``weekly`` is the chosen start's weekday."""
        if self.kind is CadenceKind.WEEKLY:
            return (chosen_start.weekday(),)
        if self.kind in _PRESET_GRIDS:
            return _PRESET_GRIDS[self.kind]
        return self.weekdays

    @property
    def is_booster(self) -> bool:
        return self.kind is CadenceKind.BOOSTER


def parse_cadence(text: str | Cadence) -> Cadence:
    """Read ``induction``, ``twice-weekly``, ``weekly``, ``booster`` or a weekday list like ``mon,wed,fri``.

    Raises ValueError with the accepted forms, so the CLI and the page can show the message as it is.
    """
    if isinstance(text, Cadence):
        return text
    cleaned = text.strip().lower()
    for kind in CadenceKind:
        if kind is not CadenceKind.WEEKDAYS and cleaned == kind.value:
            return Cadence(kind)
    parts = [p.strip() for p in cleaned.replace(" ", ",").split(",") if p.strip()]
    unknown = [p for p in parts if p not in _WEEKDAY_ALIASES]
    if not parts or unknown:
        shown = ", ".join(repr(p) for p in unknown) if unknown else repr(text)
        raise ValueError(
            f"unknown cadence {shown}: use one of {', '.join(PRESET_NAMES)} "
            "or a weekday list such as mon,wed,fri"
        )
    days = tuple(sorted({_WEEKDAY_ALIASES[p] for p in parts}))
    return Cadence(CadenceKind.WEEKDAYS, days)


def first_grid_date(grid: tuple[int, ...], on_or_after: date) -> date:
    """The first date on or after ``on_or_after`` whose weekday is in the grid."""
    for offset in range(7):
        day = on_or_after + timedelta(days=offset)
        if day.weekday() in grid:
            return day
    raise ValueError("a weekday grid needs at least one weekday")


def next_cadence_date(
    cadence: Cadence,
    chosen_start: date,
    earliest: date,
    previous_planned: date | None,
    settings: ClinicPolicy,
) -> date:
    """The date the next infusion should fall on.

    ``earliest`` already holds the spacing after the previous infusion (planned or live). A grid cadence
    takes the first grid day on or after it. A booster falls ``booster_every_weeks`` after the previous
    *planned* booster (clinical-reference.md "Planning decisions": boosters every 4 weeks); the first booster
    is the earliest day.
    """
    if cadence.is_booster:
        if previous_planned is None:
            return earliest
        # Boosters every 4–6 weeks (clinical-reference.md "Course schedules", secondary):
        # settings.booster_every_weeks
        return max(earliest, previous_planned + timedelta(weeks=settings.booster_every_weeks))
    return first_grid_date(cadence.grid(chosen_start), earliest)


def close_grid_days(grid: tuple[int, ...], min_days: int) -> list[tuple[int, int]]:
    """Pairs of grid weekdays closer than the spacing allows (the later one is then skipped)."""
    if len(grid) < 2:
        return []
    ordered = sorted(grid)
    pairs = []
    for a, b in zip(ordered, [*ordered[1:], ordered[0] + 7], strict=True):
        if b - a < min_days:
            pairs.append((a, b % 7))
    return pairs
