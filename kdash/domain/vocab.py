"""Every fixed vocabulary of kdash, defined once.

Statuses, indications, instrument codes, screening items, flag codes and roles are imported from here
by the model, the rules, the importers and the pages, so a code can never be spelt two ways. Values are
the strings stored in the database and written in CSV/JSON files.
"""

from __future__ import annotations

from enum import StrEnum


class Indication(StrEnum):
    """Why the patient is treated (the clinic's list of indications)."""

    CRPS = "crps"
    NEUROPATHY = "neuropathy"
    FIBROMYALGIA = "fibromyalgia"
    SPINAL_INJURY = "spinal_injury"
    CANCER_PAIN = "cancer_pain"
    OTHER_PAIN = "other_pain"
    DEPRESSION = "depression"
    PTSD = "ptsd"
    BIPOLAR_DEPRESSION = "bipolar_depression"

    @property
    def label(self) -> str:
        return INDICATION_LABELS[self]

    @property
    def is_pain(self) -> bool:
        return self in PAIN_INDICATIONS


INDICATION_LABELS: dict[Indication, str] = {
    Indication.CRPS: "CRPS",
    Indication.NEUROPATHY: "Neuropathy",
    Indication.FIBROMYALGIA: "Fibromyalgia",
    Indication.SPINAL_INJURY: "Spinal injury",
    Indication.CANCER_PAIN: "Cancer pain",
    Indication.OTHER_PAIN: "Other chronic pain",
    Indication.DEPRESSION: "Treatment-resistant depression",
    Indication.PTSD: "PTSD",
    Indication.BIPOLAR_DEPRESSION: "Bipolar depression",
}

PAIN_INDICATIONS: frozenset[Indication] = frozenset(
    {
        Indication.CRPS,
        Indication.NEUROPATHY,
        Indication.FIBROMYALGIA,
        Indication.SPINAL_INJURY,
        Indication.CANCER_PAIN,
        Indication.OTHER_PAIN,
    }
)


class Sex(StrEnum):
    FEMALE = "female"
    MALE = "male"
    OTHER = "other"
    UNKNOWN = "unknown"


class PatientStatus(StrEnum):
    ACTIVE = "active"
    PAUSED = "paused"
    DISCHARGED = "discharged"


class CourseStatus(StrEnum):
    PLANNED = "planned"
    ACTIVE = "active"
    COMPLETED = "completed"
    STOPPED = "stopped"


class TrialOutcome(StrEnum):
    PENDING = "pending"
    BENEFIT = "benefit"
    NO_BENEFIT = "no_benefit"


class InfusionStatus(StrEnum):
    SCHEDULED = "scheduled"
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    NO_SHOW = "no_show"


#: Infusions that count toward the ten per course and hold their number and chair (clinical-reference.md
#: "Planning decisions"). Cancelled and no-show infusions stay in the history only.
LIVE_INFUSION_STATUSES: tuple[InfusionStatus, ...] = (
    InfusionStatus.SCHEDULED,
    InfusionStatus.COMPLETED,
)

#: The clinic's rule: the trial plus up to nine further infusions (clinic patient information page).
MAX_INFUSIONS_PER_COURSE = 10


class Instrument(StrEnum):
    """Assessment instruments, keyed by the code used in files and the huddle JSON."""

    PHQ9 = "PHQ-9"
    GAD7 = "GAD-7"
    PCL5 = "PCL-5"
    MADRS = "MADRS"
    NRS = "NRS"
    CSSRS = "C-SSRS"


#: Score range (inclusive) of each instrument's total (clinical-reference.md "Instruments"; C-SSRS screener
#: coded 0 none, 1 low, 2 moderate, 3 high risk per clinical-reference.md "Decisions").
INSTRUMENT_RANGES: dict[Instrument, tuple[int, int]] = {
    Instrument.PHQ9: (0, 27),
    Instrument.GAD7: (0, 21),
    Instrument.PCL5: (0, 80),
    Instrument.MADRS: (0, 60),
    Instrument.NRS: (0, 10),
    Instrument.CSSRS: (0, 3),
}

#: PHQ-9 item 9 ("thoughts that you would be better off dead …") is scored 0–3 (Kroenke 2001).
PHQ9_ITEM9_RANGE: tuple[int, int] = (0, 3)


class ScreeningResult(StrEnum):
    YES = "yes"
    NO = "no"
    UNKNOWN = "unknown"


class ScreeningDecision(StrEnum):
    CLEARED = "cleared"
    NOT_ELIGIBLE = "not_eligible"
    PENDING = "pending"


class ScreeningStatus(StrEnum):
    NOT_STARTED = "not_started"
    INCOMPLETE = "incomplete"
    NEEDS_REVIEW = "needs_review"
    NOT_ELIGIBLE = "not_eligible"
    CLEARED = "cleared"


#: A screening state as the start of a sentence ("Screening needs a provider's review: not cleared").
SCREENING_STATE_WORDS: dict[ScreeningStatus, str] = {
    ScreeningStatus.NOT_STARTED: "Screening has not started",
    ScreeningStatus.INCOMPLETE: "Screening is incomplete",
    ScreeningStatus.NEEDS_REVIEW: "Screening needs a provider's review",
    ScreeningStatus.NOT_ELIGIBLE: "Screening found the patient not eligible",
    ScreeningStatus.CLEARED: "Screening is cleared",
}


class ItemClass(StrEnum):
    """How a screening item counts: a prerequisite that must be yes, or a contraindication."""

    REQUIRED = "required"
    ABSOLUTE = "absolute"
    RELATIVE = "relative"


#: The screening checklist (clinical-reference.md "Screening items"): code -> (meaning, default class,
#: source). The absolute/relative split is clinic policy and can be moved in the settings.
SCREENING_ITEMS: dict[str, tuple[str, ItemClass, str]] = {
    "history_reviewed": (
        "Health and medical history reviewed",
        ItemClass.REQUIRED,
        "clinic patient information page",
    ),
    "prior_treatment_failure": (
        "Months of usual treatment without relief documented",
        ItemClass.REQUIRED,
        "clinic patient information page",
    ),
    "consent_signed": ("Informed consent signed", ItemClass.REQUIRED, "standard practice"),
    "escort_arranged": (
        "A responsible adult will drive the patient home",
        ItemClass.REQUIRED,
        "clinic page; RCEM sedation discharge guidance",
    ),
    "baseline_scores": (
        "Baseline symptom scores recorded before the trial",
        ItemClass.REQUIRED,
        "measurement-based care",
    ),
    "uncontrolled_hypertension": (
        "Poorly controlled hypertension or cardiovascular disease",
        ItemClass.ABSOLUTE,
        "ASRA/AAPM/ASA 2018 (Cohen et al., Reg Anesth Pain Med 43:521)",
    ),
    "vascular_aneurysm_avm_ich": (
        "Aneurysmal vascular disease, AVM or intracerebral haemorrhage history",
        ItemClass.ABSOLUTE,
        "Spravato (esketamine) label",
    ),
    "active_psychosis": (
        "Psychosis (incl. psychotic features) or current mania",
        ItemClass.ABSOLUTE,
        "APA consensus (Sanacora et al., JAMA Psychiatry 2017); clinic criteria",
    ),
    "pregnancy": ("Pregnancy or lactation", ItemClass.ABSOLUTE, "Spravato label; clinic criteria"),
    "severe_hepatic": (
        "Severe liver impairment",
        ItemClass.ABSOLUTE,
        "ASRA 2018; Spravato label",
    ),
    "raised_icp_iop": (
        "Raised intracranial or intraocular pressure",
        ItemClass.RELATIVE,
        "ASRA 2018 (grade C)",
    ),
    "active_substance_use": (
        "Active substance use disorder",
        ItemClass.RELATIVE,
        "ASRA 2018",
    ),
    "arrhythmia": (
        "Significant arrhythmia",
        ItemClass.RELATIVE,
        "clinic criteria (trial exclusion tables)",
    ),
    "ketamine_allergy": ("Prior hypersensitivity to ketamine", ItemClass.ABSOLUTE, "label"),
}

#: The pseudo-item under which screenings.csv carries the provider's decision.
PROVIDER_DECISION_ITEM = "provider_decision"


class Severity(StrEnum):
    URGENT = "urgent"
    WARNING = "warning"
    INFO = "info"


SEVERITY_RANK: dict[Severity, int] = {Severity.URGENT: 0, Severity.WARNING: 1, Severity.INFO: 2}


class FlagCode(StrEnum):
    """The huddle's fixed flag vocabulary (issue: clinical rules engine)."""

    SUICIDE_RISK = "SUICIDE_RISK"
    BP_CRISIS = "BP_CRISIS"
    BP_HIGH = "BP_HIGH"
    NOT_CLEARED = "NOT_CLEARED"
    RESCREEN_DUE = "RESCREEN_DUE"
    NO_ESCORT = "NO_ESCORT"
    TRIAL_OUTCOME_MISSING = "TRIAL_OUTCOME_MISSING"
    TRIAL_NO_BENEFIT = "TRIAL_NO_BENEFIT"
    COURSE_LIMIT_REACHED = "COURSE_LIMIT_REACHED"
    COURSE_FINAL_SESSION = "COURSE_FINAL_SESSION"
    COURSE_NEARLY_COMPLETE = "COURSE_NEARLY_COMPLETE"
    WORSENING = "WORSENING"
    BENEFIT_WINDOW_ENDING = "BENEFIT_WINDOW_ENDING"
    MISSING_BASELINE = "MISSING_BASELINE"
    ASSESSMENT_DUE = "ASSESSMENT_DUE"


FLAG_SEVERITY: dict[FlagCode, Severity] = {
    FlagCode.SUICIDE_RISK: Severity.URGENT,
    FlagCode.BP_CRISIS: Severity.URGENT,
    FlagCode.BP_HIGH: Severity.WARNING,
    FlagCode.NOT_CLEARED: Severity.URGENT,
    FlagCode.RESCREEN_DUE: Severity.WARNING,
    FlagCode.NO_ESCORT: Severity.WARNING,
    FlagCode.TRIAL_OUTCOME_MISSING: Severity.URGENT,
    FlagCode.TRIAL_NO_BENEFIT: Severity.URGENT,
    FlagCode.COURSE_LIMIT_REACHED: Severity.URGENT,
    FlagCode.COURSE_FINAL_SESSION: Severity.INFO,
    FlagCode.COURSE_NEARLY_COMPLETE: Severity.INFO,
    FlagCode.WORSENING: Severity.WARNING,
    FlagCode.BENEFIT_WINDOW_ENDING: Severity.INFO,
    FlagCode.MISSING_BASELINE: Severity.WARNING,
    FlagCode.ASSESSMENT_DUE: Severity.INFO,
}


#: Each flag in words, the same on every screen, the printed sheet and the roster; the code itself
#: appears only in exports (CSV, JSON, FHIR), where other systems read it.
FLAG_WORDS: dict[FlagCode, str] = {
    FlagCode.SUICIDE_RISK: "Suicide risk",
    FlagCode.BP_CRISIS: "Blood pressure crisis",
    FlagCode.BP_HIGH: "Blood pressure high",
    FlagCode.NOT_CLEARED: "Screening not cleared",
    FlagCode.RESCREEN_DUE: "Re-screening due",
    FlagCode.NO_ESCORT: "No escort",
    FlagCode.TRIAL_OUTCOME_MISSING: "Trial outcome missing",
    FlagCode.TRIAL_NO_BENEFIT: "Trial without benefit",
    FlagCode.COURSE_LIMIT_REACHED: "Course limit reached",
    FlagCode.COURSE_FINAL_SESSION: "Final session of the course",
    FlagCode.COURSE_NEARLY_COMPLETE: "Course nearly complete",
    FlagCode.WORSENING: "Worsening",
    FlagCode.BENEFIT_WINDOW_ENDING: "Benefit window ending",
    FlagCode.MISSING_BASELINE: "No baseline score",
    FlagCode.ASSESSMENT_DUE: "Assessment due",
}


class Role(StrEnum):
    PROVIDER = "provider"
    NURSE = "nurse"
    SCHEDULER = "scheduler"
    ADMIN = "admin"
    READ_ONLY = "read_only"


class SuicideReviewAction(StrEnum):
    """What a provider did on reviewing a positive item 9 or a high-risk C-SSRS (clinical-reference.md
    "Decisions")."""

    SAFETY_PLAN = "safety_plan"
    CSSRS_ASKED = "cssrs_asked"
    REFERRAL = "referral"


class AssessmentSource(StrEnum):
    FORM = "form"
    CSV = "csv"
    FHIR = "fhir"
    DEMO = "demo"


def values(enum: type[StrEnum]) -> tuple[str, ...]:
    """The stored values of an enum, in definition order (for CHECK constraints and messages)."""
    return tuple(member.value for member in enum)
