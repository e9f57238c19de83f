"""Writing the database as one FHIR R4 transaction Bundle (``fhir.resources.R4B``).

Patient (MRN as the ``MR`` identifier), Condition (indication), EpisodeOfCare (course), Observation per
screening answer, provider decision, score (LOINC where one exists) and vital-sign reading (blood
pressure panel 85354-9 with components), and Procedure per infusion carrying its course and number in
extensions so an import restores them. Resource ids are UUIDs derived from each record's natural key,
so a re-sent Bundle updates the same resources instead of duplicating them. Soft-deleted records are
left out. The Bundle is validated against the R4B models before it is written.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime, tzinfo
from typing import Any

from fhir.resources.R4B.bundle import Bundle
from sqlalchemy import select
from sqlalchemy.orm import Session

from kdash.domain.vocab import (
    INDICATION_LABELS,
    PROVIDER_DECISION_ITEM,
    Indication,
    InfusionStatus,
    Instrument,
)
from kdash.interchange.fhir import codes as f
from kdash.storage.models import Assessment, Course, Infusion, Patient, ScreeningDecisionRow, ScreeningItem

_NAMESPACE = uuid.UUID("6f0d1c7e-3b0a-5a57-9d55-6b6461736821")


def resource_id(*key: object) -> str:
    """A stable UUID for a record's natural key (the same record always gets the same id)."""
    return str(uuid.uuid5(_NAMESPACE, "|".join(str(k) for k in key)))


def zoned(value: datetime, zone: tzinfo | None) -> str:
    """A naive clinic-local datetime as FHIR dateTime, which needs a zone once it has a time."""
    aware = value.replace(tzinfo=zone) if zone else value.astimezone()
    return aware.isoformat()


def _ref(rid: str) -> dict[str, str]:
    return {"reference": f"urn:uuid:{rid}"}


def _coding(system: str, code: str, display: str | None = None) -> dict[str, Any]:
    coding = {"system": system, "code": code}
    if display:
        coding["display"] = display
    return coding


def _concept(system: str, code: str, display: str | None = None) -> dict[str, Any]:
    concept: dict[str, Any] = {"coding": [_coding(system, code, display)]}
    if display:
        concept["text"] = display
    return concept


def _ext(url: str, kind: str, value: Any) -> list[dict[str, Any]]:
    return [] if value is None else [{"url": url, kind: value}]


def _qty(value: int, unit: str) -> dict[str, Any]:
    return {"value": value, "unit": unit, "system": f.UCUM, "code": unit}


class _Builder:
    def __init__(self, zone: tzinfo | None) -> None:
        self.zone = zone
        self.entries: list[dict[str, Any]] = []
        self.counts: dict[str, int] = {}
        self.seen: set[str] = set()

    def add(self, resource: dict[str, Any], *key: object) -> str:
        rtype = resource["resourceType"]
        rid = resource_id(rtype, *key)
        clash = 1
        while rid in self.seen:  # the same slot booked again after a cancellation: a second resource
            clash += 1
            rid = resource_id(rtype, *key, clash)
        self.seen.add(rid)
        resource["id"] = rid
        self.entries.append(
            {
                "fullUrl": f"urn:uuid:{rid}",
                "resource": resource,
                "request": {"method": "PUT", "url": f"{rtype}/{rid}"},
            }
        )
        self.counts[rtype] = self.counts.get(rtype, 0) + 1
        return rid


def bundle_dict(session: Session, zone: tzinfo | None) -> tuple[dict[str, Any], dict[str, int]]:
    """The transaction Bundle (as a dict) of every current record, and resources per type."""
    b = _Builder(zone)
    patients = list(
        session.scalars(select(Patient).where(Patient.deleted_at.is_(None)).order_by(Patient.mrn))
    )
    pref: dict[int, tuple[str, str]] = {}
    for p in patients:
        pref[p.id] = (p.mrn, b.add(_patient(p), p.mrn))
        indication = Indication(p.indication)
        b.add(
            {
                "resourceType": "Condition",
                "clinicalStatus": _concept(f.CONDITION_CLINICAL, "active"),
                "code": _concept(f.CS_INDICATION, indication.value, INDICATION_LABELS[indication]),
                "subject": _ref(pref[p.id][1]),
            },
            p.mrn,
        )
    for item in session.scalars(select(ScreeningItem).order_by(ScreeningItem.id)):
        if item.patient_id in pref:
            mrn, rid = pref[item.patient_id]
            b.add(
                _screening(rid, item.item, item.recorded_on, item.result, item.recorded_by, item.note),
                mrn,
                item.item,
                item.recorded_on,
            )
    for dec in session.scalars(select(ScreeningDecisionRow).order_by(ScreeningDecisionRow.id)):
        if dec.patient_id in pref:
            mrn, rid = pref[dec.patient_id]
            b.add(
                _screening(
                    rid, PROVIDER_DECISION_ITEM, dec.decided_on, dec.decision, dec.decided_by, dec.note
                ),
                mrn,
                PROVIDER_DECISION_ITEM,
                dec.decided_on,
            )
    courses: dict[int, tuple[str, str, int]] = {}
    for course in session.scalars(select(Course).order_by(Course.patient_id, Course.number)):
        if course.patient_id in pref:
            mrn, rid = pref[course.patient_id]
            b.add(_episode(course, rid), mrn, course.number)
            courses[course.id] = (mrn, rid, course.number)
    for inf in session.scalars(
        select(Infusion).order_by(Infusion.course_id, Infusion.scheduled_at, Infusion.id)
    ):
        if inf.course_id in courses:
            mrn, rid, number = courses[inf.course_id]
            _infusion(b, inf, mrn, rid, number)
    scores = session.scalars(
        select(Assessment).where(Assessment.deleted_at.is_(None)).order_by(Assessment.id)
    )
    for a in scores:
        if a.patient_id in pref:
            mrn, rid = pref[a.patient_id]
            b.add(_score(a, rid), mrn, a.instrument, a.taken_on)
    bundle = {"resourceType": "Bundle", "type": "transaction", "entry": b.entries}
    return bundle, b.counts


def bundle_json(session: Session, zone: tzinfo | None) -> tuple[str, dict[str, int]]:
    """The Bundle as JSON text, validated against the R4B models first."""
    data, counts = bundle_dict(session, zone)
    return Bundle.model_validate(data).model_dump_json(indent=1), counts


def _patient(p: Patient) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "Patient",
        "extension": _ext(f.EXT_PATIENT_STATUS, "valueCode", p.status),
        "identifier": [
            {
                "use": "usual",
                "type": _concept(f.V2_0203, f.MR, "Medical record number"),
                "system": f.MRN_SYSTEM,
                "value": p.mrn,
            }
        ],
        "active": p.status != "discharged",
        "name": [{"use": "official", "family": p.last_name, "given": [p.first_name]}],
        "gender": p.sex,
        "birthDate": p.date_of_birth.isoformat(),
        "generalPractitioner": [{"display": p.provider}],
    }
    if p.escort_name or p.escort_phone:
        contact: dict[str, Any] = {
            "relationship": [_concept(f.CS_CONTACT_ROLE, f.ESCORT, "Escort (drives the patient home)")]
        }
        if p.escort_name:
            contact["name"] = {"text": p.escort_name}
        if p.escort_phone:
            contact["telecom"] = [{"system": "phone", "value": p.escort_phone}]
        resource["contact"] = [contact]
    return resource


def _screening(
    patient: str, item: str, on: date, result: str, by: str | None, note: str | None
) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "Observation",
        "status": "final",
        "category": [_concept(f.CS_CATEGORY, f.SCREENING, "Pre-treatment screening")],
        "code": _concept(f.CS_SCREENING_ITEM, item),
        "subject": _ref(patient),
        "effectiveDateTime": on.isoformat(),
        "valueCodeableConcept": _concept(f.CS_SCREENING_RESULT, result),
    }
    if by:
        resource["performer"] = [{"display": by}]
    if note:
        resource["note"] = [{"text": note}]
    return resource


def _episode(course: Course, patient: str) -> dict[str, Any]:
    from kdash.domain.vocab import CourseStatus

    indication = Indication(course.indication)
    resource: dict[str, Any] = {
        "resourceType": "EpisodeOfCare",
        "extension": [
            *_ext(f.EXT_COURSE_NUMBER, "valueInteger", course.number),
            *_ext(f.EXT_TRIAL_OUTCOME, "valueCode", course.trial_outcome),
            *_ext(f.EXT_TRIAL_OUTCOME_BY, "valueString", course.trial_outcome_by),
            *_ext(
                f.EXT_TRIAL_OUTCOME_ON,
                "valueDate",
                course.trial_outcome_on.isoformat() if course.trial_outcome_on else None,
            ),
        ],
        "status": f.EPISODE_STATUS[CourseStatus(course.status)],
        "type": [_concept(f.CS_INDICATION, indication.value, INDICATION_LABELS[indication])],
        "patient": _ref(patient),
    }
    if course.started_on:
        resource["period"] = {"start": course.started_on.isoformat()}
    return resource


def _infusion(b: _Builder, inf: Infusion, mrn: str, patient: str, course: int) -> None:
    status = InfusionStatus(inf.status)
    at = zoned(inf.scheduled_at, b.zone)
    resource: dict[str, Any] = {
        "resourceType": "Procedure",
        "extension": [
            *_ext(f.EXT_COURSE_NUMBER, "valueInteger", course),
            *_ext(f.EXT_INFUSION_NUMBER, "valueInteger", inf.number),
            *_ext(f.EXT_CHAIR, "valueInteger", inf.chair),
            *_ext(f.EXT_DOSE, "valueDecimal", inf.dose_mg_per_kg),
            *_ext(f.EXT_PREMED, "valueBoolean", inf.premed_given),
            *_ext(f.EXT_ESCORT_CONFIRMED, "valueBoolean", inf.escort_confirmed),
            *_ext(f.EXT_ADVERSE_EVENTS, "valueString", inf.adverse_events),
            *_ext(
                f.EXT_DISCHARGED_AT,
                "valueDateTime",
                zoned(inf.discharged_at, b.zone) if inf.discharged_at else None,
            ),
        ],
        "status": f.PROCEDURE_STATUS[status],
        "code": _concept(f.CS_PROCEDURE, f.KETAMINE_INFUSION, "IV ketamine infusion"),
        "subject": _ref(patient),
        "performedDateTime": at,
    }
    reason: dict[str, Any] = {}
    if status in (InfusionStatus.CANCELLED, InfusionStatus.NO_SHOW):
        reason["coding"] = [_coding(f.CS_INFUSION_STATUS, status.value)]
    if inf.cancel_reason:
        reason["text"] = inf.cancel_reason
    if reason:
        resource["statusReason"] = reason
    if inf.dose_mg_per_kg is not None:
        resource["note"] = [
            {"text": f"Ketamine {inf.dose_mg_per_kg:g} mg/kg (course {course}, infusion {inf.number})"}
        ]
    key = (mrn, course, inf.number, inf.scheduled_at.isoformat())
    proc = b.add(resource, *key)
    # Reading times are not stored: every reading carries the infusion's start time.
    vital = {
        "status": "final",
        "category": [_concept(f.OBSERVATION_CATEGORY, "vital-signs", "Vital Signs")],
        "subject": _ref(patient),
        "partOf": [{"reference": f"urn:uuid:{proc}"}],
        "effectiveDateTime": at,
    }
    for reading in f.BP_READINGS:
        sys_v, dia_v = getattr(inf, f"bp_{reading}_sys"), getattr(inf, f"bp_{reading}_dia")
        components = []
        if sys_v is not None:
            components.append(
                {"code": _concept(f.LOINC, f.BP_SYSTOLIC), "valueQuantity": _qty(sys_v, "mm[Hg]")}
            )
        if dia_v is not None:
            components.append(
                {"code": _concept(f.LOINC, f.BP_DIASTOLIC), "valueQuantity": _qty(dia_v, "mm[Hg]")}
            )
        if components:
            b.add(
                {
                    "resourceType": "Observation",
                    "extension": _ext(f.EXT_BP_READING, "valueCode", reading),
                    **vital,
                    "code": _concept(f.LOINC, f.BP_PANEL, "Blood pressure panel"),
                    "component": components,
                },
                *key,
                reading,
            )
    if inf.heart_rate is not None:
        b.add(
            {
                "resourceType": "Observation",
                **vital,
                "code": _concept(f.LOINC, f.HEART_RATE, "Heart rate"),
                "valueQuantity": _qty(inf.heart_rate, "/min"),
            },
            *key,
            "hr",
        )
    if inf.spo2 is not None:
        b.add(
            {
                "resourceType": "Observation",
                **vital,
                "code": _concept(f.LOINC, f.SPO2_CODES[0], "SpO2"),
                "valueQuantity": _qty(inf.spo2, "%"),
            },
            *key,
            "spo2",
        )


def _score(a: Assessment, patient: str) -> dict[str, Any]:
    instrument = Instrument(a.instrument)
    loinc = f.INSTRUMENT_LOINC.get(instrument)
    code = (
        _concept(f.LOINC, loinc, instrument.value) if loinc else _concept(f.CS_INSTRUMENT, instrument.value)
    )
    resource: dict[str, Any] = {
        "resourceType": "Observation",
        "status": "final",
        "category": [_concept(f.OBSERVATION_CATEGORY, "survey", "Survey")],
        "code": code,
        "subject": _ref(patient),
        "effectiveDateTime": a.taken_on.isoformat(),
        "valueInteger": a.score,
    }
    if a.item9 is not None:
        resource["component"] = [
            {"code": _concept(f.LOINC, f.PHQ9_ITEM9_LOINC, "PHQ-9 item 9"), "valueInteger": a.item9}
        ]
    if a.recorded_by:
        resource["performer"] = [{"display": a.recorded_by}]
    return resource
