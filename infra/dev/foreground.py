"""`orders dev` in the foreground: start, say where, wait for Ctrl-C (or SIGTERM), stop cleanly."""

from __future__ import annotations

import gc
import os
import signal
import socket
import sys
import threading
from typing import Any

from infra.dev.runtime import HOST, LocalRuntime, Options
from infra.emulator import logs


def say(text: str) -> None:
    """Lines for people go to stderr, so that stdout stays pure JSON lines (`orders dev | jq`)."""
    sys.stderr.write(f"orders dev: {text}\n")
    sys.stderr.flush()


def port_is_free(port: int) -> bool:
    """Checked before anything starts, so that a taken port is said in a second, not after start-up."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the server will bind it
        try:
            probe.bind((HOST, port))
        except OSError:
            return False
    return True


def serve(options: Options, *, quiet: bool = False, log_format: logs.Format | None = None) -> int:
    logs.configure(quiet=quiet, format=log_format or logs.default_format(sys.stdout, dict(os.environ)))
    stop = threading.Event()

    def on_signal(number: int, frame: Any) -> None:
        stop.set()

    if options.port and not port_is_free(options.port):
        say(
            f"port {options.port} on {HOST} is in use (another `orders dev`?). Stop it, or choose "
            f"another port: `orders dev --port {options.port + 1}` (--port 0 takes any free one)."
        )
        return 2
    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    runtime = LocalRuntime(options)
    try:
        say("starting (moto, PostgreSQL, resources, functions)...")
        state = runtime.start()
        say(f"API {state.api_url}")
        say(f"console {state.console_url}   API docs {state.docs_url}")
        say(f"state file {options.state_file} (read by `orders token`, `orders seed`, `orders dlq`)")
        if options.data_dir:
            say(f"data directory {options.data_dir}: every write is journaled there before it is answered")
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
        # Everything is stopped and saved: the interpreter's last garbage collection, over all
        # the runtime held, would take time for nothing (4-5 s after a busy run, when moto's
        # state was in this process; moto_main.py skips it in moto's process).
        gc.freeze()
        say("stopped")
