"""The composition root refuses an override it would never use."""

from __future__ import annotations

import re

import pytest
from botocore.stub import Stubber

from ordering import bootstrap
from ordering.adapters import aws_clients
from ordering.adapters.memory_event_store import InMemoryEventStore


@pytest.fixture(autouse=True)
def fresh():
    bootstrap.reset()
    yield
    bootstrap.reset()


def test_an_override_is_used_instead_of_building():
    store = InMemoryEventStore()
    bootstrap.override(event_store=store, **{"idempotency:handlers.place_order.accept_order": object()})
    assert bootstrap.event_store() is store


@pytest.mark.parametrize("name", ["events_store", "idempotency:handlers.notification.send_notice"])
def test_an_unknown_name_is_refused_and_named(name):
    with pytest.raises(KeyError, match=re.escape(name)):
        bootstrap.override(**{name: object()})


def test_every_dependency_named_is_built_here():
    for name in bootstrap.DEPENDENCIES:
        assert callable(getattr(bootstrap, name)), name


def test_an_unlisted_step_gets_no_idempotency_layer():
    with pytest.raises(KeyError, match=re.escape("handlers.nowhere.step")):
        bootstrap.idempotency_store("handlers.nowhere.step")


def test_a_functions_client_leaves_parameter_validation_to_the_service():
    """botocore's client-side walk of every request against the model is skipped: a request
    the model would refuse (here: no Keys) is sent as it is, for the service to refuse."""
    dynamodb = aws_clients.client("dynamodb", region="eu-west-1", endpoint_url="http://127.0.0.1:1")
    with Stubber(dynamodb) as stub:
        stub.add_response("batch_get_item", {"Responses": {}})
        assert dynamodb.batch_get_item(RequestItems={"table": {"ConsistentRead": True}}) == {"Responses": {}}
