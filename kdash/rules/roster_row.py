"""One roster row: a patient's course progress, main score with its band, baseline, change, response and
remission, the sparkline's scores, the next infusion and the huddle's flags.

Pure: :func:`roster_row` lays out a row from pieces the roster's queries gathered (and the benchmark's
hand-written queries), with every judgement from :mod:`kdash.rules.instruments`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from kdash.domain.policy import ClinicPolicy
from kdash.domain.records import PatientRec
from kdash.domain.vocab import ScreeningStatus, Severity
from kdash.rules.flags import Flag
from kdash.rules.instruments import (
    change_from_baseline,
    is_remission,
    is_response,
    main_instrument,
    severity_band,
)

#: Scores kept per patient for the roster's sparkline.
SPARK_POINTS = 10


@dataclass(frozen=True, slots=True)
class RosterRow:
    patient_id: int
    mrn: str
    name: str
    indication: str
    provider: str
    status: str
    screening_status: str
    course_number: int | None
    course_status: str | None
    trial_outcome: str | None
    live: int
    completed: int
    instrument: str
    baseline: int | None
    latest: int | None
    latest_on: date | None
    band: str | None
    change_points: int | None
    change_pct: float | None
    response: bool | None
    remission: bool | None
    series: tuple[int, ...]
    next_infusion: datetime | None
    flags: tuple[Flag, ...] = ()

    @property
    def urgent(self) -> int:
        return sum(1 for f in self.flags if f.severity is Severity.URGENT)

    @property
    def flag_summary(self) -> str:
        return ", ".join(f.code.value for f in self.flags)


def any_urgent(flags: Sequence[Flag]) -> bool:
    return any(f.severity is Severity.URGENT for f in flags)


def roster_row(
    patient: PatientRec,
    series_desc: Sequence[tuple[date, int]],
    baseline: int | None,
    course: Mapping[str, Any] | None,
    screening_status: ScreeningStatus,
    next_infusion: datetime | None,
    flags: tuple[Flag, ...],
    settings: ClinicPolicy,
) -> RosterRow:
    """One roster row from its gathered pieces: the main score's series (newest first), its baseline,
    the current course (number, status, trial_outcome, live, completed). Pure, so the service and the
    benchmark's hand-written queries lay rows out with the same code."""
    inst = main_instrument(patient.indication)
    latest = series_desc[0] if series_desc else None
    band = change = response = remission = None
    if latest is not None:
        band = severity_band(inst, latest[1], settings)
        remission = is_remission(inst, latest[1], settings)
        if baseline is not None:
            change = change_from_baseline(baseline, latest[1])
            response = is_response(inst, baseline, latest[1], settings)
    return RosterRow(
        patient_id=patient.id,
        mrn=patient.mrn,
        name=patient.name,
        indication=patient.indication.value,
        provider=patient.provider,
        status=patient.status.value,
        screening_status=screening_status.value,
        course_number=course["number"] if course else None,
        course_status=course["status"] if course else None,
        trial_outcome=course["trial_outcome"] if course else None,
        live=int(course["live"] or 0) if course else 0,
        completed=int(course["completed"] or 0) if course else 0,
        instrument=inst.value,
        baseline=baseline,
        latest=latest[1] if latest else None,
        latest_on=latest[0] if latest else None,
        band=band,
        change_points=change.points if change else None,
        change_pct=change.pct if change else None,
        response=response,
        remission=remission,
        series=tuple(score for _, score in reversed(series_desc)),
        next_infusion=next_infusion,
        flags=flags,
    )
