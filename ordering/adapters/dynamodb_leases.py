"""The Leases port on the event table: one item per key, claimed with a conditional put.

Item: PK "lease#<key>", SK "LEASE", the claim's token, `until_ms` (what the condition reads)
and `expiration` (the table's TTL attribute, whole seconds after `until`, so that DynamoDB
deletes the item some time after it ran out). The stream filter lets only events through, so
no consumer sees a lease.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from ordering.adapters.dynamodb_table import LEASE_KEY, LEASE_PREFIX, TTL_ATTRIBUTE
from ordering.ports.leases import Lease, LeaseError, Leases

NOT_HELD = "attribute_not_exists(PK) OR until_ms <= :now"


class DynamoDBLeases(Leases):
    def __init__(
        self, client: Any, table_name: str, *, clock: Callable[[], datetime] = lambda: datetime.now(UTC)
    ) -> None:
        self._client, self._table, self._clock = client, table_name, clock

    def claim(self, key: str, *, until: datetime) -> Lease | None:
        lease = Lease(key, uuid.uuid4().hex, until)
        item = {
            **_key(key),
            "token": {"S": lease.token},
            "until_ms": {"N": str(_ms(until))},
            TTL_ATTRIBUTE: {"N": str(math.ceil(until.timestamp()))},
        }
        try:
            self._client.put_item(
                TableName=self._table,
                Item=item,
                ConditionExpression=NOT_HELD,
                ExpressionAttributeValues={":now": {"N": str(_ms(self._clock()))}},
            )
        except ClientError as error:
            if _code_of(error) == "ConditionalCheckFailedException":
                return None
            raise self._translated(key, error) from error
        except BotoCoreError as error:
            raise self._translated(key, error) from error
        return lease

    def release(self, lease: Lease) -> None:
        try:
            self._client.delete_item(
                TableName=self._table,
                Key=_key(lease.key),
                ConditionExpression="#token = :token",
                ExpressionAttributeNames={"#token": "token"},
                ExpressionAttributeValues={":token": {"S": lease.token}},
            )
        except ClientError as error:
            if _code_of(error) == "ConditionalCheckFailedException":
                return  # ran out and claimed by another holder: theirs now
            raise self._translated(lease.key, error) from error
        except BotoCoreError as error:
            raise self._translated(lease.key, error) from error

    def _translated(self, key: str, error: ClientError | BotoCoreError) -> LeaseError:
        return LeaseError(f"lease {key!r} in table {self._table}: {error}")


def _key(key: str) -> dict[str, dict[str, str]]:
    return {"PK": {"S": f"{LEASE_PREFIX}{key}"}, "SK": {"S": LEASE_KEY}}


def _ms(moment: datetime) -> int:
    return math.floor(moment.timestamp() * 1000)


def _code_of(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))
