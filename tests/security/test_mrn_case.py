"""MRNs are compared without regard to case everywhere (issue 20, finding 7), on SQLite and PostgreSQL.

``rt-0001`` and ``RT-0001`` became two patients. Now the schema refuses the second, an import file with
both is refused as a duplicate, an import row for ``rt-0001`` belongs to the stored ``RT-0001``, and
search, look-ups and the audit filter find the patient whichever case is typed.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import func, select, text
from sqlalchemy.exc import IntegrityError

from kdash.domain.access import SYSTEM, Actor
from kdash.domain.errors import ValidationError
from kdash.domain.identifiers import MRN_CASE_NOTE, mrn_key
from kdash.domain.vocab import Role
from kdash.interchange.rows import ImportRefused
from kdash.services.audit_log import AuditFilter, list_events
from kdash.services.clinical import record_patient_view
from kdash.services.interchange import import_path
from kdash.services.patients import add_patient
from kdash.services.search import search_patients
from kdash.storage.database import Database, make_engine
from kdash.storage.migrate import current_revision, upgrade
from kdash.storage.models import Assessment, Patient
from kdash.storage.planning_repo import patient_id_for_mrn
from tests.seeded import insert_patient

PATIENTS = "mrn,first_name,last_name,date_of_birth,sex,indication,provider,status\n"
ASSESSMENTS = "mrn,taken_on,instrument,score,item9,recorded_by\n"


def _patient_line(mrn: str, last: str = "Okafor") -> str:
    return f"{mrn},Maren,{last},1979-03-14,female,depression,Dr. Alvarez,active\n"


def _folder(tmp_path: Path, name: str, **files: str) -> Path:
    folder = tmp_path / name
    folder.mkdir()
    for file, body in files.items():
        (folder / f"{file}.csv").write_text(body, encoding="utf-8")
    return folder


def _count(db: Database, model: type) -> int:
    with db.read() as s:
        return int(s.scalar(select(func.count()).select_from(model)) or 0)


@given(st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._/-]{0,20}", fullmatch=True))
def test_the_key_ignores_case_and_surrounding_space(mrn: str) -> None:
    assert mrn_key(mrn) == mrn_key(mrn.upper()) == mrn_key(f"  {mrn.lower()} ")
    assert mrn_key(mrn) == mrn.lower()  # ASCII MRNs: the same as SQL lower() on both databases


def test_the_database_refuses_an_mrn_that_differs_only_in_case(db: Database) -> None:
    with db.write() as s:
        insert_patient(s, "RT-0001")
    with pytest.raises(IntegrityError), db.write() as s:
        insert_patient(s, "rt-0001")
    assert _count(db, Patient) == 1


def test_upgrade_stops_on_mrns_that_differ_only_in_case_and_names_ids_not_mrns(any_url: str) -> None:
    engine = make_engine(any_url)
    upgrade(engine, "0010")
    with engine.begin() as conn:
        for mrn in ("rt-0001", "RT-0001", "KD-9"):
            conn.execute(
                text(
                    "INSERT INTO patient (mrn, first_name, last_name, date_of_birth, sex, indication, "
                    "provider, status) VALUES "
                    "(:m, 'A', 'B', '1980-01-01', 'female', 'depression', 'Dr', 'active')"
                ),
                {"m": mrn},
            )
        ids = sorted(
            row[0] for row in conn.execute(text("SELECT id FROM patient WHERE lower(mrn) = 'rt-0001'"))
        )
    with pytest.raises(RuntimeError) as raised:
        upgrade(engine)
    message = str(raised.value)
    assert "differ only in case" in message
    assert f"{ids[0]} and {ids[1]}" in message
    assert "rt-0001" not in message.lower()
    assert "db upgrade" in message
    assert current_revision(engine) == "0010"
    engine.dispose()


def test_db_upgrade_command_says_what_to_fix_without_a_traceback(
    sqlite_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from kdash.cli.main import main

    engine = make_engine(sqlite_url)
    upgrade(engine, "0010")
    with engine.begin() as conn:
        for mrn in ("kd-7", "KD-7"):
            insert = Patient.__table__.insert().values(
                mrn=mrn, first_name="A", last_name="B", date_of_birth=date(1980, 1, 1), sex="female",
                indication="depression", provider="Dr", status="active",
            )  # fmt: skip
            conn.execute(insert)
    engine.dispose()
    assert main(["db", "upgrade", "--db", sqlite_url]) != 0
    err = capsys.readouterr().err
    assert "error: upgrade stopped: Cannot make MRNs case-insensitive" in err
    assert "Traceback" not in err
    assert "kd-7" not in err.lower()


def test_an_import_with_rt_0001_and_RT_0001_is_refused_as_a_duplicate(db: Database, tmp_path: Path) -> None:
    folder = _folder(tmp_path, "dup", patients=PATIENTS + _patient_line("rt-0001") + _patient_line("RT-0001"))
    with pytest.raises(ImportRefused) as raised:
        import_path(db, folder, actor=SYSTEM)
    said = "\n".join(str(p) for p in raised.value.problems)
    assert "duplicate row: same MRN" in said
    assert "without regard to case" in said
    assert _count(db, Patient) == 0


def test_an_import_row_for_rt_0001_belongs_to_the_stored_RT_0001(db: Database, tmp_path: Path) -> None:
    first = _folder(tmp_path, "first", patients=PATIENTS + _patient_line("RT-0001"))
    import_path(db, first, actor=SYSTEM)
    later = _folder(
        tmp_path,
        "later",
        patients=PATIENTS + _patient_line("rt-0001"),
        assessments=ASSESSMENTS + "rt-0001,2026-11-27,PHQ-9,19,1,Nurse Kim Osei\n",
    )
    summary = import_path(db, later, actor=SYSTEM)
    assert MRN_CASE_NOTE in summary.lines()
    assert "patients.csv: 0 created, 0 updated, 1 unchanged" in summary.lines()
    with db.read() as s:
        assert s.scalars(select(Patient.mrn)).all() == ["RT-0001"]  # kept as first entered
        assert s.scalar(select(func.count()).select_from(Assessment)) == 1


def test_search_look_up_form_and_audit_filter_ignore_case(db: Database) -> None:
    with db.write() as s:
        pid = insert_patient(s, "RT-0001").id
    assert [hit.patient_id for hit in search_patients(db, "rt-0001")] == [pid]
    assert [hit.patient_id for hit in search_patients(db, " Rt-0001 ")] == [pid]
    with db.read() as s:
        assert patient_id_for_mrn(s, "rt-0001") == pid
    fields = {
        "mrn": "rt-0001",
        "first_name": "Maren",
        "last_name": "Okafor",
        "date_of_birth": date(1979, 3, 14),
        "sex": "female",
        "indication": "depression",
        "provider": "Dr. Alvarez",
    }
    with pytest.raises(ValidationError, match="already on record"):
        add_patient(db, Actor("provider", Role.PROVIDER), fields)
    record_patient_view(db, SYSTEM, pid)
    events = list_events(db, SYSTEM, AuditFilter(patient_mrn="rt-0001"))
    assert [e.action for e in events] == ["view_patient"]
