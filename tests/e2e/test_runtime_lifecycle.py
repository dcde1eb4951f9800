"""Starting and stopping the local runtime: a failed start leaves nothing running, stop() may be
called again, and no function container starts once its runtime has stopped."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from infra.dev.runtime import LocalRuntime, Options
from infra.emulator.functions import FunctionRuntime, Invocation
from tests.e2e.conftest import stand_in_functions

pytestmark = [pytest.mark.e2e, pytest.mark.moto, pytest.mark.postgres, pytest.mark.xdist_group("e2e")]


def test_a_start_that_fails_half_way_stops_what_it_started_and_stop_may_run_again(tmp_path: Path):
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    (data_dir / "table.jsonl").write_text("not json\n")  # the restore fails after moto and Postgres are up
    runtime = LocalRuntime(
        Options(port=0, data_dir=data_dir, state_file=tmp_path / "dev.json"),
        functions=stand_in_functions(tmp_path / "records"),
    )
    with pytest.raises(ValueError, match="Expecting value"):  # json's own message
        runtime.start()
    assert runtime.resources is None
    assert runtime.state is None
    assert not (tmp_path / "dev.json").exists()
    runtime.stop()  # again, as the CLI's own clean-up does: nothing left to stop, nothing saved
    assert (data_dir / "table.jsonl").read_text() == "not json\n"


def test_no_container_starts_once_the_function_runtime_has_stopped(tmp_path: Path):
    invoked: list[Invocation] = []
    (spec,) = [f for f in stand_in_functions(tmp_path) if f.name == "inventory"]
    runtime = FunctionRuntime(replace(spec, timeout_seconds=30), {}, max_containers=1, record=invoked.append)
    runtime.stop()
    answer = runtime.invoke({"detail": {}}, source="test")
    assert answer.error == {"errorType": "ServiceException", "errorMessage": "the runtime is stopping"}
    assert not answer.cold_start
    assert runtime._all == set()  # no process was started
    assert invoked == [answer]
