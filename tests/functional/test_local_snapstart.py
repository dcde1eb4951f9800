"""`orders dev` restores a SnapStart function as Lambda does: init once per code version, then
every new container is a copy of that initialised process which runs the after-restore hooks."""

from __future__ import annotations

import os
import threading
from dataclasses import replace

import pytest

from infra import topology
from infra.emulator.functions import RESTORES_SUPPORTED, FunctionRuntime, Invocation

pytestmark = pytest.mark.skipif(not RESTORES_SUPPORTED, reason="restores need fork and fd passing")

STAND_IN = "tests.functional.snapstart_stand_in.handler"


def _runtime(trigger: topology.Trigger) -> FunctionRuntime:
    spec = replace(topology.function("place_order"), handler=STAND_IN, trigger=trigger, timeout_seconds=60)
    environment = {**os.environ, "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand"}  # as a container's
    return FunctionRuntime(spec, environment, max_containers=2, record=lambda _: None)


def _two_at_once(runtime: FunctionRuntime) -> list[Invocation]:
    """Two overlapping invocations: the second cannot wait for the first's container."""
    answers: list[Invocation] = []
    slow = threading.Thread(target=lambda: answers.append(runtime.invoke({"sleep": 1.5}, source="test")))
    slow.start()
    answers.append(runtime.invoke({}, source="test"))
    slow.join()
    return answers


def test_new_containers_are_restored_from_one_snapshot_with_the_hooks_run_as_on_aws():
    runtime = _runtime("api")
    assert runtime.function.snap_start
    try:
        one, two = [answer.result for answer in _two_at_once(runtime)]
        for restored in (one, two):
            assert restored["initialization_type"] == "snap-start"
            assert restored["pid"] != restored["init_pid"]  # not the process that ran init
            # Before the snapshot in reverse order of registration, after each restore in order.
            assert restored["hooks"] == [
                "before snapshot 2",
                "before snapshot 1",
                f"after restore 1 in {restored['pid']}",
                f"after restore 2 in {restored['pid']}",
            ]
        assert one["init_pid"] == two["init_pid"]  # one init for both
        assert one["pid"] != two["pid"]
        assert one["random"] != two["random"]

        warm = runtime.invoke({}, source="test")
        assert not warm.cold_start
        assert warm.result["pid"] in {one["pid"], two["pid"]}
        assert len(warm.result["hooks"]) == 4  # a warm container is not restored again

        runtime.retire_warm()  # new code: a new version, so a new snapshot
        renewed = runtime.invoke({}, source="test")
        assert renewed.cold_start
        assert renewed.result["init_pid"] != one["init_pid"]
    finally:
        for container in runtime.stop():
            container.wait_stopped()


def test_a_function_without_snapstart_inits_in_each_container():
    runtime = _runtime("sqs")
    assert not runtime.function.snap_start
    try:
        for started in [answer.result for answer in _two_at_once(runtime)]:
            assert started["initialization_type"] == "on-demand"
            assert started["pid"] == started["init_pid"]
            assert started["hooks"] == []
    finally:
        for container in runtime.stop():
            container.wait_stopped()
