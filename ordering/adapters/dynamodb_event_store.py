"""The event store on one DynamoDB table, through the low-level boto3 client it is given.

It sends the items table_items builds, as they are. An append is a put conditioned on
`attribute_not_exists`, so a lost race is a ConcurrencyError, never an overwrite. Several
streams and SKU heads go in one TransactWriteItems; when it is cancelled, its cancellation
reasons (one per item, in the order sent) say which condition failed, and that stream is named
in the error. The client comes from the composition root, so a function keeps one per service.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from decimal import Decimal
from typing import Any

from aws_lambda_powertools.shared.dynamodb_deserializer import TypeDeserializer
from botocore.exceptions import BotoCoreError, ClientError

from ordering.adapters.dynamodb_table import EVENT_PREFIX, HEAD_KEY, event_key
from ordering.adapters.table_items import (
    head_from_item,
    recorded_from_item,
    scanned_from_item,
    transaction_items,
)
from ordering.domain.inventory import InventoryItem
from ordering.domain.recorded import Recorded
from ordering.domain.streams import SKU, sku_stream
from ordering.ports.event_store import (
    Append,
    ConcurrencyError,
    EventStore,
    EventStoreError,
    HeadWrite,
    StoreUnavailable,
    Unreadable,
)

RETRYABLE = {
    "ProvisionedThroughputExceededException",
    "ThrottlingException",
    "ThrottlingError",
    "RequestLimitExceeded",
    "InternalServerError",
    "ServiceUnavailable",
}
CONFLICTS = {"ConditionalCheckFailed", "TransactionConflict"}
LAST_EVENT_KEY = event_key(9_999_999_999)
BATCH_GET_KEYS = 100  # BatchGetItem's limit per call
ABSENT = "attribute_not_exists(PK)"

_from_wire = TypeDeserializer().deserialize  # boto3's, as Powertools ships it, without importing boto3


def _to_wire(value: Any) -> dict[str, Any]:
    """A value of our flat items (table_items.py) in DynamoDB's attribute-value form.

    boto3's TypeSerializer would do it, but importing it imports boto3 (and s3transfer) on the
    first invocation of every function that writes events, for the three types our items hold.
    """
    if isinstance(value, str):
        return {"S": value}
    if isinstance(value, bool):
        return {"BOOL": value}
    if isinstance(value, int | Decimal):
        return {"N": str(value)}
    raise TypeError(f"no DynamoDB form for {type(value).__name__} in an event table item")


def wire_item(item: Mapping[str, Any]) -> dict[str, Any]:
    """An item in DynamoDB's attribute-value form; an absent optional value is left out."""
    return {name: _to_wire(value) for name, value in item.items() if value is not None}


def plain_item(item: Mapping[str, Any]) -> dict[str, Any]:
    return {name: _from_wire(value) for name, value in item.items()}


def _texts(item: Mapping[str, Any]) -> dict[str, str]:
    """A head item's values as DynamoDB sends them (a head holds only strings and numbers, both
    sent as text), which head_from_item converts itself: a sharded SKU's placement reads K
    heads per order, and this is a third of the generic deserializer's cost."""
    return {name: text for name, value in item.items() for text in value.values()}


class DynamoDBEventStore(EventStore):
    def __init__(self, client: Any, table_name: str) -> None:
        self._client, self._table = client, table_name

    # --- reads ----------------------------------------------------------------------------------

    def read(self, stream: str, from_version: int = 1) -> list[Recorded]:
        query = self._events_query(stream, from_version)
        return [recorded_from_item(item) for item in self._items(self._query_pages(query))]

    def version_of(self, stream: str) -> int:
        """The stream's last event's version, from one item: a lost race asks it, and a hot
        SKU's stream holds an event per order ever placed."""
        query = self._events_query(stream) | {
            "ProjectionExpression": "version",
            "ScanIndexForward": False,
            "Limit": 1,
        }
        try:
            items = self._client.query(**query).get("Items", [])
        except (ClientError, BotoCoreError) as error:
            raise self._translated(error) from error
        return int(items[0]["version"]["N"]) if items else 0

    def _events_query(self, stream: str, from_version: int = 1) -> dict[str, Any]:
        """A Query of the stream's events from `from_version` on (its head left out)."""
        return {
            "TableName": self._table,
            "KeyConditionExpression": "PK = :stream AND SK BETWEEN :first AND :last",
            "ExpressionAttributeValues": {
                ":stream": {"S": stream},
                ":first": {"S": event_key(max(from_version, 1))},
                ":last": {"S": LAST_EVENT_KEY},
            },
            "ConsistentRead": True,
        }

    def _query_pages(self, query: dict[str, Any]) -> Iterator[dict[str, Any]]:
        """Query's pages, following LastEvaluatedKey. A plain loop, not botocore's paginator: that
        one loads DynamoDB's paginator model on first use, a cost on every function's cold start."""
        while True:
            page = self._client.query(**query)
            yield page
            if "LastEvaluatedKey" not in page:
                return
            query = {**query, "ExclusiveStartKey": page["LastEvaluatedKey"]}

    def read_heads(self, heads: Iterable[str]) -> dict[str, InventoryItem]:
        keys = [{"PK": {"S": f"{SKU}#{head}"}, "SK": {"S": HEAD_KEY}} for head in dict.fromkeys(heads)]
        found: dict[str, InventoryItem] = {}
        for start in range(0, len(keys), BATCH_GET_KEYS):
            for item in self._batch_get(keys[start : start + BATCH_GET_KEYS]):
                head = head_from_item(_texts(item))
                found[head.head] = head
        return found

    def streams_beyond(self, versions: Mapping[str, int]) -> set[str]:
        """One key lookup per stream, for its next event, BATCH_GET_KEYS streams per call."""
        keys = [
            {"PK": {"S": stream}, "SK": {"S": event_key(version + 1)}} for stream, version in versions.items()
        ]
        found: set[str] = set()
        for start in range(0, len(keys), BATCH_GET_KEYS):
            for item in self._batch_get(keys[start : start + BATCH_GET_KEYS], projection="PK"):
                found.add(item["PK"]["S"])
        return found

    def _batch_get(
        self, keys: list[dict[str, Any]], projection: str | None = None
    ) -> Iterator[dict[str, Any]]:
        """Every item of `keys`, asking again for what DynamoDB left unprocessed."""
        request: dict[str, Any] = {self._table: {"Keys": keys, "ConsistentRead": True}}
        if projection is not None:
            request[self._table]["ProjectionExpression"] = projection
        while request:
            try:
                answer = self._client.batch_get_item(RequestItems=request)
            except (ClientError, BotoCoreError) as error:
                raise self._translated(error) from error
            yield from answer.get("Responses", {}).get(self._table, [])
            request = answer.get("UnprocessedKeys") or {}

    def forked(self) -> None:
        # The client's idle connections are the parent's sockets; closing the pool here makes
        # this process open its own (the client stays usable).
        self._client.close()

    def scan(self, segment: int, total_segments: int) -> Iterator[Recorded | Unreadable]:
        pages = self._client.get_paginator("scan").paginate(
            TableName=self._table,
            FilterExpression="begins_with(SK, :events)",
            ExpressionAttributeValues={":events": {"S": EVENT_PREFIX}},
            Segment=segment,
            TotalSegments=total_segments,
        )
        for item in self._items(pages):
            yield scanned_from_item(item)

    def _items(self, pages: Iterable[dict[str, Any]]) -> Iterator[dict[str, Any]]:
        try:
            for page in pages:
                for item in page.get("Items", []):
                    yield plain_item(item)
        except (ClientError, BotoCoreError) as error:
            raise self._translated(error) from error

    # --- writes ---------------------------------------------------------------------------------

    def transact(self, appends: Sequence[Append], heads: Sequence[HeadWrite] = ()) -> list[Recorded]:
        event_items, head_items = transaction_items(appends, heads)
        streams_with_heads = {sku_stream(write.head.sku, write.head.shard) for write in heads}
        # A stream that already has events and no head guarding it gets a check that its
        # expected last event exists, so that an append can never leave a gap.
        checks = [a for a in appends if a.expected_version > 0 and a.stream not in streams_with_heads]
        if len(event_items) == 1 and not heads and not checks:
            self._put_one(event_items[0])
        else:
            self._transact(event_items, list(zip(heads, head_items, strict=True)), checks)
        return [event for append in appends for event in append.recorded()]

    def _put_one(self, item: dict[str, Any]) -> None:
        try:
            self._client.put_item(TableName=self._table, Item=wire_item(item), ConditionExpression=ABSENT)
        except ClientError as error:
            if _code_of(error) == "ConditionalCheckFailedException":
                stream = item["PK"]
                raise ConcurrencyError(stream, item["version"] - 1, self.version_of(stream)) from error
            raise self._translated(error) from error
        except BotoCoreError as error:
            raise self._translated(error) from error

    def _transact(
        self,
        event_items: list[dict[str, Any]],
        heads: list[tuple[HeadWrite, dict[str, Any]]],
        checks: Sequence[Append],
    ) -> None:
        # Each item sent, and what it guards: (stream, expected version), in the order sent,
        # which is the order of the cancellation reasons.
        sent: list[dict[str, Any]] = []
        guards: list[tuple[str, int]] = []
        for item in event_items:
            sent.append({"Put": self._put(item, ABSENT)})
            guards.append((item["PK"], item["version"] - 1))
        for write, item in heads:
            put = self._put(item, *_head_condition(write))
            # A head that moved comes back in its cancellation reason: the version it is at,
            # without a Query to find it.
            put["ReturnValuesOnConditionCheckFailure"] = "ALL_OLD"
            sent.append({"Put": put})
            guards.append((item["PK"], write.expected_version))
        for append in checks:
            key = {"PK": {"S": append.stream}, "SK": {"S": event_key(append.expected_version)}}
            sent.append(
                {
                    "ConditionCheck": {
                        "TableName": self._table,
                        "Key": key,
                        "ConditionExpression": "attribute_exists(PK)",
                    }
                }
            )
            guards.append((append.stream, append.expected_version))
        try:
            self._client.transact_write_items(TransactItems=sent)
        except ClientError as error:
            raise self._cancelled(error, guards) from error
        except BotoCoreError as error:
            raise self._translated(error) from error

    def _put(
        self, item: dict[str, Any], condition: str, values: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        put = {"TableName": self._table, "Item": wire_item(item), "ConditionExpression": condition}
        if values:
            put["ExpressionAttributeValues"] = values
        return put

    def _cancelled(self, error: ClientError, guards: list[tuple[str, int]]) -> EventStoreError:
        if _code_of(error) != "TransactionCanceledException":
            return self._translated(error)
        reasons = error.response.get("CancellationReasons", [])
        moved_heads = {
            item["PK"]["S"]: int(item["version"]["N"])
            for reason in reasons
            if (item := reason.get("Item")) and item.get("SK", {}).get("S") == HEAD_KEY
        }
        for (stream, expected), reason in zip(guards, reasons, strict=False):
            code = reason.get("Code")
            if code in (None, "None"):
                continue
            if code in CONFLICTS:
                found = moved_heads[stream] if stream in moved_heads else self.version_of(stream)
                return ConcurrencyError(stream, expected, found)
            if code in RETRYABLE:
                return StoreUnavailable(f"{stream}: {code}")
            return EventStoreError(f"{stream}: transaction cancelled ({code}: {reason.get('Message')})")
        return EventStoreError(f"transaction cancelled: {error}")

    def _translated(self, error: ClientError | BotoCoreError) -> EventStoreError:
        """Throttling, a server error or no connection may be retried; anything else is a fault.
        Both name the table, which the client's message does not."""
        if isinstance(error, BotoCoreError) or _code_of(error) in RETRYABLE:
            return StoreUnavailable(f"table {self._table}: {error}")
        return EventStoreError(f"table {self._table}: {error}")


def _head_condition(write: HeadWrite) -> tuple[str, dict[str, Any] | None]:
    """A head is replaced only if it is still at the version read (absent for 0), and, when
    asked, still has enough units available."""
    if write.expected_version == 0:
        return ABSENT, None
    values = {":seen": {"N": str(write.expected_version)}}
    if not write.require_available:
        return "version = :seen", values
    values[":needed"] = {"N": str(write.require_available)}
    return "version = :seen AND available >= :needed", values


def _code_of(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))
