"""Every role × action pair from one table: allowed where the table says, refused and audited elsewhere.

The table below is written out on purpose rather than read from kdash.domain.access: a change to who may
do what must change this test too. Each service is then called by every role: a role the table refuses
gets :class:`Forbidden` before anything is read or written, and the refusal is in the audit trail; a role
the table allows gets past the check (to whatever the arguments then meet: a missing record, say).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any

import pytest
from sqlalchemy import select

from kdash.domain.access import PERMISSIONS, Action, Actor, Forbidden, require
from kdash.domain.vocab import Role
from kdash.services import clinical
from kdash.services.booking import book_plan, plan_for_mrn
from kdash.storage.database import Database
from kdash.storage.models import AuditEvent

P, N, S, A, R = Role.PROVIDER, Role.NURSE, Role.SCHEDULER, Role.ADMIN, Role.READ_ONLY
TABLE: dict[Action, set[Role]] = {
    Action.VIEW_CLINICAL: {P, N, S, A, R},
    Action.VIEW_SENSITIVE: {P, N, A, R},
    Action.EDIT_PATIENT: {P},
    Action.RECORD_SCREENING_ITEM: {P, N},
    Action.DECIDE_SCREENING: {P},
    Action.RECORD_ASSESSMENT: {P, N},
    Action.REVIEW_SUICIDE_RISK: {P},
    Action.RECORD_INFUSION: {P, N},
    Action.BOOK_INFUSION: {P, N, S},
    Action.CANCEL_INFUSION: {P, N, S},
    Action.RECORD_TRIAL_OUTCOME: {P},
    Action.START_COURSE: {P},
    Action.PLAN: {P, S},
    Action.IMPORT: {P, A},
    Action.EXPORT: {P, A},
    Action.MANAGE_USERS: {A},
    Action.EDIT_SETTINGS: {A},
    Action.VIEW_AUDIT: {A},
    Action.DELETE_RECORD: {P},
}
PAIRS = [(role, action) for action in Action for role in Role]


def test_the_table_covers_every_action() -> None:
    assert set(TABLE) == set(Action)


@pytest.mark.parametrize(("role", "action"), PAIRS, ids=[f"{r.value}-{a.value}" for r, a in PAIRS])
def test_role_may_do_exactly_what_the_table_says(role: Role, action: Action) -> None:
    actor = Actor("someone", role)
    allowed = role in TABLE[action]
    assert actor.can(action) is allowed
    assert (action in PERMISSIONS[role]) is allowed
    if allowed:
        require(actor, action)
    else:
        with pytest.raises(Forbidden):
            require(actor, action)


NOW = datetime(2026, 12, 6, 9, 0)
DAY = date(2026, 12, 6)

#: Each service that checks a permission, called on the patient, course, infusion and score of ``clinic``.
SERVICES: dict[str, tuple[Action, Callable[[Database, Actor, dict[str, int]], Any]]] = {
    "record_screening_item": (
        Action.RECORD_SCREENING_ITEM,
        lambda db, a, i: clinical.record_screening_item(
            db, a, i["patient"], "no_psychosis", "yes", DAY, now=NOW
        ),
    ),
    "record_screening_decision": (
        Action.DECIDE_SCREENING,
        lambda db, a, i: clinical.record_screening_decision(db, a, i["patient"], "cleared", DAY, now=NOW),
    ),
    "record_assessment": (
        Action.RECORD_ASSESSMENT,
        lambda db, a, i: clinical.record_assessment(db, a, i["patient"], "PHQ-9", 10, DAY, item9=0, now=NOW),
    ),
    "delete_assessment": (
        Action.DELETE_RECORD,
        lambda db, a, i: clinical.delete_assessment(db, a, i["assessment"], "entered in error", now=NOW),
    ),
    "record_suicide_review": (
        Action.REVIEW_SUICIDE_RISK,
        lambda db, a, i: clinical.record_suicide_review(db, a, i["patient"], "safety_plan", DAY, now=NOW),
    ),
    "book_infusion": (
        Action.BOOK_INFUSION,
        lambda db, a, i: clinical.book_infusion(db, a, i["course"], datetime(2026, 12, 8, 9), now=NOW),
    ),
    "record_infusion": (
        Action.RECORD_INFUSION,
        lambda db, a, i: clinical.record_infusion(
            db,
            a,
            i["infusion"],
            dose_mg_per_kg=0.5,
            premed_given=True,
            bp_pre_sys=120,
            bp_pre_dia=80,
            now=NOW,
        ),
    ),
    "cancel_infusion": (
        Action.CANCEL_INFUSION,
        lambda db, a, i: clinical.cancel_infusion(db, a, i["infusion"], "patient unwell", now=NOW),
    ),
    "record_trial_outcome": (
        Action.RECORD_TRIAL_OUTCOME,
        lambda db, a, i: clinical.record_trial_outcome(db, a, i["course"], "benefit", now=NOW),
    ),
    "start_course": (
        Action.START_COURSE,
        lambda db, a, i: clinical.start_course(db, a, i["patient"], now=NOW),
    ),
    "plan_for_mrn": (Action.PLAN, lambda db, a, i: plan_for_mrn(db, a, "ROLE-1", DAY, "twice_weekly")),
    "book_plan": (Action.BOOK_INFUSION, lambda db, a, i: book_plan(db, a, i["course"], [])),
}
CALLS = [(name, role) for name in SERVICES for role in Role]


def _refusals(db: Database, username: str) -> list[str]:
    with db.read() as s:
        return list(
            s.scalars(
                select(AuditEvent.action).where(
                    AuditEvent.username == username, AuditEvent.outcome == "refused"
                )
            )
        )


@pytest.fixture
def clinic(sqlite_db: Database) -> dict[str, int]:
    """A cleared patient whose trial was given, with one score: the records the services act on."""
    from kdash.storage.models import Assessment, Course, Infusion
    from tests.seeded import seed_cleared_patient

    with sqlite_db.write() as s:
        course_id = seed_cleared_patient(s, "ROLE-1", trial_given_on=datetime(2026, 12, 1, 9))
        course = s.get_one(Course, course_id)
        infusion = s.scalars(select(Infusion).where(Infusion.course_id == course_id)).one()
        score = Assessment(
            patient_id=course.patient_id, instrument="PHQ-9", score=12, item9=0, taken_on=date(2026, 12, 1)
        )
        s.add(score)
        s.flush()
        return {
            "patient": course.patient_id,
            "course": course_id,
            "infusion": infusion.id,
            "assessment": score.id,
        }


@pytest.mark.parametrize(("name", "role"), CALLS, ids=[f"{n}-{r.value}" for n, r in CALLS])
def test_each_service_checks_its_action_for_every_role(
    sqlite_db: Database, clinic: dict[str, int], name: str, role: Role
) -> None:
    action, call = SERVICES[name]
    actor = Actor(f"{role.value}-user", role)
    if role in TABLE[action]:
        try:
            call(sqlite_db, actor, clinic)
        except Forbidden:  # pragma: no cover - the failure this test is for
            pytest.fail(f"{role.value} was refused {name}")
        except Exception:
            pass
        assert _refusals(sqlite_db, actor.username) == []
    else:
        with pytest.raises(Forbidden):
            call(sqlite_db, actor, clinic)
        assert len(_refusals(sqlite_db, actor.username)) == 1
