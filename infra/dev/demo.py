"""`orders demo`: start the whole system, run a small day of business through it, check every outcome.

Four customers, a seeded catalog (MUG-01 a hot SKU in 4 shards); orders that are paid, one
beyond the stock, one declined by the fake payment gateway (its customer's e-mail is tagged
`+decline`), one customer trying to read another's order, and the lifecycle beyond payment,
with a payment deadline of DEADLINE_SECONDS: an order whose payment never comes (the gateway is
down for `+unavailable`) is cancelled at its deadline (payment_timeout); one its customer
cancels while it is pending; and one whose charge went through but whose answer was lost
(`+timeout`) until after its deadline had cancelled it: that charge is refunded. Then it waits
for the pipeline, shows orders, e-mails and stock (summed over each SKU's shards), rebuilds the
read model from the log beside the live one and compares them. Every expectation is a line
with a tick or a cross; the exit status is 0 only if all of them held.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from infra.dev.catalog import CATALOG, seed
from infra.dev.client import DevClient
from infra.dev.runtime import LocalRuntime, Options
from infra.emulator import logs
from ordering.adapters.dynamodb_table import HEAD_KEY

STATE_DIR = Path(".orders")
PIPELINE_TIMEOUT = 120
DEADLINE_SECONDS = 8  # short, so that the demo need not wait 15 minutes
REDELIVERY_SECONDS = 12  # a failed payment comes back after the deadline has passed


@dataclass
class Check:
    name: str
    held: bool
    detail: str = ""


@dataclass
class Placed:
    label: str
    customer: str
    lines: dict[str, int]
    expected: str  # FULFILLED, CANCELLED, or the HTTP refusal (e.g. "422 out_of_stock")
    order_id: str | None = None
    answer: str = ""
    status: str = "-"
    total: str = "-"
    emails: int = 0


@dataclass
class Demo:
    dev: DevClient
    console: Console
    checks: list[Check] = field(default_factory=list)

    def check(self, name: str, held: bool, detail: str = "") -> None:
        self.checks.append(Check(name, held, detail))

    def run(self) -> bool:
        dev, say = self.dev, self.console.print
        say("[bold]1. A catalog[/bold] (POST /inventory as an admin)")
        initial = {item["sku"]: item["available"] for item in seed(dev)}
        say("   " + ", ".join(f"{p.sku} x{p.quantity} at {p.price} {p.currency}" for p in CATALOG))

        say("[bold]2. Four customers[/bold] (Cognito sign-up; the post-confirmation trigger registers them)")
        stamp = time.strftime("%H%M%S")
        ada_name, bob_name, cy_name, dee_name = (f"{n}-{stamp}" for n in ("ada", "bob", "cy", "dee"))
        addresses = {
            ada_name: f"{ada_name}@example.com",
            bob_name: f"{bob_name}+decline@example.com",
            cy_name: f"{cy_name}+unavailable@example.com",
            dee_name: f"{dee_name}+timeout@example.com",
        }
        tokens = {name: dev.token(name, email=address) for name, address in addresses.items()}
        say(f"   {ada_name} pays; {bob_name}'s card is declined by the fake gateway (+decline)")
        say(
            f"   the gateway is down for {cy_name} (+unavailable); "
            f"{dee_name}'s charge loses its answer (+timeout)"
        )

        say("[bold]3. Orders[/bold] (POST /orders)")
        orders = [
            Placed("mugs and a tee", ada_name, {"MUG-01": 2, "TEE-01": 1}, "FULFILLED"),
            Placed("posters", ada_name, {"POSTER-01": 3}, "FULFILLED"),
            Placed("more lamps than exist", ada_name, {"LAMP-01": 5}, "422 out_of_stock"),
            Placed("tees, card declined", bob_name, {"TEE-01": 2}, "CANCELLED"),
            Placed("a lamp, never paid", cy_name, {"LAMP-01": 1}, "CANCELLED"),
            Placed("a poster, cancelled by its customer", cy_name, {"POSTER-01": 1}, "CANCELLED"),
            Placed("a mug, charged late and refunded", dee_name, {"MUG-01": 1}, "CANCELLED"),
        ]
        for order in orders:
            body = {"lines": [{"sku": sku, "quantity": quantity} for sku, quantity in order.lines.items()]}
            answer = dev.api("POST", "/orders", tokens[order.customer], json=body)
            if answer.status_code == 202:
                order.order_id = answer.json()["order_id"]
                order.answer = "202 accepted"
            else:
                code = (
                    answer.json().get("code", "")
                    if answer.headers.get("content-type", "").startswith("application/json")
                    else ""
                )
                order.answer = f"{answer.status_code} {code}".strip()
                order.status = order.answer
            say(f"   {order.customer}: {order.label} -> {order.answer}")

        never_paid, cancelled, refunded = orders[4], orders[5], orders[6]
        if cancelled.order_id:
            answer = dev.api("POST", f"/orders/{cancelled.order_id}/cancel", tokens[cy_name], json={})
            say(f"   {cy_name}: cancels {cancelled.label.split(',')[0]} -> {answer.status_code}")
            self.check(
                f"{cy_name}'s cancel of a pending order is 200 CANCELLED",
                answer.status_code == 200 and answer.json().get("status") == "CANCELLED",
                answer.text,
            )

        first = orders[0].order_id
        if first:
            peek = dev.api("GET", f"/orders/{first}", tokens[bob_name])
            self.check(
                f"{bob_name} reading {ada_name}'s order gets 404",
                peek.status_code == 404,
                str(peek.status_code),
            )

        say(
            "[bold]4. Waiting for the pipeline[/bold] (stream -> payment -> EventBridge -> inventory, e-mail)"
        )
        self._wait(orders, tokens)
        say(f"   (deadlines of {DEADLINE_SECONDS} s; the late charge's refund follows its redelivery)")
        histories = {
            order.label: self._history(order, tokens, until="PaymentRefunded" if order is refunded else None)
            for order in (never_paid, cancelled, refunded)
            if order.order_id
        }
        idle = dev.wait_idle(PIPELINE_TIMEOUT)
        self.check("the pipeline went idle", idle)
        sent = dev.emails()
        for order in orders:
            if order.order_id:
                order.emails = sum(order.order_id in email.subject + email.body for email in sent)
            self.check(f"{order.label}: {order.expected}", order.status == order.expected, order.status)
            if order.order_id:
                self.check(f"{order.label}: exactly one e-mail", order.emails == 1, str(order.emails))
        for name, address in addresses.items():
            paid = sum(o.expected == "FULFILLED" for o in orders if o.customer == name)
            failed = sum(o.expected == "CANCELLED" for o in orders if o.customer == name)
            received = sum(address in email.to for email in sent)
            self.check(f"{name} received {paid + failed} e-mail(s)", received == paid + failed, str(received))
        self._lifecycle_checks(histories, never_paid, cancelled, refunded)
        self._show_orders(orders)
        self._show_emails(sent, set(addresses.values()))

        self._stock(initial)
        dead = {queue: len(messages) for queue, messages in dev.dead_letters().items() if messages}
        self.check("every dead-letter queue is empty", not dead, str(dead))

        say("[bold]5. Replay[/bold] (rebuild the read model from the log beside the live one, compare)")
        report = dev.invoke("replay", {"action": "run", "dry_run": True})
        differing = [d for d in report["differences"] if d["only_live"] or d["only_rebuilt"] or d["changed"]]
        say(f"   {report['events']} events replayed into {sum(report['rows'].values())} rows")
        self.check("the rebuilt read model equals the live one", not differing, str(differing))
        swap = dev.invoke("replay", {"action": "run"})
        self.check(
            "the rebuilt read model was swapped in", bool(swap.get("swapped")), str(swap.get("swapped"))
        )
        after = dev.api("GET", f"/orders/{first}", tokens[ada_name]) if first else None
        self.check(
            "the API answers the same after the swap",
            after is not None and after.status_code == 200 and after.json()["status"] == orders[0].status,
        )
        return self._verdict()

    def _wait(self, orders: list[Placed], tokens: dict[str, str]) -> None:
        deadline = time.monotonic() + PIPELINE_TIMEOUT
        for order in orders:
            if not order.order_id:
                continue
            while time.monotonic() < deadline:
                answer = self.dev.api("GET", f"/orders/{order.order_id}", tokens[order.customer])
                if answer.status_code == 200:
                    body = answer.json()
                    order.status, order.total = body["status"], f"{body['total']} {body['currency']}"
                    if order.status in ("FULFILLED", "CANCELLED"):
                        break
                time.sleep(0.2)

    def _history(self, order: Placed, tokens: dict[str, str], *, until: str | None) -> list[dict[str, Any]]:
        """The order's events from the log (GET /orders/{id}/events); with `until`, once one has that type."""
        deadline = time.monotonic() + PIPELINE_TIMEOUT
        events: list[dict[str, Any]] = []
        while time.monotonic() < deadline:
            answer = self.dev.api("GET", f"/orders/{order.order_id}/events", tokens[order.customer])
            if answer.status_code == 200:
                events = answer.json()["events"]
                if until is None or any(event["type"] == until for event in events):
                    break
            time.sleep(0.3)
        return events

    def _lifecycle_checks(
        self,
        histories: dict[str, list[dict[str, Any]]],
        never_paid: Placed,
        cancelled: Placed,
        refunded: Placed,
    ) -> None:
        def types(order: Placed) -> list[str]:
            return [event["type"] for event in histories.get(order.label, [])]

        def reason(order: Placed) -> str | None:
            found = [
                e["data"]["reason"] for e in histories.get(order.label, []) if e["type"] == "OrderCancelled"
            ]
            return found[0] if len(found) == 1 else None

        self.check(
            f"{never_paid.label}: cancelled once at its deadline (payment_timeout)",
            reason(never_paid) == "payment_timeout",
            str(types(never_paid)),
        )
        self.check(
            f"{cancelled.label}: cancelled once (customer_cancelled), nothing charged",
            reason(cancelled) == "customer_cancelled" and "PaymentSucceeded" not in types(cancelled),
            str(types(cancelled)),
        )
        self.check(
            f"{refunded.label}: cancelled at its deadline, the late charge refunded once",
            reason(refunded) == "payment_timeout"
            and types(refunded).count("RefundRequested") == 1
            and types(refunded).count("PaymentRefunded") == 1,
            str(types(refunded)),
        )

    def _show_orders(self, orders: list[Placed]) -> None:
        table = Table(title="Orders")
        for column in ("customer", "order", "lines", "answer", "status", "total", "e-mails"):
            table.add_column(column)
        for order in orders:
            lines = ", ".join(f"{sku} x{quantity}" for sku, quantity in order.lines.items())
            table.add_row(
                order.customer,
                (order.order_id or "-")[:8],
                lines,
                order.answer,
                order.status,
                order.total,
                str(order.emails) if order.order_id else "-",
            )
        self.console.print(table)

    def _show_emails(self, sent: list[Any], addresses: set[str]) -> None:
        table = Table(title="E-mails (SES in moto keeps them)")
        table.add_column("to")
        table.add_column("subject")
        for email in sent:
            if addresses & set(email.to):
                table.add_row(", ".join(email.to), email.subject)
        self.console.print(table)

    def _stock(self, initial: dict[str, int]) -> dict[str, dict[str, int]]:
        from infra.emulator.aws import client

        dynamodb = client("dynamodb", self.dev.state.moto_url)
        table = Table(title="Stock (SKU heads in the table, summed over each SKU's shards)")
        for column in ("sku", "shards", "initial", "available", "reserved", "committed", "adds up"):
            table.add_column(column, justify="right" if column != "sku" else "left")
        found = {}

        def head_of(stream: str) -> dict[str, Any]:
            return dynamodb.get_item(
                TableName=self.dev.resources.table_name,
                Key={"PK": {"S": stream}, "SK": {"S": HEAD_KEY}},
                ConsistentRead=True,
            )["Item"]

        for sku, start in initial.items():
            catalog = head_of(f"SKU#{sku}")
            span = int(catalog.get("span", {"N": "1"})["N"])
            items = [catalog] + [head_of(f"SKU#{sku}#{shard}") for shard in range(1, span)]
            head = {
                name: sum(int(item[name]["N"]) for item in items)
                for name in ("available", "reserved", "committed")
            }
            found[sku] = head
            adds_up = sum(head.values()) == start
            table.add_row(
                sku,
                str(span),
                str(start),
                *(str(head[n]) for n in ("available", "reserved", "committed")),
                "yes" if adds_up else "NO",
            )
            self.check(f"{sku}: initial = available + reserved + committed", adds_up, str(head))
            self.check(f"{sku}: nothing left reserved", head["reserved"] == 0, str(head["reserved"]))
        self.console.print(table)
        # Cancelled orders (declined, timed out, cancelled, refunded) gave their units back.
        expected_committed = {"MUG-01": 2, "TEE-01": 1, "POSTER-01": 3, "LAMP-01": 0}
        for sku, committed in expected_committed.items():
            if sku in found:
                self.check(
                    f"{sku}: {committed} committed", found[sku]["committed"] == committed, str(found[sku])
                )
        return found

    def _verdict(self) -> bool:
        self.console.print("[bold]6. Expectations[/bold]")
        for check in self.checks:
            mark = "[green]✓[/green]" if check.held else "[red]✗[/red]"
            detail = "" if check.held or not check.detail else f"  ({check.detail})"
            self.console.print(f"   {mark} {check.name}{detail}")
        held = all(check.held for check in self.checks)
        self.console.print(
            "[bold green]All expectations held.[/bold green]"
            if held
            else "[bold red]Some expectations failed.[/bold red]"
        )
        return held


def main(*, console: Console | None = None) -> int:
    if console is None:
        console = Console()
        if not console.is_terminal:  # piped or captured: wide enough for the tables anyway
            console = Console(width=120)
    STATE_DIR.mkdir(exist_ok=True)
    log_path = STATE_DIR / "demo.log"
    with log_path.open("w", encoding="utf-8") as log:
        logs.configure(log)
        console.print(f"[bold]orders demo[/bold]: starting the system on 127.0.0.1 (log: {log_path})")
        runtime = LocalRuntime(
            Options(
                port=0,
                state_file=STATE_DIR / "demo.json",
                retry_delay=0.2,
                redelivery_delay=REDELIVERY_SECONDS,
                payment_deadline_seconds=DEADLINE_SECONDS,
            )
        )
        try:
            state = runtime.start()
            console.print(f"   API {state.api_url}")
            held = Demo(DevClient(state), console).run()
        except Exception as error:  # say what broke, and where to look
            console.print(f"[bold red]The demo could not finish:[/bold red] {type(error).__name__}: {error}")
            console.print(f"See {log_path}")
            held = False
        finally:
            runtime.stop(save=False)
            logs.configure()
    return 0 if held else 1
