"""Cold start per function as deployed, against a bare boto3 handler doing the same AWS calls.

For each function: a fresh Python 3.12 process in a Lambda-like sandbox (bench/lambda_sandbox.py:
the built asset as the task root, Lambda's reserved variables, tracing as deployed, a
read-only code directory) imports the handler (init) and serves its first event (first
invocation) against a moto server this benchmark starts, `runs` times; the bare handler in
bench/baselines/ does the same from its own task root, built the same way, runs interleaved
with ours so that the machine's noise falls on both alike. Reported: medians of init, first
invocation and their sum, the ratios to the baseline, the modules compiled from source (0
when every module has its bytecode), the AWS libraries imported, the heaviest imports
(`python -X importtime`), and the AWS calls, botocore sessions and clients of each side
(recorded in one extra, untimed run: the calls must be the same).

What this does not see: Lambda's own start (the runtime, the sandbox, the download of the
code) comes on top of both sides alike, and SnapStart's restores (docs/benchmarks.md).
"""

from __future__ import annotations

import contextlib
import json
import subprocess
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

from bench import importtime, lambda_sandbox, stats
from bench.coldstart_cases import CASES, Case, World
from bench.local_aws import local_aws
from bench.report import Report, table
from infra import topology
from infra.dev.embedded_postgres import postgres_url
from infra.emulator.aws import ACCOUNT_ID, REGION
from infra.emulator.environment import function_environment
from ordering.adapters.postgres_connection import CONNECT_OPTIONS
from ordering.adapters.read_model_tables.migrator import migrate

NOT_USED_DATABASE = "postgresql://bench-not-used/none"  # the routes measured never open Postgres
CHILD_TIMEOUT_SECONDS = 120
CHILD_SCRIPT = Path(__file__).with_name("coldstart_child.py")
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
    sandbox: lambda_sandbox.Sandbox,
    handler: str,
    event: dict[str, Any],
    env: dict[str, str],
    context: dict[str, Any],
    scratch: Path,
    *,
    record_calls: bool = False,
) -> dict[str, Any]:
    """A fresh process in `sandbox`: import `handler`, serve `event`; its timings (and calls, if recorded)."""
    request_file = scratch / f"{uuid.uuid4().hex}.json"
    reply_file = scratch / f"{uuid.uuid4().hex}.reply.json"
    request_file.write_text(
        json.dumps({"event": event, "context": context, "reply_file": str(reply_file)}), encoding="utf-8"
    )
    command = sandbox.command(CHILD_SCRIPT, handler, str(request_file))
    if record_calls:
        command.append("--record-calls")
    completed = subprocess.run(
        command,
        env=env,
        cwd=sandbox.task_root,  # Lambda runs a handler from the root of its code
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


def sandbox_environment(
    sandbox: lambda_sandbox.Sandbox, function: topology.Function, world: World
) -> dict[str, str]:
    """The function's environment as deployed (topology, resources) in its sandbox."""
    env = function_environment(
        function, world.resources, world.database_url or NOT_USED_DATABASE, task_root=sandbox.task_root
    )
    env.update(sandbox.environment(function, world.resources.region))
    if world.schema is not None:
        env["READ_MODEL_SCHEMA"] = world.schema
    return env


def measure_case(case: Case, world: World, runs: int, scratch: Path, builds: Path) -> dict[str, Any]:
    function = topology.function(case.function)
    sides = {
        "ours": (function.handler, lambda_sandbox.function_sandbox(function, builds)),
        "baseline": (case.baseline, lambda_sandbox.baseline_sandbox(builds)),
    }
    envs = {side: sandbox_environment(sandbox, function, world) for side, (_, sandbox) in sides.items()}
    samples: dict[str, list[dict[str, Any]]] = {"ours": [], "baseline": []}
    for _ in range(runs):  # interleaved: drift in the machine's load falls on both
        for side, (handler, sandbox) in sides.items():
            reply = run_child(
                sandbox, handler, case.prepare(world), envs[side], context_for(function), scratch
            )
            if not case.succeeded(reply["result"]):
                raise RuntimeError(f"{handler} did not succeed on its first event: {reply['result']!r}")
            samples[side].append(reply)
    recorded = {
        side: run_child(
            sandbox,
            handler,
            case.prepare(world),
            envs[side],
            context_for(function),
            scratch,
            record_calls=True,
        )
        for side, (handler, sandbox) in sides.items()
    }
    calls = {side: sorted(reply["calls"]) for side, reply in recorded.items()}
    imports = {
        side: importtime.measure(
            handler.rpartition(".")[0], envs[side], sandbox.task_root, (sandbox.python, "-S")
        )
        for side, (handler, sandbox) in sides.items()
    }
    ours_imports, baseline_imports = imports["ours"], imports["baseline"]
    ours, baseline = samples["ours"], samples["baseline"]
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
        "python": ours[0]["python"],
        # Per run: the modules compiled from source during init and the first invocation.
        "compiled_from_source": {
            side: [len(s["compiled_from_source"]) for s in runs_of] for side, runs_of in samples.items()
        },
        "compiled_examples": {
            side: runs_of[0]["compiled_from_source"][:5] for side, runs_of in samples.items()
        },
        "aws_libraries_imported": {
            side: runs_of[0]["aws_libraries_imported"] for side, runs_of in samples.items()
        },
        "botocore_sessions": {side: len(reply["sessions"]) for side, reply in recorded.items()},
        "clients": {side: sorted(reply["clients"]) for side, reply in recorded.items()},
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
        builds = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-cold-assets-")))
        database_url = schema = None
        if any(case.needs_postgres for case in cases):
            database_url, schema = stack.enter_context(read_model_database())
        world = World(resources, database_url, schema)
        for case in cases:
            results.append(measure_case(case, world, runs, Path(scratch), builds))
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
    deployed = table(
        [
            "function",
            "Python",
            "modules compiled from source, most in a run (ours / baseline)",
            "AWS libraries imported (ours)",
            "botocore sessions (ours / baseline)",
            "clients built (ours)",
        ],
        [
            [
                r["case"],
                r["python"],
                f"{max(r['compiled_from_source']['ours'])} / {max(r['compiled_from_source']['baseline'])}",
                ", ".join(r["aws_libraries_imported"]["ours"]) or "none",
                f"{r['botocore_sessions']['ours']} / {r['botocore_sessions']['baseline']}",
                ", ".join(r["clients"]["ours"]) or "none",
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
        f"### As deployed: bytecode, AWS libraries, sessions and clients\n\n{deployed}\n\n"
        f"### Heaviest imports (`python -X importtime`, one run, start-up left out)\n\n{heavy}\n\n"
        f"### AWS calls\n\n{calls}"
    )
