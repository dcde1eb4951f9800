"""One contract for every Leases adapter: in memory, and DynamoDB on moto."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import boto3
import pytest

from ordering.adapters.dynamodb_leases import DynamoDBLeases
from ordering.adapters.memory_leases import InMemoryLeases
from ordering.ports.leases import LeaseError, Leases
from tests.support.backends import moto_table

pytestmark = pytest.mark.moto

START = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture(params=["memory", "dynamodb"])
def leases(request, clock) -> Iterator[Leases]:
    if request.param == "memory":
        yield InMemoryLeases(clock)
        return
    with moto_table() as table:
        yield DynamoDBLeases(boto3.client("dynamodb"), table, clock=clock)


def later(seconds: float) -> datetime:
    return START + timedelta(seconds=seconds)


def test_a_claimed_key_cannot_be_claimed_again_until_the_lease_runs_out(leases, clock):
    first = leases.claim("notice#1", until=later(30))
    assert first is not None
    assert first.key == "notice#1"
    assert first.until == later(30)

    clock.now = later(29.9)
    assert leases.claim("notice#1", until=later(60)) is None

    clock.now = later(30)
    second = leases.claim("notice#1", until=later(60))
    assert second is not None
    assert second.token != first.token


def test_keys_are_independent(leases):
    assert leases.claim("notice#1", until=later(30)) is not None
    assert leases.claim("notice#2", until=later(30)) is not None


def test_a_released_lease_can_be_claimed_at_once(leases):
    lease = leases.claim("notice#1", until=later(30))
    leases.release(lease)
    assert leases.claim("notice#1", until=later(30)) is not None


def test_a_release_after_the_lease_ran_out_leaves_the_next_holders_lease(leases, clock):
    stale = leases.claim("notice#1", until=later(30))
    clock.now = later(31)
    current = leases.claim("notice#1", until=later(60))
    assert current is not None

    leases.release(stale)

    assert leases.claim("notice#1", until=later(60)) is None
    leases.release(current)
    assert leases.claim("notice#1", until=later(60)) is not None


def test_of_many_claiming_at_once_exactly_one_holds_the_lease(leases):
    start = threading.Barrier(8)
    won = []

    def claim() -> None:
        start.wait()
        won.append(leases.claim("notice#1", until=later(30)))

    threads = [threading.Thread(target=claim) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(won) == 8
    assert len([lease for lease in won if lease is not None]) == 1


def test_dynamodb_leases_expire_through_the_tables_ttl_attribute():
    with moto_table() as table:
        client = boto3.client("dynamodb")
        DynamoDBLeases(client, table, clock=Clock()).claim("notice#1", until=later(30.2))
        [item] = client.scan(TableName=table)["Items"]
    assert item["PK"] == {"S": "lease#notice#1"}
    assert item["SK"] == {"S": "LEASE"}
    assert int(item["expiration"]["N"]) == int(later(31).timestamp())  # whole seconds, after `until`


def test_a_dynamodb_failure_is_a_lease_error_naming_the_key():
    with moto_table():
        leases = DynamoDBLeases(boto3.client("dynamodb"), "no-such-table", clock=Clock())
        with pytest.raises(LeaseError, match="notice#1"):
            leases.claim("notice#1", until=later(30))
