"""What an import costs, by package, from `python -X importtime`."""

from __future__ import annotations

import re
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

LINE = re.compile(r"^import time:\s+(\d+)\s+\|\s+(\d+)\s+\|(\s*)(\S+)\s*$")


@dataclass(frozen=True)
class ImportCost:
    total_us: int  # the sum of every module's own time: the whole import
    by_package: list[tuple[str, int]]  # top-level package -> its modules' own time, largest first
    by_module: list[tuple[str, int]]  # single modules by their own time, largest first


def own_times(stderr: str) -> dict[str, int]:
    """module -> its own import time in microseconds."""
    found = {}
    for line in stderr.splitlines():
        match = LINE.match(line)
        if match is not None:
            found[match.group(4)] = int(match.group(1))
    return found


def parse(stderr: str, *, already_loaded: frozenset[str] = frozenset()) -> ImportCost:
    """Costs by package and module, leaving out what the interpreter loads before any import."""
    packages: Counter[str] = Counter()
    modules: Counter[str] = Counter()
    for name, own in own_times(stderr).items():
        if name in already_loaded:
            continue
        packages[name.split(".")[0]] += own
        modules[name] += own
    return ImportCost(sum(packages.values()), packages.most_common(), modules.most_common())


def _importtime(code: str, env: dict[str, str], cwd: Path, python: tuple[str, ...]) -> str:
    completed = subprocess.run(
        [*python, "-X", "importtime", "-c", code],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    if completed.returncode != 0:
        raise RuntimeError(f"{code!r} failed:\n{completed.stderr[-2000:]}")
    return completed.stderr


def measure(
    module: str, env: dict[str, str], cwd: Path, python: tuple[str, ...] = (sys.executable,)
) -> ImportCost:
    """Import `module` in a fresh interpreter (`python`: the command and its flags) with `env`
    and report where the time went."""
    startup = frozenset(own_times(_importtime("pass", env, cwd, python)))
    return parse(_importtime(f"import {module}", env, cwd, python), already_loaded=startup)
