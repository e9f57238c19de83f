"""Scores, item 9 and screening answers (Observation) from a FHIR Bundle; vital signs are kept for the
infusion they belong to."""

from __future__ import annotations

from typing import Any

from kdash.domain.vocab import Instrument, values
from kdash.interchange import cells as c
from kdash.interchange.fhir import codes as f
from kdash.interchange.fhir.elements import (
    Conditional,
    Entry,
    Record,
    code_in,
    codings,
    number_text,
    value_text,
)
from kdash.interchange.fhir.references import BundleIndex


class ObservationResources(BundleIndex):
    """Reads Observation entries into assessment and screening rows, and collects vital signs."""

    def _observations(
        self, entries: list[Entry], vitals: dict[int, list[tuple[str, Entry, Any]]]
    ) -> list[Record]:
        records: list[Record] = []
        scores: dict[tuple[str, str], Record] = {}
        items9: list[tuple[Entry, str, str, str]] = []
        for e in entries:
            obs = e.res
            kind, code = self._classify(obs)
            if kind is None:
                continue
            if obs.status == "entered-in-error":
                continue
            if obs.status not in f.OBSERVATION_STATUSES:
                self.problem(
                    e.where,
                    "status",
                    f"{c.echo(str(obs.status))} is not a final result; kdash imports "
                    f"{', '.join(f.OBSERVATION_STATUSES)} observations",
                )
                continue
            if kind == "bad-instrument":
                self.problem(
                    e.where,
                    "code",
                    f"{c.echo(code or '')} is not a kdash instrument code; use one of: "
                    f"{', '.join(values(Instrument))}",
                )
                continue
            if kind in ("bp", "hr", "spo2"):
                try:
                    proc = self._target(obs.partOf[0] if obs.partOf else None, "Procedure")
                except c.CellError as exc:
                    self.problem(e.where, "partOf", f"{exc}: a vital-sign reading belongs to an infusion")
                    continue
                if isinstance(proc, Conditional):
                    self.problem(e.where, "partOf", "must refer to an infusion Procedure in this Bundle")
                    continue
                vitals[proc.n].append((kind, e, obs))
                continue
            try:
                mrn = self._mrn(obs.subject)
            except c.CellError as exc:
                self.problem(e.where, "subject", str(exc))
                continue
            effective = (
                obs.effectiveDateTime
                or obs.effectiveInstant
                or (obs.effectivePeriod.start if obs.effectivePeriod else None)
            )
            on = self._date_text(effective)
            by = next((p.display for p in obs.performer or [] if p.display), "")
            if kind == "item9":
                items9.append((e, mrn, on, value_text(obs, answers=f.PHQ_ANSWER_SCORES)))
                continue
            if kind == "screening":
                result = (
                    code_in(obs.valueCodeableConcept, f.CS_SCREENING_RESULT)
                    if obs.valueCodeableConcept
                    else None
                )
                if result is None:
                    result = (
                        number_text(obs.valueBoolean)
                        if obs.valueBoolean is not None
                        else str(obs.valueString or "")
                    )
                cells = {
                    "mrn": mrn,
                    "screened_on": on,
                    "item": code or "",
                    "result": result,
                    "note": "\n".join(n.text for n in obs.note or [] if n.text),
                    "reviewed_by": by,
                }
                fields = {
                    "mrn": "subject",
                    "screened_on": "effectiveDateTime",
                    "item": "code",
                    "result": "valueCodeableConcept",
                    "note": "note",
                    "reviewed_by": "performer.display",
                }
                records.append(Record("screenings.csv", "Observation (screening)", e.where, cells, fields))
                continue
            item9 = next(
                (
                    value_text(p, answers=f.PHQ_ANSWER_SCORES)
                    for p in obs.component or []
                    if (f.LOINC, f.PHQ9_ITEM9_LOINC) in codings(p.code)
                ),
                "",
            )
            cells = {
                "mrn": mrn,
                "taken_on": on,
                "instrument": code or "",
                "score": value_text(obs),
                "item9": item9,
                "recorded_by": by,
            }
            fields = {
                "mrn": "subject",
                "taken_on": "effectiveDateTime",
                "instrument": "code",
                "score": "value[x]",
                "item9": f"component({f.PHQ9_ITEM9_LOINC})",
                "recorded_by": "performer.display",
            }
            record = Record("assessments.csv", "Observation (score)", e.where, cells, fields)
            records.append(record)
            if code == Instrument.PHQ9.value:
                scores.setdefault((mrn, on), record)
        for e, mrn, on, value in items9:
            total = scores.get((mrn, on))
            if total is None:
                self.problem(
                    e.where,
                    "code",
                    "PHQ-9 item 9 without a PHQ-9 total for this patient on this day; "
                    "kdash stores item 9 with its total",
                )
            elif total.cells["item9"]:
                self.problem(e.where, "code", f"a second PHQ-9 item 9 for the total in {total.where}")
            else:
                total.cells["item9"] = value
                total.fields["item9"], total.wheres["item9"] = "value[x]", e.where
        return records

    def _classify(self, obs: Any) -> tuple[str | None, str | None]:
        codes = codings(obs.code)
        component_codes = [cd for p in obs.component or [] for cd in codings(p.code)]
        if (f.LOINC, f.BP_PANEL) in codes or {(f.LOINC, f.BP_SYSTOLIC), (f.LOINC, f.BP_DIASTOLIC)} & set(
            component_codes
        ):
            return "bp", None
        if (f.LOINC, f.HEART_RATE) in codes:
            return "hr", None
        if any((f.LOINC, code) in codes for code in f.SPO2_CODES):
            return "spo2", None
        for sys_, code in codes:
            if sys_ == f.LOINC and code in f.LOINC_INSTRUMENT:
                return "score", f.LOINC_INSTRUMENT[code].value
            if sys_ == f.CS_INSTRUMENT:
                return ("score", code) if code in values(Instrument) else ("bad-instrument", code)
            if sys_ == f.LOINC and code == f.PHQ9_ITEM9_LOINC:
                return "item9", None
            if sys_ == f.CS_SCREENING_ITEM:
                return "screening", code
        return None, None
