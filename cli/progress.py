"""Replay's progress on the terminal: one bar for the scan, one per parallel segment."""

from __future__ import annotations

from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from ordering.services.replay import ReplayProgress


def replay_progress(console) -> Progress:
    return Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        TextColumn("{task.completed:>10,.0f} events"),
        TimeElapsedColumn(),
        console=console,
    )


class SegmentBars(ReplayProgress):
    def __init__(self, progress: Progress, segments: int) -> None:
        self.progress = progress
        self.total = progress.add_task("scanning", total=None)
        self.segments = [progress.add_task(f"  segment {n}", total=None) for n in range(segments)]

    def scanned(self, segment: int, events: int) -> None:
        self.progress.advance(self.segments[segment], events)
        self.progress.advance(self.total, events)

    def phase(self, name: str) -> None:
        self.progress.update(self.total, description=name)
