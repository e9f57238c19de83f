"""The clinic's write services fed random and hostile input, as a tampered form or a script would send.

Every call either stores a value that is safe to keep (text kept verbatim, to be escaped where it is
shown) or refuses with an error a person can act on (ValidationError, Refused, NotFound, Forbidden):
never a crash (TypeError, OverflowError), never a database error, never a half-written record.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kdash.domain.access import Actor, Forbidden
from kdash.domain.errors import NotFound, Refused, ValidationError
from kdash.domain.vocab import Instrument, Role, ScreeningResult
from kdash.storage.database import Database, dispose_engines, open_database
from kdash.storage.models import AuditEvent, Infusion
from tests.interchange.test_hostile_input import HOSTILE_STRINGS
from tests.seeded import seed_cleared_patient, sqlite_template

clinical = pytest.importorskip("kdash.services.clinical")

NOW = datetime(2026, 11, 24, 12, 0)
PROVIDER = Actor("dr.a", Role.PROVIDER)
NURSE = Actor("nurse.jo", Role.NURSE)
CLEAR_ERRORS = (ValidationError, Refused, NotFound, Forbidden)

hostile_text = st.one_of(st.sampled_from(HOSTILE_STRINGS), st.text(max_size=200))
numbers = st.one_of(
    st.integers(min_value=-(10**20), max_value=10**20),
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(min_value=-5, max_value=400),
)
anything = st.one_of(
    hostile_text, numbers, st.none(), st.booleans(), st.lists(st.integers(), max_size=3), st.just(object())
)
days = st.one_of(
    st.dates(min_value=date(1, 1, 1), max_value=date(9999, 12, 31)),
    st.dates(min_value=NOW.date() - timedelta(days=30), max_value=NOW.date() + timedelta(days=30)),
    anything,
)
FAST = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

_template_dir = Path(tempfile.mkdtemp(prefix="kdash-hostile-svc-"))


def _fill(s: Session) -> None:
    course_id = seed_cleared_patient(s, "MRN-SVC-1", trial_given_on=datetime(2026, 11, 20, 9, 0))
    s.add(Infusion(course_id=course_id, number=2, scheduled_at=datetime(2026, 11, 24, 9), chair=1))


def _template() -> Path:
    return sqlite_template(_template_dir / "template.db", _fill)


@pytest.fixture
def svc_db(tmp_path: Path) -> Iterator[Database]:
    path = tmp_path / "kdash.db"
    shutil.copy(_template(), path)
    yield open_database(f"sqlite:///{path}")
    dispose_engines()


def _ids(db: Database) -> tuple[int, int, int]:
    """(patient id, course id, the scheduled infusion's id) of the template clinic."""
    with db.read() as s:
        inf = s.scalar(select(Infusion).where(Infusion.number == 2))
        assert inf is not None
        return inf.course.patient_id, inf.course_id, inf.id


def _events(db: Database) -> int:
    with db.read() as s:
        return int(s.scalar(select(func.count()).select_from(AuditEvent)) or 0)


def _call(db: Database, fn: Any, *args: Any, **kwargs: Any) -> Any:
    """Call a service; a refusal must be a clear one and must leave no audit event of a change."""
    before = _events(db)
    try:
        result = fn(*args, **kwargs)
    except CLEAR_ERRORS as exc:
        message, kind = str(exc), type(exc).__name__
    else:
        return result
    assert message.strip(), f"{kind} without a message"
    with db.read() as s:
        outcomes = [e.outcome for e in s.scalars(select(AuditEvent).where(AuditEvent.id > before))]
    assert all(o == "refused" for o in outcomes)
    return None


@FAST
@given(
    instrument=st.one_of(st.sampled_from([i.value for i in Instrument]), hostile_text),
    score=numbers,
    taken_on=days,
    item9=st.one_of(st.none(), numbers),
    reason=st.one_of(st.none(), hostile_text),
)
def test_record_assessment_with_hostile_values(
    svc_db: Database, instrument: Any, score: Any, taken_on: Any, item9: Any, reason: Any
) -> None:
    patient_id, _, _ = _ids(svc_db)
    _call(
        svc_db,
        clinical.record_assessment,
        svc_db,
        NURSE,
        patient_id,
        instrument,
        score,
        taken_on,
        item9=item9,
        reason=reason,
        now=NOW,
    )


@FAST
@given(
    item=st.one_of(st.just("consent_signed"), hostile_text),
    result=st.one_of(st.sampled_from([r.value for r in ScreeningResult]), hostile_text, anything),
    recorded_on=days,
    note=st.one_of(st.none(), hostile_text, anything),
)
def test_record_screening_item_with_hostile_values(
    svc_db: Database, item: Any, result: Any, recorded_on: Any, note: Any
) -> None:
    patient_id, _, _ = _ids(svc_db)
    row = _call(
        svc_db, clinical.record_screening_item, svc_db, NURSE, patient_id, item, result, recorded_on,
        note=note, now=NOW,
    )  # fmt: skip
    if row is not None and isinstance(note, str) and note.strip():
        from kdash.storage.models import ScreeningItem

        with svc_db.read() as s:
            stored = s.get(ScreeningItem, row)
            assert stored is not None
            assert stored.note == note.strip()  # kept verbatim: escaped where shown, never "cleaned"


@FAST
@given(
    bp=st.tuples(numbers, numbers),
    heart_rate=st.one_of(st.none(), numbers),
    spo2=st.one_of(st.none(), numbers),
    dose=st.one_of(st.none(), numbers),
    adverse=st.one_of(st.none(), hostile_text, anything),
    discharged=st.one_of(st.none(), st.just(NOW), st.just(NOW + timedelta(days=400)), anything),
)
def test_record_infusion_with_hostile_values(
    svc_db: Database,
    bp: tuple[Any, Any],
    heart_rate: Any,
    spo2: Any,
    dose: Any,
    adverse: Any,
    discharged: Any,
) -> None:
    _, _, infusion_id = _ids(svc_db)
    _call(
        svc_db,
        clinical.record_infusion,
        svc_db,
        NURSE,
        infusion_id,
        dose_mg_per_kg=dose,
        premed_given=True,
        bp_pre_sys=bp[0],
        bp_pre_dia=bp[1],
        heart_rate=heart_rate,
        spo2=spo2,
        escort_confirmed=True,
        adverse_events=adverse,
        discharged_at=discharged,
        now=NOW,
    )


@FAST
@given(outcome=st.one_of(st.sampled_from(["benefit", "no_benefit", "pending"]), hostile_text, anything),
       reason=st.one_of(st.none(), hostile_text, anything))  # fmt: skip
def test_trial_outcome_and_cancel_with_hostile_values(svc_db: Database, outcome: Any, reason: Any) -> None:
    _, course_id, infusion_id = _ids(svc_db)
    _call(svc_db, clinical.record_trial_outcome, svc_db, PROVIDER, course_id, outcome, reason=reason, now=NOW)
    _call(svc_db, clinical.cancel_infusion, svc_db, NURSE, infusion_id, reason, now=NOW)


@FAST
@given(when=st.one_of(st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30)), anything))
def test_book_infusion_with_hostile_times(svc_db: Database, when: Any) -> None:
    _, course_id, _ = _ids(svc_db)
    _call(svc_db, clinical.book_infusion, svc_db, NURSE, course_id, when, now=NOW)


@FAST
@given(ids=st.integers(min_value=-(2**63), max_value=2**63 - 1))
def test_unknown_or_absurd_ids_are_refused_clearly(svc_db: Database, ids: int) -> None:
    """Record ids come from the app's own lists, never typed: any integer is refused clearly."""
    _call(svc_db, clinical.record_patient_view, svc_db, NURSE, ids, now=NOW)
    _call(svc_db, clinical.start_course, svc_db, PROVIDER, ids, now=NOW)
