"""Bare projector: each OrderPlaced stream record becomes an order row and its item rows, in Postgres.

One transaction per record, the row locked first (SELECT ... FOR UPDATE), as the projector
does; other event types are left out (the benchmark sends OrderPlaced).
"""

from __future__ import annotations

import json
import os
from datetime import datetime
from typing import Any

import psycopg
from boto3.dynamodb.types import TypeDeserializer

_deserialize = TypeDeserializer().deserialize
SCHEMA = os.environ.get("READ_MODEL_SCHEMA", "read_model")
connection = psycopg.connect(os.environ["DATABASE_URL"], autocommit=True, prepare_threshold=None)


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    failures = []
    for record in event["Records"]:
        image = {name: _deserialize(value) for name, value in record["dynamodb"]["NewImage"].items()}
        if image["type"] != "OrderPlaced":
            continue
        placed = json.loads(image["data"])
        at = datetime.fromisoformat(image["occurred_at"].replace("Z", "+00:00"))
        try:
            with connection.transaction():
                found = connection.execute(
                    f'SELECT version FROM "{SCHEMA}".orders WHERE order_id = %s FOR UPDATE',
                    [placed["order_id"]],
                ).fetchone()
                if found is not None:
                    continue
                columns = (
                    "order_id, user_id, email, status, total, currency, client_reference, payment_reference,"
                    " failure_reason, emails_sent, created_at, updated_at, version"
                )
                values = [placed[name] for name in ("order_id", "user_id", "email", "total", "currency")]
                connection.execute(
                    f'INSERT INTO "{SCHEMA}".orders ({columns}) VALUES'
                    " (%s, %s, %s, 'PENDING', %s, %s, NULL, NULL, NULL, '{}', %s, %s, %s)",
                    [*values, at, at, int(image["version"])],
                )
                with connection.cursor() as cursor:
                    cursor.executemany(
                        f'INSERT INTO "{SCHEMA}".order_items (order_id, line_no, sku, quantity, unit_price,'
                        " line_total) VALUES (%s, %s, %s, %s, %s, %s)",
                        [
                            (
                                placed["order_id"],
                                n,
                                line["sku"],
                                line["quantity"],
                                line["unit_price"],
                                line["line_total"],
                            )
                            for n, line in enumerate(placed["lines"])
                        ],
                    )
        except psycopg.Error:
            failures.append({"itemIdentifier": record["dynamodb"]["SequenceNumber"]})
    return {"batchItemFailures": failures}
