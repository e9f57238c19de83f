"""The demo clinic's people: fake names, providers, the mix of indications, instruments, blood pressure.

Names are obviously fake ("Testperson", "Synthetica"), MRNs are ``DEMO-000123``, phones 555-01xx. The
indication mix leans to depression and CRPS, as in the clinic's own list of what it treats most.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date
from typing import Any

from kdash.demo.scenarios import (
    MOOD_ONLY,
    PatientSpec,
    weighted,
)
from kdash.domain.vocab import (
    PAIN_INDICATIONS,
    Indication,
    Instrument,
    Sex,
)

FIRST_NAMES: tuple[str, ...] = (
    "Alex", "Sam", "Jordan", "Taylor", "Morgan", "Casey", "Riley", "Jamie", "Robin", "Avery",
    "Quinn", "Charlie", "Drew", "Emery", "Finley", "Harper", "Kai", "Logan", "Parker", "Rowan",
)  # fmt: skip
LAST_NAMES: tuple[str, ...] = (
    "Testperson", "Synthetica", "Demoson", "Sampleton", "Fakeworth", "Mockridge", "Placeholder",
    "Dummyford", "Notreal", "Fictivo",
)  # fmt: skip
PROVIDERS: tuple[str, ...] = ("Dr A. Demo", "Dr B. Demo", "Dr C. Demo", "Dr D. Demo")

#: More depression and CRPS, as in the clinic's own list of what it treats most.
INDICATION_WEIGHTS: tuple[tuple[Indication, int], ...] = (
    (Indication.DEPRESSION, 30),
    (Indication.CRPS, 18),
    (Indication.PTSD, 11),
    (Indication.BIPOLAR_DEPRESSION, 8),
    (Indication.NEUROPATHY, 8),
    (Indication.FIBROMYALGIA, 8),
    (Indication.SPINAL_INJURY, 5),
    (Indication.CANCER_PAIN, 5),
    (Indication.OTHER_PAIN, 5),
)
_MOOD_WEIGHTS: tuple[tuple[Indication, int], ...] = (
    (Indication.DEPRESSION, 6),
    (Indication.BIPOLAR_DEPRESSION, 2),
    (Indication.PTSD, 2),
)
_SEX_WEIGHTS: tuple[tuple[Sex, int], ...] = (
    (Sex.FEMALE, 55),
    (Sex.MALE, 41),
    (Sex.OTHER, 2),
    (Sex.UNKNOWN, 2),
)


def indications_for(rng: random.Random, names: list[str]) -> list[Indication]:
    """A realistic mix, mood indications where the scenario needs a PHQ-9, and every indication once."""
    out = [
        weighted(rng, _MOOD_WEIGHTS if n in MOOD_ONLY else INDICATION_WEIGHTS) for n in names
    ]  # fmt: skip
    for wanted in Indication:
        if wanted in out:
            continue
        counts = {ind: out.count(ind) for ind in Indication}
        for i in range(len(out) - 1, -1, -1):
            if names[i] not in MOOD_ONLY and counts[out[i]] > 1:
                out[i] = wanted
                break
    return out


@dataclass
class Person:
    row: dict[str, Any]
    indication: Indication
    provider: str
    instruments: tuple[Instrument, ...]
    bp_base: tuple[int, int]


def new_person(rng: random.Random, pid: int, indication: Indication, spec: PatientSpec, today: int) -> Person:
    sex = weighted(rng, _SEX_WEIGHTS)
    first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
    age_days = rng.randint(18 * 366, 85 * 365)  # adults 18–85
    escort_name = escort_phone = None
    if spec.escort_on_file and (spec.escort_today is not None or rng.random() > 0.1):
        escort_name = f"{rng.choice(FIRST_NAMES)} {last}"
        escort_phone = f"555-01{rng.randrange(100):02d}"
    provider = rng.choice(PROVIDERS)
    if indication in PAIN_INDICATIONS:
        instruments: tuple[Instrument, ...] = (Instrument.NRS,)
    elif indication is Indication.PTSD:
        instruments = (Instrument.PCL5, Instrument.PHQ9)
    else:
        instruments = (Instrument.PHQ9,)
    if not indication.is_pain and rng.random() < 0.35:
        instruments += (Instrument.GAD7,)
    if indication in (Indication.DEPRESSION, Indication.BIPOLAR_DEPRESSION) and rng.random() < 0.15:
        instruments += (Instrument.MADRS,)
    row = {
        "id": pid,
        "mrn": f"DEMO-{pid:06d}",
        "first_name": first,
        "last_name": last,
        "date_of_birth": date.fromordinal(today - age_days),
        "sex": sex.value,
        "indication": indication.value,
        "provider": provider,
        "status": spec.patient_status.value,
        "escort_name": escort_name,
        "escort_phone": escort_phone,
    }
    bp = (min(136, max(104, int(rng.gauss(122, 8)))), min(86, max(64, int(rng.gauss(77, 5)))))
    return Person(row, indication, provider, instruments, bp)
