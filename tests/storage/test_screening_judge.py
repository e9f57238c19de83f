"""The stored screening summary is judged by the function the services package hands storage.

Storage does not import the rules (import-linter's layers contract); :mod:`kdash.services` hands
:func:`kdash.storage.screening_summary.use_judge` the rules' ``screening_status``. These tests show the
stored row is whatever the handed-in judge says, and that a write with no judge fails whole instead of
leaving a patient without a summary.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import pytest
from sqlalchemy import func, select

import kdash.services  # noqa: F401  (registers the rules' judgement)
from kdash.domain.policy import ClinicPolicy
from kdash.domain.records import ScreeningAssessment, ScreeningDecisionRec, ScreeningItemRec
from kdash.domain.vocab import ScreeningStatus
from kdash.rules.screening import screening_status
from kdash.storage import screening_summary
from kdash.storage.database import Database
from kdash.storage.models import Patient, ScreeningSummary
from tests.seeded import seed_patient


@pytest.fixture
def restore_judge() -> Iterator[None]:
    yield
    screening_summary.use_judge(screening_status)


def test_the_services_package_hands_storage_the_rules_judgement() -> None:
    assert screening_summary._the_judge() is screening_status


def test_the_stored_summary_is_what_the_handed_in_judge_says(db: Database, restore_judge: None) -> None:
    seen: list[int] = []

    def everyone_ineligible(
        items: Sequence[ScreeningItemRec], decisions: Sequence[ScreeningDecisionRec], settings: ClinicPolicy
    ) -> ScreeningAssessment:
        seen.append(len(items))
        return ScreeningAssessment(ScreeningStatus.NOT_ELIGIBLE, ("judged elsewhere",), None)

    screening_summary.use_judge(everyone_ineligible)
    with db.write() as s:
        pid = seed_patient(s, "MRN-J-1")[0]
    with db.read() as s:
        row = s.get(ScreeningSummary, pid)
    assert seen
    assert row is not None
    assert (row.status, row.reasons_json) == (ScreeningStatus.NOT_ELIGIBLE.value, '["judged elsewhere"]')


def test_without_a_judge_a_new_patient_is_refused_whole(db: Database, restore_judge: None) -> None:
    screening_summary._judge.clear()
    with pytest.raises(RuntimeError, match="no screening judge"), db.write() as s:
        seed_patient(s, "MRN-J-2")
    screening_summary.use_judge(screening_status)
    with db.read() as s:
        assert s.scalar(select(func.count()).select_from(Patient).where(Patient.mrn == "MRN-J-2")) == 0
