"""Lambda's sandbox on this machine: the built asset in a task root, run by Python 3.12.

`cdk deploy` uploads what infra/aws/bundling.py's LocalBundler builds for arm64; here the same
bundler builds the same asset for this machine's platform (its binary wheels must load here),
byte-compiled by the same 3.12 interpreter. A cold start then runs, as Lambda does:

- the runtime's Python version (3.12), with the task root as its working directory and first
  on the path, then a runtime directory holding what the Lambda runtime itself provides
  (`snapshot_restore_py`); `-S` leaves site-packages out, so nothing outside the asset and
  the standard library can be imported;
- Lambda's reserved variables (infra/emulator/environment.py), tracing active as deployed;
- PYTHONDONTWRITEBYTECODE=1: Lambda's code directory is read-only, so a module compiled
  from source is compiled again at every cold start, never cached by the one before.

The bare baselines (bench/baselines/) get a task root of their own built the same way:
boto3 and psycopg installed by the same pip command and compiled by the same interpreter.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import platform
import shutil
from dataclasses import dataclass
from pathlib import Path

from infra import topology
from infra.aws import bundling
from infra.emulator.environment import lambda_variables

REPO_ROOT = bundling.REPO_ROOT
# The same manylinux tags and environment markers as Lambda's, for this machine's architecture.
HOST_MACHINE = platform.machine()
HOST_PLATFORMS = tuple(p.replace(bundling.MACHINE, HOST_MACHINE) for p in bundling.PLATFORMS)
CACHE_ROOT = REPO_ROOT / "build" / "lambda-deps-host"
BASELINE_FILES = ("bench/__init__.py", "bench/baselines")
RUNTIME_PROVIDED = ("snapshot-restore-py",)


@dataclass(frozen=True)
class Sandbox:
    """A task root and how to start Python in it."""

    task_root: Path
    runtime_dir: Path
    python: str

    def command(self, script: Path, *arguments: str) -> list[str]:
        return [self.python, "-S", str(script), *arguments]

    def environment(self, function: topology.Function, region: str) -> dict[str, str]:
        """Lambda's variables for `function`, and the path as Lambda's runtime sets it."""
        return {
            **lambda_variables(
                function, region, task_root=self.task_root, python_version=bundling.PYTHON_VERSION
            ),
            "LAMBDA_RUNTIME_DIR": str(self.runtime_dir),
            "PYTHONPATH": f"{self.task_root}:{self.runtime_dir}",
            "PYTHONDONTWRITEBYTECODE": "1",
        }


def runtime_directory(root: Path) -> Path:
    """What the Lambda runtime provides besides the standard library, byte-compiled."""
    target = root / "runtime"
    if target.is_dir():
        return target
    for name in RUNTIME_PROVIDED:
        distribution = importlib.metadata.distribution(name)
        for file in distribution.files or ():
            if file.suffix == ".py":
                copy = target / file
                copy.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(Path(str(distribution.locate_file(file))), copy)
    bundling.compile_bytecode(target, shown_as="/var/runtime")
    return target


def function_sandbox(function: topology.Function, root: Path) -> Sandbox:
    """The asset `function` is deployed with, built for this machine under `root` (once per spec)."""
    spec = bundling.package_spec(function)
    key = hashlib.sha256(repr(spec).encode()).hexdigest()[:12]
    task_root = root / f"task-{key}"
    if not task_root.is_dir():
        bundler = bundling.LocalBundler(
            spec, label=function.name, cache_root=CACHE_ROOT, platforms=HOST_PLATFORMS, machine=HOST_MACHINE
        )
        bundler.bundle(task_root)
    return Sandbox(task_root, runtime_directory(root), bundling.lambda_python())


def baseline_sandbox(root: Path) -> Sandbox:
    """The bare handlers' task root: boto3 and psycopg, built and compiled the same way."""
    task_root = root / "task-baseline"
    if not task_root.is_dir():
        wanted = {"boto3", "psycopg"}
        requirements = tuple(
            r
            for f in topology.FUNCTIONS
            for r in bundling.requirements_for(f)
            if r.split("[")[0].split("=")[0] in wanted
        )
        spec = bundling.PackageSpec(packages=(), requirements=tuple(sorted(set(requirements))))
        bundler = bundling.LocalBundler(
            spec, label="baselines", cache_root=CACHE_ROOT, platforms=HOST_PLATFORMS, machine=HOST_MACHINE
        )
        bundler.bundle(task_root)
        for relative in BASELINE_FILES:
            source = REPO_ROOT / relative
            if source.is_dir():
                shutil.copytree(source, task_root / relative, ignore=shutil.ignore_patterns("__pycache__"))
            else:
                (task_root / relative).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(source, task_root / relative)
        bundling.compile_bytecode(task_root, only=("bench",))
        if missing := bundling.missing_bytecode(task_root):
            raise bundling.BundlingError(f"baselines: no bytecode for {missing[:5]}")
    return Sandbox(task_root, runtime_directory(root), bundling.lambda_python())
