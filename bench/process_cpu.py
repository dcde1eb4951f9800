"""CPU-seconds by process of a running `orders dev`: where the pipeline's CPU goes.

A sample reads, for every process of `orders dev` (the runtime, found by its pid, and all its
descendants: moto's process, each function's containers and SnapStart snapshots, the
watchdog) and of its embedded PostgreSQL (the postmaster named in its data directory's
`postmaster.pid`, and every server process under it), the CPU it has used (user + system)
and the CPU of the children it has reaped. Two samples, before and after a run, give each
part's CPU over the run:

- a process alive at both: its own CPU after minus before; one started during the run: all of
  its CPU, its start-up (a container's imports) included;
- a process that exited during the run (a container stopped, a PostgreSQL backend whose
  connection closed): its parent has reaped it, so its whole life is in the parent's reaped
  CPU; the part of the parent counts that, less what the exited process had used before the
  run. What the runtime's own process reaps is shown apart ("exited children of the
  runtime"), since such a child was a container or a tool, not the runtime.

The parts therefore add up to the total, which is the CPU of every process of both trees
(own and reaped) after minus before. Limits: CPU of a process that exited during the run
without being reaped by a process in the trees is lost (a SnapStart container is a fork of
its snapshot process, which lets the kernel reap its forks: one that exits mid-run loses what
it used; in the pipeline benchmark containers do not exit). A process started and ended
between the samples and never reaped in the trees is not seen at all. The samples read
/proc, a few milliseconds each: not part of what they measure.
"""

from __future__ import annotations

import urllib.parse
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil

from infra import topology

RUNTIME = "runtime"
MOTO = "moto"
POSTGRES = "postgres"
OTHER = "other"  # the watchdog, and anything else under the runtime
EXITED = "exited children of the runtime"
WORKER_MODULE = "infra.emulator.worker"
MOTO_MODULE = "infra.dev.moto_main"


@dataclass(frozen=True)
class Seen:
    """One process at one sample."""

    part: str
    parent: tuple[int, float] | None  # its parent's key, when the parent was sampled too
    own: float  # CPU-seconds it has used (user + system)
    reaped: float  # CPU-seconds of the children it has waited for


Sample = dict[tuple[int, float], Seen]  # (pid, create time) -> what it had used


def _function_of(arguments: list[str]) -> str | None:
    """The function a container (or snapshot) process runs, from its command line."""
    if WORKER_MODULE not in arguments:
        return None
    handler = arguments[-1]
    names = {function.handler: function.name for function in topology.FUNCTIONS}
    return f"function {names.get(handler, handler)}"


def _part_of(process: psutil.Process, root_pid: int) -> str:
    if process.pid == root_pid:
        return RUNTIME
    arguments = process.cmdline()
    if MOTO_MODULE in arguments:
        return MOTO
    return _function_of(arguments) or OTHER


def postmaster_pid(database_url: str) -> int | None:
    """The embedded server's postmaster, from the socket directory (its data directory) the
    URL names; None for a server that is not ours (DATABASE_URL, a TCP host)."""
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(database_url).query)
    host = query.get("host", [""])[0]
    pid_file = Path(host) / "postmaster.pid" if host.startswith("/") else None
    try:
        return int(pid_file.read_text(encoding="utf-8").split()[0]) if pid_file else None
    except (OSError, ValueError, IndexError):
        return None


def sample(root_pid: int, postgres_pid: int | None = None) -> Sample:
    """What every process of the runtime's tree and of PostgreSQL's has used until now."""
    seen: Sample = {}
    roots = [(root_pid, None)] + ([(postgres_pid, POSTGRES)] if postgres_pid else [])
    for pid, fixed in roots:
        try:
            top = psutil.Process(pid)
        except psutil.NoSuchProcess:
            continue
        _walk(top, None, fixed, root_pid, seen)
    return seen


def _walk(
    process: psutil.Process,
    parent: tuple[int, float] | None,
    part: str | None,
    root_pid: int,
    seen: Sample,
) -> None:
    try:
        with process.oneshot():
            key = (process.pid, process.create_time())
            mine = part or _part_of(process, root_pid)
            times = process.cpu_times()
            children = process.children()
    except (psutil.NoSuchProcess, psutil.ZombieProcess, psutil.AccessDenied):
        return
    own = times.user + times.system
    seen[key] = Seen(mine, parent, own, times.children_user + times.children_system)
    for child in children:
        # A child of a function's process belongs to that function, of PostgreSQL's to it.
        inherited = mine if mine == POSTGRES or mine.startswith("function ") else None
        _walk(child, key, inherited, root_pid, seen)


def breakdown(before: Sample, after: Sample, orders: int) -> dict[str, Any]:
    """CPU-seconds per order by part between two samples; the parts add up to the total."""
    parts: dict[str, float] = {}

    def add(part: str, seconds: float) -> None:
        parts[part] = parts.get(part, 0.0) + seconds

    for key, now in after.items():
        then = before.get(key)
        add(now.part, now.own - (then.own if then else 0.0))
        reaper = EXITED if now.part == RUNTIME else now.part
        add(reaper, now.reaped - (then.reaped if then else 0.0))
    exited = [key for key in before if key not in after]
    for key in exited:
        then = before[key]
        parent = before.get(then.parent) if then.parent else None
        reaper = then.part if parent is None else (EXITED if parent.part == RUNTIME else parent.part)
        add(reaper, -(then.own + then.reaped))  # its whole life is in its parent's reaped CPU
    total = sum(s.own + s.reaped for s in after.values()) - sum(s.own + s.reaped for s in before.values())
    count = max(1, orders)
    return {
        "cpu_seconds": round(total, 2),
        "per_order_ms": round(1000 * total / count, 1),
        "by_part_per_order_ms": {
            part: round(1000 * seconds / count, 1)
            for part, seconds in sorted(parts.items(), key=lambda item: -item[1])
        },
        "by_part_seconds": {part: round(seconds, 3) for part, seconds in parts.items()},
        "processes_at_end": {part: sum(1 for s in after.values() if s.part == part) for part in parts},
        "processes_started": len([key for key in after if key not in before]),
        "processes_exited": len(exited),
    }


def machine_busy() -> float:
    """CPU-seconds every core of the machine has spent busy since boot (other work included)."""
    times = psutil.cpu_times()
    return times.user + times.nice + times.system + times.irq + times.softirq


def this_process() -> float:
    """CPU-seconds this process (the benchmark's clients) has used."""
    times = psutil.Process().cpu_times()
    return times.user + times.system
