"""The event store on one DynamoDB table, with pynamodb (keys in table_items).

An append is a put conditioned on `attribute_not_exists`, so a lost race is a
ConcurrencyError, never an overwrite. Several streams and SKU heads go in one
TransactWriteItems; when it is cancelled, its cancellation reasons (one per item, in the
order pynamodb sends them: condition checks, then puts) say which condition failed, and that
stream is named in the error.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from pynamodb.attributes import NumberAttribute, UnicodeAttribute
from pynamodb.connection import Connection
from pynamodb.exceptions import PutError, PynamoDBException, TransactWriteError
from pynamodb.models import Model
from pynamodb.transactions import TransactWrite

from ordering.adapters.table_items import (
    EVENT_PREFIX,
    HEAD_KEY,
    event_key,
    head_from_item,
    recorded_from_item,
    scanned_from_item,
    transaction_items,
)
from ordering.domain.recorded import Recorded
from ordering.domain.streams import sku_stream
from ordering.ports.event_store import (
    Append,
    ConcurrencyError,
    EventStore,
    EventStoreError,
    HeadWrite,
    SkuHead,
    StoreUnavailable,
    Unreadable,
)

RETRYABLE = {
    "ProvisionedThroughputExceededException",
    "ThrottlingException",
    "RequestLimitExceeded",
    "InternalServerError",
    "ServiceUnavailable",
}
LAST_EVENT_KEY = event_key(9_999_999_999)


def _models(table_name: str, region: str | None, host: str | None) -> tuple[Any, Any]:
    """pynamodb binds a table to a class; build the two item classes for this table."""
    meta = {"table_name": table_name, "region": region, "host": host, "max_retry_attempts": 3}

    class EventItem(Model):
        Meta = type("Meta", (), meta)  # type: ignore[assignment]
        pk = UnicodeAttribute(hash_key=True, attr_name="PK")
        sk = UnicodeAttribute(range_key=True, attr_name="SK")
        stream = UnicodeAttribute()
        version = NumberAttribute()
        event_id = UnicodeAttribute()
        type = UnicodeAttribute()
        schema_version = NumberAttribute()
        occurred_at = UnicodeAttribute()
        correlation_id = UnicodeAttribute()
        causation_id = UnicodeAttribute(null=True)
        data = UnicodeAttribute()

    class HeadItem(Model):
        Meta = type("Meta", (), meta)  # type: ignore[assignment]
        pk = UnicodeAttribute(hash_key=True, attr_name="PK")
        sk = UnicodeAttribute(range_key=True, attr_name="SK")
        sku = UnicodeAttribute()
        available = NumberAttribute()
        reserved = NumberAttribute()
        committed = NumberAttribute()
        price = UnicodeAttribute(null=True)
        currency = UnicodeAttribute(null=True)
        version = NumberAttribute()

    return EventItem, HeadItem


def _attributes(model: Any) -> dict[str, Any]:
    return {name: getattr(model, name) for name in model.get_attributes()} | {"PK": model.pk, "SK": model.sk}


def _code_of(error: PynamoDBException) -> str:
    return error.cause_response_code or ""


class DynamoDBEventStore(EventStore):
    def __init__(self, table_name: str, *, region: str | None = None, host: str | None = None) -> None:
        self._event_item, self._head_item = _models(table_name, region, host)

    def _connection(self) -> Connection:
        """The items' own connection: one botocore client per store, not one per transaction."""
        return self._event_item._get_connection().connection

    # --- reads ----------------------------------------------------------------------------------

    def read(self, stream: str, from_version: int = 1) -> list[Recorded]:
        event = self._event_item
        query = event.query(
            stream,
            event.sk.between(event_key(max(from_version, 1)), LAST_EVENT_KEY),
            consistent_read=True,
        )
        return [recorded_from_item(_attributes(item)) for item in self._translated(query)]

    def read_heads(self, skus: Iterable[str]) -> dict[str, SkuHead]:
        keys = [(sku_stream(sku), HEAD_KEY) for sku in dict.fromkeys(skus)]
        if not keys:
            return {}
        items = self._translated(self._head_item.batch_get(keys, consistent_read=True))
        return {item.sku: head_from_item(_attributes(item)) for item in items}

    def scan(self, segment: int, total_segments: int) -> Iterator[Recorded | Unreadable]:
        event = self._event_item
        pages = event.scan(event.sk.startswith(EVENT_PREFIX), segment=segment, total_segments=total_segments)
        for item in self._translated(pages):
            yield scanned_from_item(_attributes(item))

    def _translated(self, results: Iterable[Model]) -> Iterator[Any]:
        try:
            yield from results
        except PynamoDBException as error:
            raise self._unavailable_or_error(error) from error

    # --- writes ---------------------------------------------------------------------------------

    def transact(self, appends: Sequence[Append], heads: Sequence[HeadWrite] = ()) -> list[Recorded]:
        items = transaction_items(appends, heads)
        streams_with_heads = {sku_stream(write.head.sku) for write in heads}
        # A stream that already has events and no head guarding it gets a check that its
        # expected last event exists, so that an append can never leave a gap.
        checks = [a for a in appends if a.expected_version > 0 and a.stream not in streams_with_heads]
        if len(items) == 1 and not heads and not checks:
            self._put_one(items[0])
        else:
            self._transact(items, appends, heads, checks)
        return [recorded_from_item(item) for item in items if item["SK"] != HEAD_KEY]

    def _put_one(self, item: dict[str, Any]) -> None:
        model = self._event_item(item["PK"], item["SK"], **_fields(item))
        try:
            model.save(condition=self._event_item.pk.does_not_exist())
        except PutError as error:
            if _code_of(error) == "ConditionalCheckFailedException":
                expected = int(item["version"]) - 1
                raise ConcurrencyError(item["PK"], expected, self.version_of(item["PK"])) from error
            raise self._unavailable_or_error(error) from error

    def _transact(
        self,
        items: list[dict[str, Any]],
        appends: Sequence[Append],
        heads: Sequence[HeadWrite],
        checks: Sequence[Append],
    ) -> None:
        event, head = self._event_item, self._head_item
        # What each item guards: (stream, expected version). pynamodb sends the condition
        # checks first, then the puts, and the cancellation reasons follow that order.
        put_guards: list[tuple[str, int]] = []
        check_guards: list[tuple[str, int]] = []
        try:
            with TransactWrite(connection=self._connection()) as transaction:
                for item in items:
                    if item["SK"] == HEAD_KEY:
                        continue
                    transaction.save(
                        event(item["PK"], item["SK"], **_fields(item)), condition=event.pk.does_not_exist()
                    )
                    put_guards.append((item["PK"], int(item["version"]) - 1))
                for write in heads:
                    item = next(i for i in items if i["SK"] == HEAD_KEY and i["sku"] == write.head.sku)
                    if write.expected_version == 0:
                        condition = head.pk.does_not_exist()
                    else:
                        condition = head.version == write.expected_version
                        if write.require_available:
                            condition &= head.available >= write.require_available
                    transaction.save(head(item["PK"], item["SK"], **_fields(item)), condition=condition)
                    put_guards.append((item["PK"], write.expected_version))
                for append in checks:
                    transaction.condition_check(
                        event, append.stream, event_key(append.expected_version), condition=event.pk.exists()
                    )
                    check_guards.append((append.stream, append.expected_version))
        except TransactWriteError as error:
            raise self._cancelled(error, check_guards + put_guards) from error

    def _cancelled(self, error: TransactWriteError, guards: list[tuple[str, int]]) -> EventStoreError:
        if _code_of(error) != "TransactionCanceledException":
            return self._unavailable_or_error(error)
        for position, reason in enumerate(error.cancellation_reasons):
            if reason is None or reason.code in ("None", None):
                continue
            stream, expected = guards[position]
            if reason.code in ("ConditionalCheckFailed", "TransactionConflict"):
                return ConcurrencyError(stream, expected, self.version_of(stream))
            if reason.code in RETRYABLE or reason.code == "ThrottlingError":
                return StoreUnavailable(f"{stream}: {reason.code}")
            return EventStoreError(f"{stream}: transaction cancelled ({reason.code}: {reason.message})")
        return EventStoreError(f"transaction cancelled: {error}")

    @staticmethod
    def _unavailable_or_error(error: PynamoDBException) -> EventStoreError:
        if _code_of(error) in RETRYABLE or error.cause_response_code is None:
            return StoreUnavailable(str(error))
        return EventStoreError(str(error))


def _fields(item: dict[str, Any]) -> dict[str, Any]:
    return {name: value for name, value in item.items() if name not in ("PK", "SK")}
