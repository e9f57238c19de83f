"""Clinical reads for the pages: roster, patient detail, screening queue, courses, trends, outcome stats.

Each returns plain data (dataclasses, lists, dicts) so a page can cache it and a test can assert on it.
Every status, band, change, response and flag comes from :mod:`kdash.rules`; this module only gathers the
rows. The roster is built from a few aggregate queries (counts, next booking, last scores by window
function) rather than one query per patient, so it stays fast at thousands of patients.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any, cast

from sqlalchemy import ColumnElement, func, select

from kdash.domain.access import Actor
from kdash.domain.policy import ClinicPolicy
from kdash.domain.records import (
    CourseRec,
    InfusionRec,
    PatientRec,
    ScreeningItemRec,
)
from kdash.domain.vocab import (
    INSTRUMENT_RANGES,
    MAX_INFUSIONS_PER_COURSE,
    SCREENING_ITEMS,
    Indication,
    InfusionStatus,
    Instrument,
    ScreeningStatus,
)
from kdash.rules.course import (
    TrialSuggestion,
    can_add_infusion,
    live_count,
    suggest_trial_outcome,
)
from kdash.rules.flags import Flag
from kdash.rules.huddle import PatientContext, build_entry
from kdash.rules.instruments import (
    course_baseline,
    is_remission,
    is_response,
    main_instrument,
    severity_band,
)
from kdash.rules.screening import ScreeningAssessment, add_months, rescreen_due, screening_status
from kdash.services import minimum_necessary, search
from kdash.services.roster import (
    NO_COURSE,
    OPEN_COURSE_STATUSES,
    PAGE_SIZE,
    SPARK_POINTS,
    RosterFilters,
    RosterPage,
    RosterRow,
    roster,
    roster_overview,
    roster_page,
    roster_row,
)
from kdash.storage import screening_summary
from kdash.storage.context import load_context, load_contexts
from kdash.storage.database import Database
from kdash.storage.models import (
    Amendment,
    Assessment,
    Course,
    Infusion,
    Patient,
    ScreeningItem,
    SuicideReview,
    active_patient_clause,
    live_infusion_clause,
)
from kdash.storage.patient_records import patient_rec

#: The model's shared clauses, typed for the query builder.
_LIVE = cast("ColumnElement[bool]", live_infusion_clause())
_ACTIVE = cast("ColumnElement[bool]", active_patient_clause())

# The roster lives in its own module; these names stay importable from here.
__all__ = [
    "NO_COURSE",
    "OPEN_COURSE_STATUSES",
    "PAGE_SIZE",
    "SPARK_POINTS",
    "RosterFilters",
    "RosterPage",
    "RosterRow",
    "main_instrument",
    "roster",
    "roster_overview",
    "roster_page",
    "roster_row",
]

# --- patient detail -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Slot:
    """One of the ten places of a course: done, booked, free, or the history of a freed number."""

    number: int
    state: str  # "done" | "booked" | "free"
    infusion: InfusionRec | None = None
    freed: tuple[InfusionRec, ...] = ()


@dataclass(frozen=True, slots=True)
class CourseView:
    course: CourseRec
    slots: tuple[Slot, ...]
    live: int
    can_add: bool
    add_reasons: tuple[str, ...]
    suggestion: TrialSuggestion
    trial_outcome_by: str | None
    trial_outcome_on: date | None


@dataclass(frozen=True, slots=True)
class AmendmentView:
    entity: str
    entity_id: int
    field: str
    old_value: str | None
    new_value: str | None
    changed_by: str
    changed_at: datetime
    reason: str


@dataclass(frozen=True, slots=True)
class PatientDetail:
    patient: PatientRec
    context: PatientContext
    screening: ScreeningAssessment
    rescreen_reasons: tuple[str, ...]
    checklist: tuple[dict[str, Any], ...]
    courses: tuple[CourseView, ...]
    flags: tuple[Flag, ...]
    flags_for: date | None
    ready: bool | None
    ready_reasons: tuple[str, ...]
    amendments: tuple[AmendmentView, ...] = field(default_factory=tuple)


def _slots(course: CourseRec) -> tuple[Slot, ...]:
    out = []
    for n in range(1, MAX_INFUSIONS_PER_COURSE + 1):
        live = [i for i in course.infusions if i.number == n and i.is_live]
        freed = tuple(i for i in course.infusions if i.number == n and not i.is_live)
        if live:
            inf = live[0]
            state = "done" if inf.status is InfusionStatus.COMPLETED else "booked"
            out.append(Slot(n, state, inf, freed))
        else:
            out.append(Slot(n, "free", None, freed))
    return tuple(out)


def patient_detail(
    db: Database, settings: ClinicPolicy, patient_id: int, today: date, actor: Actor | None = None
) -> PatientDetail | None:
    """Everything the patient page shows (no audit: the page records the view once per opening), less
    what ``actor``'s role may not see (:mod:`kdash.services.minimum_necessary`)."""
    with db.read() as session:
        ctx = load_context(session, patient_id)
        if ctx is None:
            return None
        course_meta = {
            r.id: (r.trial_outcome_by, r.trial_outcome_on)
            for r in session.execute(
                select(Course.id, Course.trial_outcome_by, Course.trial_outcome_on).where(
                    Course.patient_id == patient_id
                )
            )
        }
        amendments = tuple(
            AmendmentView(
                a.entity, a.entity_id, a.field, a.old_value, a.new_value, a.changed_by, a.changed_at, a.reason
            )
            for a in session.scalars(
                select(Amendment)
                .where(Amendment.patient_id == patient_id)
                .order_by(Amendment.changed_at.desc())
            )
        )
    screening = screening_status(ctx.screening_items, ctx.screening_decisions, settings)
    rescreen = rescreen_due(screening.screened_on, ctx.courses, today, settings)
    latest: dict[str, ScreeningItemRec] = {}
    for it in ctx.screening_items:
        if it.item not in latest or it.recorded_on >= latest[it.item].recorded_on:
            latest[it.item] = it
    checklist = tuple(
        {
            "item": code,
            "meaning": meaning,
            "class": settings.item_class(code).value,
            "answer": latest[code].result.value if code in latest else "",
            "recorded_on": latest[code].recorded_on if code in latest else None,
            "note": latest[code].note if code in latest else None,
        }
        for code, (meaning, _, _) in SCREENING_ITEMS.items()
    )
    views = []
    for c in ctx.courses:
        decision = can_add_infusion(c, screening)
        by, on = course_meta.get(c.id, (None, None))
        views.append(
            CourseView(
                course=c,
                slots=_slots(c),
                live=live_count(c),
                can_add=decision.allowed,
                add_reasons=decision.reasons,
                suggestion=suggest_trial_outcome(c, ctx.assessments, settings),
                trial_outcome_by=by,
                trial_outcome_on=on,
            )
        )
    # Flags as the huddle will show them on the patient's next (or today's) infusion day.
    upcoming = sorted(
        i.scheduled_at.date()
        for c in ctx.courses
        for i in c.infusions
        if i.is_live and i.scheduled_at.date() >= today
    )
    flags: tuple[Flag, ...] = ()
    ready: bool | None = None
    ready_reasons: tuple[str, ...] = ()
    flags_for = upcoming[0] if upcoming else None
    if flags_for is not None:
        entry = build_entry(ctx, flags_for, settings)
        if entry is not None:
            flags, ready, ready_reasons = entry.flags, entry.ready, entry.readiness.reasons
    detail = PatientDetail(
        patient=ctx.patient,
        context=ctx,
        screening=screening,
        rescreen_reasons=rescreen.reasons,
        checklist=checklist,
        courses=tuple(views),
        flags=flags,
        flags_for=flags_for,
        ready=ready,
        ready_reasons=ready_reasons,
        amendments=amendments,
    )
    return minimum_necessary.detail_for(actor, detail)


def search_patients(db: Database, text: str, limit: int = 50) -> list[tuple[int, str]]:
    """(id, "Last, First · MRN") of the patients :func:`kdash.services.search.search_patients` finds."""
    return [(hit.patient_id, hit.label) for hit in search.search_patients(db, text, limit)]


def patient_id_by_mrn(db: Database, mrn: str) -> int | None:
    """The id of the patient whose MRN is exactly ``mrn`` (case and spaces ignored), or None.

    For the address ``/patient?mrn=<MRN>``: a search could open another patient whose MRN merely
    contains the one linked. Opening the record is audited by the page as a view.
    """
    wanted = mrn.strip().lower()
    if not wanted:
        return None
    with db.read() as session:
        return session.scalar(
            select(Patient.id).where(Patient.deleted_at.is_(None), func.lower(Patient.mrn) == wanted).limit(1)
        )


# --- screening queue ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class QueueRow:
    patient_id: int
    mrn: str
    name: str
    provider: str
    indication: str
    status: str
    waiting_since: date | None
    what_is_missing: str
    #: The patient's next booked infusion from today on: who sits in a chair soonest is worked first.
    next_infusion: datetime | None = None


def screening_queue(db: Database, settings: ClinicPolicy, today: date) -> list[QueueRow]:
    """Active patients whose screening is not cleared, needs review, or is due again.

    Sorted by the next booked infusion (a patient in a chair today first: the screening must be
    settled before dosing), then those with nothing booked, oldest waiting first.
    """
    where = _ACTIVE
    with screening_summary.read_current(db, settings) as session:
        patients = {r.id: patient_rec(r) for r in session.execute(select(Patient.__table__).where(where))}
        screenings = screening_summary.assessments(session, where)
        first_item = dict(
            session.execute(
                select(ScreeningItem.patient_id, func.min(ScreeningItem.recorded_on))
                .join(Patient, Patient.id == ScreeningItem.patient_id)
                .where(where)
                .group_by(ScreeningItem.patient_id)
            ).all()
        )
        created = dict(session.execute(select(Patient.id, Patient.created_at).where(where)).all())
        next_booked = dict(
            session.execute(
                select(Course.patient_id, func.min(Infusion.scheduled_at))
                .join(Infusion, Infusion.course_id == Course.id)
                .join(Patient, Patient.id == Course.patient_id)
                .where(
                    where,
                    Infusion.status == InfusionStatus.SCHEDULED.value,
                    Infusion.scheduled_at >= datetime.combine(today, time.min),
                )
                .group_by(Course.patient_id)
            ).all()
        )
        course_counts = dict(
            session.execute(
                select(Course.patient_id, func.count())
                .join(Patient, Patient.id == Course.patient_id)
                .where(where)
                .group_by(Course.patient_id)
            ).all()
        )
        # Only a screening past its interval, or a patient with more than one course, can be due again
        # (rescreen_due's two reasons): load the full records of those alone.
        maybe_due = [
            pid
            for pid, s in screenings.items()
            if s.cleared
            and (
                course_counts.get(pid, 0) > 1
                or (
                    s.screened_on is not None
                    and add_months(s.screened_on, settings.rescreen_after_months) < today
                )
            )
        ]
        contexts = load_contexts(session, maybe_due) if maybe_due else {}
    rows = []
    for pid, p in patients.items():
        s = screenings.get(pid)
        reasons: tuple[str, ...]
        since: date | None
        if s is None:
            status, reasons, since = (
                ScreeningStatus.NOT_STARTED.value,
                ("No screening item recorded yet",),
                None,
            )
        elif s.cleared:
            ctx = contexts.get(pid)
            if ctx is None:
                continue
            due = rescreen_due(s.screened_on, ctx.courses, today, settings)
            if not due.due:
                continue
            status, reasons, since = "rescreen_due", due.reasons, s.screened_on
        else:
            status, reasons, since = s.status.value, s.reasons, first_item.get(pid)
        if since is None and created.get(pid) is not None:
            since = created[pid].date()
        rows.append(
            QueueRow(
                pid,
                p.mrn,
                p.name,
                p.provider,
                p.indication.value,
                status,
                since,
                "; ".join(reasons),
                next_booked.get(pid),
            )
        )
    return sorted(
        rows,
        key=lambda r: (
            r.next_infusion is None,
            r.next_infusion or datetime.max,
            r.waiting_since or date.max,
            r.mrn,
        ),
    )


# --- active courses -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CourseRow:
    course_id: int
    patient_id: int
    mrn: str
    name: str
    indication: str
    number: int
    status: str
    trial_outcome: str
    live: int
    completed: int
    next_booking: datetime | None
    expected_end: date | None


def active_courses(db: Database, today: date) -> list[CourseRow]:
    """Open courses (planned, active) of active patients with progress and the dates that matter."""
    start = datetime.combine(today, time.min)
    with db.read() as session:
        stats = (
            select(
                Infusion.course_id,
                func.count().filter(_LIVE).label("live"),
                func.count().filter(Infusion.status == InfusionStatus.COMPLETED.value).label("completed"),
                func.min(Infusion.scheduled_at)
                .filter(Infusion.status == InfusionStatus.SCHEDULED.value, Infusion.scheduled_at >= start)
                .label("next_at"),
                func.max(Infusion.scheduled_at).filter(_LIVE).label("last_at"),
            )
            .group_by(Infusion.course_id)
            .subquery()
        )
        rows = session.execute(
            select(
                Course.id,
                Course.patient_id,
                Patient.mrn,
                Patient.last_name,
                Patient.first_name,
                Course.indication,
                Course.number,
                Course.status,
                Course.trial_outcome,
                func.coalesce(stats.c.live, 0).label("live"),
                func.coalesce(stats.c.completed, 0).label("completed"),
                stats.c.next_at,
                stats.c.last_at,
            )
            .join(Patient, Patient.id == Course.patient_id)
            .outerjoin(stats, stats.c.course_id == Course.id)
            .where(_ACTIVE, Course.status.in_(OPEN_COURSE_STATUSES))
            .order_by(Patient.last_name, Patient.first_name, Course.number)
        ).all()
    return [
        CourseRow(
            course_id=r.id,
            patient_id=r.patient_id,
            mrn=r.mrn,
            name=f"{r.last_name}, {r.first_name}",
            indication=r.indication,
            number=r.number,
            status=r.status,
            trial_outcome=r.trial_outcome,
            live=int(r.live),
            completed=int(r.completed),
            next_booking=r.next_at,
            # docs/clinical-reference.md, Planning decisions: course end is the date of its last live or
            # planned infusion.
            expected_end=r.last_at.date() if r.last_at is not None else None,
        )
        for r in rows
    ]


# --- trends -------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Band:
    name: str
    low: int
    high: int


@dataclass(frozen=True, slots=True)
class InstrumentTrend:
    instrument: str
    points: tuple[tuple[date, int], ...]
    baseline: int | None
    response_line: float | None
    remission_line: float | None
    bands: tuple[Band, ...]
    range: tuple[int, int]


@dataclass(frozen=True, slots=True)
class PatientTrend:
    patient: PatientRec
    instruments: tuple[InstrumentTrend, ...]
    infusions: tuple[tuple[datetime, int, int], ...]  # (when, course number, infusion number), completed


def bands(instrument: Instrument | str, settings: ClinicPolicy) -> tuple[Band, ...]:
    """Contiguous score ranges of one band name, read off the rule for every score of the range."""
    inst = Instrument(instrument)
    lo, hi = INSTRUMENT_RANGES[inst]
    out: list[Band] = []
    for score in range(lo, hi + 1):
        name = severity_band(inst, score, settings)
        if out and out[-1].name == name:
            out[-1] = Band(name, out[-1].low, score)
        else:
            out.append(Band(name, score, score))
    return tuple(out)


def _response_line(inst: Instrument, baseline: int, settings: ClinicPolicy) -> float | None:
    """The score at which the latest would count as response, found by asking the rule."""
    lo, _ = INSTRUMENT_RANGES[inst]
    best = None
    for score in range(baseline, lo - 1, -1):
        if is_response(inst, baseline, score, settings):
            best = score
            break
    return None if best is None else float(best)


def _remission_line(inst: Instrument, settings: ClinicPolicy) -> float | None:
    lo, hi = INSTRUMENT_RANGES[inst]
    top = None
    for score in range(lo, hi + 1):
        r = is_remission(inst, score, settings)
        if r is None:
            return None
        if r:
            top = score
    return None if top is None else float(top)


def patient_trend(
    db: Database, settings: ClinicPolicy, patient_id: int, actor: Actor | None = None
) -> PatientTrend | None:
    """The chart's data for one patient, from three narrow queries: the patient, their live scores and
    their live infusions. The chart needs nothing else, so the rest of the record stays in the database
    (docs/performance.md: 5 ms is the target for a patient with years of scores)."""
    with db.read() as session:
        row = session.execute(
            select(Patient.__table__).where(Patient.id == patient_id, Patient.deleted_at.is_(None))
        ).first()
        if row is None:
            return None
        scores = session.execute(
            select(Assessment.instrument, Assessment.taken_on, Assessment.score)
            .where(Assessment.patient_id == patient_id, Assessment.deleted_at.is_(None))
            .order_by(Assessment.taken_on, Assessment.id)
        ).all()
        live = session.execute(
            select(Infusion.scheduled_at, Infusion.status, Course.number, Infusion.number)
            .join(Course, Course.id == Infusion.course_id)
            .where(Course.patient_id == patient_id, live_infusion_clause())  # type: ignore[arg-type]
        ).all()
    trend = assemble_trend(
        patient_rec(row),
        [(i, d, v) for i, d, v in scores],
        [(at, status, course_number, number) for at, status, course_number, number in live],
        settings,
    )
    return minimum_necessary.trend_for(actor, trend)


def assemble_trend(
    patient: PatientRec,
    scores: Sequence[tuple[str, date, int]],
    live: Sequence[tuple[datetime, str, int, int]],
    settings: ClinicPolicy,
) -> PatientTrend:
    """The chart's data from the patient, their live scores (oldest first) and their live infusions
    (start, status, course number, infusion number). Pure: the benchmark's hand-written query feeds it
    the same way, so both answers are shaped by one piece of code."""
    first_day = min(r[0] for r in live).date() if live else None
    groups: dict[str, list[tuple[date, int]]] = defaultdict(list)
    for instrument, taken_on, score in scores:
        groups[instrument].append((taken_on, score))
    trends = []
    for inst in Instrument:
        pts = groups.get(inst.value)
        if not pts:
            continue
        baseline = course_baseline(pts, first_day)
        assert baseline is not None  # pts is not empty
        trends.append(
            InstrumentTrend(
                instrument=inst.value,
                points=tuple(pts),
                baseline=baseline,
                response_line=_response_line(inst, baseline, settings),
                remission_line=_remission_line(inst, settings),
                bands=bands(inst, settings),
                range=INSTRUMENT_RANGES[inst],
            )
        )
    infusions = tuple(
        sorted(
            (at, course_number, number)
            for at, status, course_number, number in live
            if status == InfusionStatus.COMPLETED.value
        )
    )
    return PatientTrend(patient, tuple(trends), infusions)


# --- clinic outcome stats ------------------------------------------------------------------------------


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


def suicide_reviews(db: Database, patient_id: int) -> list[dict[str, Any]]:
    with db.read() as session:
        return [
            {"reviewed_on": r.reviewed_on, "by": r.reviewed_by, "action": r.action, "note": r.note}
            for r in session.scalars(
                select(SuicideReview)
                .where(SuicideReview.patient_id == patient_id)
                .order_by(SuicideReview.reviewed_on.desc())
            )
        ]
