"""What the patient page's parts share: who is signed in, the patient's record, today, and the
infusions its forms choose from (plain data, no widgets)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from kdash.domain.access import Actor
from kdash.domain.records import CourseRec, InfusionRec, PatientRec
from kdash.domain.vocab import CourseStatus, InfusionStatus
from kdash.services.patient_detail import CourseView, PatientDetail
from kdash.ui.charts import slot_status


@dataclass(frozen=True)
class PatientPage:
    """What every form of the page needs: who is signed in, the patient's record, and today."""

    actor: Actor
    detail: PatientDetail
    today: date

    @property
    def patient(self) -> PatientRec:
        return self.detail.patient

    @property
    def open_courses(self) -> list[CourseView]:
        return [
            v for v in self.detail.courses if v.course.status in (CourseStatus.PLANNED, CourseStatus.ACTIVE)
        ]

    @property
    def all_infusions(self) -> list[tuple[CourseRec, InfusionRec]]:
        return [(v.course, i) for v in self.detail.courses for i in v.course.infusions]

    @property
    def scheduled(self) -> list[tuple[CourseRec, InfusionRec]]:
        return [(c, i) for c, i in self.all_infusions if i.status is InfusionStatus.SCHEDULED]

    @property
    def recordable(self) -> list[tuple[CourseRec, InfusionRec]]:
        """Infusions booked for today or earlier, scheduled or completed (a completed one is amended)."""
        return [
            (c, i)
            for c, i in self.all_infusions
            if i.status in (InfusionStatus.SCHEDULED, InfusionStatus.COMPLETED)
            and i.scheduled_at.date() <= self.today
        ]


def todays_infusion(pairs: list[tuple[CourseRec, InfusionRec]], today: date) -> int:
    """Which infusion "Record an infusion" opens on: today's (a scheduled one before a completed one),
    else the most recent — never the finished trial while today's infusion waits."""
    ranked = sorted(
        range(len(pairs)),
        key=lambda n: (
            pairs[n][1].scheduled_at.date() == today,
            pairs[n][1].status is InfusionStatus.SCHEDULED,
            pairs[n][1].scheduled_at,
        ),
    )
    return ranked[-1] if ranked else 0


def infusion_label(pair: tuple[CourseRec, InfusionRec]) -> str:
    c, i = pair
    return (
        f"Course {c.number} · infusion {i.number} · {i.scheduled_at:%Y-%m-%d %H:%M} · {slot_status(i.status)}"
    )
