"""The Lambda-faithful sandbox of `bench coldstart`: what it counts and what it lets a handler see."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from bench.coldstart import context_for, run_child
from bench.lambda_sandbox import Sandbox, runtime_directory
from infra import topology
from infra.aws import bundling

pytestmark = pytest.mark.bench

HANDLER = """
import os, sys
import compiled_module
import source_only_module

def handler(event, context):
    try:
        import pytest  # noqa: F401  (installed in the test's venv, not in the asset)
        reachable = True
    except ImportError:
        reachable = False
    return {
        "task_root": os.environ["LAMBDA_TASK_ROOT"],
        "handler": os.environ["_HANDLER"],
        "trace": os.environ["_X_AMZN_TRACE_ID"],
        "site_packages_reachable": reachable,
        "python": list(sys.version_info[:2]),
    }
"""


def _sandbox(root: Path) -> Sandbox:
    task_root = root / "task"
    task_root.mkdir()
    (task_root / "app.py").write_text(HANDLER)
    (task_root / "compiled_module.py").write_text("VALUE = 1\n")
    (task_root / "source_only_module.py").write_text("VALUE = 2\n")
    bundling.compile_bytecode(task_root)
    bundling.bytecode_for(task_root / "source_only_module.py").unlink()  # shipped without its .pyc
    return Sandbox(task_root, runtime_directory(root), bundling.lambda_python())


def _cold_start(sandbox: Sandbox, scratch: Path) -> dict:
    function = topology.function("publisher")
    env = {"PATH": os.environ["PATH"], **sandbox.environment(function, "eu-west-1")}
    return run_child(sandbox, "app.handler", {}, env, context_for(function), scratch)


def test_a_module_without_bytecode_is_counted_once_and_named(tmp_path: Path) -> None:
    sandbox = _sandbox(tmp_path)

    reply = _cold_start(sandbox, tmp_path)

    assert reply["compiled_from_source"] == [str(sandbox.task_root / "source_only_module.py")]
    # The code directory is read-only on Lambda: the next cold start compiles it again.
    assert not bundling.bytecode_for(sandbox.task_root / "source_only_module.py").exists()
    assert _cold_start(sandbox, tmp_path)["compiled_from_source"] == reply["compiled_from_source"]


def test_with_bytecode_for_every_module_nothing_is_compiled(tmp_path: Path) -> None:
    sandbox = _sandbox(tmp_path)
    bundling.compile_bytecode(sandbox.task_root)

    assert _cold_start(sandbox, tmp_path)["compiled_from_source"] == []


def test_the_handler_runs_as_on_lambda(tmp_path: Path) -> None:
    sandbox = _sandbox(tmp_path)

    reply = _cold_start(sandbox, tmp_path)

    assert reply["python"] == "3.12"
    assert reply["result"]["python"] == [3, 12]
    assert reply["result"]["task_root"] == str(sandbox.task_root)
    assert reply["result"]["handler"] == topology.function("publisher").handler
    assert reply["result"]["trace"].startswith("Root=1-")
    assert reply["result"]["site_packages_reachable"] is False  # only the asset and the standard library
    assert reply["aws_libraries_imported"] == []
