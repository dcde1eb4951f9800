"""Cold start per function, against a bare boto3 handler doing the same AWS calls.

For each function: a fresh `python` process imports the handler (init) and serves its first
event (first invocation) against a moto server this benchmark starts, `runs` times; the bare
handler in bench/baselines/ does the same, runs interleaved with ours so that the machine's
noise falls on both alike. Reported: medians of init, first invocation and their sum, the
ratios to the baseline, the heaviest imports (`python -X importtime`), and the AWS calls each
side made (recorded in one extra, untimed run: they must be the same).

What this does not see: Lambda's own start (the runtime, the sandbox) comes on top of both
sides alike. The environment is the local runtime's (infra/emulator/environment.py), where
tracing is off for want of an X-Ray daemon; Powertools imports the X-Ray SDK all the same.
"""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

from bench import importtime, stats
from bench.coldstart_cases import CASES, Case, World
from bench.local_aws import local_aws
from bench.report import Report, table
from infra import topology
from infra.dev.embedded_postgres import postgres_url
from infra.emulator.aws import ACCOUNT_ID, REGION
from infra.emulator.environment import function_environment
from infra.emulator.functions import CODE_ROOT
from ordering.adapters.postgres_connection import CONNECT_OPTIONS
from ordering.adapters.read_model_tables.migrator import migrate

NOT_USED_DATABASE = "postgresql://bench-not-used/none"  # the routes measured never open Postgres
CHILD_TIMEOUT_SECONDS = 120
TOP_IMPORTS = 6


def context_for(function: topology.Function) -> dict[str, Any]:
    return {
        "function_name": function.name,
        "memory_limit_in_mb": function.memory_mb,
        "invoked_function_arn": f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:{function.name}",
        "aws_request_id": str(uuid.uuid4()),
        "deadline_ms": int((time.time() + function.timeout_seconds) * 1000),
        "log_group_name": f"/aws/lambda/{function.name}",
    }


@contextlib.contextmanager
def read_model_database() -> Iterator[tuple[str, str]]:
    """Postgres (embedded, or DATABASE_URL) with a migrated read model in a schema of its own."""
    with postgres_url() as url:
        schema = f"bench_cold_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(url, **CONNECT_OPTIONS) as conn:
            migrate(conn, schema)
        try:
            yield url, schema
        finally:
            with psycopg.connect(url, **CONNECT_OPTIONS) as conn:
                conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))


def run_child(
    handler: str,
    event: dict[str, Any],
    env: dict[str, str],
    context: dict[str, Any],
    scratch: Path,
    *,
    record_calls: bool = False,
) -> dict[str, Any]:
    """One fresh process: import `handler`, serve `event`; its timings (and calls, if recorded)."""
    request_file = scratch / f"{uuid.uuid4().hex}.json"
    reply_file = scratch / f"{uuid.uuid4().hex}.reply.json"
    request_file.write_text(
        json.dumps({"event": event, "context": context, "reply_file": str(reply_file)}), encoding="utf-8"
    )
    command = [sys.executable, "-m", "bench.coldstart_child", handler, str(request_file)]
    if record_calls:
        command.append("--record-calls")
    completed = subprocess.run(
        command,
        env=env,
        cwd=CODE_ROOT,  # Lambda runs a handler from the root of its code
        stdout=subprocess.DEVNULL,  # the functions' logs (CloudWatch's part on AWS)
        stderr=subprocess.PIPE,
        text=True,
        check=False,
        timeout=CHILD_TIMEOUT_SECONDS,
    )
    if completed.returncode != 0 or not reply_file.exists():
        raise RuntimeError(f"{handler} failed its cold start:\n{completed.stderr[-3000:]}")
    reply = json.loads(reply_file.read_text(encoding="utf-8"))
    request_file.unlink()
    reply_file.unlink()
    return reply


def _summary(samples: list[dict[str, Any]]) -> dict[str, Any]:
    init = [s["init_seconds"] for s in samples]
    first = [s["first_invocation_seconds"] for s in samples]
    total = [a + b for a, b in zip(init, first, strict=True)]
    return {
        "runs": len(samples),
        "init_ms": stats.ms(stats.median(init)),
        "first_invocation_ms": stats.ms(stats.median(first)),
        "sum_ms": stats.ms(stats.median(total)),
        "sum_min_ms": stats.ms(min(total)),
        "sum_max_ms": stats.ms(max(total)),
        "samples_ms": [[stats.ms(a), stats.ms(b)] for a, b in zip(init, first, strict=True)],
    }


def measure_case(case: Case, world: World, runs: int, scratch: Path) -> dict[str, Any]:
    function = topology.function(case.function)
    env = function_environment(function, world.resources, world.database_url or NOT_USED_DATABASE)
    if world.schema is not None:
        env["READ_MODEL_SCHEMA"] = world.schema
    ours: list[dict[str, Any]] = []
    baseline: list[dict[str, Any]] = []
    for _ in range(runs):  # interleaved: drift in the machine's load falls on both
        for handler, samples in ((function.handler, ours), (case.baseline, baseline)):
            reply = run_child(handler, case.prepare(world), env, context_for(function), scratch)
            if not case.succeeded(reply["result"]):
                raise RuntimeError(f"{handler} did not succeed on its first event: {reply['result']!r}")
            samples.append(reply)
    calls = {
        side: sorted(
            run_child(handler, case.prepare(world), env, context_for(function), scratch, record_calls=True)[
                "calls"
            ]
        )
        for side, handler in (("ours", function.handler), ("baseline", case.baseline))
    }
    module = function.handler.rpartition(".")[0]
    ours_imports = importtime.measure(module, env, CODE_ROOT)
    baseline_imports = importtime.measure(case.baseline.rpartition(".")[0], env, CODE_ROOT)
    ours_summary, baseline_summary = _summary(ours), _summary(baseline)
    return {
        "function": case.function,
        "case": case.name,
        "handler": function.handler,
        "baseline_handler": case.baseline,
        "event": case.route,
        "ours": ours_summary,
        "baseline": baseline_summary,
        "ratio_sum": round(stats.ratio(ours_summary["sum_ms"], baseline_summary["sum_ms"]), 2),
        "ratio_init": round(stats.ratio(ours_summary["init_ms"], baseline_summary["init_ms"]), 2),
        "ratio_first_invocation": round(
            stats.ratio(ours_summary["first_invocation_ms"], baseline_summary["first_invocation_ms"]), 2
        ),
        "aws_calls": calls,
        "same_aws_calls": Counter(calls["ours"]) == Counter(calls["baseline"]),
        "imports": {
            "ours_total_ms": stats.ms(ours_imports.total_us / 1e6),
            "baseline_total_ms": stats.ms(baseline_imports.total_us / 1e6),
            "ours_by_package_ms": [
                [name, stats.ms(us / 1e6)] for name, us in ours_imports.by_package[:TOP_IMPORTS]
            ],
            "ours_by_module_ms": [
                [name, stats.ms(us / 1e6)] for name, us in ours_imports.by_module[:TOP_IMPORTS]
            ],
            "baseline_by_package_ms": [
                [name, stats.ms(us / 1e6)] for name, us in baseline_imports.by_package[:TOP_IMPORTS]
            ],
        },
    }


def run(report: Report, *, runs: int, functions: list[str] | None = None) -> Report:
    cases = [c for c in CASES if functions is None or c.function in functions]
    unknown = set(functions or ()) - {c.function for c in CASES}
    if unknown:
        known = ", ".join(sorted({c.function for c in CASES}))
        raise ValueError(f"unknown function in {sorted(unknown)}; known: {known}")
    results = []
    with contextlib.ExitStack() as stack:
        resources = stack.enter_context(local_aws())
        scratch = stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-cold-"))
        database_url = schema = None
        if any(case.needs_postgres for case in cases):
            database_url, schema = stack.enter_context(read_model_database())
        world = World(resources, database_url, schema)
        for case in cases:
            results.append(measure_case(case, world, runs, Path(scratch)))
    report.results["cold_start"] = results
    report.add(_markdown(results, runs))
    return report


def _markdown(results: list[dict[str, Any]], runs: int) -> str:
    rows = []
    for r in results:
        o, b = r["ours"], r["baseline"]
        rows.append(
            [
                r["case"],
                o["init_ms"],
                o["first_invocation_ms"],
                o["sum_ms"],
                b["init_ms"],
                b["first_invocation_ms"],
                b["sum_ms"],
                f"{r['ratio_sum']}x",
                "yes" if r["same_aws_calls"] else "NO",
            ]
        )
    main = table(
        [
            "function",
            "init ms",
            "1st invocation ms",
            "sum ms",
            "baseline init ms",
            "baseline 1st ms",
            "baseline sum ms",
            "sum / baseline",
            "same AWS calls",
        ],
        rows,
    )
    heavy = table(
        [
            "function",
            "import total ms (ours / baseline)",
            f"heaviest packages, own time ms (top {TOP_IMPORTS})",
        ],
        [
            [
                r["case"],
                f"{r['imports']['ours_total_ms']} / {r['imports']['baseline_total_ms']}",
                ", ".join(f"{name} {value}" for name, value in r["imports"]["ours_by_package_ms"]),
            ]
            for r in results
        ],
    )
    calls = table(
        ["function", "event", "AWS calls on the first event (each side)"],
        [[r["case"], r["event"], ", ".join(r["aws_calls"]["ours"]) or "none"] for r in results],
    )
    return (
        f"### Cold start: medians of {runs} fresh processes per side\n\n{main}\n\n"
        f"### Heaviest imports (`python -X importtime`, one run, start-up left out)\n\n{heavy}\n\n"
        f"### AWS calls\n\n{calls}"
    )
