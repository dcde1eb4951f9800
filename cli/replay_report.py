"""Replay's report as a table: rows per read-model table and, in a dry run, how the rebuild differs."""

from __future__ import annotations

from rich.table import Table


def report_table(report, *, segments: int, dry_run: bool) -> Table:
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
    return table


def closing_line(report, *, dry_run: bool) -> str:
    if dry_run:
        return "dry run: nothing swapped; " + ("differences above" if report.differs else "no differences")
    return f"swapped in; {len(report.refreshed)} stream(s) caught up from the log after the scan"
