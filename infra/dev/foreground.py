"""`orders dev` in the foreground: start, say where, wait for Ctrl-C (or SIGTERM), stop cleanly."""

from __future__ import annotations

import signal
import sys
import threading
from typing import Any

from infra.dev.runtime import LocalRuntime, Options
from infra.emulator import logs


def say(text: str) -> None:
    """Lines for people go to stderr, so that stdout stays pure JSON lines (`orders dev | jq`)."""
    sys.stderr.write(f"orders dev: {text}\n")
    sys.stderr.flush()


def serve(options: Options, *, quiet: bool = False) -> int:
    logs.configure(quiet=quiet)
    stop = threading.Event()

    def on_signal(number: int, frame: Any) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    runtime = LocalRuntime(options)
    try:
        say("starting (moto, PostgreSQL, resources, functions)...")
        state = runtime.start()
        say(f"API {state.api_url}")
        say(f"state file {options.state_file} (read by `orders token`, `orders seed`, `orders dlq`)")
        if options.data_dir:
            say(f"data directory {options.data_dir}: the table is saved there on shutdown")
        say("ready (Ctrl-C to stop)")
        logs.log(
            "runtime", "ready", api_url=state.api_url, control_url=state.control_url, moto_url=state.moto_url
        )
        while not stop.wait(0.5):
            pass
        say("stopping...")
        return 0
    finally:
        # Ctrl-C twice must not leave half a shutdown: ignore signals while stopping.
        for sig in previous:
            signal.signal(sig, signal.SIG_IGN)
        runtime.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        say("stopped")
