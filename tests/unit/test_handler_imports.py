"""What an API function imports at its cold start: not the read model's port unless it reads it."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.mark.parametrize("handler", ["place_order", "restock"])
def test_a_function_that_never_reads_the_read_model_does_not_import_its_port(handler):
    """handlers/http.py answers an unreachable read model with a 503 for every API function;
    it imports the port's errors alone (ordering/ports/read_model_errors.py)."""
    check = (
        "import sys\n"
        f"import handlers.{handler}\n"
        "assert 'ordering.ports.read_model_errors' in sys.modules\n"
        "assert 'ordering.ports.read_model' not in sys.modules, 'the read model port was imported'\n"
    )
    environment = {**os.environ, "AWS_DEFAULT_REGION": "eu-west-1", "PYTHONPATH": ROOT}
    completed = subprocess.run(
        [sys.executable, "-c", check], capture_output=True, text=True, check=False, env=environment, cwd=ROOT
    )
    assert completed.returncode == 0, completed.stderr[-2000:]
