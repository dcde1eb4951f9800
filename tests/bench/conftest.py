"""The benchmarks' smoke layer: each benchmark run tiny, through its command, its results read back.

They check that a benchmark runs and produces well-formed, consistent results (both sides
measured, ratios computed from them, baselines doing the same work); never how fast anything is.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from bench.cli import main as bench


@pytest.fixture
def run_bench(tmp_path: Path):
    def run(*arguments: str) -> dict[str, Any]:
        name = arguments[0]
        result = CliRunner().invoke(
            bench, [*arguments, "--out", str(tmp_path)], prog_name="bench", catch_exceptions=False
        )
        assert result.exit_code == 0, result.output
        report = json.loads((tmp_path / f"{name}.json").read_text(encoding="utf-8"))
        markdown = (tmp_path / f"{name}.md").read_text(encoding="utf-8")
        assert report["name"] == name
        assert report["command"].startswith("bench ")
        assert {"nproc", "cpu", "ram_gib", "python"} <= set(report["machine"])
        assert markdown.startswith(f"## {name}")
        assert report["command"] in markdown
        report["markdown"] = markdown
        return report

    return run
