"""The baseline is one rule (:func:`kdash.rules.instruments.course_baseline`); the roster computes it in
SQL for speed, and this test holds that SQL equal to the rule over a whole demo clinic."""

from __future__ import annotations

from datetime import date

from kdash.domain.policy import ClinicPolicy
from kdash.domain.vocab import CourseStatus
from kdash.rules.instruments import course_baseline, main_instrument
from kdash.services.roster import roster
from kdash.storage.database import Database
from kdash.storage.patient_records import load_records

TODAY = date(2025, 3, 5)


def test_the_rosters_sql_baseline_is_the_rule(sqlite_db: Database) -> None:
    from kdash.demo import clinic as demo

    demo.load(sqlite_db, demo.generate(150, 11, TODAY))
    rows = roster(sqlite_db, ClinicPolicy(), TODAY)
    with sqlite_db.read() as s:
        records = load_records(s, [r.patient_id for r in rows])
    checked = 0
    for row in rows:
        record = records[row.patient_id]
        current = max(record.courses, key=lambda c: c.number, default=None)
        live = [i.scheduled_at for i in current.infusions if i.is_live] if current else []
        inst = main_instrument(record.patient.indication).value
        scores = [(a.taken_on, a.score) for a in record.assessments if a.instrument == inst]
        expected = course_baseline(scores, min(live).date() if live else None)
        assert row.baseline == expected, (row.mrn, row.baseline, expected)
        checked += expected is not None and current is not None and current.status is not CourseStatus.PLANNED
    assert checked > 50  # most patients have a course and scores: the comparison means something
