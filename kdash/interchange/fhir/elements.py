"""FHIR elements as kdash reads them: bundle entries, rows-to-be, and values turned into cell text.

Shared by the resource readers of :mod:`kdash.interchange.fhir.reader`. Lenient where other systems
differ (docs/import-format.md): valueDecimal read as a quantity, answers given as LOINC codes.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from kdash.interchange import cells as c
from kdash.interchange.fhir import codes as f

HANDLED = ("Patient", "Condition", "EpisodeOfCare", "Observation", "Procedure")
NAME_RANK = {
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
class Entry:
    n: int
    rtype: str
    rid: str
    full_url: str | None
    res: Any
    where: str


@dataclass
class Record:
    """One row-to-be: its cells, and for each column the entry and FHIR element it came from."""

    file: str
    source: str
    where: str
    cells: dict[str, str]
    fields: dict[str, str] = field(default_factory=dict)
    wheres: dict[str, str] = field(default_factory=dict)


class Conditional(str):
    """The value of a conditional reference's identifier (a resource not in the Bundle)."""


def lenient(resource: dict[str, Any]) -> dict[str, Any]:
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


def codings(concept: Any) -> list[tuple[str | None, str | None]]:
    if concept is None:
        return []
    return [(cd.system, cd.code) for cd in concept.coding or []]


def code_in(concept: Any, system: str) -> str | None:
    for sys_, code in codings(concept):
        if sys_ == system and code:
            return code
    return None


def extension_value(resource: Any, url: str) -> Any:
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


def number_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return c.format_yes_no(value)
    if isinstance(value, Decimal | float):
        dec = Decimal(str(value))
        return str(int(dec)) if dec == dec.to_integral_value() else format(dec.normalize(), "f")
    return str(value)


def value_text(part: Any, *, answers: dict[str, int] | None = None) -> str:
    """An Observation (or component) value as cell text: integer, quantity, string or a known answer code."""
    if getattr(part, "valueInteger", None) is not None:
        return str(part.valueInteger)
    if getattr(part, "valueQuantity", None) is not None:
        return number_text(part.valueQuantity.value)
    if getattr(part, "valueString", None) is not None:
        return str(part.valueString)
    concept = getattr(part, "valueCodeableConcept", None)
    if concept is not None and answers:
        for sys_, code in codings(concept):
            if sys_ == f.LOINC and code in answers:
                return str(answers[code])
    return ""
