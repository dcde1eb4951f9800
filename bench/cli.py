"""`python -m bench <name>` and `orders bench <name>`: run a benchmark, save and print its results.

Every benchmark writes <out>/<name>.json and <out>/<name>.md (default out: build/bench) and
prints the Markdown, which docs/benchmarks.md quotes with the command and the machine.
"""

from __future__ import annotations

import shlex
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from bench.report import Report
from infra.emulator.latency import MAX_MILLISECONDS
from ordering.domain.inventory import MAX_SHARDS

OUT = click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("build") / "bench",
    show_default=True,
    help="Where the results go (<name>.json and <name>.md).",
)


def _command() -> str:
    """The command line that reproduces this run: every option written out, defaults included."""
    context = click.get_current_context()
    path = context.command_path
    parent = context.parent
    if parent is not None and parent.command.name == "all" and parent.parent is not None:
        path = f"{parent.parent.command_path} {context.info_name}"  # what runs this one alone
    words = [path]
    for parameter in context.command.params:
        value = context.params.get(parameter.name or "")
        if not isinstance(parameter, click.Option) or value is None or value == () or parameter.name == "out":
            continue
        flag = parameter.opts[0]
        if parameter.is_flag:
            words += [flag] if value else []
        else:
            for each in value if isinstance(value, tuple) else (value,):
                words += [flag, shlex.quote(str(each))]
    return " ".join(words)


def _run(name: str, parameters: dict[str, Any], out: Path, body: Callable[[Report], Report]) -> Report:
    report = body(Report(name=name, command=_command(), parameters=parameters)).finish()
    as_json, _ = report.save(out)
    click.echo(report.markdown())
    click.echo(f"saved {as_json}", err=True)
    return report


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """Benchmarks, each against a baseline measured in the same run (docs/benchmarks.md)."""


@main.command()
@click.option(
    "--runs", type=click.IntRange(1, 100), default=10, show_default=True, help="Fresh processes per side."
)
@click.option("--function", "functions", multiple=True, help="Only this function (repeatable; default: all).")
@OUT
def coldstart(runs: int, functions: tuple[str, ...], out: Path) -> None:
    """Cold start per function against a bare boto3 handler, on a moto server."""
    from bench import coldstart as benchmark

    chosen = list(functions) or None
    _run(
        "coldstart",
        {"runs": runs, "functions": chosen or "all"},
        out,
        lambda report: benchmark.run(report, runs=runs, functions=chosen),
    )


@main.command()
@click.option(
    "--invocations", type=click.IntRange(1, 100_000), default=1000, show_default=True, help="Per side."
)
@click.option("--function", "functions", multiple=True, help="Only this function (repeatable; default: all).")
@OUT
def warm(invocations: int, functions: tuple[str, ...], out: Path) -> None:
    """Warm invocations with every adapter in memory: our own code's cost, against the bare service call."""
    from bench import warm as benchmark

    chosen = list(functions) or None
    _run(
        "warm",
        {"invocations": invocations, "functions": chosen or "all"},
        out,
        lambda report: benchmark.run(report, invocations=invocations, functions=chosen),
    )


@main.command()
@click.option("--function", "functions", multiple=True, help="Only this function's asset (repeatable).")
@OUT
def bundle(functions: tuple[str, ...], out: Path) -> None:
    """Each function asset's size, zipped, built as `cdk deploy` builds it (pip needs PyPI)."""
    from bench import bundle as benchmark

    chosen = list(functions) or None
    _run(
        "bundle", {"functions": chosen or "all"}, out, lambda report: benchmark.run(report, functions=chosen)
    )


@main.command()
@click.option("--seconds", type=float, default=8.0, show_default=True, help="Per concurrency level and side.")
@click.option(
    "--concurrency", "levels", default="1,8,32", show_default=True, help="Comma-separated concurrency levels."
)
@click.option(
    "--orders",
    type=click.IntRange(0, 100_000),
    default=0,
    show_default=True,
    help="Then this many through the pipeline.",
)
@click.option(
    "--skus",
    type=click.IntRange(1, 1000),
    default=20,
    show_default=True,
    help="SKUs the orders take in turn.",
)
@click.option(
    "--shards",
    default="1",
    show_default=True,
    help=f"Comma-separated shard counts (1 to {MAX_SHARDS}): POSTs measured on --skus SKUs at each, "
    "side by side.",
)
@click.option(
    "--compare-skus",
    type=click.IntRange(0, 1000),
    default=0,
    show_default=True,
    help="Also measure this many unsharded SKUs in the same run (0: not).",
)
@click.option(
    "--data-dir",
    "data_dir",
    is_flag=True,
    help="Run `orders dev --data-dir` (every write of the table journaled and fsynced).",
)
@click.option(
    "--containers",
    type=click.IntRange(1, 64),
    default=4,
    show_default=True,
    help="`orders dev --max-containers`: containers each function may run at once.",
)
@click.option(
    "--aws-latency",
    type=click.FloatRange(0, MAX_MILLISECONDS),
    default=0,
    show_default=True,
    help="`orders dev --aws-latency`: ms every AWS request takes there and back (as from Lambda).",
)
@click.option(
    "--paused",
    is_flag=True,
    help="Pause every pump while POSTs are measured; baseline: a bare client making place_order's calls.",
)
@OUT
def throughput(
    seconds: float,
    levels: str,
    orders: int,
    skus: int,
    shards: str,
    compare_skus: int,
    data_dir: bool,
    containers: int,
    aws_latency: float,
    paused: bool,
    out: Path,
) -> None:
    """POST /orders per second on `orders dev` against raw put_item (or, --paused, a bare
    client making place_order's calls) on the same moto."""
    from bench import throughput as benchmark

    chosen = [int(level) for level in levels.split(",") if level.strip()]
    shard_counts = [int(k) for k in shards.split(",") if k.strip()]
    if not shard_counts or not all(1 <= k <= MAX_SHARDS for k in shard_counts):
        raise click.BadParameter(f"shard counts are 1 to {MAX_SHARDS}: {shards!r}", param_hint="--shards")
    _run(
        "throughput",
        {
            "seconds": seconds,
            "concurrency": chosen,
            "orders": orders,
            "skus": skus,
            "shards": shard_counts,
            "compare_skus": compare_skus,
            "data_dir": data_dir,
            "containers": containers,
            "aws_latency": aws_latency,
            "paused": paused,
        },
        out,
        lambda report: benchmark.run(
            report,
            seconds=seconds,
            levels=chosen,
            orders=orders,
            skus=skus,
            shards=shard_counts,
            compare_skus=compare_skus,
            log=out / "throughput-runtime.log",
            data_dir=data_dir,
            containers=containers,
            aws_latency_ms=aws_latency,
            paused=paused,
        ),
    )


@main.command()
@click.option(
    "--orders",
    type=click.IntRange(1, 100_000),
    default=1000,
    show_default=True,
    help="Orders through the pipeline.",
)
@OUT
def pipeline(orders: int, out: Path) -> None:
    """Time from POST /orders to FULFILLED and e-mailed, per order, on an idle `orders dev`."""
    from bench import throughput as benchmark

    _run(
        "pipeline",
        {"orders": orders},
        out,
        lambda report: benchmark.run(
            report, seconds=0, levels=[], orders=orders, log=out / "pipeline-runtime.log"
        ),
    )


@main.command()
@click.option(
    "--events",
    type=click.IntRange(100, 10_000_000),
    default=100_000,
    show_default=True,
    help="(a) from memory.",
)
@click.option(
    "--table-events",
    type=click.IntRange(0, 10_000_000),
    default=20_000,
    show_default=True,
    help="(b) from the table on moto (0: skip); each worker count replays and scans it once.",
)
@click.option(
    "--segments", type=click.IntRange(1, 64), default=4, show_default=True, help="Parallel scan segments."
)
@click.option(
    "--workers",
    default="0,1,2",
    show_default=True,
    help="Worker process counts to measure, comma-separated (0: the segments in threads of one process).",
)
@OUT
def replay(events: int, table_events: int, segments: int, workers: str, out: Path) -> None:
    """Events per second rebuilding the read model, per worker and scaling with workers, from memory
    (vs COPY) and from the table on moto (vs a raw parallel scan)."""
    from bench import replay as benchmark

    try:
        counts = [int(n) for n in workers.split(",")]
    except ValueError:
        raise click.BadParameter(
            f"{workers!r} is not a comma-separated list of numbers", param_hint="--workers"
        ) from None
    if not counts or any(n < 0 for n in counts):
        raise click.BadParameter("worker counts are 0 or more", param_hint="--workers")
    _run(
        "replay",
        {"events": events, "table_events": table_events, "segments": segments, "workers": workers},
        out,
        lambda report: benchmark.run(
            report, events=events, segments=segments, table_events=table_events, workers=counts
        ),
    )


@main.command()
@click.option(
    "--events",
    type=click.IntRange(100, 10_000_000),
    default=20_000,
    show_default=True,
    help="Events in the log.",
)
@click.option(
    "--behind-every",
    type=click.IntRange(1, 1_000_000),
    default=50,
    show_default=True,
    help="Every Nth order is held in the read model without its last event.",
)
@OUT
def reconcile(events: int, behind_every: int, out: Path) -> None:
    """One reconciliation run over a window of orders (batched) against a Query per order."""
    from bench import reconcile as benchmark

    _run(
        "reconcile",
        {"events": events, "behind_every": behind_every},
        out,
        lambda report: benchmark.run(report, events=events, behind_every=behind_every),
    )


@main.command(name="all")
@OUT
@click.pass_context
def run_all(context: click.Context, out: Path) -> None:
    """Every benchmark with its defaults, one after the other (mind the time: see docs/benchmarks.md)."""
    for command in (coldstart, warm, bundle, throughput, pipeline, replay, reconcile):
        context.invoke(command, out=out)


if __name__ == "__main__":
    main()
