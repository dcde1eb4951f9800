"""Throughput and pipeline latency on the local runtime.

`orders dev` is started as a user starts it (a subprocess: moto, embedded Postgres, the API
gateway, the functions in their own processes, the pumps), with the API's throttle lifted so
that the gateway's 429s do not cap what is measured. Then, for each concurrency:
  - baseline: raw boto3 put_item of one item into a plain table on the same moto server,
    from that many threads, for `seconds`;
  - ours: POST /orders through the gateway (JWT check, draft-04 validation, the place_order
    function, one DynamoDB transaction), from that many threads, for `seconds`;
and the ratio of the two rates. Levels run back to back: while POSTs are measured, the
pipeline works on the orders already accepted, as it would in production.

With `--shards 1,8` the POSTs are measured once per shard count, each on its own SKUs
restocked with that many shards, one after the other at each level (and with
`--compare-skus N` once more on N unsharded SKUs), so that a hot SKU sharded and unsharded
are compared in the same run. Then each cell starts with the pipeline idle (the benchmark
waits for it before the cell), so that no variant's POSTs share the cores with the pipeline
of an earlier cell's orders, only with their own. Conflict retries per order are counted
from the `place_order` function's "Placement lost races" warnings in the runtime's log.

With `--paused` the API path is measured alone: every pump of `orders dev` paused through its
control endpoint (nothing consumes what the POSTs write), against a bare boto3 client making
the calls place_order makes (a BatchGetItem of a stock head, a TransactWriteItems of three
items: the order's event, the SKU's event and its head, under the head's version) on a table
made as the system's is (stream on), on the same moto, in the same run. moto's request
counter (`GET /local/requests`) shows both sides made the same calls.

Pipeline (its own command, on a fresh `orders dev`): `orders` orders are posted (at
concurrency 8); an order is done when its log holds OrderFulfilled and ConfirmationSent
(written after SES accepted the e-mail). Its time is the later of the two events'
`occurred_at` minus the moment its POST was sent (one clock: this machine's). The e-mails
are counted in moto's SES as well. moto's requests during the run are counted per caller
(each function, each pump) and divided by the orders: with put_item's rate from as many
threads on the same moto, that gives the rate the pipeline could reach if every request
cost what a put_item costs (put_item per s / requests per order), the bound its orders per
second are set against. The CPU the run cost is measured too, per order and by process
(moto's, the runtime's, each function's containers, PostgreSQL's: bench/process_cpu.py), with
the machine's busy CPU over the same time for scale: on two shared cores, where the CPU goes
is what bounds the pipeline.
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx

from bench import process_cpu, stats
from bench.report import Report, table
from infra.dev import dev_process
from infra.dev.client import DevClient
from infra.emulator.aws import client
from infra.emulator.functions import DEFAULT_MAX_CONTAINERS
from infra.emulator.request_counter import difference
from ordering.adapters.dynamodb_table import HEAD_KEY, create_table, event_key

SKUS = 20  # orders take their SKU in turn: no SKU head is hot unless asked (--skus 1)
PIPELINE_CONCURRENCY = 8
DRAIN_TIMEOUT = 240  # seconds, plus DRAIN_PER_ORDER for each order posted to the pipeline
DRAIN_PER_ORDER = 2.0
DRAIN_LOOK_SECONDS = 0.5  # between looks at the pipeline's status; idle = three idle looks in a row
BASELINE_TABLE = "bench-put-item"
PLACE_TABLE = "bench-place-order"  # the bare client's: made as the system's table is (stream on)
ITEM_PADDING = "x" * 600  # about the size of a one-line OrderPlaced item
PAUSE_SETTLE_SECONDS = 2.0  # a pump's receive under way when paused ends (1 s long polls)
# Callers that are the benchmark looking, not the pipeline working (request_counter.py).
OBSERVERS = ("runtime-status", "dev-client", "other", "bench", "local-cloudwatch")


@contextlib.contextmanager
def orders_dev(
    scratch: Path,
    log: Path,
    *,
    data_dir: bool = False,
    containers: int = DEFAULT_MAX_CONTAINERS,
    aws_latency_ms: float = 0,
) -> Iterator[DevClient]:
    """`orders dev` on free ports, throttle lifted, with its own embedded Postgres; with
    `data_dir`, journaling every write into a data directory in `scratch`; `containers` per
    function at most; every AWS request `aws_latency_ms` there and back."""
    environment = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    keep = ("--data-dir", str(scratch / "data")) if data_dir else ()
    dev = dev_process.start(
        scratch / "dev.json",
        log,
        "--rate-limit", "1000000", "--burst-limit", "1000000", "--no-route-limits", "--quiet", *keep,
        "--max-containers", str(containers), "--aws-latency", str(aws_latency_ms),
        environment=environment,
    )  # fmt: skip
    try:
        yield dev.client
    finally:
        dev_process.stop(dev)


def _for_duration(
    concurrency: int, seconds: float, make_worker: Callable[[], Callable[[], bool]]
) -> dict[str, Any]:
    """Run `concurrency` threads, each calling its worker until `seconds` pass; rate and latencies."""
    latencies: list[float] = []
    failures = 0
    lock = threading.Lock()
    start = threading.Barrier(concurrency + 1)

    def loop() -> None:
        nonlocal failures
        work = make_worker()
        start.wait()
        mine, failed = [], 0
        while time.perf_counter() < deadline:
            began = time.perf_counter()
            ok = work()
            if ok:
                mine.append(time.perf_counter() - began)
            else:
                failed += 1
        with lock:
            latencies.extend(mine)
            failures += failed

    threads = [threading.Thread(target=loop, daemon=True) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    deadline = time.perf_counter() + seconds + 10  # provisional, reset below once all are ready
    start.wait()
    began = time.perf_counter()
    deadline = began + seconds
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - began
    if not latencies:
        raise RuntimeError(
            f"no call succeeded in {seconds} s at concurrency {concurrency} ({failures} failed)"
        )
    return {
        "concurrency": concurrency,
        "seconds": round(elapsed, 2),
        "succeeded": len(latencies),
        "failed": failures,
        "per_second": round(len(latencies) / elapsed, 1),
        "p50_ms": stats.ms(stats.percentile(latencies, 50)),
        "p99_ms": stats.ms(stats.percentile(latencies, 99)),
    }


CONFLICT_RETRIES = re.compile(r'"conflict_retries":\s*(\d+)')


class Shop:
    def __init__(self, dev: DevClient, skus: int = SKUS, shards: int = 1) -> None:
        self.dev = dev
        self.admin = dev.token(f"bench-admin-{uuid.uuid4().hex[:6]}", admin=True)
        self.skus = self.stock(skus, shards)
        dynamodb = client("dynamodb", dev.state.moto_url)
        dynamodb.create_table(
            TableName=BASELINE_TABLE,
            KeySchema=[
                {"AttributeName": "PK", "KeyType": "HASH"},
                {"AttributeName": "SK", "KeyType": "RANGE"},
            ],
            AttributeDefinitions=[
                {"AttributeName": "PK", "AttributeType": "S"},
                {"AttributeName": "SK", "AttributeType": "S"},
            ],
            BillingMode="PAY_PER_REQUEST",
        )
        self.counter = 0
        self.refusals: Counter[int] = Counter()  # status -> how many POSTs were not answered 202
        self._place_table_made = False

    def stock(self, skus: int, shards: int = 1) -> list[str]:
        """`skus` new SKUs of 1,000,000 units each, split into `shards` shards."""
        names = [f"BENCH-{n:02d}-{uuid.uuid4().hex[:4].upper()}" for n in range(skus)]
        for sku in names:
            body = {"sku": sku, "quantity": 1_000_000, "price": "1.00", "currency": "EUR", "shards": shards}
            answer = self.dev.api("POST", "/inventory", self.admin, json=body)
            if answer.status_code != 200:
                raise RuntimeError(f"restock failed: {answer.status_code} {answer.text}")
        return names

    def customer(self) -> tuple[str, str]:
        name = f"bench-{uuid.uuid4().hex[:8]}"
        email = f"{name}@example.com"
        return self.dev.token(name, email=email), email

    def poster(
        self, token: str, placed: list[tuple[str, float]] | None = None, skus: list[str] | None = None
    ) -> Callable[[], bool]:
        """A worker that POSTs one order of one line (a SKU of `skus` in turn) per call."""
        chosen = skus or self.skus
        http = httpx.Client(timeout=60)
        url = f"{self.dev.state.api_url}/orders"
        headers = {"Authorization": token}

        def post() -> bool:
            self.counter += 1
            sku = chosen[self.counter % len(chosen)]
            sent = time.time()
            answer = http.post(url, headers=headers, json={"lines": [{"sku": sku, "quantity": 1}]})
            if answer.status_code != 202:
                self.refusals[answer.status_code] += 1
                return False
            if placed is not None:
                placed.append((answer.json()["order_id"], sent))
            return True

        return post

    def putter(self) -> Callable[[], bool]:
        dynamodb = client("dynamodb", self.dev.state.moto_url, caller="bench")

        def put() -> bool:
            item = {
                "PK": {"S": f"B#{uuid.uuid4()}"},
                "SK": {"S": event_key(1)},
                "data": {"S": ITEM_PADDING},
            }
            dynamodb.put_item(TableName=BASELINE_TABLE, Item=item)
            return True

        return put

    def make_place_table(self) -> None:
        create_table(client("dynamodb", self.dev.state.moto_url, caller="bench-bare"), PLACE_TABLE)
        self._place_table_made = True

    def placer(self) -> Callable[[], bool]:
        """A worker making place_order's two calls with a bare boto3 client, on its own head
        (no races: what a conflict costs is not what is compared)."""
        dynamodb = client("dynamodb", self.dev.state.moto_url, caller="bench-bare")
        assert self._place_table_made, "make_place_table() first"
        sku = f"SKU#BARE-{uuid.uuid4().hex[:8]}"
        head = {"PK": {"S": sku}, "SK": {"S": HEAD_KEY}}

        def place() -> bool:
            read = dynamodb.batch_get_item(
                RequestItems={PLACE_TABLE: {"Keys": [head], "ConsistentRead": True}}
            )["Responses"][PLACE_TABLE]
            seen = int(read[0]["version"]["N"]) if read else 0
            condition = (
                {"ConditionExpression": "attribute_not_exists(PK)"}
                if seen == 0
                else {
                    "ConditionExpression": "version = :seen AND available >= :needed",
                    "ExpressionAttributeValues": {":seen": {"N": str(seen)}, ":needed": {"N": "1"}},
                }
            )
            order = {
                "PK": {"S": f"ORDER#{uuid.uuid4()}"},
                "SK": {"S": event_key(1)},
                "data": {"S": ITEM_PADDING},
            }
            stock = {"PK": {"S": sku}, "SK": {"S": event_key(seen + 1)}, "data": {"S": ITEM_PADDING[:200]}}
            new_head = {**head, "version": {"N": str(seen + 1)}, "available": {"N": str(1_000_000 - seen)}}
            absent = "attribute_not_exists(PK)"
            dynamodb.transact_write_items(
                TransactItems=[
                    {"Put": {"TableName": PLACE_TABLE, "Item": order, "ConditionExpression": absent}},
                    {"Put": {"TableName": PLACE_TABLE, "Item": stock, "ConditionExpression": absent}},
                    {"Put": {"TableName": PLACE_TABLE, "Item": new_head, **condition}},
                ]
            )
            return True

        return place


def _drain(dev: DevClient, orders: int = 0) -> None:
    """Until the pipeline looks idle three times in a row (few looks: moto shares its CPU with them)."""
    timeout = DRAIN_TIMEOUT + DRAIN_PER_ORDER * orders
    deadline, streak = time.monotonic() + timeout, 0
    while streak < 3:
        if time.monotonic() > deadline:
            raise RuntimeError(f"the pipeline did not drain within {timeout} s: {dev.status()}")
        streak = streak + 1 if dev.status()["idle"] else 0
        time.sleep(DRAIN_LOOK_SECONDS)


def _emailed(requests: dict[str, Any]) -> int:
    """E-mails the notification function has asked SES to send (from the counter: no AWS call)."""
    operations = requests["callers"].get("notification", {}).get("operations", {})
    return sum(count for operation, count in operations.items() if operation.startswith("ses."))


def _until_emailed(dev: DevClient, before: dict[str, Any], orders: int) -> None:
    """Until as many e-mails as orders were sent, looking at the counter: the drain's status
    looks make about a dozen SQS calls each, which would load the moto being measured."""
    deadline = time.monotonic() + DRAIN_TIMEOUT + DRAIN_PER_ORDER * orders
    while _emailed(dev.requests()) - _emailed(before) < orders and time.monotonic() < deadline:
        time.sleep(DRAIN_LOOK_SECONDS)


def per_order(requests: dict[str, Any], orders: int) -> dict[str, Any]:
    """AWS requests per order, in all and per caller, the benchmark's own looks left out."""
    working = {
        caller: entry for caller, entry in requests["callers"].items() if not caller.startswith(OBSERVERS)
    }
    total = sum(entry["total"] for entry in working.values())
    return {
        "per_order": round(total / orders, 2),
        "by_caller": {caller: round(entry["total"] / orders, 2) for caller, entry in working.items()},
        "by_operation": {
            f"{caller} {operation}": round(count / orders, 2)
            for caller, entry in working.items()
            for operation, count in entry["operations"].items()
        },
        "left_out": {
            caller: entry["total"] for caller, entry in requests["callers"].items() if caller not in working
        },
    }


def _pipeline(shop: Shop, orders: int) -> dict[str, Any]:
    token, email = shop.customer()
    placed: list[tuple[str, float]] = []
    before = shop.dev.requests()
    runtime_pid = shop.dev.state.pid
    postgres_pid = process_cpu.postmaster_pid(shop.dev.state.database_url)
    cpu_before = process_cpu.sample(runtime_pid, postgres_pid)
    machine_before, bench_before = process_cpu.machine_busy(), process_cpu.this_process()
    posted_at = time.time()

    def post_all(count: int) -> None:
        post = shop.poster(token, placed)
        for _ in range(count):
            post()

    share = [
        orders // PIPELINE_CONCURRENCY + (i < orders % PIPELINE_CONCURRENCY)
        for i in range(PIPELINE_CONCURRENCY)
    ]
    with ThreadPoolExecutor(PIPELINE_CONCURRENCY) as pool:
        list(pool.map(post_all, share))
    accepted_in = time.time() - posted_at
    _until_emailed(shop.dev, before, len(placed))
    _drain(shop.dev, orders)
    drained_in = time.time() - posted_at
    cpu = process_cpu.breakdown(cpu_before, process_cpu.sample(runtime_pid, postgres_pid), len(placed))
    cpu["machine_busy_seconds"] = round(process_cpu.machine_busy() - machine_before, 2)
    cpu["benchmark_clients_seconds"] = round(process_cpu.this_process() - bench_before, 2)
    cpu["postgres_measured"] = postgres_pid is not None
    requests = difference(shop.dev.requests(), before)
    dynamodb = client("dynamodb", shop.dev.state.moto_url)
    table_name = shop.dev.resources.table_name
    latencies, unfinished = [], []
    for order_id, sent in placed:
        items = dynamodb.query(
            TableName=table_name,
            KeyConditionExpression="PK = :pk",
            ExpressionAttributeValues={":pk": {"S": f"ORDER#{order_id}"}},
            ConsistentRead=True,
        )["Items"]
        done = {item["type"]["S"]: item["occurred_at"]["S"] for item in items}
        if "OrderFulfilled" not in done or "ConfirmationSent" not in done:
            unfinished.append(order_id)
            continue
        finished = max(_epoch(done["OrderFulfilled"]), _epoch(done["ConfirmationSent"]))
        latencies.append(finished - sent)
    emails = [e for e in shop.dev.emails() if email in e.to]
    if not latencies:
        raise RuntimeError("no order was fulfilled and e-mailed")
    return {
        "orders_posted": orders,
        "orders_accepted": len(placed),
        "fulfilled_and_emailed": len(latencies),
        "unfinished": len(unfinished),
        "emails_to_customer": len(emails),
        "post_concurrency": PIPELINE_CONCURRENCY,
        "all_accepted_after_s": round(accepted_in, 1),
        "pipeline_idle_after_s": round(drained_in, 1),
        "orders_per_second": round(len(placed) / drained_in, 2),
        "aws_requests": per_order(requests, max(1, len(placed))),
        "cpu": cpu,
        "p50_ms": stats.ms(stats.percentile(latencies, 50)),
        "p99_ms": stats.ms(stats.percentile(latencies, 99)),
        "min_ms": stats.ms(min(latencies)),
        "max_ms": stats.ms(max(latencies)),
    }


def _epoch(timestamp: str) -> float:
    return datetime.fromisoformat(timestamp.replace("Z", "+00:00")).timestamp()


def _conflict_retries(log: Path, start: int) -> tuple[int, int]:
    """Conflict retries reported in the runtime's log after byte `start`, and where the log ends."""
    with log.open("rb") as text:
        text.seek(start)
        added = text.read()
    return sum(int(n) for n in CONFLICT_RETRIES.findall(added.decode("utf-8", "replace"))), start + len(added)


def run(
    report: Report,
    *,
    seconds: float,
    levels: list[int],
    orders: int,
    log: Path,
    skus: int = SKUS,
    shards: list[int] | None = None,
    compare_skus: int = 0,
    data_dir: bool = False,
    containers: int = DEFAULT_MAX_CONTAINERS,
    aws_latency_ms: float = 0,
    paused: bool = False,
) -> Report:
    """POST /orders against put_item at each concurrency level, then (if `orders`) the pipeline,
    on one `orders dev`. `log`: where the runtime's own log is kept, for a run that went wrong.
    `shards`: the shard counts to measure `skus` SKUs at, side by side (default: 1 only);
    `compare_skus`: also measure that many unsharded SKUs, for reference. `data_dir`:
    `orders dev --data-dir`, whose journal fsyncs every write of the table (the baseline's
    table is not journaled). `containers`: `orders dev --max-containers` (Lambda runs as many
    executions at once as there are requests in flight; 4 containers cap that).
    `aws_latency_ms`: `orders dev --aws-latency`, the round trip of every AWS request, the
    baseline's included (infra/emulator/latency.py). `paused`:
    every pump paused while the POSTs are measured, and the baseline a bare client making
    place_order's calls (see the module's docstring)."""
    report.results["runtime_log"] = str(log)
    report.results["data_dir"] = data_dir
    report.results["paused"] = paused
    shard_counts = shards or [1]
    with (
        tempfile.TemporaryDirectory(prefix="bench-dev-") as scratch,
        orders_dev(
            Path(scratch), log, data_dir=data_dir, containers=containers, aws_latency_ms=aws_latency_ms
        ) as dev,
    ):
        shop = Shop(dev, skus, shard_counts[0])
        variants = [(f"{skus} SKU(s), K={shard_counts[0]}", shop.skus)]
        variants += [(f"{skus} SKU(s), K={k}", shop.stock(skus, k)) for k in shard_counts[1:]]
        if compare_skus:
            variants.append((f"{compare_skus} SKUs, K=1", shop.stock(compare_skus)))
        token, _ = shop.customer()
        status = dev.status()
        report.results["place_order_containers"] = status["max_containers"]["place_order"]
        report.results["aws_latency_ms"] = status["aws_latency_ms"]
        report.results["skus"] = skus
        report.results["warm_up"] = _for_duration(4, 2, lambda: shop.poster(token))  # starts containers
        _drain(dev)
        throughput = []
        if paused and levels:
            shop.make_place_table()
            dev.pause_pumps()
            time.sleep(PAUSE_SETTLE_SECONDS)
        posted = 0
        idle_start = len(variants) > 1 and not paused  # each cell from an idle pipeline
        report.results["cells_start_idle"] = idle_start
        for concurrency in levels:
            if idle_start:
                _drain(dev, posted)
            before = dev.requests()
            baseline = _for_duration(concurrency, seconds, shop.placer if paused else shop.putter)
            baseline["aws_requests_per_call"] = per_call(difference(dev.requests(), before), baseline)
            for name, chosen in variants:
                if idle_start:
                    _drain(dev, posted)
                idle_at_start = bool(dev.status()["idle"])
                shop.refusals.clear()
                _, start = _conflict_retries(log, 0)
                before = dev.requests()
                ours = _for_duration(
                    concurrency, seconds, lambda chosen=chosen: shop.poster(token, skus=chosen)
                )
                ours["aws_requests_per_call"] = per_call(difference(dev.requests(), before), ours)
                posted += ours["succeeded"]
                time.sleep(1)  # the last invocations' logs reach the runtime's log
                retries, _ = _conflict_retries(log, start)
                ours["non_202_by_status"] = {
                    str(status): count for status, count in sorted(shop.refusals.items())
                }
                ours["conflict_retries"] = retries
                ours["pipeline_idle_at_start"] = idle_at_start
                ours["conflict_retries_per_order"] = round(retries / ours["succeeded"], 2)
                throughput.append(
                    {
                        "variant": name,
                        "concurrency": concurrency,
                        "ours": ours,
                        "baseline": baseline,
                        "ratio": round(stats.ratio(ours["per_second"], baseline["per_second"]), 3),
                    }
                )
        if throughput:
            report.results["throughput"] = throughput
            containers = report.results["place_order_containers"]
            latency = report.results["aws_latency_ms"]
            report.add(_throughput_markdown(throughput, seconds, containers, latency, paused=paused))
        if paused and levels:
            dev.pause_pumps(False)
        if orders:
            _drain(dev, posted)  # the pipeline starts idle
            pipeline = _pipeline(shop, orders)
            # The machine's yardstick: raw writes on the same moto, from as many threads as post.
            reference = _for_duration(PIPELINE_CONCURRENCY, 3, shop.putter)
            requests = pipeline["aws_requests"]["per_order"]
            bound = stats.ratio(reference["per_second"], requests)
            pipeline["orders_per_second_bound"] = round(bound, 2)
            pipeline["orders_per_second_of_bound"] = round(
                stats.ratio(pipeline["orders_per_second"], bound), 3
            )
            report.results.update({"pipeline": pipeline, "put_item_reference": reference})
            report.add(_pipeline_markdown(pipeline, reference))
    return report


def per_call(requests: dict[str, Any], side: dict[str, Any]) -> dict[str, dict[str, float]]:
    """Each caller's requests per successful call of a side, by operation."""
    calls = max(1, side["succeeded"] + side["failed"])
    return {
        caller: {operation: round(count / calls, 2) for operation, count in entry["operations"].items()}
        for caller, entry in requests["callers"].items()
    }


def _requests_cell(per_call: dict[str, dict[str, float]]) -> str:
    """ "place_order: BatchGetItem 1.0, TransactWriteItems 1.0; rule-pump: ReceiveMessage 0.1"."""
    return "; ".join(
        f"{caller}: " + ", ".join(f"{op.split('.', 1)[1]} {n}" for op, n in operations.items())
        for caller, operations in per_call.items()
    )


def _throughput_markdown(
    throughput: list[dict[str, Any]],
    seconds: float,
    containers: int,
    aws_latency_ms: float = 0,
    *,
    paused: bool = False,
) -> str:
    first = {
        t["concurrency"]: t["ours"]["per_second"]
        for t in throughput
        if t["variant"] == throughput[0]["variant"]
    }
    rows = [
        [
            t["variant"],
            t["concurrency"],
            t["ours"]["per_second"],
            round(stats.ratio(t["ours"]["per_second"], first[t["concurrency"]]), 2),
            t["ours"]["p50_ms"],
            t["ours"]["p99_ms"],
            ", ".join(f"{n} x {status}" for status, n in t["ours"].get("non_202_by_status", {}).items()) or 0,
            t["ours"]["conflict_retries_per_order"],
            t["baseline"]["per_second"],
            t["baseline"]["p50_ms"],
            t["ratio"],
            _requests_cell(t["ours"]["aws_requests_per_call"]),
            _requests_cell(t["baseline"]["aws_requests_per_call"]),
        ]
        for t in throughput
    ]
    baseline = "bare place_order calls" if paused else "baseline put_item"
    title = f"### POST /orders per second on `orders dev`, {seconds} s per level and side"
    title += f", up to {containers} place_order containers"
    if aws_latency_ms:
        title += f", {aws_latency_ms:g} ms per AWS round trip"
    if paused:
        title += ", every pump paused"
    return (
        title
        + "\n\n"
        + table(
            [
                "SKUs, shards",
                "concurrency",
                "POST /orders per s",
                f"x {throughput[0]['variant']}",
                "POST p50 ms",
                "POST p99 ms",
                "non-202",
                "conflict retries per order",
                f"{baseline} per s",
                f"{baseline} p50 ms",
                f"POST / {baseline}",
                "moto requests per POST",
                f"moto requests per {baseline.removeprefix('baseline ')}",
            ],
            rows,
        )
    )


def _pipeline_markdown(p: dict[str, Any], reference: dict[str, Any]) -> str:
    columns = [
        "accepted", "fulfilled and e-mailed", "e-mails in SES", "p50 ms", "p99 ms", "min ms", "max ms",
        "all accepted after s", "pipeline idle after s", "orders per s", "AWS requests per order",
        "bound: put_item per s / requests per order", "orders per s / bound",
    ]  # fmt: skip
    requests = p["aws_requests"]
    row = [
        p["orders_accepted"], p["fulfilled_and_emailed"], p["emails_to_customer"], p["p50_ms"], p["p99_ms"],
        p["min_ms"], p["max_ms"], p["all_accepted_after_s"], p["pipeline_idle_after_s"],
        p["orders_per_second"], requests["per_order"], p["orders_per_second_bound"],
        p["orders_per_second_of_bound"],
    ]  # fmt: skip
    callers = [[caller, n] for caller, n in sorted(requests["by_caller"].items(), key=lambda c: -c[1])]
    operations = [[name, n] for name, n in requests["by_operation"].items()]
    return (
        f"### Pipeline: POST to FULFILLED and e-mailed, {p['orders_posted']} orders posted at "
        f"concurrency {p['post_concurrency']}\n\n"
        + table(columns, [row])
        + f"\n\nYardstick, same moto, same run: raw put_item from {reference['concurrency']} threads, "
        f"{reference['per_second']} per s (p50 {reference['p50_ms']} ms).\n\n"
        + "#### AWS requests per order, per caller\n\n"
        + table(["caller", "requests per order"], callers)
        + "\n\n"
        + table(["caller and operation", "requests per order"], operations)
        + "\n\nLeft out (the benchmark's own looks): "
        + (", ".join(f"{caller} {n}" for caller, n in requests["left_out"].items()) or "none")
        + ".\n\n"
        + _cpu_markdown(p["cpu"])
    )


def _cpu_markdown(cpu: dict[str, Any]) -> str:
    """CPU per order by process (bench/process_cpu.py), with the machine's for scale."""
    rows = [
        [part, ms, cpu["by_part_seconds"][part], cpu["processes_at_end"].get(part, 0)]
        for part, ms in cpu["by_part_per_order_ms"].items()
    ]
    rows.append(["**total**", f"**{cpu['per_order_ms']}**", cpu["cpu_seconds"], ""])
    postgres = "" if cpu["postgres_measured"] else " PostgreSQL was not ours (DATABASE_URL): not measured."
    return (
        "#### CPU per order, by process, over the run\n\n"
        + table(["process", "CPU ms per order", "CPU s", "processes at the end"], rows)
        + f"\n\nOver the same time the machine's cores were busy {cpu['machine_busy_seconds']} CPU-s "
        f"in all, the benchmark's own clients {cpu['benchmark_clients_seconds']} of them; "
        f"{cpu['processes_started']} process(es) started and {cpu['processes_exited']} exited "
        f"during the run.{postgres}"
    )
