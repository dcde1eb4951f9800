"""Validate request bodies against the generated API Gateway models, as API Gateway does.

The models in generated/apigateway/ are JSON Schema draft-04. JSON Schema patterns are
ECMA-262 regular expressions, where `$` means the end of the string; Python's `re` also lets
`$` match before a trailing newline, so `pattern` is evaluated with `regress`, an ECMA-262
engine. That keeps this validator, pydantic (whose regex engine agrees) and the schemas'
meaning in step.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import regress
from jsonschema import Draft4Validator, validators
from jsonschema.exceptions import ValidationError


@cache
def _ecma_regex(pattern: str) -> regress.Regex:
    return regress.Regex(pattern)


def _ecma_pattern(
    validator: Any, pattern: str, instance: Any, schema: dict[str, Any]
) -> Iterator[ValidationError]:
    if validator.is_type(instance, "string") and _ecma_regex(pattern).find(instance) is None:
        yield ValidationError(f"{instance!r} does not match {pattern!r}")


ApiGatewayValidator = validators.extend(Draft4Validator, {"pattern": _ecma_pattern})


@dataclass(frozen=True)
class FieldError:
    field: str
    message: str


def model_document(name: str) -> dict[str, Any]:
    """The generated draft-04 document of a model, e.g. "PlaceOrderRequest"."""
    text = resources.files("generated").joinpath("apigateway", f"{name}.json").read_text(encoding="utf-8")
    return json.loads(text)


@cache
def validator_for(name: str) -> Any:
    return ApiGatewayValidator(model_document(name))


def json_path(parts: Iterable[Any]) -> str:
    """["lines", 1, "quantity"] -> "lines[1].quantity"; the body itself is "$"."""
    path = ""
    for part in parts:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path or "$"


def body_errors(name: str, body: Any) -> list[FieldError]:
    """Every way `body` breaks model `name`, each naming its field; empty when it is valid."""
    errors = sorted(validator_for(name).iter_errors(body), key=lambda error: list(map(str, error.path)))
    result = []
    for error in errors:
        parts = list(error.path)
        if error.validator == "required":
            missing = error.message.split("'")[1]
            parts.append(missing)
            message = "is required"
        elif error.validator == "additionalProperties":
            extra = sorted(set(error.instance) - set(error.schema.get("properties", {})))
            for name_ in extra:
                result.append(FieldError(json_path([*parts, name_]), "is not allowed"))
            continue
        else:
            message = error.message
        result.append(FieldError(json_path(parts), message))
    return result
