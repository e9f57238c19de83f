"""The clinic's outcome figures over roster rows: responder and remission rates by indication and by
the number of infusions, and each treated patient's change from baseline. Pure.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from kdash.domain.vocab import Indication
from kdash.rules.roster_row import RosterRow


@dataclass(frozen=True, slots=True)
class RateRow:
    group: str
    patients: int
    responders: int
    remitters: int
    remission_defined: int

    @property
    def response_rate(self) -> float:
        return 100.0 * self.responders / self.patients if self.patients else 0.0

    @property
    def remission_rate(self) -> float | None:
        return 100.0 * self.remitters / self.remission_defined if self.remission_defined else None


@dataclass(frozen=True, slots=True)
class OutcomeStats:
    by_indication: tuple[RateRow, ...]
    by_infusions: tuple[RateRow, ...]
    changes: tuple[dict[str, Any], ...]  # one per patient: indication, instrument, infusions, change_pct


def _rates(rows: Sequence[RosterRow], key: Any) -> tuple[RateRow, ...]:
    groups: dict[Any, list[RosterRow]] = defaultdict(list)
    for r in rows:
        groups[key(r)].append(r)
    out = []
    for g in sorted(groups):
        members = groups[g]
        out.append(
            RateRow(
                group=str(g),
                patients=len(members),
                responders=sum(1 for r in members if r.response),
                remitters=sum(1 for r in members if r.remission),
                remission_defined=sum(1 for r in members if r.remission is not None),
            )
        )
    return tuple(out)


def outcome_stats(rows: Sequence[RosterRow]) -> OutcomeStats:
    """Responder and remission rates and change-from-baseline, over patients with at least one completed
    infusion and a baseline and a later score of their main instrument (the roster's figures)."""
    treated = [r for r in rows if r.completed > 0 and r.response is not None and r.change_pct is not None]
    return OutcomeStats(
        by_indication=_rates(treated, lambda r: Indication(r.indication).label),
        by_infusions=_rates(treated, lambda r: r.completed),
        changes=tuple(
            {
                "indication": Indication(r.indication).label,
                "instrument": r.instrument,
                "infusions": r.completed,
                "change_pct": r.change_pct,
                "change_points": r.change_points,
            }
            for r in treated
        ),
    )
