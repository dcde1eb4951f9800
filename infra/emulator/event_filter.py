"""Lambda event-source filtering: does a record match a filter pattern (EventBridge syntax)?

Supported, because the topology uses them: a list of literal values (one must equal the
field), `{"prefix": ...}`, `{"exists": bool}`, `{"anything-but": [...]}`, and nesting. Any
other operator is refused at start-up rather than silently matching everything.
"""

from __future__ import annotations

from typing import Any

_MISSING = object()
OPERATORS = {"prefix", "exists", "anything-but"}


def check_pattern(pattern: dict[str, Any]) -> None:
    for value in pattern.values():
        if isinstance(value, dict):
            check_pattern(value)
            continue
        if not isinstance(value, list):
            raise ValueError(f"a filter value must be a list or an object, not {value!r}")
        for item in value:
            if isinstance(item, dict) and not set(item) <= OPERATORS:
                raise ValueError(
                    f"filter operator(s) {sorted(set(item) - OPERATORS)} are not supported locally"
                )


def matches(pattern: dict[str, Any], record: Any) -> bool:
    if not isinstance(record, dict):
        return False
    for name, expected in pattern.items():
        actual = record.get(name, _MISSING)
        if isinstance(expected, dict):
            if not matches(expected, actual):
                return False
        elif not any(_matches_one(condition, actual) for condition in expected):
            return False
    return True


def _matches_one(condition: Any, actual: Any) -> bool:
    if isinstance(condition, dict):
        if "exists" in condition:
            return (actual is not _MISSING) == bool(condition["exists"])
        if actual is _MISSING:
            return False
        if "prefix" in condition:
            return isinstance(actual, str) and actual.startswith(condition["prefix"])
        if "anything-but" in condition:
            excluded = condition["anything-but"]
            excluded = excluded if isinstance(excluded, list) else [excluded]
            return actual not in excluded
        return False
    if isinstance(actual, list):  # an array field matches when any element does
        return condition in actual
    return actual is not _MISSING and actual == condition
