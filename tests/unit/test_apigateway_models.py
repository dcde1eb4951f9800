"""Every generated API Gateway model is a draft-04 document API Gateway will accept.

API Gateway refuses a model with any keyword outside draft-04 ("Unsupported keyword(s)"),
including $id, $ref to other files, examples and const, and it wants draft-04's boolean
exclusiveMinimum / exclusiveMaximum.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from jsonschema import Draft4Validator

import codegen

MODELS = sorted((Path(codegen.GENERATED_DIR) / "apigateway").glob("*.json"))
TYPES = {"object", "array", "string", "integer", "number", "boolean", "null"}


def walk(node, pointer=""):
    """Yield (pointer, schema) for the schema and every subschema."""
    yield pointer, node
    for word in ("properties", "patternProperties"):
        for name, sub in node.get(word, {}).items():
            yield from walk(sub, f"{pointer}/{word}/{name}")
    for word in ("allOf", "anyOf", "oneOf"):
        for index, sub in enumerate(node.get(word, [])):
            yield from walk(sub, f"{pointer}/{word}/{index}")
    for word in ("items", "additionalProperties", "not", "additionalItems"):
        if isinstance(node.get(word), dict):
            yield from walk(node[word], f"{pointer}/{word}")


def problems_of(document: dict) -> list[str]:
    problems = []
    if document.get("$schema") != "http://json-schema.org/draft-04/schema#":
        problems.append("root: $schema must be draft-04")
    for pointer, schema in walk(document):
        for word, value in schema.items():
            if word not in codegen.DRAFT_04_KEYWORDS:
                problems.append(f"{pointer}/{word}: not a draft-04 keyword")
            if word == "$schema" and pointer:
                problems.append(f"{pointer}: $schema only at the root")
            if word in ("exclusiveMinimum", "exclusiveMaximum") and not isinstance(value, bool):
                problems.append(f"{pointer}/{word}: draft-04 wants a boolean")
            if word == "type":
                names = value if isinstance(value, list) else [value]
                if not set(names) <= TYPES:
                    problems.append(f"{pointer}/type: {value!r}")
            if word == "enum" and not (isinstance(value, list) and value):
                problems.append(f"{pointer}/enum: must be a non-empty list")
            if word == "required" and not (isinstance(value, list) and value):
                problems.append(f"{pointer}/required: draft-04 wants a non-empty list")
    return problems


def test_there_is_a_model_for_every_schema():
    titles = {schema.title for schema in codegen.load_model().values() if schema.kind != "common"}
    assert {path.stem for path in MODELS} == titles


@pytest.mark.parametrize("path", MODELS, ids=lambda p: p.stem)
def test_model_uses_only_what_api_gateway_accepts(path):
    document = json.loads(path.read_text())
    Draft4Validator.check_schema(document)
    assert problems_of(document) == []


def test_the_checker_catches_what_api_gateway_refuses():
    bad = {
        "$schema": "http://json-schema.org/draft-04/schema#",
        "$id": "x",
        "type": "object",
        "properties": {
            "a": {"const": 1},
            "b": {"type": "integer", "exclusiveMinimum": 0},
            "c": {"$ref": "#/definitions/c"},
            "d": {"type": "string", "examples": ["x"]},
        },
    }
    found = problems_of(bad)
    for word in (
        "/$id",
        "/properties/a/const",
        "/properties/b/exclusiveMinimum",
        "/properties/c/$ref",
        "/properties/d/examples",
    ):
        assert any(word in problem for problem in found), word


def test_conversions_from_2020_12():
    envelope = json.loads((Path(codegen.GENERATED_DIR) / "apigateway/EventEnvelope.json").read_text())
    assert envelope["properties"]["version"]["minimum"] == 0
    assert envelope["properties"]["version"]["exclusiveMinimum"] is True
    accepted = json.loads((Path(codegen.GENERATED_DIR) / "apigateway/OrderAccepted.json").read_text())
    assert accepted["properties"]["status"] == {"enum": ["PENDING"]}
    order = json.loads((Path(codegen.GENERATED_DIR) / "apigateway/Order.json").read_text())
    assert order["properties"]["lines"]["items"]["properties"]["unit_price"]["pattern"]
