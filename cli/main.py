"""The `orders` command line. Each subcommand is a thin shell over a function that does the work."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click


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
    help="Keep the event log here between runs (saved on shutdown, restored and replayed on start).",
)
@STATE_FILE
@click.option("--rate-limit", type=float, help="Requests per second before 429 (default: the topology's).")
@click.option("--burst-limit", type=int, help="Token bucket size (default: the topology's).")
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
@click.option("--quiet", is_flag=True, help="Log only warnings and errors.")
def dev(
    port: int,
    data_dir: Path | None,
    state_file: Path,
    rate_limit: float | None,
    burst_limit: int | None,
    retry_delay: float,
    redelivery_delay: int | None,
    quiet: bool,
) -> None:
    """Run the whole system on 127.0.0.1 until Ctrl-C: API, functions, pumps, moto, PostgreSQL."""
    from infra import topology
    from infra.dev.foreground import serve
    from infra.dev.runtime import Options

    options = Options(
        port=port,
        data_dir=data_dir,
        state_file=state_file,
        rate_limit=rate_limit if rate_limit is not None else topology.API.rate_limit,
        burst_limit=burst_limit if burst_limit is not None else topology.API.burst_limit,
        retry_delay=retry_delay,
        redelivery_delay=redelivery_delay,
    )
    sys.exit(serve(options, quiet=quiet))


def _dev_client(state_file: Path):
    from infra.dev.client import DevClient
    from infra.dev.state import NotRunning

    try:
        return DevClient.from_state_file(state_file)
    except NotRunning as error:
        raise click.ClickException(str(error)) from None


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
    help="Parallel scan segments (a thread each).",
)
@click.option(
    "--allow-parked",
    is_flag=True,
    help="Swap in even if some events could not be projected (they are parked in the new model).",
)
@STATE_FILE
def replay(dry_run: bool, segments: int, allow_parked: bool, state_file: Path) -> None:
    """Rebuild the read model from the event log, then swap it in atomically.

    Against a running `orders dev` (its state file) it runs with the replay function's own
    environment. Otherwise it reads TABLE_NAME (and AWS_ENDPOINT_URL) and DATABASE_URL or DB_*
    from the environment. Never publishes anything. On AWS, invoke the replay function instead
    (docs/replay.md).
    """
    import os

    if "TABLE_NAME" not in os.environ and state_file.exists():
        from infra import topology
        from infra.emulator.environment import function_environment

        state = _dev_client(state_file).state
        replayer = topology.function("replay")
        os.environ.update(function_environment(replayer, state.resources, state.database_url))

    from rich.console import Console
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
    from rich.table import Table

    from ordering import bootstrap
    from ordering.config import MissingSetting
    from ordering.ports.read_model import ReadModelError
    from ordering.services import replay as replaying

    class Bar(replaying.ReplayProgress):
        def __init__(self, progress: Progress) -> None:
            self.progress = progress
            self.total = progress.add_task("scanning", total=None)
            self.segments = [progress.add_task(f"  segment {n}", total=None) for n in range(segments)]

        def scanned(self, segment: int, events: int) -> None:
            self.progress.advance(self.segments[segment], events)
            self.progress.advance(self.total, events)

        def phase(self, name: str) -> None:
            self.progress.update(self.total, description=name)

    console = Console(stderr=True)
    columns = (
        SpinnerColumn(),
        TextColumn("{task.description}"),
        TextColumn("{task.completed:>10,.0f} events"),
    )
    try:
        with Progress(*columns, TimeElapsedColumn(), console=console) as progress:
            report = replaying.replay(
                bootstrap.event_store(),
                bootstrap.rebuilds(),
                segments=segments,
                dry_run=dry_run,
                allow_parked=allow_parked,
                progress=Bar(progress),
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

    table = Table(title=f"replay {report.replay_id}: {report.events:,} events, {segments} segments")
    table.add_column("table")
    table.add_column("rows", justify="right")
    for column in ("only live", "only rebuilt", "changed", "examples") if dry_run else ():
        table.add_column(column, justify="left" if column == "examples" else "right")
    differences = {d.table: d for d in report.differences}
    for name, count in report.tally.counts.items():
        d = differences.get(name)
        extra = [str(d.only_live), str(d.only_rebuilt), str(d.changed), " ".join(d.examples)] if d else []
        table.add_row(name, f"{count:,}", *extra)
    Console().print(table)
    for event in report.unprojectable:
        click.echo(f"could not project {event.stream} v{event.version}: {event.error}", err=True)
    if dry_run:
        click.echo(
            "dry run: nothing swapped; " + ("differences above" if report.differs else "no differences")
        )
    else:
        click.echo(f"swapped in; {len(report.refreshed)} stream(s) caught up from the log after the scan")


@main.command()
def demo() -> None:
    """Start the system, run a small day of business through it, check every outcome (exit 0 if all held)."""
    from infra.dev.demo import main as run_demo

    sys.exit(run_demo())


# `orders bench <name>`: the benchmarks of bench/cli.py, the same as `python -m bench <name>`.
from bench.cli import main as bench  # noqa: E402  (the CLI is the top layer: it may import bench)

main.add_command(bench, name="bench")


if __name__ == "__main__":
    main()
