"""A Bundle's entries, validated and indexed, and its references resolved to entries or identifiers.

References may be ``urn:uuid:``, ``Type/id``, a full URL or conditional (``Patient?identifier=system|value``,
a resource not in the Bundle). Dates and times are read in the clinic's time zone.
"""

from __future__ import annotations

from datetime import date, datetime, tzinfo
from typing import Any
from urllib.parse import parse_qs

from fhir.resources.R4B import get_fhir_model_class
from pydantic import ValidationError

from kdash.interchange import cells as c
from kdash.interchange.csv.reader import Parsed
from kdash.interchange.fhir.elements import (
    HANDLED,
    Conditional,
    Entry,
    lenient,
)
from kdash.interchange.rows import Problem


class BundleIndex:
    """The Bundle's entries, validated against the R4B models and indexed for resolving references."""

    def __init__(self, name: str, zone: tzinfo | None, parsed: Parsed) -> None:
        self.name = name
        self.zone = zone
        self.parsed = parsed
        self.entries: list[Entry] = []
        self.by_url: dict[str, Entry] = {}
        self.by_type_id: dict[str, Entry] = {}
        self.mrn_of: dict[int, str] = {}

    def problem(self, where: str, fld: str, message: str) -> None:
        self.parsed.problems.append(Problem(where, fld, message))

    def _load(self, n: int, raw: Any) -> None:
        if not isinstance(raw, dict) or not isinstance(raw.get("resource"), dict):
            self.problem(f"{self.name}: entry {n}", "resource", "is missing; every entry needs a resource")
            return
        resource = raw["resource"]
        rtype = str(resource.get("resourceType", "?"))
        full_url = raw.get("fullUrl") if isinstance(raw.get("fullUrl"), str) else None
        rid = str(resource.get("id") or full_url or "?")
        where = f"{self.name}: entry {n} ({rtype}/{rid})"
        if rtype not in HANDLED:
            return
        try:
            model = get_fhir_model_class(rtype).model_validate(lenient(resource))
        except ValidationError as exc:
            for err in exc.errors():
                loc = ".".join(str(p) for p in err["loc"]) or rtype
                self.problem(where, loc, f"{err['msg']} (not valid FHIR R4)")
            return
        entry = Entry(n, rtype, rid, full_url, model, where)
        self.entries.append(entry)
        if full_url:
            self.by_url[full_url] = entry
        if resource.get("id"):
            self.by_type_id[f"{rtype}/{resource['id']}"] = entry

    def _target(self, ref: Any, expected: str) -> Entry | Conditional:
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
                return Conditional(value)
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
            return Conditional(ref.identifier.value)
        raise c.CellError("has neither a reference nor an identifier")

    def _mrn(self, ref: Any) -> str:
        target = self._target(ref, "Patient")
        if isinstance(target, Conditional):
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
