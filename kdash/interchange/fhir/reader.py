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

The parts: entries and references (:mod:`~kdash.interchange.fhir.references`), element values as cell
text (:mod:`~kdash.interchange.fhir.elements`), and one reader per kind of resource: patients, conditions
and courses (:mod:`~kdash.interchange.fhir.patients`), observations
(:mod:`~kdash.interchange.fhir.observations`), infusions (:mod:`~kdash.interchange.fhir.procedures`).
"""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import tzinfo
from pathlib import Path
from typing import Any

from kdash.interchange.csv.reader import Parsed
from kdash.interchange.fhir.elements import Entry, Record
from kdash.interchange.fhir.observations import ObservationResources
from kdash.interchange.fhir.patients import PatientResources
from kdash.interchange.fhir.procedures import ProcedureResources
from kdash.interchange.rows import FILE_BY_NAME, Problem, RowInvalid


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


class _Reader(PatientResources, ObservationResources, ProcedureResources):
    """One Bundle read: entries loaded, each kind of resource read, every row checked by the CSV rules."""

    # -- loading -------------------------------------------------------------------------------
    def run(self, raw_entries: list[Any]) -> None:
        for n, raw in enumerate(raw_entries, start=1):
            self._load(n, raw)
        by_type: dict[str, list[Entry]] = defaultdict(list)
        for entry in self.entries:
            by_type[entry.rtype].append(entry)
        records: list[Record] = []
        indications = self._conditions(by_type["Condition"])
        records += self._patients(by_type["Patient"], indications)
        records += self._episodes(by_type["EpisodeOfCare"], indications)
        vitals: dict[int, list[tuple[str, Entry, Any]]] = defaultdict(list)
        records += self._observations(by_type["Observation"], vitals)
        records += self._procedures(by_type["Procedure"], vitals)
        for record in records:
            self._parse(record)

    # -- validation ----------------------------------------------------------------------------
    def _parse(self, record: Record) -> None:
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
