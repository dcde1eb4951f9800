"""The `orders` command line. Each subcommand is a thin shell over a function that does the work."""

from __future__ import annotations

import sys

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
def replay(dry_run: bool, segments: int) -> None:
    """Rebuild the read model from the event log, then swap it in atomically.

    Reads TABLE_NAME (and AWS_ENDPOINT_URL locally) and DATABASE_URL or DB_* from the
    environment. Never publishes anything. On AWS, invoke the replay function instead
    (docs/replay.md).
    """
    from rich.console import Console
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
    from rich.table import Table

    from ordering import bootstrap
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
                progress=Bar(progress),
            )
    except (replaying.ReplayIncomplete, replaying.VerificationFailed, ReadModelError) as error:
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
    if dry_run:
        click.echo(
            "dry run: nothing swapped; " + ("differences above" if report.differs else "no differences")
        )
    else:
        click.echo(f"swapped in; {len(report.refreshed)} stream(s) caught up from the log after the scan")


if __name__ == "__main__":
    main()
