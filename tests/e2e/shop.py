"""A customer's and an operator's view of a running `orders dev`, for the end-to-end tests.

Everything goes through the system's own doors: the API over HTTP, Cognito, SQS and DynamoDB
through moto's AWS API, the read model through SQL, the replay function through Lambda's
Invoke API. Each test makes its own users and SKUs (unique names), so tests sharing one
`orders dev` never see each other's data.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import httpx
import psycopg

from infra.dev.client import DevClient, Email
from infra.emulator.aws import client

TERMINAL = ("FULFILLED", "CANCELLED")


@dataclass(frozen=True)
class Customer:
    username: str
    email: str
    token: str
    user_id: str


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def new_sku(tag: str = "T") -> str:
    return f"{tag}{uuid.uuid4().hex[:8].upper()}"


class Shop:
    def __init__(self, dev: DevClient) -> None:
        self.dev = dev
        self._admin: str | None = None

    # --- people --------------------------------------------------------------------------------

    def customer(self, prefix: str = "customer", *, tag: str | None = None) -> Customer:
        """A new customer; `tag` goes into the e-mail's local part (`decline`: the fake gateway declines)."""
        username = unique(prefix)
        email = f"{username}+{tag}@example.com" if tag else f"{username}@example.com"
        token = self.dev.token(username, email=email)
        import jwt

        user_id = jwt.decode(token, options={"verify_signature": False})["sub"]
        return Customer(username, email, token, user_id)

    def admin_token(self) -> str:
        if self._admin is None:
            self._admin = self.dev.token(unique("admin"), admin=True)
        return self._admin

    # --- the API -------------------------------------------------------------------------------

    def restock(self, sku: str, quantity: int, price: str = "10.00", currency: str = "EUR") -> dict[str, Any]:
        body = {"sku": sku, "quantity": quantity, "price": price, "currency": currency}
        answer = self.dev.api("POST", "/inventory", self.admin_token(), json=body)
        assert answer.status_code == 200, answer.text
        return answer.json()

    def place(self, customer: Customer, lines: dict[str, int], **kwargs: Any) -> httpx.Response:
        body = {"lines": [{"sku": sku, "quantity": quantity} for sku, quantity in lines.items()]}
        return self.dev.api("POST", "/orders", customer.token, json=body, **kwargs)

    def order(self, customer: Customer, order_id: str) -> httpx.Response:
        return self.dev.api("GET", f"/orders/{order_id}", customer.token)

    def wait_for_status(self, customer: Customer, order_id: str, *, timeout: float = 60) -> dict[str, Any]:
        """The order once the read model shows it in a final state (FULFILLED or CANCELLED)."""
        deadline = time.monotonic() + timeout
        last: Any = None
        while time.monotonic() < deadline:
            answer = self.order(customer, order_id)
            last = (answer.status_code, answer.text)
            if answer.status_code == 200 and answer.json()["status"] in TERMINAL:
                return answer.json()
            time.sleep(0.2)
        raise AssertionError(f"order {order_id} did not reach {TERMINAL} within {timeout} s; last: {last}")

    def events_of(self, customer: Customer, order_id: str) -> list[str]:
        answer = self.dev.api("GET", f"/orders/{order_id}/events", customer.token)
        assert answer.status_code == 200, answer.text
        return [event["type"] for event in answer.json()["events"]]

    # --- what the system holds -----------------------------------------------------------------

    def head(self, sku: str) -> dict[str, int]:
        """The SKU head in the table: the stock reservations are decided on."""
        item = client("dynamodb", self.dev.state.moto_url).get_item(
            TableName=self.dev.resources.table_name,
            Key={"PK": {"S": f"SKU#{sku}"}, "SK": {"S": "HEAD"}},
            ConsistentRead=True,
        )["Item"]
        return {name: int(item[name]["N"]) for name in ("available", "reserved", "committed")}

    def read_model(self, sql: str, *parameters: Any) -> list[tuple[Any, ...]]:
        with psycopg.connect(self.dev.state.database_url, autocommit=True) as conn:
            return conn.execute(sql, parameters).fetchall()

    def stock_in_read_model(self, sku: str) -> dict[str, int]:
        (row,) = self.read_model(
            "SELECT stock_quantity, reserved, committed FROM read_model.inventory WHERE sku = %s", sku
        )
        return {"available": row[0], "reserved": row[1], "committed": row[2]}

    def emails_to(self, address: str) -> list[Email]:
        return [email for email in self.dev.emails() if address in email.to]

    def replay_differences(self) -> list[dict[str, Any]]:
        """Rebuild the read model from the log beside the live one (a dry run) and compare them."""
        report = self.dev.invoke("replay", {"action": "run", "dry_run": True})
        return [d for d in report["differences"] if d["only_live"] or d["only_rebuilt"] or d["changed"]]

    def invoked(self, correlation_id: str) -> list[dict[str, Any]]:
        """The invocations a request with this correlation id caused (the API's function only)."""
        return self.dev.invocations(correlation_id=correlation_id)


def money(text: str) -> Decimal:
    return Decimal(text)


def order_events(shop: Shop, order_id: str) -> list[str]:
    """The order's event types, straight from the table (needs no Postgres)."""
    items = client("dynamodb", shop.dev.state.moto_url).query(
        TableName=shop.dev.resources.table_name,
        KeyConditionExpression="PK = :pk AND begins_with(SK, :ev)",
        ExpressionAttributeValues={":pk": {"S": f"ORDER#{order_id}"}, ":ev": {"S": "EV#"}},
        ConsistentRead=True,
    )["Items"]
    return [item["type"]["S"] for item in items]
