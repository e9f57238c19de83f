"""The roster judges each patient on their indication's main instrument, the one rule
(:func:`kdash.rules.instruments.main_instrument`): a PTSD patient on the PCL-5, not the PHQ-9 they also
fill in; the same in the whole roster, the page's rows and on both databases."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from kdash.domain.policy import ClinicPolicy
from kdash.domain.vocab import Indication, Instrument
from kdash.services.roster import roster, roster_page
from kdash.storage.database import Database
from tests.seeded import insert_course, insert_infusion, insert_patient, insert_score, insert_screening

TODAY = date(2025, 3, 5)


def test_a_ptsd_patient_is_judged_on_the_pcl5_not_the_phq9(db: Database) -> None:
    start = TODAY - timedelta(days=20)
    with db.write() as s:
        patient = insert_patient(s, "PTSD-1", last="Ptsd", indication=Indication.PTSD)
        insert_screening(s, patient.id, start - timedelta(days=10))
        course = insert_course(s, patient.id, indication=Indication.PTSD, started=start)
        insert_infusion(s, course.id, 1, datetime.combine(start, time(9)))
        # PCL-5 falls 50 -> 35 (15 points: response); the PHQ-9 barely moves (18 -> 16).
        insert_score(s, patient.id, Instrument.PCL5.value, 50, start)
        insert_score(s, patient.id, Instrument.PHQ9.value, 18, start)
        insert_score(s, patient.id, Instrument.PCL5.value, 35, TODAY - timedelta(days=2))
        insert_score(s, patient.id, Instrument.PHQ9.value, 16, TODAY - timedelta(days=1))
        pid = patient.id
    policy = ClinicPolicy()
    (row,) = [r for r in roster(db, policy, TODAY) if r.patient_id == pid]
    (paged,) = [r for r in roster_page(db, policy, TODAY).rows if r.patient_id == pid]
    for shown in (row, paged):
        assert shown.instrument == "PCL-5"
        assert (shown.baseline, shown.latest, shown.series) == (50, 35, (50, 35))
        assert shown.band == "probable PTSD"
        assert shown.change_points == -15
        assert shown.response is True  # a fall of 10 or more on the PCL-5
        assert shown.remission is None  # the PCL-5 defines none
