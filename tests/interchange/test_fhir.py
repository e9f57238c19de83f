"""FHIR R4: the exported Bundle parses with fhir.resources R4B and carries the agreed codes; export then
import into an empty database gives the same records; another system's Bundle imports; refusals name
the entry and field and write nothing."""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
from fhir.resources.R4B.bundle import Bundle
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from kdash.cli.main import main
from kdash.interchange.fhir.reader import read_bundle_data
from kdash.interchange.rows import ImportRefused
from kdash.services.interchange import export_fhir, import_path
from kdash.storage.database import Database, make_engine
from kdash.storage.migrate import upgrade
from kdash.storage.models import Assessment, AuditEvent, Infusion, Patient, Setting
from tests.interchange_support import EXAMPLE, hostile_clinic, snapshot

NOW = datetime(2026, 12, 6, 18, 0)
#: An archive read back once every demo booking is past: every infusion is then a record of what
#: happened. A booking still ahead is booked afresh, under the booking rules
#: (docs/clinical-decisions.md, "Imported infusions"); a clinic moving its database restores a backup.
AFTER_THE_LAST_BOOKING = datetime(2027, 12, 1, 18, 0)
FOREIGN = Path(__file__).resolve().parents[1] / "fixtures" / "foreign_bundle.json"
LOINC = "http://loinc.org"


def new_db(tmp_path: Path, name: str, zone: str = "Europe/London") -> Database:
    engine = make_engine(f"sqlite:///{tmp_path / name}")
    upgrade(engine)
    db = Database(engine=engine)
    with db.write() as s:
        s.add(Setting(key="timezone", value_json=json.dumps(zone)))
    return db


def set_zone(db: Database, zone: str) -> None:
    with db.write() as s:
        s.merge(Setting(key="timezone", value_json=json.dumps(zone)))


def resources(bundle: dict[str, Any], rtype: str) -> list[dict[str, Any]]:
    return [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == rtype]


def codes(concept: dict[str, Any]) -> set[tuple[str, str]]:
    return {(c["system"], c["code"]) for c in concept.get("coding", [])}


def test_exported_bundle_parses_as_r4b_and_uses_the_agreed_codes(sqlite_db: Database, tmp_path: Path) -> None:
    set_zone(sqlite_db, "America/Chicago")
    import_path(sqlite_db, EXAMPLE, now=NOW)
    out = tmp_path / "clinic.json"
    counts = export_fhir(sqlite_db, out, now=NOW)
    assert counts["Patient"] == 9
    assert counts["Procedure"] == 38
    parsed = Bundle.model_validate_json(out.read_text(encoding="utf-8"))
    assert parsed.type == "transaction"
    bundle = json.loads(out.read_text(encoding="utf-8"))
    assert all(
        e["fullUrl"].startswith("urn:uuid:") and e["request"]["method"] == "PUT" for e in bundle["entry"]
    )
    patient = next(p for p in resources(bundle, "Patient") if p["identifier"][0]["value"] == "KD-1001")
    assert codes(patient["identifier"][0]["type"]) == {
        ("http://terminology.hl7.org/CodeSystem/v2-0203", "MR")
    }
    observations = resources(bundle, "Observation")
    phq9 = [o for o in observations if (LOINC, "44261-6") in codes(o["code"])]
    assert phq9
    assert all(isinstance(o["valueInteger"], int) for o in phq9)
    with_item9 = [o for o in phq9 if o.get("component")]
    assert {(LOINC, "44260-8")} == codes(with_item9[0]["component"][0]["code"])
    assert any((LOINC, "70274-6") in codes(o["code"]) for o in observations)
    assert any((LOINC, "72514-3") in codes(o["code"]) for o in observations)
    kdash_instruments = {
        c for o in observations for c in codes(o["code"]) if c[0].endswith("/CodeSystem/instrument")
    }
    assert {code for _, code in kdash_instruments} == {"PCL-5", "MADRS", "C-SSRS"}
    bp = [o for o in observations if (LOINC, "85354-9") in codes(o["code"])]
    assert bp
    assert {c for o in bp for comp in o["component"] for c in codes(comp["code"])} == {
        (LOINC, "8480-6"),
        (LOINC, "8462-4"),
    }
    crisis = [o for o in bp if any(comp["valueQuantity"]["value"] == 186 for comp in o["component"])]
    assert crisis[0]["extension"][0]["valueCode"] == "peak"
    procedures = resources(bundle, "Procedure")
    assert {p["status"] for p in procedures} == {"completed", "preparation", "not-done"}
    scheduled = next(p for p in procedures if p["performedDateTime"].startswith("2026-12-07T08:00"))
    assert scheduled["performedDateTime"] == "2026-12-07T08:00:00-06:00"  # clinic zone offset
    no_show = next(p for p in procedures if p.get("statusReason", {}).get("text") == "did not attend")
    assert no_show["statusReason"]["coding"][0]["code"] == "no_show"
    assert any("0.5 mg/kg" in p.get("note", [{}])[0].get("text", "") for p in procedures)
    conditions = resources(bundle, "Condition")
    assert len(conditions) == 9


def test_fhir_export_then_import_into_empty_database_gives_same_records(db: Database, tmp_path: Path) -> None:
    set_zone(db, "Europe/Berlin")
    import_path(db, hostile_clinic(tmp_path), now=NOW)
    out = tmp_path / "clinic.json"
    export_fhir(db, out, now=NOW)
    second = new_db(tmp_path, "second.db", "Europe/Berlin")
    summary = import_path(second, out, now=NOW)
    assert summary.counts["Patient"].created == 11
    assert snapshot(second) == snapshot(db)
    again = import_path(second, out, now=NOW)
    assert all(c.created == 0 and c.updated == 0 for c in again.counts.values())
    second.engine.dispose()


def test_foreign_bundle_imports(sqlite_db: Database) -> None:
    set_zone(sqlite_db, "America/New_York")
    summary = import_path(sqlite_db, FOREIGN, now=NOW)
    assert summary.counts["Patient"].created == 2
    assert summary.counts["Observation (score)"].created == 4  # the weight and the entered-in-error skipped
    with sqlite_db.read() as s:
        jane = s.scalars(select(Patient).where(Patient.mrn == "EHR-77")).one()
        assert (jane.first_name, jane.last_name, jane.indication, jane.provider) == (
            "Jane Q.",
            "Doe",
            "depression",
            "Dr. Jo Banks",
        )
        assert s.scalar(select(Patient.indication).where(Patient.mrn == "EHR-78")) == "crps"
        scores = {
            (a.instrument, a.taken_on, a.score, a.item9, a.source) for a in s.scalars(select(Assessment))
        }
        assert scores == {
            ("PHQ-9", date(2026, 11, 30), 17, 1, "fhir"),
            ("GAD-7", date(2026, 11, 30), 12, None, "fhir"),
            ("PCL-5", date(2026, 11, 30), 44, None, "fhir"),
            ("NRS", date(2026, 12, 1), 6, None, "fhir"),  # 23:30 UTC is 18:30 in New York
        }
        inf = s.scalars(select(Infusion)).one()
        assert inf.scheduled_at == datetime(2026, 12, 1, 9, 0)
        assert inf.discharged_at == datetime(2026, 12, 1, 11, 10)
        assert (inf.bp_pre_sys, inf.bp_pre_dia, inf.bp_peak_sys, inf.bp_peak_dia) == (128, 79, 152, 88)


def _foreign() -> dict[str, Any]:
    return json.loads(FOREIGN.read_text(encoding="utf-8"))


def _entry(bundle: dict[str, Any], rid: str) -> dict[str, Any]:
    return next(e["resource"] for e in bundle["entry"] if e["resource"].get("id") == rid)


def _score_out_of_range(b: dict[str, Any]) -> None:
    _entry(b, "o1")["valueQuantity"]["value"] = 31


def _no_mrn(b: dict[str, Any]) -> None:
    _entry(b, "p1")["identifier"].pop()


def _bad_instrument(b: dict[str, Any]) -> None:
    _entry(b, "o5")["code"]["coding"][0]["code"] = "HAM-D"


def _dangling(b: dict[str, Any]) -> None:
    _entry(b, "o5")["subject"]["reference"] = "Patient/nobody"


def _r5_field(b: dict[str, Any]) -> None:
    _entry(b, "o5")["triggeredBy"] = [{"observation": {"reference": "Observation/o1"}, "type": "reflex"}]


def _preliminary(b: dict[str, Any]) -> None:
    _entry(b, "o5")["status"] = "preliminary"


def _fractional(b: dict[str, Any]) -> None:
    _entry(b, "o1")["valueQuantity"]["value"] = 16.5


def _entered_in_error_procedure(b: dict[str, Any]) -> None:
    _entry(b, "proc1")["status"] = "entered-in-error"


def _unknown_mrn(b: dict[str, Any]) -> None:
    _entry(b, "o3")["subject"]["reference"] = "Patient?identifier=https://ehr.example/mrn|EHR-99"


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            _score_out_of_range,
            "foreign_bundle.json: entry 7 (Observation/o1): value[x]: PHQ-9 score 31 is outside its "
            "range 0–27",
        ),
        (
            _no_mrn,
            "foreign_bundle.json: entry 2 (Patient/p1): identifier: has no identifier typed MR "
            "(v2-0203); kdash needs the MRN",
        ),
        (
            _bad_instrument,
            "foreign_bundle.json: entry 11 (Observation/o5): code: 'HAM-D' is not a kdash instrument "
            "code; use one of: PHQ-9, GAD-7, PCL-5, MADRS, NRS, C-SSRS",
        ),
        (
            _dangling,
            "foreign_bundle.json: entry 11 (Observation/o5): subject: 'Patient/nobody' refers to no "
            "resource in this Bundle",
        ),
        (
            _r5_field,
            "foreign_bundle.json: entry 11 (Observation/o5): triggeredBy: Extra inputs are not "
            "permitted (not valid FHIR R4)",
        ),
        (
            _preliminary,
            "foreign_bundle.json: entry 11 (Observation/o5): status: 'preliminary' is not a final "
            "result; kdash imports final, amended, corrected observations",
        ),
        (
            _fractional,
            "foreign_bundle.json: entry 7 (Observation/o1): value[x]: '16.5' is not a whole number (score)",
        ),
        (
            _entered_in_error_procedure,
            "foreign_bundle.json: entry 15 (Procedure/proc1): status: 'entered-in-error' is not a Procedure "
            "status kdash reads; use one of: preparation, in-progress, on-hold, completed, not-done, stopped",
        ),
        (
            _unknown_mrn,
            "foreign_bundle.json: entry 9 (Observation/o3): subject: no patient with this MRN in the "
            "import or the database",
        ),
    ],
    ids=lambda v: getattr(v, "__name__", "")[1:] or None,
)
def test_refusal_names_entry_and_field_and_writes_nothing(
    sqlite_db: Database, tmp_path: Path, change: Any, expected: str
) -> None:
    bundle = _foreign()
    change(bundle)
    path = tmp_path / "foreign_bundle.json"
    path.write_text(json.dumps(bundle), encoding="utf-8")
    with pytest.raises(ImportRefused) as info:
        import_path(sqlite_db, path, now=NOW)
    assert expected in [str(p) for p in info.value.problems]
    with sqlite_db.read() as s:
        assert s.scalar(select(func.count()).select_from(Patient)) == 0
        assert s.scalar(select(func.count()).select_from(AuditEvent)) == 0


def test_not_a_bundle_is_refused(sqlite_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "x.json"
    path.write_text('{"resourceType": "Patient"}', encoding="utf-8")
    assert main(["import", str(path), "--db", sqlite_url]) == 2
    assert "x.json: resourceType: is not Bundle; kdash imports a FHIR R4 Bundle" in capsys.readouterr().err
    path.write_text("{not json", encoding="utf-8")
    assert main(["import", str(path), "--db", sqlite_url]) == 2
    assert "x.json: is not JSON" in capsys.readouterr().err


def test_cli_exports_fhir(sqlite_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["import", str(EXAMPLE), "--db", sqlite_url]) == 0
    assert main(["export", "--format", "fhir", str(tmp_path / "b.json"), "--db", sqlite_url]) == 0
    assert "Procedure: 38 written" in capsys.readouterr().out
    assert Bundle.model_validate_json((tmp_path / "b.json").read_text(encoding="utf-8")).entry


_JUNK = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8,
)


@settings(max_examples=200, deadline=None)
@given(
    field=st.sampled_from(
        [
            "valueInteger",
            "valueString",
            "valueQuantity",
            "valueDecimal",
            "effectiveDateTime",
            "subject",
            "status",
            "component",
            "code",
        ]
    ),
    junk=_JUNK,
)
def test_hostile_observation_values_give_problems_not_crashes(field: str, junk: Any) -> None:
    bundle = _foreign()
    obs = _entry(bundle, "o1")
    for key in ("valueQuantity",):
        obs.pop(key, None)
    obs[field] = junk
    parsed = read_bundle_data("b.json", bundle, None)
    for problem in parsed.problems:
        assert str(problem).startswith("b.json: entry ")


def test_demo_clinic_round_trips_through_fhir(db: Database, tmp_path: Path) -> None:
    from kdash.demo.clinic import generate, load

    load(db, generate(30, 11, date(2026, 12, 7)))
    export_fhir(db, tmp_path / "demo.json", now=NOW)
    copy = new_db(tmp_path, "copy.db", "")
    import_path(copy, tmp_path / "demo.json", now=AFTER_THE_LAST_BOOKING)
    assert snapshot(copy) == snapshot(db)
    copy.engine.dispose()
