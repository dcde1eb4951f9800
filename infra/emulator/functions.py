"""Run the topology's functions as Lambda runs them: each in its own containers (processes).

A container is a `python -m infra.emulator.worker` process with its function's environment. It
is started on first use (a cold start) and then reused, one invocation at a time; a
function gets more containers, up to a limit, when invocations overlap. An invocation that
outlives the function's timeout kills its container, as Lambda does. Why processes and not
threads: module globals, the environment and the clients built in ordering/bootstrap.py are
per function on AWS, and must stay so here, or a local run could pass where AWS fails.

A SnapStart function (topology: `snap_start`) is restored, as on AWS: its handler is
initialised once per code version in a snapshot process (with
AWS_LAMBDA_INITIALIZATION_TYPE=snap-start and the before-snapshot hooks), and each new
container is a fork of it that runs the after-restore hooks (infra/emulator/worker.py).
"""

from __future__ import annotations

import collections
import contextlib
import itertools
import json
import os
import queue
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from infra import topology
from infra.emulator import logs, traces
from infra.emulator.aws import ACCOUNT_ID, REGION
from infra.emulator.worker import INVOCATION_END, RESTORE_REQUEST

INIT_TIMEOUT_SECONDS = 30  # Lambda allows 10 s; a laptop starting many Pythons at once needs more
DEFAULT_MAX_CONTAINERS = 4
CODE_ROOT = Path(__file__).resolve().parents[2]  # the directory holding handlers/, streams/, ordering/
STOP_TIMEOUT_SECONDS = 1  # a container that does not exit once its stdin is closed is killed
LOGS_GRACE_SECONDS = 1.0  # how long a reply waits for its invocation's last log lines
RESTORES_SUPPORTED = hasattr(os, "fork") and hasattr(socket, "send_fds")  # not on Windows: on-demand there


@dataclass(frozen=True)
class Invocation:
    """What one invocation gave back: the handler's result, or the error Lambda would report."""

    function: str
    request_id: str
    source: str
    correlation_id: str | None
    cold_start: bool
    result: Any = None
    error: dict[str, Any] | None = None
    duration_ms: float = 0.0
    log_lines: tuple[str, ...] = ()
    trace_id: str | None = None  # the X-Ray trace it ran in (traces.py)
    # Each line's logs.parse(), as the container's log reader parsed it (None: parsed when asked).
    log_documents: tuple[dict[str, Any] | None, ...] | None = None

    @property
    def ok(self) -> bool:
        return self.error is None

    def summary(self) -> dict[str, Any]:
        return {
            "function": self.function,
            "request_id": self.request_id,
            "source": self.source,
            "correlation_id": self.correlation_id,
            "cold_start": self.cold_start,
            "ok": self.ok,
            "error_type": None if self.error is None else self.error.get("errorType"),
            "duration_ms": round(self.duration_ms, 1),
            "trace_id": self.trace_id,
            "correlation_ids": self.correlation_ids(),
            "logs": list(self.log_lines),
        }

    def documents(self) -> tuple[dict[str, Any] | None, ...]:
        """The JSON object each log line is (None for plain text), for its metrics and ids."""
        if self.log_documents is not None:
            return self.log_documents
        return tuple(logs.parse(line) for line in self.log_lines)

    def correlation_ids(self) -> list[str]:
        """The caller's and every one the handler logged (a stream batch may carry several)."""
        found = {self.correlation_id} if self.correlation_id else set()
        for document in self.documents():
            logged = None if document is None else document.get("correlation_id")
            if isinstance(logged, str) and logged:
                found.add(logged)
        return sorted(found)


@dataclass(frozen=True)
class Logged:
    """The lines one invocation wrote to stderr, and each one's logs.parse()."""

    lines: tuple[str, ...]
    documents: tuple[dict[str, Any] | None, ...]


class ContainerDied(RuntimeError):
    pass


class Stopped(RuntimeError):
    """The function runtime was stopped: no new container starts."""


class Container:
    """One worker process of one function."""

    _numbers = itertools.count(1)

    def __init__(
        self,
        function: topology.Function,
        environment: dict[str, str],
        *,
        code_root: Path = CODE_ROOT,
        generation: int = 0,
        snapshot: Snapshot | None = None,
    ) -> None:
        """With `snapshot`, the container is restored from it instead of started (and inited) anew."""
        self.function = function
        self.number = next(self._numbers)
        self.generation = generation  # the code version it imported (see FunctionRuntime.retire_warm)
        self._replies: queue.Queue[dict[str, Any] | None] = queue.Queue()
        self._ids = itertools.count(1)
        self._lines: list[str] = []  # what the invocation running now wrote to stderr
        self._documents: list[dict[str, Any] | None] = []  # each of those lines parsed
        self._logs: queue.Queue[Logged] = queue.Queue()
        self.process: subprocess.Popen[str] | Restored = (
            snapshot.restore() if snapshot is not None else self._start(function, environment, code_root)
        )
        threading.Thread(target=self._read_replies, daemon=True, name=f"{function.name}-replies").start()
        threading.Thread(target=self._forward_logs, daemon=True, name=f"{function.name}-logs").start()

    @staticmethod
    def _start(
        function: topology.Function, environment: dict[str, str], code_root: Path
    ) -> subprocess.Popen[str]:
        return subprocess.Popen(  # noqa: S603 - our own interpreter and module
            [sys.executable, "-m", "infra.emulator.worker", function.handler],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=environment,
            text=True,
            encoding="utf-8",
            # Its own process group: Ctrl-C in the terminal stops `orders dev`, which then stops
            # its containers in order, instead of interrupting them in the middle of an invocation.
            start_new_session=True,
            cwd=code_root,  # Lambda runs a handler from the root of its code, /var/task
        )

    def _read_replies(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            try:
                self._replies.put(json.loads(line))
            except ValueError:
                logs.log(self.function.name, "unreadable reply from the container", level="ERROR", line=line)
        self._replies.put(None)

    def _forward_logs(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            if line.startswith(INVOCATION_END):
                logged = Logged(tuple(self._lines), tuple(self._documents))
                self._lines, self._documents = [], []
                self._logs.put(logged)
                continue
            text = line.rstrip("\n")
            if not text:
                continue
            parsed = logs.parse(text)
            if text.strip():
                self._lines.append(text)
                self._documents.append(parsed)
            logs.forward_parsed(self.function.name, text, parsed)

    def invocation_logs(self) -> Logged:
        """What the invocation that just replied wrote: the worker marks its end on stderr too."""
        try:
            return self._logs.get(timeout=LOGS_GRACE_SECONDS)
        except queue.Empty:
            return Logged((), ())

    def _reply(self, timeout: float) -> dict[str, Any]:
        try:
            reply = self._replies.get(timeout=timeout)
        except queue.Empty:
            raise TimeoutError from None
        if reply is None:
            status = self.process.wait()
            raise ContainerDied("the container exited" + ("" if status is None else f" with status {status}"))
        return reply

    def wait_ready(self, timeout: float) -> None:
        self._reply(timeout)  # {"ready": ...}; an import error is reported by each invocation

    def invoke(self, event: Any, context: dict[str, Any], timeout: float) -> dict[str, Any]:
        request_id = next(self._ids)
        assert self.process.stdin is not None
        try:
            self.process.stdin.write(
                json.dumps({"id": request_id, "event": event, "context": context}) + "\n"
            )
            self.process.stdin.flush()
        except (BrokenPipeError, OSError) as error:
            raise ContainerDied(str(error)) from error
        return self._reply(timeout)

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()

    def stop(self) -> None:
        """Close stdin: the worker's loop ends and the process exits by itself."""
        self.close()
        self.wait_stopped()

    def close(self) -> None:
        """The first half of stop(): many containers can be told at once, then waited for."""
        if self.process.poll() is None:
            try:
                assert self.process.stdin is not None
                self.process.stdin.close()
            except OSError:
                self.kill()

    def wait_stopped(self, timeout: float = STOP_TIMEOUT_SECONDS) -> None:
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()


class Restored:
    """A container forked from a snapshot: the process handle Container needs, for a pid that is
    the snapshot's child, not ours (so its exit status is not ours to read either)."""

    def __init__(self, pid: int, stdin: int, stdout: int, stderr: int) -> None:
        self.pid = pid
        self.stdin = os.fdopen(stdin, "w", encoding="utf-8")
        self.stdout = os.fdopen(stdout, "r", encoding="utf-8")
        self.stderr = os.fdopen(stderr, "r", encoding="utf-8")

    def poll(self) -> int | None:
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return -1  # gone: reaped by the snapshot process (or by init, if it ended first)
        return None

    def kill(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.pid, signal.SIGKILL)

    def wait(self, timeout: float | None = None) -> None:
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.poll() is None:
            if deadline is not None and time.monotonic() > deadline:
                raise subprocess.TimeoutExpired("restored container", timeout or 0)
            time.sleep(0.01)


class Snapshot:
    """A SnapStart function's initialised process, which forks a restored container on request."""

    def __init__(self, function: topology.Function, environment: dict[str, str], code_root: Path) -> None:
        self.function = function
        self._control, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        self._answers = self._control.makefile("r", encoding="utf-8")
        self._lock = threading.Lock()
        self.process = subprocess.Popen(  # noqa: S603 - our own interpreter and module
            [
                sys.executable,
                "-m",
                "infra.emulator.worker",
                "--snapshot",
                str(theirs.fileno()),
                function.handler,
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            env={**environment, "AWS_LAMBDA_INITIALIZATION_TYPE": "snap-start"},
            text=True,
            encoding="utf-8",
            pass_fds=(theirs.fileno(),),
            start_new_session=True,
            cwd=code_root,
        )
        theirs.close()
        threading.Thread(
            target=self._forward_logs, daemon=True, name=f"{function.name}-snapshot-logs"
        ).start()

    def _forward_logs(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            logs.forward(self.function.name, line)

    def wait_ready(self, timeout: float) -> None:
        """Init and the before-snapshot hooks are done (or init failed: each restore reports it)."""
        self._control.settimeout(timeout)
        try:
            if not self._answers.readline():
                raise ContainerDied(f"the snapshot process exited with status {self.process.wait()}")
        except OSError as error:  # socket.timeout is one
            raise TimeoutError(str(error)) from None
        finally:
            self._control.settimeout(None)

    def restore(self) -> Restored:
        stdin_read, stdin_write = os.pipe()
        stdout_read, stdout_write = os.pipe()
        stderr_read, stderr_write = os.pipe()
        theirs = (stdin_read, stdout_write, stderr_write)
        try:
            with self._lock:
                socket.send_fds(self._control, [RESTORE_REQUEST], list(theirs))
                answer = self._answers.readline()
        except OSError as error:
            for fd in (stdin_write, stdout_read, stderr_read):
                os.close(fd)
            raise ContainerDied(f"the snapshot process is gone: {error}") from error
        finally:
            for fd in theirs:
                os.close(fd)
        if not answer:
            for fd in (stdin_write, stdout_read, stderr_read):
                os.close(fd)
            raise ContainerDied(f"the snapshot process exited with status {self.process.wait()}")
        return Restored(int(answer), stdin_write, stdout_read, stderr_read)

    def stop(self) -> None:
        """No more restores: the snapshot process exits; its restored containers keep running."""
        self._control.close()
        try:
            self.process.wait(timeout=STOP_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


class FunctionRuntime:
    """The containers of one function."""

    def __init__(
        self,
        function: topology.Function,
        environment: dict[str, str],
        *,
        max_containers: int,
        record: Callable[[Invocation], None],
        code_root: Path = CODE_ROOT,
    ) -> None:
        self.function = function
        self.environment = environment
        self.code_root = code_root
        self._generation = 0  # bumped when the code changes: older containers are not reused
        self.max_containers = max(1, min(max_containers, function.reserved_concurrency or max_containers))
        self._slots = threading.BoundedSemaphore(self.max_containers)
        self._idle: list[Container] = []
        self._all: set[Container] = set()
        self._lock = threading.Lock()
        self._record = record
        self._stopped = False
        # SnapStart: one snapshot per code version, taken when its first container is needed.
        self._restores = function.snap_start and RESTORES_SUPPORTED
        self._snapshot: Snapshot | None = None
        self._snapshot_generation = -1
        self._snapshot_lock = threading.Lock()

    def invoke(self, event: Any, *, source: str, correlation_id: str | None = None) -> Invocation:
        request_id = str(uuid.uuid4())
        timeout = self.function.timeout_seconds
        trace_header = traces.invocation_header(event)

        def outcome(
            cold: bool,
            *,
            result: Any = None,
            error: dict[str, Any] | None = None,
            started: float | None = None,
            ended: float | None = None,
            logged: Logged | None = None,
        ) -> Invocation:
            """The invocation, recorded; its duration is the handler's, without the cold start."""
            duration_ms = 0.0 if started is None else ((ended or time.monotonic()) - started) * 1000
            done = Invocation(
                self.function.name,
                request_id,
                source,
                correlation_id,
                cold,
                result,
                error,
                duration_ms,
                () if logged is None else logged.lines,
                traces.root_of(trace_header),
                None if logged is None else logged.documents,
            )
            self._record(done)
            return done

        if not self._slots.acquire(timeout=timeout):
            message = (
                f"{self.function.name}: all {self.max_containers} containers stayed busy for {timeout} s"
            )
            return outcome(False, error={"errorType": "TooManyRequestsException", "errorMessage": message})
        try:
            try:
                container, cold = self._container()
            except Stopped:
                return outcome(
                    False, error={"errorType": "ServiceException", "errorMessage": "the runtime is stopping"}
                )
            if container is None:
                return outcome(cold, error={"errorType": "Runtime.InitError", "errorMessage": "init failed"})
            context = {
                "function_name": self.function.name,
                "memory_limit_in_mb": self.function.memory_mb,
                "invoked_function_arn": f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:{self.function.name}",
                "aws_request_id": request_id,
                "deadline_ms": int((time.time() + timeout) * 1000),
                "log_group_name": f"/aws/lambda/{self.function.name}",
                "trace_header": trace_header,  # the worker sets _X_AMZN_TRACE_ID to it
            }
            started = time.monotonic()
            try:
                reply = container.invoke(event, context, timeout)
            except TimeoutError:
                self._discard(container, kill=True)
                message = f"Task timed out after {timeout:.2f} seconds"
                error = {"errorType": "Sandbox.Timedout", "errorMessage": message}
                return outcome(cold, error=error, started=started)
            except ContainerDied as died:
                self._discard(container, kill=True)
                error = {"errorType": "Runtime.ExitError", "errorMessage": str(died)}
                return outcome(cold, error=error, started=started)
            ended = time.monotonic()
            logged = container.invocation_logs()
            self._release(container)
            return outcome(
                cold,
                result=reply.get("result"),
                error=reply.get("error"),
                started=started,
                ended=ended,
                logged=logged,
            )
        finally:
            self._slots.release()

    def _container(self) -> tuple[Container | None, bool]:
        with self._lock:
            if self._stopped:
                raise Stopped(self.function.name)
            if self._idle:
                return self._idle.pop(), False
        generation = self._generation
        try:
            snapshot = self._current_snapshot(generation) if self._restores else None
            container = Container(
                self.function,
                self.environment,
                code_root=self.code_root,
                generation=generation,
                snapshot=snapshot,
            )
        except (TimeoutError, ContainerDied) as error:
            logs.log(self.function.name, "snapshot failed", level="ERROR", error=repr(error))
            return None, True
        with self._lock:
            if self._stopped:  # stop() ran while this one started: it would outlive the runtime
                container.kill()
                raise Stopped(self.function.name)
            self._all.add(container)
        try:
            container.wait_ready(INIT_TIMEOUT_SECONDS)
        except (TimeoutError, ContainerDied) as error:
            logs.log(self.function.name, "container failed to start", level="ERROR", error=repr(error))
            self._discard(container, kill=True)
            return None, True
        how = "restored from its snapshot" if snapshot is not None else "cold start"
        logs.log(self.function.name, how, container=container.number)
        return container, True

    def _current_snapshot(self, generation: int) -> Snapshot:
        """The snapshot of this code version: taken (init, before-snapshot hooks) on first need."""
        with self._snapshot_lock:
            if self._snapshot is not None and self._snapshot_generation == generation:
                return self._snapshot
            self._drop_snapshot()
            snapshot = Snapshot(self.function, self.environment, self.code_root)
            try:
                snapshot.wait_ready(INIT_TIMEOUT_SECONDS)
            except (TimeoutError, ContainerDied):
                snapshot.stop()
                raise
            logs.log(self.function.name, "snapshot taken (SnapStart)")
            self._snapshot, self._snapshot_generation = snapshot, generation
            return snapshot

    def _drop_snapshot(self) -> None:
        if self._snapshot is not None:
            self._snapshot.stop()
            self._snapshot = None

    def _release(self, container: Container) -> None:
        with self._lock:
            current = not self._stopped and container.generation == self._generation
            if current:
                self._idle.append(container)
            else:
                self._all.discard(container)
        if not current:
            container.stop()

    def retire_warm(self) -> int:
        """The code changed: stop the idle containers now, the busy ones when they finish, so
        that the next invocation starts cold on the new code (SAM's `--warm-containers LAZY`).
        How many containers were retired at once."""
        with self._lock:
            self._generation += 1
            idle, self._idle = self._idle, []
            self._all.difference_update(idle)
        for container in idle:
            container.stop()
        with self._snapshot_lock:  # a new version: the next container restores a new snapshot
            self._drop_snapshot()
        return len(idle)

    def _discard(self, container: Container, *, kill: bool) -> None:
        with self._lock:
            self._all.discard(container)
            if container in self._idle:
                self._idle.remove(container)
        container.kill() if kill else container.stop()

    def stop(self) -> list[Container]:
        """No container starts any more; each one is told to exit. The caller waits for them."""
        with self._lock:
            self._stopped = True
            containers = list(self._all)
            self._idle.clear()
            self._all.clear()
        for container in containers:
            container.close()
        with self._snapshot_lock:
            self._drop_snapshot()
        return containers


class Functions:
    """The functions of the topology (or stand-ins for them, in tests), each with its environment."""

    def __init__(
        self,
        functions: Iterable[topology.Function],
        environments: dict[str, dict[str, str]],
        *,
        max_containers: int = DEFAULT_MAX_CONTAINERS,
        code_root: Path = CODE_ROOT,
        on_invocation: Callable[[Invocation], None] | None = None,
    ) -> None:
        """`on_invocation` sees every invocation once it is recorded (the metrics Lambda reports)."""
        self._on_invocation = on_invocation
        self.recent: collections.deque[dict[str, Any]] = collections.deque(maxlen=10_000)
        self._runtimes = {
            function.name: FunctionRuntime(
                function,
                environments[function.name],
                max_containers=max_containers,
                record=self._remember,
                code_root=code_root,
            )
            for function in functions
        }

    def _remember(self, invocation: Invocation) -> None:
        self.recent.append(invocation.summary())
        if self._on_invocation is not None:
            self._on_invocation(invocation)
        if not invocation.ok:
            assert invocation.error is not None
            logs.log(
                invocation.function,
                "invocation failed",
                level="ERROR",
                request_id=invocation.request_id,
                correlation_id=invocation.correlation_id,
                error_type=invocation.error.get("errorType"),
                error=invocation.error.get("errorMessage"),
                stack=invocation.error.get("stackTrace"),
            )

    def names(self) -> list[str]:
        return list(self._runtimes)

    def max_containers(self, name: str) -> int:
        """How many invocations of `name` may run at once (its reserved concurrency, at most)."""
        return self._runtimes[name].max_containers

    def invoke(self, name: str, event: Any, *, source: str, correlation_id: str | None = None) -> Invocation:
        return self._runtimes[name].invoke(event, source=source, correlation_id=correlation_id)

    def retire_warm(self, changed: Iterable[str]) -> int:
        """New code: no warm container is reused; each function's next invocation starts cold."""
        retired = sum(runtime.retire_warm() for runtime in self._runtimes.values())
        logs.log(
            "runtime",
            "code changed: warm containers retired, the next invocations start cold on the new code",
            changed=sorted(changed),
            retired_now=retired,
        )
        return retired

    def stop(self) -> None:
        """Every container of every function told at once, then waited for: a second, not one each."""
        containers = [container for runtime in self._runtimes.values() for container in runtime.stop()]
        deadline = time.monotonic() + STOP_TIMEOUT_SECONDS
        for container in containers:
            container.wait_stopped(max(0.0, deadline - time.monotonic()))
