"""The huddle flag record and its ordering (clinical-reference.md "Decisions", urgency order).

Kept apart from :mod:`kdash.rules.huddle` so the course rules (ready to infuse) can read flags without a
circular import.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from kdash.domain.vocab import FLAG_SEVERITY, SEVERITY_RANK, FlagCode, Severity

_CODE_ORDER: dict[FlagCode, int] = {code: n for n, code in enumerate(FlagCode)}


@dataclass(frozen=True, slots=True)
class Flag:
    """One huddle flag: its code, severity (from FLAG_SEVERITY) and a message a nurse understands.

    ``blocking`` is False for an urgent flag that no longer stops the infusion (a SUICIDE_RISK with a
    review recorded after the score, clinical-reference.md "Decisions", item 9 review).
    """

    code: FlagCode
    message: str
    blocking: bool = True
    #: For an urgent flag that no longer blocks: the review or decision that cleared it, in words
    #: ("reviewed 2026-12-03 by Dr X: safety plan"), so a card that is urgent and ready says why.
    cleared_by: str = ""

    @property
    def severity(self) -> Severity:
        return FLAG_SEVERITY[self.code]

    @property
    def blocks(self) -> bool:
        """Stops ``ready``: an urgent flag still blocking."""
        return self.blocking and self.severity is Severity.URGENT


def make_flag(code: FlagCode, message: str, *, blocking: bool = True) -> Flag:
    return Flag(code=code, message=message, blocking=blocking)


def sort_flags(flags: Iterable[Flag]) -> list[Flag]:
    """Urgent first, then warnings, then infos; within a severity, the vocabulary's order."""
    return sorted(flags, key=lambda f: (SEVERITY_RANK[f.severity], _CODE_ORDER[f.code]))


def severity_counts(flags: Iterable[Flag]) -> tuple[int, int, int]:
    """(urgent, warning, info) counts, for the huddle's urgency order."""
    counts = [0, 0, 0]
    for f in flags:
        counts[SEVERITY_RANK[f.severity]] += 1
    return counts[0], counts[1], counts[2]
