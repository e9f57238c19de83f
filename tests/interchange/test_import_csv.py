"""CSV import: every refusal names file, line and column and writes nothing; re-import is idempotent;
changed values become amendments; hostile cells never crash the validators."""

from __future__ import annotations

import shutil
from datetime import datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from kdash.cli.main import main
from kdash.domain.access import Actor
from kdash.domain.vocab import Role
from kdash.interchange import cells
from kdash.interchange.rows import FILES, ImportRefused, RowInvalid
from kdash.services.interchange import import_path
from kdash.storage.audit_chain import verify_chain
from kdash.storage.database import Database
from kdash.storage.models import Amendment, Assessment, AuditEvent, Infusion, Patient, Setting

EXAMPLE = Path(__file__).resolve().parents[2] / "data" / "example"
NOW = datetime(2026, 12, 6, 18, 0)

PATIENTS = (
    "mrn,first_name,last_name,date_of_birth,sex,indication,provider,status,escort_name,escort_phone\n"
    "T-1,Ada,Lovelace,1970-05-01,female,depression,Dr. Who,active,Bea,555-0001\n"
    "T-2,Ben,Okri,1965-02-03,male,crps,Dr. Who,active,Cy,555-0002\n"
)
COURSES = (
    "mrn,course,indication,trial_outcome,status,started_on\nT-1,1,depression,benefit,active,2026-12-01\n"
)
INFUSION_HEADER = (
    "mrn,course,number,scheduled_at,status,bp_pre_sys,bp_pre_dia,escort_confirmed,premed_given,heart_rate\n"
)
ASSESSMENTS = "mrn,taken_on,instrument,score,item9\nT-1,2026-11-30,PHQ-9,18,1\n"


def write(folder: Path, **files: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, content in files.items():
        (folder / f"{name}.csv").write_text(content, encoding="utf-8")
    return folder


def count(db: Database, model: type) -> int:
    with db.read() as s:
        return int(s.scalar(select(func.count()).select_from(model)) or 0)


def refusal(db: Database, folder: Path) -> list[str]:
    with pytest.raises(ImportRefused) as info:
        import_path(db, folder, now=NOW)
    return [str(p) for p in info.value.problems]


def test_example_imports_and_reimport_changes_nothing(db: Database) -> None:
    first = import_path(db, EXAMPLE, now=NOW)
    assert first.counts["patients.csv"].created == 9
    assert first.counts["infusions.csv"].created == 38
    events = count(db, AuditEvent)
    again = import_path(db, EXAMPLE, now=NOW)
    assert all(c.created == 0 and c.updated == 0 for c in again.counts.values())
    assert again.counts["screenings.csv"].unchanged == 135
    assert count(db, AuditEvent) == events
    assert count(db, Amendment) == 0
    with db.read() as s:
        assert verify_chain(s)[1] == []


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        pytest.param(
            {"patients": PATIENTS.replace("1970-05-01", "1970-02-30")},
            "patients.csv:2: date_of_birth: is not a date; write it as YYYY-MM-DD (ISO 8601)",
            id="bad-date",
        ),
        pytest.param(
            {"patients": PATIENTS.replace("crps", "migraine")},
            "patients.csv:3: indication: 'migraine' is not a known indication; use one of: crps, neuropathy, "
            "fibromyalgia, spinal_injury, cancer_pain, other_pain, depression, ptsd, bipolar_depression",
            id="unknown-indication",
        ),
        pytest.param(
            {"patients": PATIENTS, "assessments": ASSESSMENTS.replace("PHQ-9,18", "PHQ-9,28")},
            "assessments.csv:2: score: PHQ-9 score 28 is outside its range 0–27",
            id="score-out-of-range",
        ),
        pytest.param(
            {"patients": PATIENTS, "assessments": ASSESSMENTS.replace("T-1", "T-9")},
            "assessments.csv:2: mrn: no patient with this MRN in the import or the database",
            id="unknown-mrn",
        ),
        pytest.param(
            {
                "patients": PATIENTS,
                "courses": COURSES,
                "infusions": INFUSION_HEADER + "T-1,1,1,2026-12-02T09:00,completed,120,80,Yes,yes,70\n",
            },
            "infusions.csv:2: escort_confirmed: 'Yes' is not yes or no",
            id="bad-yes-no",
        ),
        pytest.param(
            {"patients": PATIENTS, "assessments": ASSESSMENTS.replace("PHQ-9,18", "PHQ-9,=1+17")},
            "assessments.csv:2: score: '=1+17' is not a whole number (score)",
            id="formula-in-number",
        ),
        pytest.param(
            {"patients": PATIENTS.replace("T-2,", "=HYPERLINK(1),")},
            "patients.csv:3: mrn: is not a valid MRN: use 1–64 letters or digits (then also . _ / -), "
            "starting with a letter or digit",
            id="formula-as-mrn",
        ),
        pytest.param(
            {"patients": PATIENTS, "assessments": ASSESSMENTS + "T-1,2026-11-30,PHQ-9,17,0\n"},
            "assessments.csv:3: taken_on: duplicate row: same MRN, instrument and taken_on as "
            "assessments.csv:2",
            id="duplicate-row",
        ),
        pytest.param(
            {
                "patients": PATIENTS,
                "courses": COURSES,
                "infusions": INFUSION_HEADER + "T-1,1,11,2026-12-02T09:00,scheduled,,,yes,,\n",
            },
            "infusions.csv:2: number: infusion number 11 is outside 1–10: a course holds the trial and up to "
            "nine more, 10 at most (clinic rule)",
            id="eleventh-infusion",
        ),
        pytest.param(
            {
                "patients": PATIENTS,
                "courses": COURSES,
                "infusions": INFUSION_HEADER
                + "".join(f"T-1,1,{n},2026-12-{n + 1:02d}T09:00,completed,,,yes,,\n" for n in range(1, 11))
                + "T-1,1,4,2026-12-20T09:00,scheduled,,,yes,,\n",
            },
            "infusions.csv:12: number: course 1 already has a live (scheduled or completed) infusion "
            "number 4, in infusions.csv:5; a course holds at most 10, one per number — cancel one of them",
            id="eleventh-live-infusion",
        ),
        pytest.param(
            {
                "patients": PATIENTS,
                "courses": COURSES,
                "infusions": INFUSION_HEADER + "T-1,2,1,2026-12-02T09:00,scheduled,,,yes,,\n",
            },
            "infusions.csv:2: course: course 2 of this patient is neither in the import nor in the database; "
            "add it to the courses",
            id="unknown-course",
        ),
        pytest.param(
            {
                "patients": PATIENTS,
                "courses": COURSES,
                "infusions": INFUSION_HEADER + "T-1,1,1,2026-12-02T09:00,completed,80,120,yes,yes,70\n",
            },
            "infusions.csv:2: bp_pre_dia: The pre-dose diastolic (120) must be below the systolic (80): "
            "are the two numbers swapped?",
            id="swapped-bp",
        ),
        pytest.param(
            {
                "patients": PATIENTS,
                "courses": COURSES,
                "infusions": INFUSION_HEADER + "T-1,1,1,2026-12-02T09:00,completed,1200,80,yes,yes,70\n",
            },
            "infusions.csv:2: bp_pre_sys: Pre-dose systolic BP 1200 mmHg is outside the plausible "
            "50–300 mmHg: check the reading (a typing error or the wrong column?).",
            id="implausible-bp",
        ),
        pytest.param(
            {"patients": PATIENTS, "assessments": ASSESSMENTS.replace("PHQ-9,18,1", "GAD-7,18,1")},
            "assessments.csv:2: item9: item 9 belongs to PHQ-9 only; this row is GAD-7",
            id="item9-on-gad7",
        ),
        pytest.param(
            {
                "patients": PATIENTS,
                "courses": COURSES,
                "infusions": INFUSION_HEADER + "T-1,1,1,2026-12-02 9am,completed,,,yes,,\n",
            },
            "infusions.csv:2: scheduled_at: '2026-12-02 9am' is not a date and time; write it as "
            "YYYY-MM-DDTHH:MM (ISO 8601, clinic local time, or with a zone such as +01:00)",
            id="bad-datetime",
        ),
    ],
)
def test_refusal_names_file_line_column_and_writes_nothing(
    sqlite_db: Database, tmp_path: Path, files: dict[str, str], expected: str
) -> None:
    problems = refusal(sqlite_db, write(tmp_path / "in", **files))
    assert expected in problems
    assert count(sqlite_db, Patient) == 0
    assert count(sqlite_db, AuditEvent) == 0


def test_every_problem_is_reported_in_one_pass(sqlite_db: Database, tmp_path: Path) -> None:
    bad = PATIENTS.replace("female", "f").replace("crps", "x").replace("1965-02-03", "03/02/1965")
    problems = refusal(sqlite_db, write(tmp_path / "in", patients=bad))
    assert [p.split(": ")[1] for p in problems] == ["sex", "date_of_birth", "indication"]


def test_header_problems_name_the_columns(sqlite_db: Database, tmp_path: Path) -> None:
    header = "mrn,first_name,surname,date_of_birth,sex,indication,provider\n"
    folder = write(tmp_path / "in", patients=header)
    assert refusal(sqlite_db, folder) == [
        "patients.csv:1: unknown column(s): surname; patients.csv has the columns mrn, first_name, "
        "last_name, date_of_birth, sex, indication, provider, status, escort_name, escort_phone",
        "patients.csv:1: missing required column(s): last_name",
    ]


def test_line_numbers_count_physical_lines(sqlite_db: Database, tmp_path: Path) -> None:
    content = (
        PATIENTS.replace("Bea,", '"Bea\nthe neighbour",') + "\nT-3,Cy,Ng,1990-01-01,male,ptsd,Dr,zzz,,\n"
    )
    problems = refusal(sqlite_db, write(tmp_path / "in", patients=content))
    assert problems == [
        "patients.csv:2: escort_name: contains a line break; this field takes a single line",
        "patients.csv:6: status: 'zzz' is not a known patient status; use one of: active, paused, discharged",
    ]


def test_not_utf8_is_refused(sqlite_db: Database, tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "patients.csv").write_bytes(PATIENTS.replace("Ada", "Zoë").encode("latin-1"))
    assert refusal(sqlite_db, folder) == ["patients.csv:2: is not UTF-8 text; save the file as CSV UTF-8"]


def test_changed_value_is_an_amendment_with_audit(db: Database, tmp_path: Path) -> None:
    folder = write(tmp_path / "in", patients=PATIENTS, assessments=ASSESSMENTS)
    import_path(db, folder, now=NOW)
    write(folder, assessments=ASSESSMENTS.replace("PHQ-9,18", "PHQ-9,16"))
    summary = import_path(db, folder, now=NOW)
    assert summary.counts["assessments.csv"].updated == 1
    assert summary.counts["patients.csv"].unchanged == 2
    with db.read() as s:
        amendment = s.scalars(select(Amendment)).one()
        assert (amendment.entity, amendment.field, amendment.old_value, amendment.new_value) == (
            "assessment",
            "score",
            "18",
            "16",
        )
        assert amendment.reason == "amended by import from assessments.csv:2"
        event = s.scalars(select(AuditEvent).where(AuditEvent.action == "amend_assessment")).one()
        assert (event.before_json, event.after_json) == ('{"score": 18}', '{"score": 16}')
        assert s.scalar(select(Assessment.score)) == 16


def test_missing_optional_column_leaves_stored_value(sqlite_db: Database, tmp_path: Path) -> None:
    folder = write(tmp_path / "in", patients=PATIENTS)
    import_path(sqlite_db, folder, now=NOW)
    short = (
        "mrn,first_name,last_name,date_of_birth,sex,indication,provider\n"
        "T-1,Ada,Lovelace,1970-05-01,female,depression,Dr. Who\n"
    )
    write(folder, patients=short)
    summary = import_path(sqlite_db, folder, now=NOW)
    assert summary.counts["patients.csv"].unchanged == 1
    with sqlite_db.read() as s:
        assert s.scalar(select(Patient.escort_name).where(Patient.mrn == "T-1")) == "Bea"


def test_formula_and_html_text_is_stored_as_given(sqlite_db: Database, tmp_path: Path) -> None:
    hostile = PATIENTS.replace("Ada,Lovelace", '"=HYPERLINK(""http://x"")",<script>alert(1)</script>')
    hostile = hostile.replace("Ben,", "'@SUM(A1),")
    import_path(sqlite_db, write(tmp_path / "in", patients=hostile), now=NOW)
    with sqlite_db.read() as s:
        names = dict(s.execute(select(Patient.mrn, Patient.first_name)).all())
        last = s.scalar(select(Patient.last_name).where(Patient.mrn == "T-1"))
    assert names == {"T-1": '=HYPERLINK("http://x")', "T-2": "@SUM(A1)"}
    assert last == "<script>alert(1)</script>"


def test_cancelled_and_rebooked_number_reimports_cleanly(db: Database, tmp_path: Path) -> None:
    rows = (
        INFUSION_HEADER
        + "T-1,1,1,2026-12-01T09:00,completed,120,80,yes,yes,70\n"
        + "T-1,1,2,2026-12-03T09:00,cancelled,,,,,\n"
        + "T-1,1,2,2026-12-04T09:00,scheduled,,,yes,,\n"
    )
    folder = write(tmp_path / "in", patients=PATIENTS, courses=COURSES, infusions=rows)
    assert import_path(db, folder, now=NOW).counts["infusions.csv"].created == 3
    assert import_path(db, folder, now=NOW).counts["infusions.csv"].unchanged == 3
    # Cancelling the rebooking and booking number 2 anew is an amendment plus a new row.
    write(
        folder,
        infusions=rows.replace("2026-12-04T09:00,scheduled", "2026-12-04T09:00,cancelled")
        + "T-1,1,2,2026-12-05T08:00,scheduled,,,yes,,\n",
    )
    # (Booked for a day already past at the import: a record, not a new booking that the screening
    # gate would judge; tests/services/test_one_booking_path.py holds the imported booking.)
    summary = import_path(db, folder, now=NOW)
    assert (summary.counts["infusions.csv"].created, summary.counts["infusions.csv"].updated) == (1, 1)
    with db.read() as s:
        assert s.scalar(select(func.count()).select_from(Infusion).where(Infusion.number == 2)) == 3


def test_number_held_in_database_is_refused(db: Database, tmp_path: Path) -> None:
    rows = INFUSION_HEADER + "T-1,1,1,2026-12-01T09:00,completed,120,80,yes,yes,70\n"
    folder = write(tmp_path / "in", patients=PATIENTS, courses=COURSES, infusions=rows)
    import_path(db, folder, now=NOW)
    other = write(
        tmp_path / "other", infusions=INFUSION_HEADER + "T-1,1,1,2026-12-08T09:00,scheduled,,,yes,,\n"
    )
    assert refusal(db, other) == [
        "infusions.csv:2: number: course 1 already has a live (scheduled or completed) infusion number 1, in "
        "the database; a course holds at most 10, one per number — cancel one of them"
    ]
    assert count(db, Infusion) == 1


def test_zoned_datetime_is_converted_to_clinic_time(sqlite_db: Database, tmp_path: Path) -> None:
    with sqlite_db.write() as s:
        s.add(Setting(key="timezone", value_json='"America/New_York"'))
    rows = INFUSION_HEADER + "T-1,1,1,2026-12-04T14:00:00+00:00,completed,,,yes,,\n"
    import_path(
        sqlite_db, write(tmp_path / "in", patients=PATIENTS, courses=COURSES, infusions=rows), now=NOW
    )
    with sqlite_db.read() as s:
        assert s.scalar(select(Infusion.scheduled_at)) == datetime(2026, 12, 4, 9, 0)


def test_dry_run_reports_but_writes_nothing(sqlite_db: Database, tmp_path: Path) -> None:
    summary = import_path(sqlite_db, write(tmp_path / "in", patients=PATIENTS), dry_run=True, now=NOW)
    assert summary.counts["patients.csv"].created == 2
    assert count(sqlite_db, Patient) == 0


def test_import_needs_permission(sqlite_db: Database) -> None:
    from kdash.domain.access import Forbidden

    with pytest.raises(Forbidden):
        import_path(sqlite_db, EXAMPLE, actor=Actor("n", Role.NURSE))


def test_cli_prints_problems_and_summary(
    sqlite_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = write(tmp_path / "bad", patients=PATIENTS.replace("male,crps", "man,crps"))
    assert main(["import", str(bad), "--db", sqlite_url]) == 2
    err = capsys.readouterr().err
    assert "patients.csv:3: sex: 'man' is not a known sex; use one of: female, male, other, unknown" in err
    assert "1 problem(s) found; nothing was written" in err
    good = tmp_path / "good"
    shutil.copytree(EXAMPLE, good)
    assert main(["import", str(good), "--db", sqlite_url]) == 0
    out = capsys.readouterr().out
    assert "patients.csv: 9 created, 0 updated, 0 unchanged" in out
    assert main(["import", str(good), "--db", sqlite_url, "--dry-run"]) == 0
    assert "would be: patients.csv: 0 created, 0 updated, 9 unchanged" in capsys.readouterr().out


# --- Hostile cells --------------------------------------------------------------------------------

_HOSTILE = st.one_of(
    st.text(max_size=30),
    st.sampled_from(
        [
            "=1+1",
            "+1",
            "-1",
            "@x",
            "\t=1",
            "\r=1",
            "'=1",
            "''",
            "\x00",
            "\ud800",
            "1e400",
            "NaN",
            "٣",
            "１２",
            "9" * 40,
            "2026-02-30",
            "2026-12-07T25:00",
            "0",
            "-0",
            " yes ",
            "YES",
        ]
    ),
)


@pytest.mark.parametrize("spec", FILES, ids=lambda s: s.name)
@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_validators_never_crash(spec: object, data: st.DataObject) -> None:
    assert hasattr(spec, "parse")
    cells_in = {column: data.draw(_HOSTILE, label=column) for column in spec.columns}  # type: ignore[attr-defined]
    try:
        rows = spec.parse(cells_in, None)  # type: ignore[attr-defined]
    except RowInvalid as exc:
        errors = exc.errors
        rows = []
    else:
        errors = [("", "ok")]
    assert errors
    assert all(isinstance(msg, str) and msg for _, msg in errors)
    for row in rows:
        for value in row.values.values():
            if isinstance(value, str):
                assert "\x00" not in value
                assert not any(0xD800 <= ord(ch) <= 0xDFFF for ch in value)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=50))
def test_formula_escape_round_trips(text: str) -> None:
    escaped = cells.escape_formula(text)
    assert not escaped.startswith(cells.FORMULA_PREFIXES)
    assert cells.unescape_formula(escaped) == text
