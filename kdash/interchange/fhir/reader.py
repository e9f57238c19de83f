"""Reading a FHIR R4 Bundle (kdash's own export or another system's using the same codes) into rows.

Each resource is validated against the R4B models, then turned into the same cells the CSV files carry
and checked by the same row validators, so the rules cannot drift apart. Problems are reported as
``FILE: entry N (ResourceType/id): field: what is wrong`` (entries counted from 1).

What other systems send differently, and is accepted (docs/import-format.md): a score as valueInteger,
valueQuantity, valueDecimal (not an R4 Observation type, read as a quantity) or valueString; PHQ-9 item 9
as a component of the total or as its own Observation, as a number or a LOINC answer code; blood
pressure components in either order (matched by code); references as ``urn:uuid:``, ``Type/id`` or
conditional (``Patient?identifier=system|value``); the MRN as the identifier typed v2-0203 ``MR``;
several names (official first, then usual). Resources kdash has no use for are skipped, and so are
observations marked ``entered-in-error``.
"""

from __future__ import annotations

import copy
import json
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, tzinfo
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from fhir.resources.R4B import get_fhir_model_class
from pydantic import ValidationError

from kdash.domain.vocab import Indication, InfusionStatus, Instrument, values
from kdash.interchange import cells as c
from kdash.interchange.csv.reader import Parsed
from kdash.interchange.fhir import codes as f
from kdash.interchange.rows import FILE_BY_NAME, Problem, RowInvalid

_HANDLED = ("Patient", "Condition", "EpisodeOfCare", "Observation", "Procedure")
_NAME_RANK = {
    "official": 0,
    "usual": 1,
    None: 2,
    "nickname": 3,
    "anonymous": 3,
    "maiden": 4,
    "temp": 5,
    "old": 9,
}


@dataclass
class _Entry:
    n: int
    rtype: str
    rid: str
    full_url: str | None
    res: Any
    where: str


@dataclass
class _Record:
    """One row-to-be: its cells, and for each column the entry and FHIR element it came from."""

    file: str
    source: str
    where: str
    cells: dict[str, str]
    fields: dict[str, str] = field(default_factory=dict)
    wheres: dict[str, str] = field(default_factory=dict)


class _Conditional(str):
    """The value of a conditional reference's identifier (a resource not in the Bundle)."""


def read_bundle(path: Path, zone: tzinfo | None) -> Parsed:
    name = path.name
    parsed = Parsed(files=[name])
    try:
        data = json.loads(path.read_bytes().decode("utf-8-sig"))
    except UnicodeDecodeError:
        parsed.problems.append(Problem(name, "", "is not UTF-8 text"))
        return parsed
    except json.JSONDecodeError as exc:
        parsed.problems.append(
            Problem(name, "", f"is not JSON: {exc.msg} at line {exc.lineno} column {exc.colno}")
        )
        return parsed
    return read_bundle_data(name, data, zone, parsed)


def read_bundle_data(name: str, data: Any, zone: tzinfo | None, parsed: Parsed | None = None) -> Parsed:
    parsed = parsed or Parsed(files=[name])
    if not isinstance(data, dict) or data.get("resourceType") != "Bundle":
        parsed.problems.append(Problem(name, "resourceType", "is not Bundle; kdash imports a FHIR R4 Bundle"))
        return parsed
    entries = data.get("entry") or []
    if not isinstance(entries, list):
        parsed.problems.append(Problem(name, "entry", "is not a list of entries"))
        return parsed
    _Reader(name, zone, parsed).run(entries)
    return parsed


def _lenient(resource: dict[str, Any]) -> dict[str, Any]:
    """valueDecimal is not an R4 Observation value type but some systems send it: read it as a quantity."""
    if resource.get("resourceType") != "Observation":
        return resource
    resource = copy.deepcopy(resource)
    components = resource.get("component")
    parts = (
        [resource, *(p for p in components if isinstance(p, dict))]
        if isinstance(components, list)
        else [resource]
    )
    for part in parts:
        if "valueDecimal" in part and "valueQuantity" not in part:
            part["valueQuantity"] = {"value": part.pop("valueDecimal")}
    return resource


def _codes(concept: Any) -> list[tuple[str | None, str | None]]:
    if concept is None:
        return []
    return [(cd.system, cd.code) for cd in concept.coding or []]


def _code_in(concept: Any, system: str) -> str | None:
    for sys_, code in _codes(concept):
        if sys_ == system and code:
            return code
    return None


def _ext(resource: Any, url: str) -> Any:
    for ext in resource.extension or []:
        if ext.url == url:
            for attr in (
                "valueInteger",
                "valueCode",
                "valueString",
                "valueDecimal",
                "valueBoolean",
                "valueDate",
                "valueDateTime",
                "valuePositiveInt",
                "valueUnsignedInt",
            ):
                value = getattr(ext, attr, None)
                if value is not None:
                    return value
    return None


def _number_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return c.format_yes_no(value)
    if isinstance(value, Decimal | float):
        dec = Decimal(str(value))
        return str(int(dec)) if dec == dec.to_integral_value() else format(dec.normalize(), "f")
    return str(value)


def _value_text(part: Any, *, answers: dict[str, int] | None = None) -> str:
    """An Observation (or component) value as cell text: integer, quantity, string or a known answer code."""
    if getattr(part, "valueInteger", None) is not None:
        return str(part.valueInteger)
    if getattr(part, "valueQuantity", None) is not None:
        return _number_text(part.valueQuantity.value)
    if getattr(part, "valueString", None) is not None:
        return str(part.valueString)
    concept = getattr(part, "valueCodeableConcept", None)
    if concept is not None and answers:
        for sys_, code in _codes(concept):
            if sys_ == f.LOINC and code in answers:
                return str(answers[code])
    return ""


class _Reader:
    def __init__(self, name: str, zone: tzinfo | None, parsed: Parsed) -> None:
        self.name = name
        self.zone = zone
        self.parsed = parsed
        self.entries: list[_Entry] = []
        self.by_url: dict[str, _Entry] = {}
        self.by_type_id: dict[str, _Entry] = {}
        self.mrn_of: dict[int, str] = {}

    def problem(self, where: str, fld: str, message: str) -> None:
        self.parsed.problems.append(Problem(where, fld, message))

    # -- loading -------------------------------------------------------------------------------
    def run(self, raw_entries: list[Any]) -> None:
        for n, raw in enumerate(raw_entries, start=1):
            self._load(n, raw)
        by_type: dict[str, list[_Entry]] = defaultdict(list)
        for entry in self.entries:
            by_type[entry.rtype].append(entry)
        records: list[_Record] = []
        indications = self._conditions(by_type["Condition"])
        records += self._patients(by_type["Patient"], indications)
        records += self._episodes(by_type["EpisodeOfCare"], indications)
        vitals: dict[int, list[tuple[str, _Entry, Any]]] = defaultdict(list)
        records += self._observations(by_type["Observation"], vitals)
        records += self._procedures(by_type["Procedure"], vitals)
        for record in records:
            self._parse(record)

    def _load(self, n: int, raw: Any) -> None:
        if not isinstance(raw, dict) or not isinstance(raw.get("resource"), dict):
            self.problem(f"{self.name}: entry {n}", "resource", "is missing; every entry needs a resource")
            return
        resource = raw["resource"]
        rtype = str(resource.get("resourceType", "?"))
        full_url = raw.get("fullUrl") if isinstance(raw.get("fullUrl"), str) else None
        rid = str(resource.get("id") or full_url or "?")
        where = f"{self.name}: entry {n} ({rtype}/{rid})"
        if rtype not in _HANDLED:
            return
        try:
            model = get_fhir_model_class(rtype).model_validate(_lenient(resource))
        except ValidationError as exc:
            for err in exc.errors():
                loc = ".".join(str(p) for p in err["loc"]) or rtype
                self.problem(where, loc, f"{err['msg']} (not valid FHIR R4)")
            return
        entry = _Entry(n, rtype, rid, full_url, model, where)
        self.entries.append(entry)
        if full_url:
            self.by_url[full_url] = entry
        if resource.get("id"):
            self.by_type_id[f"{rtype}/{resource['id']}"] = entry

    def _target(self, ref: Any, expected: str) -> _Entry | _Conditional:
        if ref is None:
            raise c.CellError(f"is missing; it must refer to the {expected}")
        text = ref.reference
        if text:
            if "?" in text and not text.startswith("urn:"):
                rtype, query = text.split("?", 1)
                if rtype != expected:
                    raise c.CellError(f"refers to a {rtype}, not a {expected}")
                ident = parse_qs(query).get("identifier", [""])[0]
                value = ident.split("|", 1)[-1]
                if not value:
                    raise c.CellError("is a conditional reference without an identifier value")
                return _Conditional(value)
            entry = self.by_url.get(text) or self.by_type_id.get(text)
            if entry is None and not text.startswith("urn:"):
                entry = next(
                    (e for e in self.entries if e.full_url and e.full_url.endswith("/" + text)), None
                )
            if entry is None:
                raise c.CellError(f"{c.echo(text)} refers to no resource in this Bundle")
            if entry.rtype != expected:
                raise c.CellError(f"refers to a {entry.rtype}, not a {expected}")
            return entry
        if ref.identifier is not None and ref.identifier.value:
            return _Conditional(ref.identifier.value)
        raise c.CellError("has neither a reference nor an identifier")

    def _mrn(self, ref: Any) -> str:
        target = self._target(ref, "Patient")
        if isinstance(target, _Conditional):
            return str(target)
        if target.n not in self.mrn_of:
            raise c.CellError("refers to a Patient whose MRN could not be read (see that entry)")
        return self.mrn_of[target.n]

    def _datetime_text(self, value: Any) -> str:
        if isinstance(value, datetime):
            return c.to_clinic_time(value, self.zone).isoformat()
        return "" if value is None else str(value)

    def _date_text(self, value: Any) -> str:
        if isinstance(value, datetime):
            return c.to_clinic_time(value, self.zone).date().isoformat()
        if isinstance(value, date):
            return value.isoformat()
        return "" if value is None else str(value)

    # -- resources -----------------------------------------------------------------------------
    def _conditions(self, entries: list[_Entry]) -> dict[int | str, tuple[str, _Entry]]:
        """Indication per patient (entry number, or MRN of a conditional reference): the first one."""
        found: dict[int | str, tuple[str, _Entry]] = {}
        for e in entries:
            code = _code_in(e.res.code, f.CS_INDICATION)
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
            found.setdefault(str(target) if isinstance(target, _Conditional) else target.n, (code, e))
        return found

    def _patients(
        self, entries: list[_Entry], indications: dict[int | str, tuple[str, _Entry]]
    ) -> list[_Record]:
        records = []
        for e in entries:
            p = e.res
            mrns = [
                i
                for i in p.identifier or []
                if any(s == f.V2_0203 and cd == f.MR for s, cd in _codes(i.type))
            ]
            mrns.sort(key=lambda i: i.system != f.MRN_SYSTEM)
            if not mrns or not mrns[0].value:
                self.problem(
                    e.where, "identifier", "has no identifier typed MR (v2-0203); kdash needs the MRN"
                )
                continue
            mrn = mrns[0].value.strip()
            self.mrn_of[e.n] = mrn
            names = sorted(p.name or [], key=lambda nm: _NAME_RANK.get(nm.use, 8))
            name = names[0] if names else None
            escort = next(
                (
                    ct
                    for ct in p.contact or []
                    if any(_code_in(r, f.CS_CONTACT_ROLE) == f.ESCORT for r in ct.relationship or [])
                ),
                None,
            )
            phone = (
                next((t.value for t in (escort.telecom or []) if t.system == "phone"), None)
                if escort
                else None
            )
            status = _ext(p, f.EXT_PATIENT_STATUS)
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
            records.append(_Record("patients.csv", "Patient", e.where, cells, fields, wheres))
        return records

    def _episodes(
        self, entries: list[_Entry], indications: dict[int | str, tuple[str, _Entry]]
    ) -> list[_Record]:
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
                indication = _code_in(concept, f.CS_INDICATION) or indication
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
                "course": _number_text(_ext(ep, f.EXT_COURSE_NUMBER)),
                "indication": indication or self._patient_indication(mrn, indications),
                "trial_outcome": str(_ext(ep, f.EXT_TRIAL_OUTCOME) or "pending"),
                "status": status.value,
                "started_on": self._date_text(ep.period.start) if ep.period and ep.period.start else "",
                "trial_outcome_by": str(_ext(ep, f.EXT_TRIAL_OUTCOME_BY) or ""),
                "trial_outcome_on": self._date_text(_ext(ep, f.EXT_TRIAL_OUTCOME_ON)),
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
            records.append(_Record("courses.csv", "EpisodeOfCare", e.where, cells, fields))
        return records

    def _patient_indication(self, mrn: str, indications: dict[int | str, tuple[str, _Entry]]) -> str:
        for n, known in self.mrn_of.items():
            if known == mrn and n in indications:
                return indications[n][0]
        return indications[mrn][0] if mrn in indications else ""

    def _observations(
        self, entries: list[_Entry], vitals: dict[int, list[tuple[str, _Entry, Any]]]
    ) -> list[_Record]:
        records: list[_Record] = []
        scores: dict[tuple[str, str], _Record] = {}
        items9: list[tuple[_Entry, str, str, str]] = []
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
                if isinstance(proc, _Conditional):
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
                items9.append((e, mrn, on, _value_text(obs, answers=f.PHQ_ANSWER_SCORES)))
                continue
            if kind == "screening":
                result = (
                    _code_in(obs.valueCodeableConcept, f.CS_SCREENING_RESULT)
                    if obs.valueCodeableConcept
                    else None
                )
                if result is None:
                    result = (
                        _number_text(obs.valueBoolean)
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
                records.append(_Record("screenings.csv", "Observation (screening)", e.where, cells, fields))
                continue
            item9 = next(
                (
                    _value_text(p, answers=f.PHQ_ANSWER_SCORES)
                    for p in obs.component or []
                    if (f.LOINC, f.PHQ9_ITEM9_LOINC) in _codes(p.code)
                ),
                "",
            )
            cells = {
                "mrn": mrn,
                "taken_on": on,
                "instrument": code or "",
                "score": _value_text(obs),
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
            record = _Record("assessments.csv", "Observation (score)", e.where, cells, fields)
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
        codes = _codes(obs.code)
        component_codes = [cd for p in obs.component or [] for cd in _codes(p.code)]
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

    def _procedures(
        self, entries: list[_Entry], vitals: dict[int, list[tuple[str, _Entry, Any]]]
    ) -> list[_Record]:
        records = []
        for e in entries:
            pr = e.res
            is_infusion = _code_in(pr.code, f.CS_PROCEDURE) == f.KETAMINE_INFUSION
            if not is_infusion and _ext(pr, f.EXT_INFUSION_NUMBER) is None:
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
                and _code_in(pr.statusReason, f.CS_INFUSION_STATUS) == no_show
            ):
                status = InfusionStatus.NO_SHOW
            start = pr.performedDateTime or (pr.performedPeriod.start if pr.performedPeriod else None)
            left = _ext(pr, f.EXT_DISCHARGED_AT) or (pr.performedPeriod.end if pr.performedPeriod else None)
            cells = {
                "mrn": mrn,
                "course": _number_text(_ext(pr, f.EXT_COURSE_NUMBER)),
                "number": _number_text(_ext(pr, f.EXT_INFUSION_NUMBER)),
                "scheduled_at": self._datetime_text(start),
                "status": status.value,
                "chair": _number_text(_ext(pr, f.EXT_CHAIR)),
                "dose_mg_per_kg": _number_text(_ext(pr, f.EXT_DOSE)),
                "premed_given": _number_text(_ext(pr, f.EXT_PREMED)),
                "escort_confirmed": _number_text(_ext(pr, f.EXT_ESCORT_CONFIRMED)),
                "adverse_events": str(_ext(pr, f.EXT_ADVERSE_EVENTS) or ""),
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
            record = _Record("infusions.csv", "Procedure", e.where, cells, fields)
            self._vitals(record, vitals.pop(e.n, []))
            records.append(record)
        for readings in vitals.values():
            for _, e, _ in readings:
                self.problem(e.where, "partOf", "refers to a Procedure that is not a kdash infusion")
        return records

    def _vitals(self, record: _Record, readings: list[tuple[str, _Entry, Any]]) -> None:
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
                record.cells[column] = _value_text(obs)
                record.fields[column], record.wheres[column] = "valueQuantity", e.where
                continue
            reading = _ext(obs, f.EXT_BP_READING)
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

    def _bp(self, record: _Record, reading: str, e: _Entry, obs: Any, taken: set[str]) -> None:
        if reading in taken:
            self.problem(e.where, "extension(bp-reading)", f"a second {reading} blood-pressure reading")
            return
        taken.add(reading)
        for part in obs.component or []:
            codes = _codes(part.code)
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
            record.cells[column] = _value_text(part)
            code = f.BP_SYSTOLIC if half == "sys" else f.BP_DIASTOLIC
            record.fields[column], record.wheres[column] = f"component({code})", e.where

    # -- validation ----------------------------------------------------------------------------
    def _parse(self, record: _Record) -> None:
        spec = FILE_BY_NAME[record.file]
        cells = {k: v for k, v in record.cells.items() if k in spec.columns}
        try:
            rows = spec.parse(cells, None)
        except RowInvalid as exc:
            for column, message in exc.errors:
                self.problem(
                    record.wheres.get(column, record.where), record.fields.get(column, column), message
                )
            if record.file == "patients.csv":
                self.parsed.known_mrns.add(cells["mrn"])
            return
        for row in rows:
            row.where, row.source = record.where, record.source
            row.columns = {
                name: record.fields.get(col, col) for name, col in _FIELD_COLUMNS.get(record.file, {}).items()
            }
            row.columns.update({k: v for k, v in record.fields.items()})
            self.parsed.rows.append(row)


#: Model field -> CSV column where the two differ (for messages from the cross-row checks).
_FIELD_COLUMNS: dict[str, dict[str, str]] = {
    "courses.csv": {"number": "course"},
    "screenings.csv": {"decision": "result", "decided_by": "reviewed_by", "recorded_by": "reviewed_by"},
}
