"""The stored screening summary always equals the rules' judgement of the answers, after any write.

``screening_summary`` is a cache of :func:`kdash.rules.screening.screening_status` kept current in the
writing transaction. These tests hold it to the on-the-fly answer: after every step of random answers,
amendments, decisions, item-class changes and new patients through the services (state machine); after
a rolled-back write; after concurrent writers on PostgreSQL; and where it is missing or outdated. The
huddle that reads it gives the same answer as the huddle that judges the answers itself.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import tempfile
import threading
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule
from sqlalchemy import delete, select

from kdash.domain.access import Actor
from kdash.domain.errors import Refused, ValidationError
from kdash.domain.policy import DEFAULT_SETTINGS
from kdash.domain.vocab import SCREENING_ITEMS, ItemClass, Role, ScreeningStatus
from kdash.interchange.huddle_json import huddle_to_json
from kdash.services import clinical
from kdash.services.huddle import huddle_from_session as huddle_for_day
from kdash.services.settings_admin import update_setting
from kdash.storage import screening_summary
from kdash.storage.database import Database, make_engine
from kdash.storage.migrate import upgrade
from kdash.storage.models import Patient, ScreeningItem, ScreeningSummary
from kdash.storage.patient_records import load_contexts
from kdash.storage.policy_repo import load_policy
from tests.seeded import seed_cleared_patient, seed_patient, sqlite_template

NURSE = Actor("nurse.jo", Role.NURSE)
PROVIDER = Actor("dr.demo", Role.PROVIDER)
ADMIN = Actor("admin", Role.ADMIN)
NOW = datetime(2026, 12, 1, 12, 0)
DAYS = [date(2026, 11, 20) + timedelta(days=n) for n in range(8)]
ITEMS = sorted(SCREENING_ITEMS)


def stored_rows(db: Database) -> dict[int, tuple[str, list[str], date | None, date | None, str]]:
    with db.read() as s:
        return {
            r.patient_id: (r.status, json.loads(r.reasons_json), r.screened_on, r.through, r.classes_key)
            for r in s.scalars(select(ScreeningSummary))
        }


def judged_rows(db: Database) -> dict[int, tuple[str, list[str], date | None, date | None, str]]:
    with db.read() as s:
        current = load_policy(s)
        ids = list(s.scalars(select(Patient.id)))
        key = screening_summary.classes_key(current)
        return {
            pid: (
                j.assessment.status.value,
                list(j.assessment.reasons),
                j.assessment.screened_on,
                j.through,
                key,
            )
            for pid, j in screening_summary.judge(s, ids, current).items()
        }


def assert_summary_current(db: Database) -> None:
    assert stored_rows(db) == judged_rows(db)


# --- state machine -------------------------------------------------------------------------------------

_template_dir = Path(tempfile.mkdtemp(prefix="kdash-summary-"))


def _template() -> Path:
    return sqlite_template(
        _template_dir / "template.db",
        lambda s: [seed_patient(s, f"MRN-SUM-{n}", course=False) for n in range(3)],
    )


class SummaryMachine(RuleBasedStateMachine):
    """Random writes through the services; after each, every stored row equals the rules' judgement."""

    def __init__(self) -> None:
        super().__init__()
        self.dir = Path(tempfile.mkdtemp(dir=_template_dir))
        shutil.copy(_template(), self.dir / "kdash.db")
        self.engine = make_engine(f"sqlite:///{self.dir / 'kdash.db'}")
        self.db = Database(engine=self.engine)
        with self.db.read() as s:
            self.patients = list(s.scalars(select(Patient.id).order_by(Patient.id)))
        self.added = 0

    def teardown(self) -> None:
        self.engine.dispose()
        shutil.rmtree(self.dir, ignore_errors=True)

    @rule(
        who=st.integers(0, 10),
        item=st.sampled_from(ITEMS),
        result=st.sampled_from(["yes", "no", "unknown"]),
        day=st.sampled_from(DAYS),
    )
    def answer(self, who: int, item: str, result: str, day: date) -> None:
        pid = self.patients[who % len(self.patients)]
        clinical.record_screening_item(self.db, NURSE, pid, item, result, day, reason="corrected", now=NOW)

    @rule(
        who=st.integers(0, 10),
        decision=st.sampled_from(["cleared", "not_eligible", "pending"]),
        day=st.sampled_from(DAYS),
    )
    def decide(self, who: int, decision: str, day: date) -> None:
        pid = self.patients[who % len(self.patients)]
        # Refused in words (e.g. cleared over an absolute contraindication): nothing is written.
        with contextlib.suppress(Refused, ValidationError):
            clinical.record_screening_decision(
                self.db, PROVIDER, pid, decision, day, reason="changed", now=NOW
            )

    @rule(item=st.sampled_from(ITEMS), klass=st.sampled_from([c.value for c in ItemClass]))
    def move_item(self, item: str, klass: str) -> None:
        with self.db.read() as s:
            classes = dict(load_policy(s).screening_item_classes)
        classes[item] = klass
        update_setting(self.db, ADMIN, "screening_item_classes", classes, now=NOW)

    @rule()
    def new_patient(self) -> None:
        self.added += 1
        with self.db.write() as s:
            self.patients.append(seed_patient(s, f"MRN-NEW-{self.added}", course=False)[0])

    @invariant()
    def summary_equals_the_rules(self) -> None:
        assert_summary_current(self.db)


SummaryMachine.TestCase.settings = settings(
    max_examples=25, stateful_step_count=15, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
test_summary_state_machine = SummaryMachine.TestCase


# --- single cases --------------------------------------------------------------------------------------


def test_new_patient_has_a_not_started_row(db: Database) -> None:
    with db.write() as s:
        pid = seed_patient(s, "MRN-S-1")[0]
    rows = stored_rows(db)
    assert rows[pid][0] == ScreeningStatus.NOT_STARTED.value
    assert rows[pid][1] == ["No screening item recorded yet"]


def test_cleared_patient_is_stored_cleared_and_an_answer_changes_it(db: Database) -> None:
    with db.write() as s:
        course = seed_cleared_patient(s, "MRN-S-2", trial_given_on=datetime(2026, 11, 23, 9))
        pid = s.scalar(select(Patient.id).where(Patient.mrn == "MRN-S-2"))
    assert course
    assert pid is not None
    assert stored_rows(db)[pid][0] == ScreeningStatus.CLEARED.value
    clinical.record_screening_item(db, NURSE, pid, "uncontrolled_hypertension", "yes", NOW.date(), now=NOW)
    assert stored_rows(db)[pid][0] == ScreeningStatus.NOT_ELIGIBLE.value
    assert_summary_current(db)


def test_rolled_back_write_leaves_the_summary_as_it_was(db: Database) -> None:
    with db.write() as s:
        pid = seed_patient(s, "MRN-S-3")[0]
    before = stored_rows(db)
    with pytest.raises(RuntimeError), db.write() as s:
        s.add(ScreeningItem(patient_id=pid, item="consent_signed", result="yes", recorded_on=NOW.date()))
        s.flush()
        raise RuntimeError("the form failed half-way")
    assert stored_rows(db) == before
    # The next write of that session factory does not carry the rolled-back patient along.
    with db.write() as s:
        seed_patient(s, "MRN-S-4")
    assert_summary_current(db)


def test_item_class_change_judges_everyone_again(db: Database) -> None:
    with db.write() as s:
        seed_cleared_patient(s, "MRN-S-5", trial_given_on=datetime(2026, 11, 23, 9))
        pid = s.scalar(select(Patient.id).where(Patient.mrn == "MRN-S-5"))
    clinical.record_screening_item(db, NURSE, pid, "arrhythmia", "yes", NOW.date(), now=NOW)
    before = stored_rows(db)[pid]
    classes = dict(DEFAULT_SETTINGS.screening_item_classes)
    classes["arrhythmia"] = ItemClass.ABSOLUTE.value
    update_setting(db, ADMIN, "screening_item_classes", classes, now=NOW)
    after = stored_rows(db)[pid]
    assert after[0] == ScreeningStatus.NOT_ELIGIBLE.value != before[0]
    assert after[4] != before[4]  # judged under the new classes
    assert_summary_current(db)


def test_missing_and_outdated_rows_are_repaired(db: Database) -> None:
    with db.write() as s:
        ids = [seed_patient(s, f"MRN-R-{n}")[0] for n in range(3)]
    with db.write() as s:  # as after restoring a backup made before the table existed
        s.execute(delete(ScreeningSummary).where(ScreeningSummary.patient_id == ids[0]))
        s.execute(
            ScreeningSummary.__table__.update()
            .where(ScreeningSummary.patient_id == ids[1])
            .values(classes_key="stale", status="cleared")
        )
    with db.read() as s:
        assert not screening_summary.is_current(s, DEFAULT_SETTINGS)
    assert screening_summary.ensure_current(db, DEFAULT_SETTINGS) == 2
    assert_summary_current(db)
    assert screening_summary.ensure_current(db, DEFAULT_SETTINGS) == 0


def test_huddle_reads_the_summary_only_where_it_covers_the_day(db: Database) -> None:
    with db.write() as s:
        seed_cleared_patient(s, "MRN-H-1", trial_given_on=datetime(2026, 12, 1, 9))
        pid = s.scalar(select(Patient.id).where(Patient.mrn == "MRN-H-1"))
    # An absolute contraindication recorded after the trial day: that day's huddle must not see it.
    later = NOW.date() + timedelta(days=1)
    clinical.record_screening_item(
        db, NURSE, pid, "uncontrolled_hypertension", "yes", later, now=NOW + timedelta(days=1)
    )
    day = date(2026, 12, 1)
    with db.read() as s:
        current = load_policy(s)
        with_summary = load_contexts(s, day, [pid], settings=current)
        assert with_summary[0].screening is None  # the stored row covers a later answer
        assert huddle_for_day(s, day, current).entries[0].screening.cleared
        today_ctx = load_contexts(s, later, [pid], settings=current)
        assert today_ctx[0].screening is not None
        assert today_ctx[0].screening.status is ScreeningStatus.NOT_ELIGIBLE


def test_huddle_from_summary_equals_huddle_from_answers(tmp_path: Path) -> None:
    from benchmarks.clinic import DAY2, TODAY, populate
    from kdash.rules.huddle import build_huddle

    url = f"sqlite:///{tmp_path / 'clinic.db'}"
    _, _, day = populate(url, 120, label="summary clinic")
    db = Database(url)
    with db.read() as s:
        current = load_policy(s)
        for d in (day, DAY2, TODAY):
            fast = huddle_to_json(huddle_for_day(s, d, current))
            slow = huddle_to_json(build_huddle(d, load_contexts(s, d), current))  # judges every answer
            assert fast["patients"]
            assert fast == slow


@pytest.mark.postgres
def test_concurrent_answers_for_one_patient_leave_a_current_summary(pg_url: str) -> None:
    engine = make_engine(pg_url)
    upgrade(engine)
    db = Database(engine=engine)
    with db.write() as s:
        pid = seed_patient(s, "MRN-PG-1")[0]
    barrier = threading.Barrier(len(ITEMS))
    errors: list[BaseException] = []

    def answer(item: str) -> None:
        try:
            barrier.wait()
            clinical.record_screening_item(db, NURSE, pid, item, "yes", NOW.date(), now=NOW)
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=answer, args=(item,)) for item in ITEMS]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert_summary_current(db)
    engine.dispose()
