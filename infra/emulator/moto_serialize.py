"""moto writes each DynamoDB response by walking botocore's model of it, and for every member
of every structure asks an attribute picker to find the member's value (a context object and
six alias providers each time). An item's every attribute is an `AttributeValue`, a
structure of ten members of which one is set: each attribute cost ten such searches, which
made writing a response most of the CPU of a Query, a BatchGetItem or a stream's GetRecords.

moto holds an `AttributeValue` as a plain dict whose keys are the members' names (S, N, M,
L...), so the picker can only find each member under its own name: `write_attribute_values_directly`
reads them from the dict, in the model's order, and serialises each as before. Anything else
(another service, an object instead of a dict, a response transformer that could apply to a
member) takes moto's own path.
"""

from __future__ import annotations

import functools
from typing import Any

from moto.core.serialize import BaseJSONSerializer

SERVICES = frozenset({"dynamodb", "dynamodbstreams"})
SHAPE = "AttributeValue"


def _transformed(serializer: Any, members: Any) -> bool:
    """Whether a response transformer of moto's could apply to a member of the shape."""
    transformers = getattr(serializer._value_picker, "response_transformers", None) or {}
    return any(path.rsplit(".", 1)[-1] in members for path in transformers)


def write_attribute_values_directly() -> None:
    """Idempotent: wraps moto's JSON serialiser of structures once."""
    original = BaseJSONSerializer._serialize_type_structure
    if getattr(original, "_writes_attribute_values", False):
        return

    @functools.wraps(original)
    def serialize_structure(self: Any, serialized: Any, value: Any, shape: Any, key: str) -> None:
        members = shape.members if shape.name == SHAPE else None
        if (
            members is None
            or type(value) is not dict
            or self.service_model.service_name not in SERVICES
            or _transformed(self, members)
        ):
            original(self, serialized, value, shape, key)
            return
        wrapper: Any = self.MAP_TYPE() if key else serialized
        for member_key, member_shape in members.items():
            member_value = value.get(member_key)
            if member_value is not None:
                member_shape.parent = shape
                self._serialize(wrapper, member_value, member_shape, member_key)
        if key:
            self._default_serialize(serialized, wrapper, shape, key)

    serialize_structure._writes_attribute_values = True  # type: ignore[attr-defined]
    BaseJSONSerializer._serialize_type_structure = serialize_structure  # type: ignore[method-assign]
