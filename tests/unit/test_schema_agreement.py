"""The pydantic types and the API Gateway (draft-04) models agree, case by case.

Both are generated from model/. For every schema: its valid examples, the invalid examples kept
in tests/schemas/invalid_examples.json, and instances hypothesis generates from the schema and
then mutates must be accepted by both or refused by both.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis_jsonschema import from_schema
from pydantic import BaseModel, ValidationError

import codegen
from generated import models
from infra.emulator.request_validation import model_document, validator_for

SCHEMAS = codegen.load_model()
TOP_LEVEL = {schema.title: schema for schema in SCHEMAS.values() if schema.kind != "common"}
INVALID = json.loads((Path(__file__).parents[1] / "schemas" / "invalid_examples.json").read_text())


def pydantic_accepts(title: str, instance: Any) -> bool:
    model: type[BaseModel] = getattr(models, title)
    try:
        model.model_validate_json(json.dumps(instance))
    except ValidationError:
        return False
    return True


def draft04_accepts(title: str, instance: Any) -> bool:
    return validator_for(title).is_valid(instance)


def assert_agree(title: str, instance: Any) -> bool:
    by_pydantic, by_draft04 = pydantic_accepts(title, instance), draft04_accepts(title, instance)
    assert by_pydantic == by_draft04, (
        f"{title}: pydantic {'accepts' if by_pydantic else 'refuses'} and draft-04 "
        f"{'accepts' if by_draft04 else 'refuses'} {json.dumps(instance)[:300]}"
    )
    return by_pydantic


def test_every_schema_has_invalid_examples_beside_it():
    assert set(INVALID) == set(TOP_LEVEL), "tests/schemas/invalid_examples.json must cover every schema"


@pytest.mark.parametrize("title", sorted(TOP_LEVEL))
def test_valid_examples_are_accepted_by_both(title):
    examples = TOP_LEVEL[title].document["examples"]
    assert examples
    for example in examples:
        assert assert_agree(title, example) is True


@pytest.mark.parametrize("title", sorted(INVALID))
def test_invalid_examples_are_refused_by_both(title):
    for case in INVALID[title]:
        assert assert_agree(title, case["instance"]) is False, case["why"]


def mutations(instance: Any) -> st.SearchStrategy[Any]:
    """Small edits that often make a valid instance invalid: the boundary cases of a schema."""
    options: list[st.SearchStrategy[Any]] = [
        st.sampled_from([None, 1.5, True, "", "x\n", [], {}, -1, 10**12]),
    ]
    if isinstance(instance, dict) and instance:
        keys = sorted(instance)
        options.append(st.sampled_from(keys).map(lambda k: {x: v for x, v in instance.items() if x != k}))
        options.append(st.just({**instance, "unexpected": 1}))
        options.append(
            st.tuples(st.sampled_from(keys), st.deferred(lambda: st.data())).flatmap(
                lambda pair: mutations(instance[pair[0]]).map(lambda value: {**instance, pair[0]: value})
            )
        )
    if isinstance(instance, list) and instance:
        options.append(st.just(instance + instance))
        options.append(mutations(instance[0]).map(lambda value: [value, *instance[1:]]))
    if isinstance(instance, str):
        options.append(
            st.sampled_from(
                [instance + "\n", instance.upper(), instance.lower(), instance[:-1], " " + instance]
            )
        )
    if isinstance(instance, int) and not isinstance(instance, bool):
        options.append(st.sampled_from([instance - 1, instance + 1, 0, float(instance), str(instance)]))
    return st.one_of(options)


@pytest.mark.parametrize("title", sorted(TOP_LEVEL))
def test_generated_and_mutated_instances_agree(title):
    document = {key: value for key, value in model_document(title).items() if key != "description"}

    @given(st.data())
    def check(data: st.DataObject) -> None:
        instance = data.draw(from_schema(document), label="generated")
        assert_agree(title, instance)
        assert_agree(title, data.draw(mutations(instance), label="mutated"))

    check()
