"""Each function's deployment package, built on this machine without Docker.

A function's asset holds the modules of ours its handler reaches (its import graph, read by
`modulefinder` at bundle time, imports inside functions included: a module imported on first
use must be there too), the files those modules read (PACKAGE_DATA), and the project's
runtime dependencies installed for Lambda's
platform (arm64, CPython 3.12) by `pip install --platform ... --only-binary=:all:`: pip never
compiles anything, it fetches the wheels built for that platform. psycopg goes only into the
functions whose topology entry uses the database, stripe only into payment's. Powertools and
boto3 are bundled on purpose: the version we test with is the version that runs, not
whatever a managed layer or the runtime happens to carry.

pip is given the whole dependency closure and resolves nothing itself (`--no-deps`): it
evaluates the dependencies' environment markers against the Python running pip, not against
`--python-version` (pypa/pip#11664), so on 3.13 it would leave out psycopg's
`typing-extensions; python_version < "3.13"`. resolve() walks the closure with Lambda's marker
values instead, each distribution pinned to the version the tests ran with, and the installed
dependencies are checked for anything still missing.

Every module ships with its bytecode. Lambda's code directory is read-only, so a module
without a `.pyc` is compiled from source at every cold start (for all of botocore, pydantic
and Powertools, that was most of a cold start). A Python 3.12 interpreter (the runtime's
version: bytecode is per version) compiles the whole asset with unchecked-hash `.pyc` files,
which the runtime loads without comparing timestamps; `lambda_python()` finds one without
Docker. A package with a `.py` and no `.pyc` is refused.

Functions with the same contents (modules, requirements) share one asset, built and uploaded
once.

CDK calls `LocalBundler.try_bundle` when it needs the asset (`cdk deploy`, `cdk synth`). With
bundling skipped (context `aws:cdk:bundling-stacks` = [], what tests and CI use) it is never
called: the template is the same, only the asset is not built.
"""

from __future__ import annotations

import glob
import hashlib
import importlib.metadata
import json
import modulefinder
import os
import shutil
import subprocess
import sys
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import jsii
from aws_cdk import AssetHashType, BundlingOptions, DockerImage, ILocalBundling
from aws_cdk import aws_lambda as lambda_
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from infra import topology

REPO_ROOT = Path(__file__).resolve().parents[2]
PYTHON_VERSION = "3.12"  # the Lambda runtime, the wheels and the Powertools layer all follow it
MACHINE = "aarch64"  # Lambda's arm64, as environment markers name it
# Lambda's Python 3.12 runs on Amazon Linux 2023 (glibc 2.34): wheels for any older glibc work too.
PLATFORMS = ("manylinux2014_aarch64", "manylinux_2_28_aarch64", "manylinux_2_34_aarch64")
SHARED_PACKAGES = ("ordering", "generated")  # what a handler's package may import of ours
# Provided by the Lambda runtime itself (its SnapStart hooks); installed locally for the tests.
FROM_RUNTIME = frozenset({"snapshot-restore-py"})
BYTECODE = "unchecked-hash"  # part of every fingerprint: an asset built without it is another asset
TASK_ROOT = "/var/task"  # where Lambda unpacks the asset: the path tracebacks name
# Who compiles the bytecode: this variable, else the first 3.12 interpreter found (see lambda_python).
PYTHON_VARIABLE = "ORDERS_LAMBDA_PYTHON"
# requirement -> the `uses` resource that needs it
ONLY_FOR = {"psycopg": "database", "certifi": "database", "stripe": "payment_gateway"}
# `uses` resource -> our adapters for it. bootstrap imports every adapter on first use, so the
# import graph reaches them all; a function that does not use the resource never builds one
# (and has neither its grants nor its driver), so its asset leaves them out.
ADAPTERS_FOR = {
    "database": (
        "ordering.adapters.postgres_connection",
        "ordering.adapters.postgres_read_model",
        "ordering.adapters.postgres_rebuilds",
    ),
    "payment_gateway": ("ordering.adapters.stripe_payment_gateway", "ordering.adapters.fake_payment_gateway"),
    "mailer": ("ordering.adapters.ses_mailer",),
}
UNZIPPED_LIMIT_BYTES = 250 * 1024 * 1024  # Lambda's limit for function + layers, unzipped
# Files our modules read at run time (importlib.resources), shipped with the module reading them.
PACKAGE_DATA = {
    "ordering.adapters.read_model_tables.migrator": ("ordering/adapters/read_model_tables/migrations/*.sql",),
}


class BundlingError(RuntimeError):
    pass


def lambda_environment(machine: str = MACHINE) -> dict[str, str]:
    """The environment-marker values of Lambda's Python 3.12 on Linux, whatever Python builds the asset.

    bench/lambda_sandbox.py builds the same asset for this machine: only `machine` differs.
    """
    return {
        "implementation_name": "cpython",
        "implementation_version": f"{PYTHON_VERSION}.0",
        "os_name": "posix",
        "platform_machine": machine,
        "platform_python_implementation": "CPython",
        "platform_release": "",
        "platform_system": "Linux",
        "platform_version": "",
        "python_full_version": f"{PYTHON_VERSION}.0",
        "python_version": PYTHON_VERSION,
        "sys_platform": "linux",
    }


@cache
def constraints(path: Path = REPO_ROOT / "constraints.txt") -> dict[str, str]:
    """constraints.txt's pins by normalized name: the versions `make` installs the tests with."""
    pins = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        name, separator, version = line.split("#")[0].strip().partition("==")
        if separator:
            pins[canonicalize_name(name)] = version.strip()
    return pins


def _applies(requirement: Requirement, environment: dict[str, str], extras: Iterable[str]) -> bool:
    """Whether a dependency is needed on `environment` by a distribution wanted with `extras`."""
    if requirement.marker is None:
        return True
    return any(requirement.marker.evaluate({**environment, "extra": extra}) for extra in extras)


def _pinned_version(requirement: Requirement, wanted_by: str) -> str:
    """The installed version (what the tests ran with), else constraints.txt's pin."""
    try:
        version = importlib.metadata.version(requirement.name)
    except importlib.metadata.PackageNotFoundError:
        version = constraints().get(canonicalize_name(requirement.name), "")
    if not version:
        raise BundlingError(
            f"{wanted_by} needs {requirement} on Lambda, which is neither installed here nor pinned "
            "in constraints.txt: pin it there"
        )
    if not requirement.specifier.contains(version, prereleases=True):
        raise BundlingError(f"{wanted_by} needs {requirement} on Lambda, but the version here is {version}")
    return version


def resolve(requirements: Iterable[str], environment: dict[str, str]) -> tuple[str, ...]:
    """Every distribution `requirements` need on `environment`, as sorted `name==version` pins.

    Markers are evaluated with `environment` (Lambda's), never this Python's; what a
    distribution needs is read from its installed metadata. A distribution this Python does
    not have (one only 3.12 needs) is pinned from constraints.txt, and what it needs in turn
    is checked in the installed asset (unmet_requirements).
    """
    pins: dict[str, str] = {}
    walked: set[tuple[str, str]] = set()  # (distribution, extra) whose requirements are followed
    asked = [Requirement(text) for text in requirements]
    pending = [(r, "the project") for r in asked if _applies(r, environment, ("",))]
    while pending:
        requirement, wanted_by = pending.pop()
        name = canonicalize_name(requirement.name)
        if name in FROM_RUNTIME:
            continue
        pins[name] = _pinned_version(requirement, wanted_by)  # checked against every range that asks
        wanted = ("", *sorted(canonicalize_name(extra) for extra in requirement.extras))
        extras = [extra for extra in wanted if (name, extra) not in walked]
        if not extras:
            continue
        walked.update((name, extra) for extra in extras)
        try:
            needs = [Requirement(text) for text in importlib.metadata.requires(requirement.name) or []]
        except importlib.metadata.PackageNotFoundError:
            continue
        pending += [(dependency, name) for dependency in needs if _applies(dependency, environment, extras)]
    return tuple(f"{name}=={version}" for name, version in sorted(pins.items()))


def unmet_requirements(directory: Path, environment: dict[str, str]) -> list[str]:
    """What the distributions installed in `directory` need on `environment` and do not find there."""
    distributions = list(importlib.metadata.distributions(path=[str(directory)]))
    installed = {canonicalize_name(d.metadata["Name"]): d.version for d in distributions}
    unmet = set()
    for distribution in distributions:
        for text in distribution.requires or []:
            requirement = Requirement(text)
            name = canonicalize_name(requirement.name)
            if name in FROM_RUNTIME or not _applies(requirement, environment, ("",)):
                continue
            version = installed.get(name)
            if version is None or not requirement.specifier.contains(version, prereleases=True):
                unmet.add(f"{distribution.metadata['Name']} needs {requirement} (has {version or 'none'})")
    return sorted(unmet)


@cache
def project_requirements(pyproject: Path = REPO_ROOT / "pyproject.toml") -> tuple[Requirement, ...]:
    """The runtime `dependencies` of pyproject.toml: what a Lambda needs."""
    data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    return tuple(Requirement(text) for text in data["project"]["dependencies"])


def requirements_for(function: topology.Function) -> tuple[str, ...]:
    """What pip installs into this function's asset, pinned to the versions tests ran with.

    A requirement installed here is pinned to the installed version, so the package holds the
    code the test suite exercised; otherwise pip resolves pyproject's range.
    """
    wanted = []
    for requirement in project_requirements():
        if requirement.name in FROM_RUNTIME:
            continue
        needs = ONLY_FOR.get(requirement.name)
        if needs is not None and needs not in function.uses:
            continue
        extras = f"[{','.join(sorted(requirement.extras))}]" if requirement.extras else ""
        try:
            pinned = f"=={importlib.metadata.version(requirement.name)}"
        except importlib.metadata.PackageNotFoundError:
            pinned = str(requirement.specifier)
        wanted.append(f"{requirement.name}{extras}{pinned}")
    return tuple(sorted(wanted))


@dataclass(frozen=True)
class PackageSpec:
    """What goes into a deployment package. Functions with equal specs share one asset."""

    packages: tuple[str, ...]  # first-party top-level packages the files below belong to
    requirements: tuple[str, ...]  # installed by pip for Lambda's platform
    files: tuple[str, ...] = ()  # our files it ships, relative to the repository (posix)

    @property
    def has_psycopg(self) -> bool:
        return any(r.startswith("psycopg") for r in self.requirements)


@cache
def reached_files(
    handler_module: str, root: Path = REPO_ROOT, excludes: tuple[str, ...] = ()
) -> tuple[str, ...]:
    """Our files `handler_module` can reach: every module it imports, at init or on first use,
    except `excludes` (and what only they import).

    modulefinder reads the import statements of every code object (function bodies and
    `TYPE_CHECKING` blocks included: a few modules too many, never one too few) and is only
    given our repository to search, so the dependencies and the standard library are not
    walked. Dynamic imports (`importlib.import_module`) are not seen: we have none.
    """
    finder = modulefinder.ModuleFinder(path=[str(root)], excludes=list(excludes))
    finder.import_hook(handler_module)
    allowed = (handler_module.split(".")[0], *SHARED_PACKAGES)
    files: set[str] = set()
    for name, module in finder.modules.items():
        if module.__file__ is None:
            continue
        relative = Path(module.__file__).resolve().relative_to(root.resolve()).as_posix()
        if relative.split("/")[0] not in allowed:
            raise BundlingError(f"{handler_module} imports {name} ({relative}): not shipped to Lambda")
        files.add(relative)
        for pattern in PACKAGE_DATA.get(name, ()):
            files.update(p.relative_to(root).as_posix() for p in root.glob(pattern))
    return tuple(sorted(files))


def package_spec(function: topology.Function) -> PackageSpec:
    handler_package = function.handler.split(".")[0]  # `handlers` or `streams`
    unused = tuple(
        module
        for resource, modules in ADAPTERS_FOR.items()
        if resource not in function.uses
        for module in modules
    )
    files = reached_files(function.handler.rpartition(".")[0], excludes=unused)
    tops = {f.split("/")[0] for f in files}
    packages = tuple(p for p in (handler_package, *SHARED_PACKAGES) if p in tops)
    return PackageSpec(packages=packages, requirements=requirements_for(function), files=files)


def handler_file(function: topology.Function, root: Path = REPO_ROOT) -> Path:
    module = function.handler.rpartition(".")[0]
    return root.joinpath(*module.split(".")).with_suffix(".py")


def missing_handlers(functions: Iterable[topology.Function], root: Path = REPO_ROOT) -> list[str]:
    """Functions whose handler module does not exist (their package would deploy but never run)."""
    return [
        f"{f.name}: {handler_file(f, root).relative_to(root)} does not exist"
        for f in functions
        if not handler_file(f, root).is_file()
    ]


def source_files(root: Path, spec: PackageSpec) -> list[Path]:
    """Our files that go into an asset: the bundle copies and the hash reads these."""
    return [root / relative for relative in spec.files]


def pip_command(
    requirements: tuple[str, ...], target: Path, platforms: tuple[str, ...] = PLATFORMS
) -> list[str]:
    """Installs exactly `requirements`, resolve()'s closure: pip would follow its own Python's markers."""
    platform_args = [arg for platform in platforms for arg in ("--platform", platform)]
    return [
        sys.executable,
        "-m",
        "pip",
        "install",
        "--quiet",
        "--disable-pip-version-check",
        *platform_args,
        "--implementation",
        "cp",
        "--python-version",
        PYTHON_VERSION,
        "--only-binary=:all:",
        "--no-deps",
        "--no-compile",  # this machine's Python may not be 3.12: compile_bytecode does it
        "--target",
        str(target),
        *requirements,
    ]


def _python_version_of(interpreter: str) -> str | None:
    """`3.12` for a 3.12 interpreter; None if it does not run (a pyenv shim may exist and not run)."""
    try:
        completed = subprocess.run(  # noqa: S603
            [interpreter, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
            capture_output=True,
            text=True,
            check=False,
            timeout=30,
        )
    except OSError:
        return None
    return completed.stdout.strip() if completed.returncode == 0 else None


@cache
def lambda_python() -> str:
    """A Python of the Lambda runtime's version, to compile the bytecode with; no Docker needed.

    In order: $ORDERS_LAMBDA_PYTHON, this interpreter if it is 3.12, `python3.12` on the PATH,
    then pyenv's and the usual install locations.
    """
    candidates = [os.environ.get(PYTHON_VARIABLE, ""), sys.executable, f"python{PYTHON_VERSION}"]
    candidates += sorted(
        glob.glob(os.path.expanduser(f"~/.pyenv/versions/{PYTHON_VERSION}*/bin/python{PYTHON_VERSION}"))
    )
    candidates += [f"/usr/local/bin/python{PYTHON_VERSION}", f"/opt/homebrew/bin/python{PYTHON_VERSION}"]
    for candidate in filter(None, candidates):
        found = shutil.which(candidate)
        if found and _python_version_of(found) == PYTHON_VERSION:
            return found
    raise BundlingError(
        f"no Python {PYTHON_VERSION} found to compile the functions' bytecode with (Lambda's runtime "
        f"version); install one, or set {PYTHON_VARIABLE}=/path/to/python{PYTHON_VERSION}"
    )


def compile_bytecode(directory: Path, *, only: Iterable[str] = (), shown_as: str = TASK_ROOT) -> None:
    """Compile every `.py` under `directory` (or its `only` entries) to unchecked-hash `.pyc`.

    Compiled by the runtime's Python version, so that the runtime uses them; unchecked-hash, so
    that neither the zip's timestamps nor a changed source can make it recompile. Tracebacks
    name the files where Lambda puts them (`shown_as`).
    """
    targets = [str(directory / entry) for entry in only] or [str(directory)]
    command = [
        lambda_python(),
        "-m",
        "compileall",
        "-q",
        "-j",
        "0",
        "--invalidation-mode",
        "unchecked-hash",
        "-s",
        str(directory),
        "-p",
        shown_as,
        *targets,
    ]
    completed = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603
    if completed.returncode != 0:
        raise BundlingError(
            f"compileall failed in {directory}:\n{completed.stdout[-3000:]}{completed.stderr[-3000:]}"
        )


def bytecode_for(source: Path) -> Path:
    """Where the runtime (CPython 3.12) looks for the bytecode of `source`."""
    tag = "cpython-" + PYTHON_VERSION.replace(".", "")
    return source.parent / "__pycache__" / f"{source.stem}.{tag}.pyc"


def missing_bytecode(directory: Path) -> list[str]:
    """Every `.py` under `directory` that has no unchecked-hash 3.12 `.pyc` (compiled at each cold start)."""
    missing = []
    for source in sorted(directory.rglob("*.py")):
        compiled = bytecode_for(source)
        # The header's flags word: 0b01 is hash-based without checking the source (PEP 552).
        if not compiled.is_file() or compiled.read_bytes()[4:8] != b"\x01\x00\x00\x00":
            missing.append(source.relative_to(directory).as_posix())
    return missing


def asset_hash(spec: PackageSpec, root: Path = REPO_ROOT) -> str:
    """A fingerprint of exactly what goes into the asset, cheap enough to compute on every synth."""
    digest = hashlib.sha256()
    installed = resolve(spec.requirements, lambda_environment())  # a dependency's new version is a new asset
    digest.update(json.dumps([PYTHON_VERSION, PLATFORMS, BYTECODE, installed]).encode())
    for path in source_files(root, spec):
        digest.update(str(path.relative_to(root)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def copy_own_code(spec: PackageSpec, output: Path, source_root: Path = REPO_ROOT) -> None:
    """Our files of `spec` into `output`, byte-compiled as the runtime loads them."""
    for path in source_files(source_root, spec):
        copy = output / path.relative_to(source_root)
        copy.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, copy)
    if spec.packages:
        compile_bytecode(output, only=spec.packages)


@dataclass(frozen=True)
class AssetReport:
    label: str
    bytes: int
    files: int
    has_psycopg: bool

    def line(self) -> str:
        psycopg = "with psycopg" if self.has_psycopg else "no psycopg"
        size = f"{self.bytes / 1_048_576:6.1f} MB unzipped"
        return f"asset {size}, {self.files:5d} files, {psycopg:<12} for {self.label}"


def measure(label: str, directory: Path) -> AssetReport:
    files = [p for p in directory.rglob("*") if p.is_file()]
    return AssetReport(
        label=label,
        bytes=sum(p.stat().st_size for p in files),
        files=len(files),
        has_psycopg=(directory / "psycopg").is_dir(),
    )


@jsii.implements(ILocalBundling)
class LocalBundler:
    """Builds one package with pip and file copies: no Docker anywhere."""

    def __init__(
        self,
        spec: PackageSpec,
        *,
        label: str,
        source_root: Path = REPO_ROOT,
        cache_root: Path | None = None,
        platforms: tuple[str, ...] = PLATFORMS,
        machine: str = MACHINE,
    ) -> None:
        """`platforms` and `machine`: Lambda's by default; bench/lambda_sandbox.py builds the same
        asset for this machine."""
        self.spec, self.label, self.source_root, self.platforms = spec, label, source_root, platforms
        self.environment = lambda_environment(machine)
        # Installed dependencies are kept between synths, one directory per requirement set.
        self.cache_root = cache_root or source_root / "build" / "lambda-deps"

    def try_bundle(self, output_dir: str, *, image: DockerImage) -> bool:
        """CDK's ILocalBundling: build into output_dir; `image` is never used."""
        self.bundle(Path(output_dir))
        return True

    def bundle(self, output: Path) -> AssetReport:
        output.mkdir(parents=True, exist_ok=True)
        shutil.copytree(self._dependencies(), output, dirs_exist_ok=True)
        copy_own_code(self.spec, output, self.source_root)
        if missing := missing_bytecode(output):
            raise BundlingError(f"{self.label}: no bytecode for {len(missing)} modules, e.g. {missing[:5]}")
        report = measure(self.label, output)
        sys.stderr.write(report.line() + "\n")
        if report.bytes > UNZIPPED_LIMIT_BYTES:
            raise BundlingError(f"{report.line()}: over Lambda's 250 MB unzipped limit")
        return report

    def _dependencies(self) -> Path:
        requirements = resolve(self.spec.requirements, self.environment)
        fingerprint = [PYTHON_VERSION, self.platforms, BYTECODE, requirements]
        key = hashlib.sha256(json.dumps(fingerprint).encode()).hexdigest()[:16]
        target = self.cache_root / key
        complete = self.cache_root / f"{key}.complete"  # written last: a half-done install is redone
        if complete.exists() and target.is_dir():
            return target
        shutil.rmtree(target, ignore_errors=True)
        target.mkdir(parents=True)
        command = pip_command(requirements, target, self.platforms)  # our interpreter, our requirement list
        completed = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603
        if completed.returncode != 0:
            raise BundlingError(
                f"pip could not install {' '.join(requirements)} for {self.platforms[0]}:\n{completed.stderr}"
            )
        if unmet := unmet_requirements(target, self.environment):
            raise BundlingError(f"{self.label}: dependencies missing: {'; '.join(unmet)}")
        shutil.rmtree(target / "bin", ignore_errors=True)  # console scripts: nothing runs them on Lambda
        compile_bytecode(target)
        complete.write_text("\n".join(requirements), encoding="utf-8")
        return target


class Packager:
    """Gives each function its code asset: bundled locally, fingerprinted by what goes into it.

    One per synth. Functions with the same package spec get the same asset, fingerprinted
    once, so CDK builds and uploads that package once for all of them (and a file edited
    halfway through a synth cannot split them).
    """

    def __init__(self, source_root: Path = REPO_ROOT) -> None:
        self.source_root = source_root
        self._assets: dict[PackageSpec, lambda_.Code] = {}

    def code_for(self, function: topology.Function) -> lambda_.Code:
        spec = package_spec(function)
        if spec not in self._assets:
            sharing = [f.name for f in topology.FUNCTIONS if package_spec(f) == spec] or [function.name]
            self._assets[spec] = lambda_.Code.from_asset(
                str(self.source_root),
                asset_hash_type=AssetHashType.CUSTOM,
                asset_hash=asset_hash(spec, self.source_root),
                bundling=BundlingOptions(
                    # Never pulled: LocalBundler always bundles or raises. CDK's API requires an image.
                    image=DockerImage.from_registry(f"public.ecr.aws/sam/build-python{PYTHON_VERSION}"),
                    local=LocalBundler(spec, label=", ".join(sharing), source_root=self.source_root),
                ),
            )
        return self._assets[spec]
