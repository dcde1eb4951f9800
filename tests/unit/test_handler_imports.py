"""What an API function imports at its cold start: only what its requests use."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def assert_after_importing(handler: str, check: str) -> None:
    """Import the handler in a fresh interpreter, then run `check` there."""
    environment = {**os.environ, "AWS_DEFAULT_REGION": "eu-west-1", "PYTHONPATH": ROOT}
    completed = subprocess.run(
        [sys.executable, "-c", f"import sys\nimport handlers.{handler}\n{check}"],
        capture_output=True,
        text=True,
        check=False,
        env=environment,
        cwd=ROOT,
    )
    assert completed.returncode == 0, completed.stderr[-2000:]


@pytest.mark.parametrize("handler", ["place_order", "restock"])
def test_a_function_that_never_reads_the_read_model_does_not_import_its_port(handler):
    """handlers/http.py answers an unreachable read model with a 503 for every API function;
    it imports the port's errors alone (ordering/ports/read_model_errors.py)."""
    assert_after_importing(
        handler,
        "assert 'ordering.ports.read_model_errors' in sys.modules\n"
        "assert 'ordering.ports.read_model' not in sys.modules, 'the read model port was imported'\n",
    )


@pytest.mark.parametrize("handler", ["place_order", "restock"])
def test_a_function_that_reads_stock_heads_alone_does_not_import_the_order_and_user_aggregates(handler):
    """Placing and restocking read stock heads, never an order's or a user's stream; their
    cold start does not pay for building those aggregates' event classes."""
    assert_after_importing(
        handler,
        "assert 'ordering.services.stock_heads' in sys.modules\n"
        "imported = [m for m in ('ordering.domain.order', 'ordering.domain.user') if m in sys.modules]\n"
        "assert not imported, imported\n",
    )
