"""The FHIR code systems, LOINC codes and extension URLs kdash writes and reads (docs/import-format.md).

Standard codes where one exists (LOINC for PHQ-9, GAD-7, pain NRS, blood pressure, heart rate, SpO2;
HL7 v2-0203 ``MR`` for the MRN); kdash's own code systems under ``https://kdash.example/fhir/`` for the
rest (PCL-5, MADRS and the C-SSRS screener have no LOINC code we rely on; indications, screening items,
infusion bookkeeping). The import checks these codes itself: fhir.resources does not validate value sets.
"""

from __future__ import annotations

from kdash.domain.vocab import CourseStatus, InfusionStatus, Instrument

LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
V2_0203 = "http://terminology.hl7.org/CodeSystem/v2-0203"
MR = "MR"
OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
CONDITION_CLINICAL = "http://terminology.hl7.org/CodeSystem/condition-clinical"

BASE = "https://kdash.example/fhir"
MRN_SYSTEM = f"{BASE}/mrn"
CS_INSTRUMENT = f"{BASE}/CodeSystem/instrument"
CS_INDICATION = f"{BASE}/CodeSystem/indication"
CS_SCREENING_ITEM = f"{BASE}/CodeSystem/screening-item"
CS_SCREENING_RESULT = f"{BASE}/CodeSystem/screening-result"
CS_CONTACT_ROLE = f"{BASE}/CodeSystem/contact-role"
CS_PROCEDURE = f"{BASE}/CodeSystem/procedure"
CS_INFUSION_STATUS = f"{BASE}/CodeSystem/infusion-status"
CS_CATEGORY = f"{BASE}/CodeSystem/observation-category"
ESCORT = "escort"
KETAMINE_INFUSION = "ketamine-infusion"
SCREENING = "screening"

_EXT = f"{BASE}/StructureDefinition"
EXT_PATIENT_STATUS = f"{_EXT}/patient-status"
EXT_COURSE_NUMBER = f"{_EXT}/course-number"
EXT_TRIAL_OUTCOME = f"{_EXT}/trial-outcome"
EXT_TRIAL_OUTCOME_BY = f"{_EXT}/trial-outcome-by"
EXT_TRIAL_OUTCOME_ON = f"{_EXT}/trial-outcome-on"
EXT_INFUSION_NUMBER = f"{_EXT}/infusion-number"
EXT_CHAIR = f"{_EXT}/chair"
EXT_DOSE = f"{_EXT}/dose-mg-per-kg"
EXT_PREMED = f"{_EXT}/premed-given"
EXT_ESCORT_CONFIRMED = f"{_EXT}/escort-confirmed"
EXT_ADVERSE_EVENTS = f"{_EXT}/adverse-events"
EXT_DISCHARGED_AT = f"{_EXT}/discharged-at"
EXT_BP_READING = f"{_EXT}/bp-reading"

#: LOINC codes of the instrument totals (clinical-reference.md "Instruments").
INSTRUMENT_LOINC: dict[Instrument, str] = {
    Instrument.PHQ9: "44261-6",
    Instrument.GAD7: "70274-6",
    Instrument.NRS: "72514-3",
}
LOINC_INSTRUMENT: dict[str, Instrument] = {code: inst for inst, code in INSTRUMENT_LOINC.items()}
#: PHQ-9 item 9; kdash writes it as a component of the PHQ-9 total and reads it either way.
PHQ9_ITEM9_LOINC = "44260-8"
#: LOINC answer codes of a PHQ-9 item (LL358-3): not at all, several days, more than half, nearly every day.
PHQ_ANSWER_SCORES: dict[str, int] = {"LA6568-5": 0, "LA6569-3": 1, "LA6570-1": 2, "LA6571-9": 3}

BP_PANEL = "85354-9"
BP_SYSTOLIC = "8480-6"
BP_DIASTOLIC = "8462-4"
HEART_RATE = "8867-4"
#: SpO2 by pulse oximetry (59408-5) is what kdash writes; 2708-6 (arterial saturation) is also read.
SPO2_CODES = ("59408-5", "2708-6")
BP_READINGS = ("pre", "peak", "discharge")

#: Procedure.status for each infusion status; cancelled and no-show are both ``not-done`` and told apart
#: by a statusReason coded in CS_INFUSION_STATUS.
PROCEDURE_STATUS: dict[InfusionStatus, str] = {
    InfusionStatus.SCHEDULED: "preparation",
    InfusionStatus.COMPLETED: "completed",
    InfusionStatus.CANCELLED: "not-done",
    InfusionStatus.NO_SHOW: "not-done",
}
#: Procedure.status read back (other systems may send in-progress for a running infusion).
PROCEDURE_STATUS_IN: dict[str, InfusionStatus] = {
    "preparation": InfusionStatus.SCHEDULED,
    "in-progress": InfusionStatus.SCHEDULED,
    "on-hold": InfusionStatus.SCHEDULED,
    "completed": InfusionStatus.COMPLETED,
    "not-done": InfusionStatus.CANCELLED,
    "stopped": InfusionStatus.CANCELLED,
}
EPISODE_STATUS: dict[CourseStatus, str] = {
    CourseStatus.PLANNED: "planned",
    CourseStatus.ACTIVE: "active",
    CourseStatus.COMPLETED: "finished",
    CourseStatus.STOPPED: "cancelled",
}
EPISODE_STATUS_IN: dict[str, CourseStatus] = {
    "planned": CourseStatus.PLANNED,
    "waitlist": CourseStatus.PLANNED,
    "active": CourseStatus.ACTIVE,
    "onhold": CourseStatus.ACTIVE,
    "finished": CourseStatus.COMPLETED,
    "cancelled": CourseStatus.STOPPED,
}
#: Observation statuses read as results; ``entered-in-error`` resources are skipped.
OBSERVATION_STATUSES = ("final", "amended", "corrected")
