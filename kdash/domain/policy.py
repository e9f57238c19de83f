"""Clinic policy settings: every threshold the rules use, with its default and where it comes from.

The rules never hard-code a number: they take a :class:`ClinicPolicy`. Defaults and sources are those
of ``docs/clinical-reference.md``; a value marked *policy* is the clinic's choice (no guideline fixes it) and
the settings page shows it as such. Overrides are stored in the ``setting`` table as JSON and merged over
these defaults by :func:`kdash.storage.policy_repo.load_policy`.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from kdash.domain.vocab import SCREENING_ITEMS, ItemClass


def _setting(default: Any, label: str, source: str, *, policy: bool = False, unit: str = "") -> Any:
    """A field with the metadata the settings page and docs show beside the value."""
    meta = {"label": label, "source": source, "policy": policy, "unit": unit}
    if isinstance(default, (list, dict, set)):
        return field(default_factory=lambda: type(default)(default), metadata=meta)
    return field(default=default, metadata=meta)


@dataclass(frozen=True)
class ClinicPolicy:
    """The policy values (docs/clinical-reference.md). Frozen: a change is a new object a service writes."""

    clinic_name: str = _setting("kdash demo clinic", "Clinic name", "clinic", policy=True)
    timezone: str = _setting(
        "",
        "Clinic time zone (IANA name; empty = the server's)",
        "clinical reference: Decisions, clinic time zone",
        policy=True,
    )
    import_legacy_encoding: str = _setting(
        "",
        "Legacy encoding of import files (empty = UTF-8 only; e.g. cp1252)",
        "clinic: the encoding its record system exports in",
        policy=True,
    )
    # --- Blood pressure -------------------------------------------------------------------------
    bp_high_systolic: int = _setting(
        140, "Pre-dose BP high: systolic above", "Spravato label (consider delaying)", unit="mmHg"
    )
    bp_high_diastolic: int = _setting(
        90, "Pre-dose BP high: diastolic above", "Spravato label (consider delaying)", unit="mmHg"
    )
    bp_crisis_systolic: int = _setting(
        180,
        "Hypertensive crisis: systolic above",
        "ACC/AHA 2017 guideline; do-not-infuse is clinic policy",
        policy=True,
        unit="mmHg",
    )
    bp_crisis_diastolic: int = _setting(
        120,
        "Hypertensive crisis: diastolic above",
        "ACC/AHA 2017 guideline; do-not-infuse is clinic policy",
        policy=True,
        unit="mmHg",
    )
    # --- Instruments ----------------------------------------------------------------------------
    phq9_response_pct: float = _setting(
        50.0,
        "PHQ-9 response: drop from baseline of at least",
        "PHQ-9 (Kroenke 2001); NCQA",
        unit="%",
    )
    phq9_remission_below: int = _setting(5, "PHQ-9 remission: score below", "NCQA")
    phq9_worsening_points: int | None = _setting(
        5,
        "PHQ-9 clinically meaningful worsening: rise of at least",
        "Löwe 2004",
        policy=True,
        unit="points",
    )
    gad7_worsening_points: int | None = _setting(
        4,
        "GAD-7 clinically meaningful worsening: rise of at least",
        "Toussaint et al. 2020 (minimal important difference, secondary)",
        policy=True,
        unit="points",
    )
    gad7_positive_screen: int = _setting(10, "GAD-7 positive screen at", "Spitzer 2006")
    pcl5_probable_ptsd: int = _setting(
        33, "PCL-5 probable PTSD at", "PCL-5 cut-off 31–33 (33 chosen)", policy=True
    )
    pcl5_response_points: int = _setting(
        10, "PCL-5 response: drop of at least", "PCL-5 (secondary)", policy=True, unit="points"
    )
    pcl5_worsening_points: int | None = _setting(
        10,
        "PCL-5 clinically meaningful worsening: rise of at least",
        "PCL-5 (secondary)",
        policy=True,
        unit="points",
    )
    madrs_response_pct: float = _setting(50.0, "MADRS response: drop of at least", "MADRS (Snaith)", unit="%")
    madrs_remission_below: int = _setting(
        10, "MADRS remission: score below", "MADRS (some use ≤12)", policy=True
    )
    madrs_worsening_points: int | None = _setting(
        None,
        "MADRS clinically meaningful worsening: rise of at least",
        "no agreed figure: empty by default",
        policy=True,
        unit="points",
    )
    nrs_response_pct: float = _setting(
        30.0,
        "Pain NRS response: drop of at least",
        "IMMPACT (Dworkin et al., J Pain 2008), moderate",
        unit="%",
    )
    nrs_substantial_pct: float = _setting(
        50.0, "Pain NRS substantial improvement: drop of at least", "IMMPACT", unit="%"
    )
    nrs_band_starts: list[int] = _setting(
        [1, 4, 7],
        "Pain NRS bands: mild, moderate and severe start at",
        "common use (IMMPACT context), clinic policy; 0 is 'none'",
        policy=True,
        unit="points",
    )
    nrs_worsening_points: int | None = _setting(
        2,
        "Pain NRS clinically meaningful worsening: rise of at least",
        "IMMPACT (about 2 points)",
        policy=True,
        unit="points",
    )
    # --- Trial judgement ------------------------------------------------------------------------
    trial_phq9_benefit_pct: float = _setting(
        50.0,
        "Trial benefit (depression/PTSD): PHQ-9 drop of at least",
        "Keith et al., J Clin Psychopharmacol",
        unit="%",
    )
    trial_phq9_benefit_below: int = _setting(
        10,
        "Trial benefit (depression/PTSD): or PHQ-9 ending below",
        "Keith et al., J Clin Psychopharmacol",
    )
    trial_pcl5_benefit_points: int = _setting(
        10, "Trial benefit (PTSD): PCL-5 drop of at least", "PCL-5 (secondary)", unit="points"
    )
    trial_nrs_benefit_pct: float = _setting(
        30.0, "Trial benefit (pain): NRS drop of at least", "IMMPACT moderate", unit="%"
    )
    # --- Screening ------------------------------------------------------------------------------
    rescreen_after_months: int = _setting(
        12,
        "Re-screening due when the screening is older than",
        "clinical reference: Decisions",
        policy=True,
        unit="months",
    )
    screening_item_classes: dict[str, str] = _setting(
        {code: cls.value for code, (_, cls, _) in SCREENING_ITEMS.items()},
        "Screening items: required / absolute / relative",
        "clinical reference: Screening items (absolute vs relative is policy)",
        policy=True,
    )
    # --- Huddle ---------------------------------------------------------------------------------
    assessment_due_days: int = _setting(
        7,
        "Assessment due when no score in the days up to the infusion",
        "measurement-based care programmes use 7–14",
        policy=True,
        unit="days",
    )
    benefit_window_warn_from_weeks: int = _setting(
        10,
        "Benefit window ending: last infusion at least",
        "clinic page (benefit up to three months); ASRA (relief up to 12 weeks)",
        policy=True,
        unit="weeks ago",
    )
    benefit_window_warn_to_weeks: int = _setting(
        12,
        "Benefit window ending: last infusion at most",
        "clinic page (benefit up to three months); ASRA (relief up to 12 weeks)",
        policy=True,
        unit="weeks ago",
    )
    # --- Calendar and planning ------------------------------------------------------------------
    chairs: int = _setting(4, "Infusion chairs", "clinic", policy=True)
    open_weekdays: list[int] = _setting(
        [0, 1, 2, 3, 4], "Open weekdays (0 = Monday)", "clinical reference: Planning decisions", policy=True
    )
    open_hour: int = _setting(
        8, "Opening time", "clinical reference: Planning decisions", policy=True, unit="h"
    )
    close_hour: int = _setting(
        18, "Closing time", "clinical reference: Planning decisions", policy=True, unit="h"
    )
    infusion_minutes: int = _setting(
        60,
        "Infusion time",
        "clinic page (about one hour); IV clinics 40–60 min",
        policy=True,
        unit="min",
    )
    recovery_minutes: int = _setting(
        60, "Recovery time in the chair", "IV clinics 30–60 min", policy=True, unit="min"
    )
    benefit_window_days: int = _setting(
        84,
        "Benefit window after the last infusion",
        "clinic page (up to three months); ASRA (relief up to 12 weeks)",
        policy=True,
        unit="days",
    )
    min_days_between_infusions: int = _setting(
        2, "At least this many days between infusions", "clinical reference: Planning decisions", policy=True
    )
    capacity_warning_pct: float = _setting(
        90.0,
        "Capacity warning above this share of chair-hours",
        "best centres use 82–90% (vendor benchmark, secondary)",
        policy=True,
        unit="%",
    )
    booster_every_weeks: int = _setting(
        4, "Booster cadence", "boosters every 4–6 weeks (secondary)", policy=True, unit="weeks"
    )
    booster_max_weeks: int = _setting(
        6, "Booster may move up to", "boosters every 4–6 weeks (secondary)", policy=True
    )
    # --- Access ---------------------------------------------------------------------------------
    idle_logoff_minutes: int = _setting(
        15,
        "Automatic logoff after idle",
        "HIPAA 164.312(a)(2)(iii) automatic logoff (no figure set); NIST SP 800-63B §4.2.3 "
        "(AAL2: at most 30 minutes of inactivity); 15 is clinic policy",
        policy=True,
        unit="min",
    )
    session_max_hours: int = _setting(
        12,
        "A sign-in lasts at most",
        "NIST SP 800-63B §4.2.3 (AAL2: reauthenticate at least once per 12 hours)",
        policy=True,
        unit="h",
    )
    password_min_length: int = _setting(
        12, "Minimum password length", "NIST SP 800-63B (at least 8; 12 chosen)", policy=True
    )
    password_min_strength: int = _setting(
        3,
        "Minimum password strength (zxcvbn score 0–4)",
        "NIST SP 800-63B §5.1.1.2 (refuse common and context-specific passwords); zxcvbn: 3 = "
        "safely unguessable online, about 10^8 guesses",
        policy=True,
    )
    lockout_failures: int = _setting(5, "Lock account after failed logins", "clinic policy", policy=True)
    lockout_minutes: int = _setting(15, "Lockout lasts", "clinic policy", policy=True, unit="min")
    login_throttle_failures: int = _setting(
        20,
        "Hold back a client after failed sign-ins (any user names)",
        "NIST SP 800-63B §5.2.2 rate limiting; OWASP Authentication Cheat Sheet; clinic policy",
        policy=True,
    )
    login_throttle_minutes: int = _setting(
        15, "Client hold-back window", "clinic policy", policy=True, unit="min"
    )

    @property
    def chair_minutes(self) -> int:
        """Minutes one booking holds a chair (infusion plus recovery)."""
        return self.infusion_minutes + self.recovery_minutes

    def item_class(self, code: str) -> ItemClass:
        return ItemClass(self.screening_item_classes.get(code, SCREENING_ITEMS[code][1].value))

    def with_overrides(self, overrides: dict[str, Any]) -> ClinicPolicy:
        """A copy with stored overrides applied; unknown keys are ignored (a removed setting)."""
        known = {f.name for f in dataclasses.fields(self)}
        return dataclasses.replace(self, **{k: v for k, v in overrides.items() if k in known})


DEFAULT_SETTINGS = ClinicPolicy()


def describe() -> list[dict[str, Any]]:
    """Every setting with its default, label, source and whether it is policy (for page and docs)."""
    rows = []
    for f in dataclasses.fields(ClinicPolicy):
        rows.append({"key": f.name, "default": getattr(DEFAULT_SETTINGS, f.name), **f.metadata})
    return rows
