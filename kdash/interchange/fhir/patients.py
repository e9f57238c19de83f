"""Patients, their indications (Condition) and their courses (EpisodeOfCare) from a FHIR Bundle."""

from __future__ import annotations

from kdash.domain.vocab import Indication, values
from kdash.interchange import cells as c
from kdash.interchange.fhir import codes as f
from kdash.interchange.fhir.elements import (
    NAME_RANK,
    Conditional,
    Entry,
    Record,
    code_in,
    codings,
    extension_value,
    number_text,
)
from kdash.interchange.fhir.references import BundleIndex


class PatientResources(BundleIndex):
    """Reads Patient, Condition and EpisodeOfCare entries into patients.csv and courses.csv rows."""

    def _conditions(self, entries: list[Entry]) -> dict[int | str, tuple[str, Entry]]:
        """Indication per patient (entry number, or MRN of a conditional reference): the first one."""
        found: dict[int | str, tuple[str, Entry]] = {}
        for e in entries:
            code = code_in(e.res.code, f.CS_INDICATION)
            if code is None:
                continue  # another system's diagnosis: not kdash's indication
            if code not in values(Indication):
                self.problem(
                    e.where,
                    "code",
                    f"{c.echo(code)} is not a kdash indication; use one of: {', '.join(values(Indication))}",
                )
                continue
            try:
                target = self._target(e.res.subject, "Patient")
            except c.CellError as exc:
                self.problem(e.where, "subject", str(exc))
                continue
            found.setdefault(str(target) if isinstance(target, Conditional) else target.n, (code, e))
        return found

    def _patients(
        self, entries: list[Entry], indications: dict[int | str, tuple[str, Entry]]
    ) -> list[Record]:
        records = []
        for e in entries:
            p = e.res
            mrns = [
                i
                for i in p.identifier or []
                if any(s == f.V2_0203 and cd == f.MR for s, cd in codings(i.type))
            ]
            mrns.sort(key=lambda i: i.system != f.MRN_SYSTEM)
            if not mrns or not mrns[0].value:
                self.problem(
                    e.where, "identifier", "has no identifier typed MR (v2-0203); kdash needs the MRN"
                )
                continue
            mrn = mrns[0].value.strip()
            self.mrn_of[e.n] = mrn
            names = sorted(p.name or [], key=lambda nm: NAME_RANK.get(nm.use, 8))
            name = names[0] if names else None
            escort = next(
                (
                    ct
                    for ct in p.contact or []
                    if any(code_in(r, f.CS_CONTACT_ROLE) == f.ESCORT for r in ct.relationship or [])
                ),
                None,
            )
            phone = (
                next((t.value for t in (escort.telecom or []) if t.system == "phone"), None)
                if escort
                else None
            )
            status = extension_value(p, f.EXT_PATIENT_STATUS)
            if status is None and p.active is False:
                status = "discharged"
            indication = indications.get(e.n) or indications.get(mrn)
            if indication is None:
                self.problem(
                    e.where,
                    "Condition",
                    "no Condition coded in "
                    f"{f.CS_INDICATION} refers to this Patient; kdash needs the indication",
                )
            provider = next((g.display for g in p.generalPractitioner or [] if g.display), "")
            cells = {
                "mrn": mrn,
                "first_name": " ".join(name.given or []) if name else "",
                "last_name": (name.family or "") if name else "",
                "date_of_birth": self._date_text(p.birthDate),
                "sex": p.gender or "unknown",
                "indication": indication[0] if indication else Indication.OTHER_PAIN.value,
                "provider": provider or "",
                "status": status or "active",
                "escort_name": (
                    escort.name.text
                    or " ".join(filter(None, [*(escort.name.given or []), escort.name.family]))
                )
                if escort and escort.name
                else "",
                "escort_phone": phone or "",
            }
            fields = {
                "mrn": "identifier",
                "first_name": "name.given",
                "last_name": "name.family",
                "date_of_birth": "birthDate",
                "sex": "gender",
                "provider": "generalPractitioner.display",
                "status": "extension(patient-status)",
                "escort_name": "contact.name",
                "escort_phone": "contact.telecom",
            }
            wheres = {}
            if indication:
                fields["indication"], wheres["indication"] = "code", indication[1].where
            records.append(Record("patients.csv", "Patient", e.where, cells, fields, wheres))
        return records

    def _episodes(
        self, entries: list[Entry], indications: dict[int | str, tuple[str, Entry]]
    ) -> list[Record]:
        records = []
        for e in entries:
            ep = e.res
            try:
                mrn = self._mrn(ep.patient)
            except c.CellError as exc:
                self.problem(e.where, "patient", str(exc))
                continue
            indication = ""
            for concept in ep.type or []:
                indication = code_in(concept, f.CS_INDICATION) or indication
            status = f.EPISODE_STATUS_IN.get(ep.status or "")
            if status is None:
                self.problem(
                    e.where,
                    "status",
                    f"{c.echo(str(ep.status or ''))} is not an EpisodeOfCare status kdash "
                    f"reads; use one of: {', '.join(f.EPISODE_STATUS_IN)}",
                )
                continue
            cells = {
                "mrn": mrn,
                "course": number_text(extension_value(ep, f.EXT_COURSE_NUMBER)),
                "indication": indication or self._patient_indication(mrn, indications),
                "trial_outcome": str(extension_value(ep, f.EXT_TRIAL_OUTCOME) or "pending"),
                "status": status.value,
                "started_on": self._date_text(ep.period.start) if ep.period and ep.period.start else "",
                "trial_outcome_by": str(extension_value(ep, f.EXT_TRIAL_OUTCOME_BY) or ""),
                "trial_outcome_on": self._date_text(extension_value(ep, f.EXT_TRIAL_OUTCOME_ON)),
            }
            fields = {
                "mrn": "patient",
                "course": "extension(course-number)",
                "indication": "type",
                "trial_outcome": "extension(trial-outcome)",
                "status": "status",
                "started_on": "period.start",
                "trial_outcome_by": "extension(trial-outcome-by)",
                "trial_outcome_on": "extension(trial-outcome-on)",
            }
            records.append(Record("courses.csv", "EpisodeOfCare", e.where, cells, fields))
        return records

    def _patient_indication(self, mrn: str, indications: dict[int | str, tuple[str, Entry]]) -> str:
        for n, known in self.mrn_of.items():
            if known == mrn and n in indications:
                return indications[n][0]
        return indications[mrn][0] if mrn in indications else ""
