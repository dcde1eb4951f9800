"""Each function's deployment package, built on this machine without Docker.

A function's asset holds its own package (`handlers/` or `streams/`), the shared core
(`ordering/`, `generated/`) and the project's runtime dependencies installed for Lambda's
platform (arm64, CPython 3.12) by `pip install --platform ... --only-binary=:all:`: pip never
compiles anything, it fetches the wheels built for that platform. psycopg goes only into the
functions whose topology entry uses the database; Powertools never goes in, it comes from
the AWS-managed layer (infra/aws/functions.py). boto3 is bundled on purpose: the version we
test with is the version that runs, not whatever the runtime happens to carry.

Functions with the same contents (package, requirements) share one asset: five packages serve
the eleven functions today, each built and uploaded once.

CDK calls `LocalBundler.try_bundle` when it needs the asset (`cdk deploy`, `cdk synth`). With
bundling skipped (context `aws:cdk:bundling-stacks` = [], what tests and CI use) it is never
called: the template is the same, only the asset is not built.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
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

from infra import topology

REPO_ROOT = Path(__file__).resolve().parents[2]
PYTHON_VERSION = "3.12"  # the Lambda runtime, the wheels and the Powertools layer all follow it
# Lambda's Python 3.12 runs on Amazon Linux 2023 (glibc 2.34): wheels for any older glibc work too.
PLATFORMS = ("manylinux2014_aarch64", "manylinux_2_28_aarch64", "manylinux_2_34_aarch64")
SHARED_PACKAGES = ("ordering", "generated")
FROM_LAYER = frozenset({"aws-lambda-powertools"})  # provided by the AWS-managed layer
# requirement -> the `uses` resource that needs it
ONLY_FOR = {"psycopg": "database", "certifi": "database", "stripe": "payment_gateway"}
UNZIPPED_LIMIT_BYTES = 250 * 1024 * 1024  # Lambda's limit for function + layers, unzipped
# What of our own packages runs on Lambda: code, generated JSON documents, SQL migrations.
# Caches, linter settings and anything else a working copy holds stay out.
SHIPPED_SUFFIXES = (".py", ".json", ".sql")


class BundlingError(RuntimeError):
    pass


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
        if requirement.name in FROM_LAYER:
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

    packages: tuple[str, ...]  # first-party top-level packages, copied as they are
    requirements: tuple[str, ...]  # installed by pip for Lambda's platform

    @property
    def has_psycopg(self) -> bool:
        return any(r.startswith("psycopg") for r in self.requirements)


def package_spec(function: topology.Function) -> PackageSpec:
    handler_package = function.handler.split(".")[0]  # `handlers` or `streams`
    return PackageSpec(packages=(handler_package, *SHARED_PACKAGES), requirements=requirements_for(function))


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


def source_files(root: Path, packages: tuple[str, ...]) -> list[Path]:
    """Every file of `packages` that goes into an asset: the bundle copies and the hash reads these."""
    found = []
    for package in packages:
        for path in sorted((root / package).rglob("*")):
            if path.is_file() and path.suffix in SHIPPED_SUFFIXES and not _hidden(path.relative_to(root)):
                found.append(path)
    return found


def _hidden(relative: Path) -> bool:
    return any(part.startswith(".") or part == "__pycache__" for part in relative.parts)


def pip_command(requirements: tuple[str, ...], target: Path) -> list[str]:
    platforms = [arg for platform in PLATFORMS for arg in ("--platform", platform)]
    return [
        sys.executable,
        "-m",
        "pip",
        "install",
        "--quiet",
        "--disable-pip-version-check",
        *platforms,
        "--implementation",
        "cp",
        "--python-version",
        PYTHON_VERSION,
        "--only-binary=:all:",
        "--no-compile",  # .pyc for this machine's Python would be dead weight
        "--target",
        str(target),
        *requirements,
    ]


def asset_hash(spec: PackageSpec, root: Path = REPO_ROOT) -> str:
    """A fingerprint of exactly what goes into the asset, cheap enough to compute on every synth."""
    digest = hashlib.sha256()
    digest.update(json.dumps([PYTHON_VERSION, PLATFORMS, spec.requirements]).encode())
    for path in source_files(root, spec.packages):
        digest.update(str(path.relative_to(root)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


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
        self, spec: PackageSpec, *, label: str, source_root: Path = REPO_ROOT, cache_root: Path | None = None
    ) -> None:
        self.spec, self.label, self.source_root = spec, label, source_root
        # Installed dependencies are kept between synths, one directory per requirement set.
        self.cache_root = cache_root or source_root / "build" / "lambda-deps"

    def try_bundle(self, output_dir: str, *, image: DockerImage) -> bool:
        """CDK's ILocalBundling: build into output_dir; `image` is never used."""
        self.bundle(Path(output_dir))
        return True

    def bundle(self, output: Path) -> AssetReport:
        output.mkdir(parents=True, exist_ok=True)
        shutil.copytree(self._dependencies(), output, dirs_exist_ok=True)
        for path in source_files(self.source_root, self.spec.packages):
            copy = output / path.relative_to(self.source_root)
            copy.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, copy)
        report = measure(self.label, output)
        sys.stderr.write(report.line() + "\n")
        if report.bytes > UNZIPPED_LIMIT_BYTES:
            raise BundlingError(f"{report.line()}: over Lambda's 250 MB unzipped limit")
        return report

    def _dependencies(self) -> Path:
        requirements = self.spec.requirements
        key = hashlib.sha256(json.dumps([PYTHON_VERSION, PLATFORMS, requirements]).encode()).hexdigest()[:16]
        target = self.cache_root / key
        complete = self.cache_root / f"{key}.complete"  # written last: a half-done install is redone
        if complete.exists() and target.is_dir():
            return target
        shutil.rmtree(target, ignore_errors=True)
        target.mkdir(parents=True)
        command = pip_command(requirements, target)  # our interpreter, our requirement list
        completed = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603
        if completed.returncode != 0:
            raise BundlingError(
                f"pip could not install {' '.join(requirements)} for {PLATFORMS[0]}:\n{completed.stderr}"
            )
        shutil.rmtree(target / "bin", ignore_errors=True)  # console scripts: nothing runs them on Lambda
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
