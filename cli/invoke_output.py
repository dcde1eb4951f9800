"""What `orders invoke` prints: the function's log lines and a verdict on stderr, the result on stdout.

So that `orders invoke ... | jq` gets the JSON alone, as `aws lambda invoke` writes its payload.
"""

from __future__ import annotations

import json
import sys

import click

from infra.dev.invoke import Outcome
from infra.emulator.logs import pretty


def print_outcome(outcome: Outcome) -> int:
    """Print it; the exit status: 0 when the function succeeded, 1 when it failed."""
    for line in outcome.logs:
        try:
            parsed = json.loads(line)
        except ValueError:
            parsed = None
        record = parsed if isinstance(parsed, dict) else {"message": line}
        click.echo(pretty({"source": outcome.function, **record}, colour=sys.stderr.isatty()), err=True)
    timing = "" if outcome.duration_ms is None else f" in {outcome.duration_ms:.1f} ms"
    start = "" if outcome.cold_start is None else (" (cold start)" if outcome.cold_start else " (warm)")
    click.echo(f"{outcome.function}: {'ok' if outcome.ok else 'FAILED'}{timing}{start}", err=True)
    click.echo(json.dumps(outcome.payload, indent=2))
    return 0 if outcome.ok else 1
