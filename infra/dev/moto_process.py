"""`orders dev`'s handle on moto's process (moto_main.py): start it, ask it, stop it.

The child runs in a session of its own, with a pipe from this process on its stdin: it exits
when the pipe ends, so it dies with `orders dev` however that goes (Ctrl-C, an exception,
SIGKILL), and a Ctrl-C of the terminal does not stop it before `orders dev` has finished with
it (the journal is closed, the users saved, on the way down). What `orders dev` reads of moto's
memory it asks for over HTTP under `/_local/`, on one kept-alive connection.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx

from infra.emulator.metrics import Datum, datum_from_json

START_TIMEOUT_SECONDS = 60  # moto imports for a few seconds; much longer on a loaded machine
STOP_TIMEOUT_SECONDS = 5  # then it is killed
CALL_TIMEOUT_SECONDS = 30


class MotoProcess:
    """`aws_latency_ms`: the round trip every AWS request waits (infra/emulator/latency.py)."""

    def __init__(self, aws_latency_ms: float = 0) -> None:
        self._process = subprocess.Popen(  # noqa: S603 (our own module, and a number)
            [sys.executable, "-m", "infra.dev.moto_main", repr(float(aws_latency_ms))],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            start_new_session=True,
        )
        assert self._process.stdout is not None
        try:
            line = _read_line(self._process, START_TIMEOUT_SECONDS)
            announced = json.loads(line)
        except BaseException:
            self.stop()
            raise
        self._process.stdout.close()
        self.pid: int = announced["pid"]
        self.aws_latency_ms: float = announced["aws_latency_ms"]  # as moto's process applies it
        self.url = f"http://127.0.0.1:{announced['port']}"
        self._http = httpx.Client(base_url=f"{self.url}/_local", timeout=CALL_TIMEOUT_SECONDS)
        self.requests = RequestCounts(self)

    def call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        answer = self._http.request(method, path, json=body)
        answer.raise_for_status()
        return answer.json()

    def attach_journal(self, path: Path, table: tuple[str, str, str]) -> Journal:
        """Journal every write to `table` (account, region, name) in `path`, from now on."""
        account_id, region, table_name = table
        body = {"path": str(path), "account_id": account_id, "region": region, "table_name": table_name}
        self.call("POST", "/journal", body)
        return Journal(self)

    def republish(self, table: tuple[str, str, str], keys: list[dict[str, Any]]) -> int:
        """journal_hook.republish, in moto's process."""
        account_id, region, table_name = table
        body = {"account_id": account_id, "region": region, "table_name": table_name, "keys": keys}
        return int(self.call("POST", "/republish", body)["found"])

    def sent_emails(self, account_id: str, region: str) -> list[dict[str, Any]]:
        return list(self.call("POST", "/emails", {"account_id": account_id, "region": region})["emails"])

    def queue_data(self, account_id: str, region: str, names: list[str]) -> list[Datum]:
        body = {"account_id": account_id, "region": region, "names": names}
        return [datum_from_json(data) for data in self.call("POST", "/queue-metrics", body)["data"]]

    def prune_metrics(self, account_id: str, region: str, before: datetime) -> None:
        body = {"account_id": account_id, "region": region, "before": before.isoformat()}
        self.call("POST", "/metrics/prune", body)

    def give_back_sub(self, account_id: str, region: str, user_pool_id: str, created: str, sub: str) -> None:
        """moto_cognito.give_back_sub, in moto's process."""
        body = {"account_id": account_id, "region": region, "user_pool_id": user_pool_id}
        self.call("POST", "/cognito/sub", {**body, "created": created, "sub": sub})

    def event_trace(self, event_id: str) -> str | None:
        header = self.call("GET", f"/event-traces/{event_id}")["header"]
        return header if isinstance(header, str) else None

    def stop(self) -> None:
        """Close its stdin (it exits), wait for it; kill it if it lingers."""
        http = getattr(self, "_http", None)
        if http is not None:
            http.close()
        if self._process.stdin is not None and not self._process.stdin.closed:
            self._process.stdin.close()
        try:
            self._process.wait(timeout=STOP_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()


class RequestCounts:
    """request_counter.RequestCounter's `snapshot` and `reset`, of moto's process."""

    def __init__(self, moto: MotoProcess) -> None:
        self._moto = moto

    def snapshot(self) -> dict[str, Any]:
        return dict(self._moto.call("GET", "/requests"))

    def reset(self) -> None:
        self._moto.call("POST", "/requests/reset")


class Journal:
    """The journal of moto's process: what checkpoint.py and the runtime use of journal.Journal."""

    def __init__(self, moto: MotoProcess) -> None:
        self._moto = moto

    @property
    def last(self) -> int:
        return int(self._moto.call("GET", "/journal")["last"])

    def position(self) -> tuple[int, int | None]:
        """The journal's last line and the stream's last sequence number, read together."""
        answer = self._moto.call("GET", "/journal")
        return int(answer["last"]), answer["sequence"]

    def seal(self, sealed: Path) -> int:
        return int(self._moto.call("POST", "/journal/seal", {"sealed": str(sealed)})["last"])

    def close(self) -> None:
        self._moto.call("DELETE", "/journal")


def _read_line(process: subprocess.Popen[bytes], timeout: float) -> str:
    """The child's first line on stdout, or an error if it exits or says nothing in time."""
    stdout = process.stdout
    assert stdout is not None
    lines: list[bytes] = []
    reader = threading.Thread(target=lambda: lines.append(stdout.readline()), daemon=True)
    reader.start()
    reader.join(timeout)
    if not lines or not lines[0]:
        raise RuntimeError(f"moto's process did not start (exit code {process.poll()})")
    return lines[0].decode("utf-8")
