"""Every function's environment turns pydantic's plugins off: we use none, and without the
setting the first model built in a process scans every installed distribution's entry points
for one, on the function's first request."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from infra.emulator.functions import CODE_ROOT
from infra.topology import COMMON_ENVIRONMENT

FIRST_BUILD = r"""
import importlib.metadata, json
scans = []
entry_points = importlib.metadata.entry_points
importlib.metadata.entry_points = lambda **kw: scans.append(kw) or entry_points(**kw)
from generated import models as m
m.UserRegistered(user_id="5f0c7a9e-2b3d-4c1e-8f6a-9d0b1c2e3f4a", email="ada@example.com")
print(json.dumps(scans))
"""


@pytest.mark.parametrize(("environment", "scans"), [({}, [{"group": "pydantic"}]), (COMMON_ENVIRONMENT, [])])
def test_a_functions_first_model_build_looks_for_no_pydantic_plugin(environment, scans):
    env = {k: v for k, v in os.environ.items() if k != "PYDANTIC_DISABLE_PLUGINS"} | environment
    completed = subprocess.run(
        [sys.executable, "-c", FIRST_BUILD],
        env=env,
        cwd=CODE_ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr[-2000:]
    assert json.loads(completed.stdout) == scans
