"""The `orders` command line. Each subcommand is a thin shell over a function that does the work."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import click

from infra.emulator.latency import MAX_MILLISECONDS


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """Event-sourced order processing: run it locally, check it, rebuild its read model."""


@main.command()
@click.option("--check", is_flag=True, help="Write nothing; fail naming each stale file.")
def codegen(check: bool) -> None:
    """Generate generated/ from model/ (the same as `python codegen.py`)."""
    import codegen as generator

    sys.exit(generator.main(["--check"] if check else []))


# --- the local runtime (infra/dev, on infra/emulator): no AWS account, no Docker ------------------

STATE_FILE = click.option(
    "--state-file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=Path(".orders") / "dev.json",
    show_default=True,
    envvar="ORDERS_STATE_FILE",
    help="Where `orders dev` writes its endpoints and the other commands read them.",
)


@main.command()
@click.option(
    "--port", type=int, default=8000, show_default=True, help="The API's port on 127.0.0.1 (0: any free)."
)
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Keep the event log here between runs: every write is on disk before it is answered (a "
    "kill loses nothing accepted); restored, replayed and its unfinished work re-driven on start.",
)
@STATE_FILE
@click.option("--rate-limit", type=float, help="Requests per second before 429 (default: the topology's).")
@click.option("--burst-limit", type=int, help="Token bucket size (default: the topology's).")
@click.option(
    "--route-limits/--no-route-limits",
    default=True,
    show_default=True,
    help="Throttle the routes the topology limits lower (POST /orders, /inventory, cancel) on their own.",
)
@click.option(
    "--retry-delay",
    type=float,
    default=1.0,
    show_default=True,
    help="Base of the exponential backoff of stream and EventBridge retries, in seconds.",
)
@click.option(
    "--redelivery-delay",
    type=int,
    help="Seconds before a failed SQS message comes back (default: the queue's visibility timeout).",
)
@click.option(
    "--schedule-every",
    type=click.FloatRange(min=0.1),
    help="Seconds between runs of every scheduled function, e.g. the read-model reconciliation "
    "(default: each schedule's rate in the topology).",
)
@click.option(
    "--payment-deadline",
    type=click.IntRange(1, 900),
    help="Seconds a placed order waits for payment before it is cancelled (default: the topology's 900).",
)
@click.option(
    "--stream-shards",
    type=click.IntRange(1, 64),
    help="Shards of the table's stream: one batch per shard in flight per consumer, a key's records "
    "in one (default: 2).",
)
@click.option(
    "--max-containers",
    type=click.IntRange(1, 64),
    help="Containers each function may run at once, as Lambda scales a function out (default: 4; a "
    "function's reserved concurrency caps it lower).",
)
@click.option(
    "--aws-latency",
    type=click.FloatRange(0, MAX_MILLISECONDS),
    default=0,
    help="Milliseconds every AWS request takes there and back, as DynamoDB's do from Lambda (e.g. "
    "10), so that races between containers last as long as on AWS (default: 0).",
)
@click.option(
    "--alarm-period",
    type=click.IntRange(1, 3600),
    help="Seconds of every alarm's period and between evaluations (default: the topology's 60).",
)
@click.option("--quiet", is_flag=True, help="Log only warnings and errors.")
@click.option(
    "--log-format",
    type=click.Choice(["pretty", "json"]),
    help="pretty: one coloured line per event; json: one object per line. Default: pretty on a "
    "terminal, json when piped or in CI.",
)
@click.option(
    "--reload/--no-reload",
    default=True,
    show_default=True,
    help="Retire warm containers when handlers/, streams/, ordering/ or generated/ change.",
)
def dev(
    port: int,
    data_dir: Path | None,
    state_file: Path,
    rate_limit: float | None,
    burst_limit: int | None,
    route_limits: bool,
    retry_delay: float,
    redelivery_delay: int | None,
    schedule_every: float | None,
    payment_deadline: int | None,
    stream_shards: int | None,
    max_containers: int | None,
    aws_latency: float,
    alarm_period: int | None,
    quiet: bool,
    log_format: str | None,
    reload: bool,
) -> None:
    """Run the whole system on 127.0.0.1 until Ctrl-C: API, functions, pumps, moto, PostgreSQL."""
    from cli.environment import without_aws_profile

    without_aws_profile()
    from infra import topology
    from infra.dev.foreground import serve
    from infra.dev.runtime import Options
    from infra.emulator.functions import DEFAULT_MAX_CONTAINERS
    from infra.emulator.stream_pump import DEFAULT_SHARDS

    options = Options(
        port=port,
        data_dir=data_dir,
        state_file=state_file,
        rate_limit=rate_limit if rate_limit is not None else topology.API.rate_limit,
        burst_limit=burst_limit if burst_limit is not None else topology.API.burst_limit,
        route_limits=route_limits,
        retry_delay=retry_delay,
        redelivery_delay=redelivery_delay,
        schedule_every=schedule_every,
        payment_deadline_seconds=payment_deadline or topology.PAYMENT_DEADLINE_SECONDS,
        hot_reload=reload,
        alarm_period=alarm_period or topology.ALARM_PERIOD_SECONDS,
        stream_shards=stream_shards or DEFAULT_SHARDS,
        max_containers=max_containers or DEFAULT_MAX_CONTAINERS,
        aws_latency_ms=aws_latency,
    )
    sys.exit(serve(options, quiet=quiet, log_format=log_format))


def _dev_client(state_file: Path):
    from cli.environment import running_system, without_aws_profile

    without_aws_profile()
    return running_system(state_file)


@main.command()
@click.argument("username")
@click.option("--admin", is_flag=True, help="Also add the user to the Cognito group admin.")
@click.option("--email", help="The user's e-mail (default: USERNAME@example.com).")
@STATE_FILE
def token(username: str, admin: bool, email: str | None, state_file: Path) -> None:
    """Sign USERNAME up in the local Cognito (first time) and print an ID token for the API."""
    click.echo(_dev_client(state_file).token(username, admin=admin, email=email))


@main.command()
@STATE_FILE
def seed(state_file: Path) -> None:
    """Put a small catalog with stock in, through POST /inventory as an admin."""
    from infra.dev.catalog import seed as put_catalog

    for item in put_catalog(_dev_client(state_file)):
        click.echo(json.dumps(item))


@main.command()
@STATE_FILE
@click.option("--all", "show_all", is_flag=True, help="Every alarm, not only those not OK.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per alarm.")
def alarms(state_file: Path, show_all: bool, as_json: bool) -> None:
    """Show the topology's CloudWatch alarms in `orders dev` and their state (exit 1 if one is in ALARM)."""
    found = _dev_client(state_file).alarms()
    counts: dict[str, int] = {}
    for alarm in found:
        counts[alarm["state"]] = counts.get(alarm["state"], 0) + 1
        if as_json:
            click.echo(json.dumps(alarm))
        elif show_all or alarm["state"] != "OK":
            click.echo(f"{alarm['state']:<17} {alarm['name']}  {alarm['metric']}  {alarm['reason'] or ''}")
    if not as_json:
        click.echo(", ".join(f"{n} {state}" for state, n in sorted(counts.items())))
    if counts.get("ALARM"):
        sys.exit(1)


@main.group(invoke_without_command=True)
@STATE_FILE
@click.option("--json", "as_json", is_flag=True, help="One JSON object per message instead of a table.")
@click.pass_context
def dlq(context: click.Context, state_file: Path, as_json: bool) -> None:
    """Show what sits in each dead-letter queue (without removing it); `redrive NAME` puts it back."""
    if context.invoked_subcommand is not None:
        context.obj = state_file  # `orders dlq --state-file F redrive NAME` works as well
        return
    found = _dev_client(state_file).dead_letters()
    if as_json:
        for messages in found.values():
            for message in messages:
                click.echo(json.dumps(message.__dict__))
        return
    for queue, messages in found.items():
        click.echo(f"{queue}: {len(messages)} message(s)")
        for message in messages:
            detail = json.dumps(message.body)[:300]
            click.echo(f"  {message.message_id} {json.dumps(message.attributes)} {detail}")


@dlq.command()
@click.argument("name")
@click.option(
    "--state-file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="As for `orders dlq` (default: the one given there).",
)
@click.option("--json", "as_json", is_flag=True, help="The report as one JSON object.")
@click.pass_obj
def redrive(state_file_of_dlq: Path, name: str, state_file: Path | None, as_json: bool) -> None:
    """Put what dead-letter queue NAME holds back where it came from (exit 1 if some stays).

    SQS dead-letter queues move back to their source queue; an EventBridge target's DLQ is
    delivered again to its function; a stream consumer's on-failure records are read again
    from the stream and delivered to the consumer (within the stream's 24 h retention).
    """
    from infra import topology

    try:
        report = _dev_client(state_file or state_file_of_dlq).redrive(name)
    except KeyError as error:
        raise click.ClickException(str(error.args[0])) from None
    if as_json:
        click.echo(json.dumps(report.to_json()))
    else:
        parked = topology.parked_source(name)
        records = f" ({report.records} stream record(s))" if parked.kind == "stream_consumer" else ""
        click.echo(f"{name}: {report.redriven} message(s) redriven{records}: {parked.redrive}")
        for left in report.left:
            click.echo(f"  left {left.message_id}: {left.reason}")
    if report.left:
        sys.exit(1)


@main.command()
@click.argument("function", required=False)
@click.option(
    "--event",
    "event_source",
    metavar="FILE",
    help="The event: a JSON file, - for stdin, or the name of a fixture (see --list-events).",
)
@click.option("--list-events", is_flag=True, help="List the event fixtures and the functions each one fits.")
@STATE_FILE
def invoke(function: str | None, event_source: str | None, list_events: bool, state_file: Path) -> None:
    """Run FUNCTION once on an AWS-shaped event; print its result (stdout) and its logs (stderr).

    Against the running `orders dev` if there is one (the function sees its table, queues and
    read model); otherwise in a throwaway local runtime started for this invocation.
    """
    from cli.environment import without_aws_profile
    from cli.invoke_output import print_outcome
    from infra.dev import event_fixtures
    from infra.dev import invoke as invoking
    from infra.dev.state import NotRunning

    if list_events:
        for fixture in event_fixtures.fixtures():
            click.echo(f"{fixture.name:<34} {', '.join(fixture.functions) or '-':<24} {fixture.path}")
        return
    if function is None or event_source is None:
        raise click.UsageError("give a FUNCTION and --event FILE (or --list-events)")
    without_aws_profile()
    try:
        invoking.check_function(function)
        event = event_fixtures.load(
            event_source if event_source == "-" else event_fixtures.resolve(event_source)
        )
    except (invoking.UnknownFunction, event_fixtures.BadEvent) as error:
        raise click.ClickException(str(error)) from None
    fits = event_fixtures.functions_for(event)
    if fits and function not in fits:
        click.echo(f"note: this event is one for {', '.join(fits)}, not {function}", err=True)
    try:
        from infra.dev.client import DevClient

        client = DevClient.from_state_file(state_file)
    except NotRunning:
        click.echo(
            "no `orders dev` running: starting a throwaway local runtime for this invocation", err=True
        )
        outcome = invoking.on_throwaway_runtime(function, event)
    else:
        outcome = invoking.on_running(client, function, event)
    sys.exit(print_outcome(outcome))


# --- the read model -----------------------------------------------------------------------------


@main.command()
@click.option(
    "--dry-run",
    is_flag=True,
    help="Rebuild beside the live read model, report the differences, swap nothing.",
)
@click.option(
    "--segments",
    type=click.IntRange(1, 1000),
    default=4,
    show_default=True,
    help="Parallel scan segments of the log.",
)
@click.option(
    "--workers",
    type=click.IntRange(0, 256),
    default=None,
    help="Worker processes loading the segments (default: one per CPU, at most one per segment);"
    " 0 runs every segment in a thread of this process (no faster than one).",
)
@click.option(
    "--allow-parked",
    is_flag=True,
    help="Swap in even if some events could not be projected (they are parked in the new model).",
)
@STATE_FILE
def replay(dry_run: bool, segments: int, workers: int | None, allow_parked: bool, state_file: Path) -> None:
    """Rebuild the read model from the event log, then swap it in atomically.

    Against a running `orders dev` (its state file) it runs with the replay function's own
    environment. With TABLE_NAME set it replays that table instead (AWS_ENDPOINT_URL, and
    DATABASE_URL or DB_*, from the environment). Never publishes anything. On AWS, invoke the
    replay function instead (docs/replay.md).
    """
    from cli.environment import use_function_environment

    use_function_environment("replay", state_file)

    from rich.console import Console

    from cli.progress import SegmentBars, replay_progress
    from cli.replay_report import closing_line, report_table
    from ordering import bootstrap
    from ordering.config import MissingSetting
    from ordering.ports.read_model import ReadModelError
    from ordering.services import replay as replaying

    try:
        with replay_progress(Console(stderr=True)) as progress:
            report = replaying.replay(
                bootstrap.event_store(),
                bootstrap.rebuilds(),
                segments=segments,
                workers=min(segments, os.cpu_count() or 1) if workers is None else workers,
                dry_run=dry_run,
                allow_parked=allow_parked,
                progress=SegmentBars(progress, segments),
            )
    except MissingSetting as error:
        raise click.ClickException(f"{error}: set TABLE_NAME and DATABASE_URL (or DB_*)") from None
    except (
        replaying.ReplayIncomplete,
        replaying.VerificationFailed,
        replaying.UnprojectableEvents,
        ReadModelError,
    ) as error:
        raise click.ClickException(f"replay failed, the live read model is unchanged: {error}") from None
    Console().print(report_table(report, segments=segments, dry_run=dry_run))
    for event in report.unprojectable:
        click.echo(f"could not project {event.stream} v{event.version}: {event.error}", err=True)
    click.echo(closing_line(report, dry_run=dry_run))


@main.command()
def demo() -> None:
    """Start the system, run a small day of business through it, check every outcome (exit 0 if all held)."""
    from cli.environment import without_aws_profile
    from infra.dev.demo import main as run_demo

    without_aws_profile()

    sys.exit(run_demo())


# `orders bench <name>`: the benchmarks of bench/cli.py, the same as `python -m bench <name>`.
from bench.cli import main as bench  # noqa: E402  (the CLI is the top layer: it may import bench)

main.add_command(bench, name="bench")


def _with_version(command: click.Command) -> None:
    """`--version` on every command and subcommand, not only on `orders` itself."""
    click.version_option(package_name="orders", prog_name="orders", message="%(prog)s %(version)s")(command)
    for child in getattr(command, "commands", {}).values():
        _with_version(child)


_with_version(main)


if __name__ == "__main__":
    main()
