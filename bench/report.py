"""A benchmark's result: the figures, the command that produced them, the machine, as JSON and Markdown.

Each benchmark writes `<out>/<name>.json` (every figure, for a person or a script to compare)
and `<out>/<name>.md` (the tables docs/benchmarks.md quotes), and prints the Markdown.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import machine


@dataclass
class Report:
    name: str
    command: str
    parameters: dict[str, Any]
    results: dict[str, Any] = field(default_factory=dict)
    sections: list[str] = field(default_factory=list)  # Markdown, in order
    machine: dict[str, Any] = field(default_factory=machine.describe)
    started_at: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))
    elapsed_seconds: float = 0.0
    _started: float = field(default_factory=time.perf_counter, repr=False)

    def finish(self) -> Report:
        self.elapsed_seconds = round(time.perf_counter() - self._started, 1)
        return self

    def add(self, markdown: str) -> None:
        self.sections.append(markdown.strip("\n"))

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("_started")
        return data

    def markdown(self) -> str:
        head = [
            f"## {self.name}",
            "",
            f"Command: `{self.command}`  ",
            f"Machine: {machine.summary_line(self.machine)}  ",
            f"Run: {self.started_at}, {self.elapsed_seconds} s",
        ]
        return "\n".join(head) + "\n\n" + "\n\n".join(self.sections) + "\n"

    def save(self, out: Path) -> tuple[Path, Path]:
        out.mkdir(parents=True, exist_ok=True)
        as_json, as_md = out / f"{self.name}.json", out / f"{self.name}.md"
        as_json.write_text(json.dumps(self.to_json(), indent=2, default=str) + "\n", encoding="utf-8")
        as_md.write_text(self.markdown(), encoding="utf-8")
        return as_json, as_md


def table(columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    """A Markdown table; numbers are printed as they are (never rounded here)."""
    lines = ["| " + " | ".join(columns) + " |", "|" + "|".join("---" for _ in columns) + "|"]
    for row in rows:
        lines.append("| " + " | ".join("" if cell is None else str(cell) for cell in row) + " |")
    return "\n".join(lines)
