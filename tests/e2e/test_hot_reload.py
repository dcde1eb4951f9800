"""Hot reload: an edited handler runs at the next invocation, without restarting `orders dev`.

The function's code lives in a temporary copy (its own code root, as Lambda's /var/task), so
the test edits a file there and never the repository. Containers are real worker processes.
"""

from __future__ import annotations

import io
import json
import os
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from infra import topology
from infra.dev.hot_reload import HotReload
from infra.emulator import logs
from infra.emulator.functions import Functions
from tests.e2e.conftest import eventually

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

HANDLER = """
VERSION = "{version}"


def handler(event, context):
    print("running version", VERSION)
    return {{"version": VERSION}}
"""


def write_handler(root: Path, version: str) -> Path:
    path = root / "handlers" / "greeting.py"
    path.write_text(HANDLER.format(version=version), encoding="utf-8")
    return path


@pytest.fixture
def code_root(tmp_path: Path) -> Path:
    (tmp_path / "handlers").mkdir()
    (tmp_path / "handlers" / "__init__.py").write_text("", encoding="utf-8")
    (tmp_path / "model").mkdir()
    write_handler(tmp_path, "one")
    return tmp_path


@pytest.fixture
def log() -> Iterator[io.StringIO]:
    captured = io.StringIO()
    logs.configure(captured)
    yield captured
    logs.configure()


@pytest.fixture
def functions(code_root: Path) -> Iterator[Functions]:
    spec = replace(topology.function("restock"), name="greeting", handler="handlers.greeting.handler")
    environment = {name: os.environ[name] for name in ("PATH", "HOME") if name in os.environ}
    running = Functions([spec], {"greeting": environment}, max_containers=1, code_root=code_root)
    yield running
    running.stop()


def lines_of(log: io.StringIO) -> list[dict]:
    return [json.loads(line) for line in log.getvalue().splitlines() if line.strip()]


def test_an_edited_handler_runs_at_the_next_invocation(code_root, functions, log):
    first = functions.invoke("greeting", {}, source="test")
    assert first.result == {"version": "one"}
    assert first.cold_start
    warm = functions.invoke("greeting", {}, source="test")
    assert warm.result == {"version": "one"}
    assert not warm.cold_start

    def edited_and_noticed() -> bool:
        # Written again at each look: the watcher thread may not be watching yet at the first.
        write_handler(code_root, "second")
        return any("warm containers retired" in line["message"] for line in lines_of(log))

    watcher = HotReload(functions, root=code_root).start()
    try:
        eventually(edited_and_noticed, interval=0.5)
    finally:
        watcher.stop()

    after = functions.invoke("greeting", {}, source="test")
    assert after.result == {"version": "second"}
    assert after.cold_start
    retired = next(line for line in lines_of(log) if "warm containers retired" in line["message"])
    assert retired["changed"] == ["handlers/greeting.py"]


def test_without_hot_reload_a_warm_container_keeps_the_old_code(code_root, functions):
    """The reason for the feature: Lambda's init runs once per container."""
    assert functions.invoke("greeting", {}, source="test").result == {"version": "one"}
    write_handler(code_root, "second")
    assert functions.invoke("greeting", {}, source="test").result == {"version": "one"}


def test_a_busy_container_is_retired_when_its_invocation_ends(code_root, functions):
    functions.invoke("greeting", {}, source="test")
    write_handler(code_root, "second")
    functions.retire_warm(["handlers/greeting.py"])
    assert functions.invoke("greeting", {}, source="test").result == {"version": "second"}


def test_a_model_change_says_to_run_codegen(code_root, functions, log):
    watcher = HotReload(functions, root=code_root)
    watcher.changed([code_root / "model" / "order.json"])
    (warning,) = [line for line in lines_of(log) if line["source"] == "runtime"]
    assert warning["level"] == "WARNING"
    assert "make codegen" in warning["message"]
    assert functions.invoke("greeting", {}, source="test").result == {"version": "one"}


def test_an_invocation_keeps_its_own_log_lines_and_duration(functions):
    invocation = functions.invoke("greeting", {}, source="test")
    assert invocation.log_lines == ("running version one",)
    assert invocation.duration_ms > 0
    summary = invocation.summary()
    assert summary["logs"] == ["running version one"]
