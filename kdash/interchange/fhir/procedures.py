"""Infusions (Procedure) from a FHIR Bundle, with the vital signs recorded during each."""

from __future__ import annotations

from typing import Any

from kdash.domain.vocab import InfusionStatus
from kdash.interchange import cells as c
from kdash.interchange.fhir import codes as f
from kdash.interchange.fhir.elements import (
    Entry,
    Record,
    code_in,
    codings,
    extension_value,
    number_text,
    value_text,
)
from kdash.interchange.fhir.references import BundleIndex


class ProcedureResources(BundleIndex):
    """Reads Procedure entries and their blood pressure and other vital signs into infusion rows."""

    def _procedures(
        self, entries: list[Entry], vitals: dict[int, list[tuple[str, Entry, Any]]]
    ) -> list[Record]:
        records = []
        for e in entries:
            pr = e.res
            is_infusion = code_in(pr.code, f.CS_PROCEDURE) == f.KETAMINE_INFUSION
            if not is_infusion and extension_value(pr, f.EXT_INFUSION_NUMBER) is None:
                continue  # another kind of procedure
            try:
                mrn = self._mrn(pr.subject)
            except c.CellError as exc:
                self.problem(e.where, "subject", str(exc))
                continue
            status = f.PROCEDURE_STATUS_IN.get(pr.status or "")
            if status is None:
                self.problem(
                    e.where,
                    "status",
                    f"{c.echo(str(pr.status or ''))} is not a Procedure status kdash "
                    f"reads; use one of: {', '.join(f.PROCEDURE_STATUS_IN)}",
                )
                continue
            no_show = InfusionStatus.NO_SHOW.value
            if (
                status is InfusionStatus.CANCELLED
                and code_in(pr.statusReason, f.CS_INFUSION_STATUS) == no_show
            ):
                status = InfusionStatus.NO_SHOW
            start = pr.performedDateTime or (pr.performedPeriod.start if pr.performedPeriod else None)
            left = extension_value(pr, f.EXT_DISCHARGED_AT) or (
                pr.performedPeriod.end if pr.performedPeriod else None
            )
            cells = {
                "mrn": mrn,
                "course": number_text(extension_value(pr, f.EXT_COURSE_NUMBER)),
                "number": number_text(extension_value(pr, f.EXT_INFUSION_NUMBER)),
                "scheduled_at": self._datetime_text(start),
                "status": status.value,
                "chair": number_text(extension_value(pr, f.EXT_CHAIR)),
                "dose_mg_per_kg": number_text(extension_value(pr, f.EXT_DOSE)),
                "premed_given": number_text(extension_value(pr, f.EXT_PREMED)),
                "escort_confirmed": number_text(extension_value(pr, f.EXT_ESCORT_CONFIRMED)),
                "adverse_events": str(extension_value(pr, f.EXT_ADVERSE_EVENTS) or ""),
                "discharged_at": self._datetime_text(left),
                "cancel_reason": (pr.statusReason.text or "") if pr.statusReason else "",
            }
            fields = {
                "mrn": "subject",
                "course": "extension(course-number)",
                "number": "extension(infusion-number)",
                "scheduled_at": "performedDateTime",
                "status": "status",
                "chair": "extension(chair)",
                "dose_mg_per_kg": "extension(dose-mg-per-kg)",
                "premed_given": "extension(premed-given)",
                "escort_confirmed": "extension(escort-confirmed)",
                "adverse_events": "extension(adverse-events)",
                "discharged_at": "extension(discharged-at)",
                "cancel_reason": "statusReason.text",
            }
            record = Record("infusions.csv", "Procedure", e.where, cells, fields)
            self._vitals(record, vitals.pop(e.n, []))
            records.append(record)
        for readings in vitals.values():
            for _, e, _ in readings:
                self.problem(e.where, "partOf", "refers to a Procedure that is not a kdash infusion")
        return records

    def _vitals(self, record: Record, readings: list[tuple[str, Entry, Any]]) -> None:
        for column in ("heart_rate", "spo2", *(f"bp_{r}_{h}" for r in f.BP_READINGS for h in ("sys", "dia"))):
            record.cells[column] = ""
        unmarked = []
        taken: set[str] = set()
        for kind, e, obs in readings:
            if kind in ("hr", "spo2"):
                column = "heart_rate" if kind == "hr" else "spo2"
                if record.cells[column]:
                    self.problem(
                        e.where, "code", f"a second {column.replace('_', ' ')} reading for this infusion"
                    )
                    continue
                record.cells[column] = value_text(obs)
                record.fields[column], record.wheres[column] = "valueQuantity", e.where
                continue
            reading = extension_value(obs, f.EXT_BP_READING)
            if reading is None:
                unmarked.append((e, obs))
                continue
            if reading not in f.BP_READINGS:
                self.problem(
                    e.where,
                    "extension(bp-reading)",
                    f"{c.echo(str(reading))} is not one of {', '.join(f.BP_READINGS)}",
                )
                continue
            self._bp(record, str(reading), e, obs, taken)
        # Readings without kdash's marker: in time order, before dosing, at the peak, at discharge.
        unmarked.sort(key=lambda pair: (str(pair[1].effectiveDateTime or ""), pair[0].n))
        for e, obs in unmarked:
            free = [r for r in f.BP_READINGS if r not in taken]
            if not free:
                self.problem(
                    e.where,
                    "code",
                    "more than three blood-pressure readings for this infusion "
                    "(kdash keeps before dosing, peak and discharge)",
                )
                continue
            self._bp(record, free[0], e, obs, taken)

    def _bp(self, record: Record, reading: str, e: Entry, obs: Any, taken: set[str]) -> None:
        if reading in taken:
            self.problem(e.where, "extension(bp-reading)", f"a second {reading} blood-pressure reading")
            return
        taken.add(reading)
        for part in obs.component or []:
            codes = codings(part.code)
            half = (
                "sys"
                if (f.LOINC, f.BP_SYSTOLIC) in codes
                else "dia"
                if (f.LOINC, f.BP_DIASTOLIC) in codes
                else None
            )
            if half is None:
                continue
            column = f"bp_{reading}_{half}"
            record.cells[column] = value_text(part)
            code = f.BP_SYSTOLIC if half == "sys" else f.BP_DIASTOLIC
            record.fields[column], record.wheres[column] = f"component({code})", e.where

    # -- validation ----------------------------------------------------------------------------
