"""Writer JSON output against the published JSON Schemas in schemas/.

jsonschema is not a project dependency: when it is importable it validates too,
and in every case a small walker checks the subset of draft 2020-12 the schemas
use (type, const, enum, required, properties, additionalProperties, items,
pattern, minimum, minLength, oneOf, $ref to #/$defs)."""

from __future__ import annotations

import importlib
import importlib.util
import json
import re
from dataclasses import replace
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from gateway.model import Acknowledgement, AssignedLine, CurrencyTotals, Remittance, Verdict
from gateway.writers import acknowledgement as acknowledgement_writer
from gateway.writers import remittance as remittance_writer

SCHEMAS = Path(__file__).resolve().parents[2] / "schemas"
JSON_TYPES: dict[str, Any] = {
    "object": dict,
    "array": list,
    "string": str,
    "null": type(None),
    "boolean": bool,
}


def _schema(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((SCHEMAS / name).read_text(encoding="utf-8"))
    return loaded


def _is_type(value: object, name: str) -> bool:
    if name == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if name == "number":
        return isinstance(value, int | float) and not isinstance(value, bool)
    return isinstance(value, JSON_TYPES[name])


def problems(value: object, schema: dict[str, Any], root: dict[str, Any], path: str = "$") -> list[str]:
    """Every way ``value`` breaks ``schema`` (the subset above); empty when it conforms."""
    if "$ref" in schema:
        ref = schema["$ref"]
        assert ref.startswith("#/$defs/"), ref
        target = root["$defs"][ref.removeprefix("#/$defs/")]
        extra = {k: v for k, v in schema.items() if k not in ("$ref", "description")}
        return problems(value, target, root, path) + (problems(value, extra, root, path) if extra else [])
    found: list[str] = []
    if "oneOf" in schema:
        matches = sum(not problems(value, option, root, path) for option in schema["oneOf"])
        if matches != 1:
            found.append(f"{path}: matches {matches} of oneOf")
    if "type" in schema:
        names = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
        if not any(_is_type(value, name) for name in names):
            return [f"{path}: {value!r} is not {names}"]
    if "const" in schema and value != schema["const"]:
        found.append(f"{path}: {value!r} != {schema['const']!r}")
    if "enum" in schema and value not in schema["enum"]:
        found.append(f"{path}: {value!r} not in {schema['enum']}")
    if isinstance(value, str):
        if "pattern" in schema and not re.search(schema["pattern"], value):
            found.append(f"{path}: {value!r} does not match {schema['pattern']}")
        if len(value) < schema.get("minLength", 0):
            found.append(f"{path}: too short")
    if isinstance(value, int) and not isinstance(value, bool) and value < schema.get("minimum", value):
        found.append(f"{path}: {value} < {schema['minimum']}")
    if isinstance(value, dict):
        properties = schema.get("properties", {})
        found += [f"{path}: missing {key}" for key in schema.get("required", []) if key not in value]
        if schema.get("additionalProperties") is False:
            found += [f"{path}: unexpected {key}" for key in value if key not in properties]
        for key, item in value.items():
            if key in properties:
                found += problems(item, properties[key], root, f"{path}.{key}")
    if isinstance(value, list) and "items" in schema:
        for index, item in enumerate(value):
            found += problems(item, schema["items"], root, f"{path}[{index}]")
    return found


def _validate(document: object, schema_name: str) -> list[str]:
    schema = _schema(schema_name)
    found = problems(document, schema, schema)
    if importlib.util.find_spec("jsonschema") is not None:
        jsonschema = importlib.import_module("jsonschema")  # not a project dependency: only when present

        validator = jsonschema.Draft202012Validator(schema)
        found += [error.message for error in validator.iter_errors(document)]
    return found


def _multi_currency() -> Remittance:
    lines = (
        AssignedLine(1, "N1", "380", date(2025, 3, 1), date(2025, 4, 1), "D1", None, "USD",
                     Decimal("50.00"), Decimal("0.00"), Decimal("50.00")),
        AssignedLine(2, "N2", "396", date(2025, 3, 1), None, "D1", "Débiteur", "EUR",
                     Decimal("-20.00"), Decimal("-20.00"), Decimal("0.00"), "N0"),
    )  # fmt: skip
    return Remittance(
        "ACME", 0, date(2025, 3, 10), "f.csv", 0, lines,
        (CurrencyTotals("USD", 1, Decimal(50), 0, Decimal(0), Decimal(50), Decimal(0), Decimal(50)),
         CurrencyTotals("EUR", 0, Decimal(0), 1, Decimal(-20), Decimal(-20), Decimal(-20), Decimal(0))),
    )  # fmt: skip


def test_writers_schemas_are_draft_2020_12() -> None:
    for name in ("remittance.schema.json", "acknowledgement.schema.json"):
        assert _schema(name)["$schema"] == "https://json-schema.org/draft/2020-12/schema"


def test_writers_remittance_json_follows_its_schema(remittance: Remittance) -> None:
    for sample in (remittance, _multi_currency(), replace(remittance, lines=(), totals=())):
        assert _validate(json.loads(remittance_writer.write(sample, "json")), "remittance.schema.json") == []


def test_writers_acknowledgement_json_follows_its_schema(acknowledgement: Acknowledgement) -> None:
    refused = replace(
        acknowledgement, verdict=Verdict.REJECTED, remittance_number=None, lines=(), file_issues=()
    )
    for sample in (acknowledgement, refused):
        document = json.loads(acknowledgement_writer.write(sample, "json"))
        assert _validate(document, "acknowledgement.schema.json") == []


@pytest.mark.parametrize(
    ("mutate", "complaint"),
    [
        (lambda d: d.pop("totals"), "missing totals"),
        (lambda d: d["lines"][0].update(amount="-1200.0"), "does not match"),
        (lambda d: d["lines"][0].update(amount=-1200), "is not"),
        (lambda d: d["lines"][1].update(document_type="bill"), "not in"),
        (lambda d: d.update(extra=1), "unexpected extra"),
        (lambda d: d["totals"][0].update(invoice_count=-1), "< 0"),
    ],
)
def test_writers_schema_check_can_fail(remittance: Remittance, mutate: Any, complaint: str) -> None:
    document = json.loads(remittance_writer.write(remittance, "json"))
    mutate(document)
    found = _validate(document, "remittance.schema.json")
    assert any(complaint in problem for problem in found), found
