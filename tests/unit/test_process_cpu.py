"""bench/process_cpu.py: each part's CPU between two samples, exited processes included."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from bench import process_cpu
from bench.process_cpu import Seen

BURN = "import time\nend = time.process_time() + 0.3\nwhile time.process_time() < end: pass\n"


def test_a_child_that_exits_during_the_run_is_counted_in_its_parents_reaped_cpu():
    before = process_cpu.sample(os.getpid())
    subprocess.run([sys.executable, "-c", BURN], check=True)  # started and reaped between the samples
    after = process_cpu.sample(os.getpid())

    cpu = process_cpu.breakdown(before, after, orders=1)

    exited = cpu["by_part_seconds"][process_cpu.EXITED]
    assert exited >= 0.3
    assert sum(cpu["by_part_seconds"].values()) == pytest.approx(cpu["cpu_seconds"], abs=0.01)


def test_a_process_seen_before_and_gone_after_counts_only_what_it_used_during_the_run():
    runtime, container, backend, postmaster = (1, 0.0), (2, 0.0), (3, 0.0), (4, 0.0)
    before = {
        runtime: Seen(process_cpu.RUNTIME, None, own=1.0, reaped=0.0),
        container: Seen("function payment", runtime, own=2.0, reaped=0.0),
        postmaster: Seen(process_cpu.POSTGRES, None, own=0.5, reaped=1.0),
        backend: Seen(process_cpu.POSTGRES, postmaster, own=0.25, reaped=0.0),
    }
    after = {
        # The container exited at 2.5 s of CPU and the runtime reaped it; the backend at 0.75 s.
        runtime: Seen(process_cpu.RUNTIME, None, own=1.5, reaped=2.5),
        postmaster: Seen(process_cpu.POSTGRES, None, own=0.75, reaped=1.75),
    }

    cpu = process_cpu.breakdown(before, after, orders=2)

    assert cpu["by_part_seconds"] == {
        process_cpu.RUNTIME: 0.5,
        process_cpu.EXITED: 0.5,
        process_cpu.POSTGRES: 0.25 + 0.5,
    }
    assert cpu["cpu_seconds"] == 1.75
    assert cpu["per_order_ms"] == 875.0
    assert cpu["processes_exited"] == 2


def test_the_postmaster_is_read_from_the_socket_directory_the_url_names(tmp_path):
    (tmp_path / "postmaster.pid").write_text(f"4242\n{tmp_path}\n", encoding="utf-8")

    assert process_cpu.postmaster_pid(f"postgresql://postgres:@/postgres?host={tmp_path}") == 4242
    assert process_cpu.postmaster_pid("postgresql://user@db.example:5432/orders") is None
