"""Function packages: built for Lambda's platform by pip, without Docker, holding only what they need."""

from __future__ import annotations

import dataclasses
import importlib.metadata
import subprocess
from pathlib import Path

import pytest

from infra import topology
from infra.aws import bundling
from tests.infra.conftest import REPO_ROOT, Synthesized

pytestmark = pytest.mark.infra


def test_psycopg_only_where_the_topology_uses_the_database() -> None:
    for function in topology.FUNCTIONS:
        assert bundling.package_spec(function).has_psycopg is ("database" in function.uses), function.name


def test_the_ca_bundle_goes_with_the_database_driver() -> None:
    """verify-full needs the CA file in the asset of every function that connects to Postgres."""
    for function in topology.FUNCTIONS:
        has_certifi = any(r.startswith("certifi==") for r in bundling.requirements_for(function))
        assert has_certifi is ("database" in function.uses), function.name


def test_stripe_only_where_the_topology_uses_the_payment_gateway() -> None:
    for function in topology.FUNCTIONS:
        has_stripe = any(r.startswith("stripe==") for r in bundling.requirements_for(function))
        assert has_stripe is ("payment_gateway" in function.uses), function.name
    assert "payment_gateway" in topology.function("payment").uses


def test_powertools_is_bundled_at_the_version_the_tests_ran_with() -> None:
    version = importlib.metadata.version("aws-lambda-powertools")
    for function in topology.FUNCTIONS:
        assert f"aws-lambda-powertools=={version}" in bundling.requirements_for(function), function.name


def test_the_runtimes_own_snapstart_hooks_module_is_never_bundled() -> None:
    for function in topology.FUNCTIONS:
        assert not any("snapshot" in r for r in bundling.requirements_for(function)), function.name


def test_requirements_are_pinned_to_the_versions_the_tests_ran_with() -> None:
    for requirement in bundling.requirements_for(topology.function("query_orders")):
        name, _, version = requirement.partition("==")
        assert version == importlib.metadata.version(name.split("[")[0]), requirement


def _lambda_but_on(python_version: str) -> dict[str, str]:
    return {
        **bundling.lambda_environment(),
        "python_version": python_version,
        "python_full_version": f"{python_version}.0",
    }


def test_the_closure_follows_lambdas_markers_not_those_of_the_python_building_it() -> None:
    """psycopg needs typing-extensions below 3.13: Lambda's 3.12 gets it, even from a 3.13 build."""
    psycopg = f"psycopg=={importlib.metadata.version('psycopg')}"
    typing_extensions = f"typing-extensions=={importlib.metadata.version('typing-extensions')}"
    assert bundling.resolve([psycopg], bundling.lambda_environment()) == (psycopg, typing_extensions)
    assert bundling.resolve([psycopg], _lambda_but_on("3.13")) == (psycopg,)
    assert bundling.resolve(
        [psycopg, 'no-such-distribution; python_version < "3.12"'], _lambda_but_on("3.12")
    ) == (
        psycopg,
        typing_extensions,
    )


def test_an_extra_brings_its_dependencies_into_the_closure() -> None:
    version = importlib.metadata.version("psycopg")
    plain = set(bundling.resolve([f"psycopg=={version}"], bundling.lambda_environment()))
    binary = set(bundling.resolve([f"psycopg[binary]=={version}"], bundling.lambda_environment()))
    assert binary - plain == {f"psycopg-binary=={importlib.metadata.version('psycopg-binary')}"}


def test_every_distribution_installed_is_pinned_to_the_version_the_tests_ran_with() -> None:
    for function in topology.FUNCTIONS:
        closure = bundling.resolve(bundling.requirements_for(function), bundling.lambda_environment())
        names = {pin.split("==")[0] for pin in closure}
        assert {"boto3", "botocore", "pydantic-core", "typing-extensions"} <= names, function.name
        for pin in closure:
            name, _, version = pin.partition("==")
            assert version == importlib.metadata.version(name), pin
        assert not any("snapshot" in pin for pin in closure), function.name


def test_a_dependency_neither_installed_nor_pinned_is_refused_by_name() -> None:
    with pytest.raises(bundling.BundlingError, match=r"no-such-distribution.*constraints\.txt"):
        bundling.resolve(["no-such-distribution>=1"], bundling.lambda_environment())


def test_pip_installs_the_closure_and_resolves_nothing_itself(tmp_path: Path) -> None:
    command = bundling.pip_command(("psycopg==3.3.9", "typing-extensions==4.16.0"), tmp_path)
    assert "--no-deps" in command
    assert command[-2:] == ["psycopg==3.3.9", "typing-extensions==4.16.0"]


def test_a_dependency_missing_from_the_installed_set_is_named(tmp_path: Path) -> None:
    def distribution(name: str, version: str, *requires: str) -> None:
        info = tmp_path / f"{name}-{version}.dist-info"
        info.mkdir()
        lines = ["Metadata-Version: 2.1", f"Name: {name}", f"Version: {version}"]
        (info / "METADATA").write_text("\n".join([*lines, *(f"Requires-Dist: {r}" for r in requires)]) + "\n")

    distribution(
        "a", "1.0", "b>=2", 'c; python_version < "3.13"', 'd; sys_platform == "win32"', 'e; extra == "x"'
    )
    distribution("b", "2.1")
    assert bundling.unmet_requirements(tmp_path, bundling.lambda_environment()) == [
        'a needs c; python_version < "3.13" (has none)'
    ]


def test_a_function_package_holds_its_own_top_level_package_and_the_shared_core() -> None:
    assert bundling.package_spec(topology.function("place_order")).packages == (
        "handlers",
        "ordering",
        "generated",
    )
    assert bundling.package_spec(topology.function("publisher")).packages == (
        "streams",
        "ordering",
        "generated",
    )


def test_an_asset_holds_only_the_modules_its_handler_reaches() -> None:
    place_order = set(bundling.package_spec(topology.function("place_order")).files)
    assert {"handlers/__init__.py", "handlers/place_order.py", "handlers/once.py", "generated/models.py"} <= (
        place_order
    )
    assert "handlers/payment.py" not in place_order  # another function's handler
    assert "ordering/services/replay.py" not in place_order  # the replay function's service
    assert not any(f.startswith("streams/") for f in place_order)
    assert not any(f.endswith(".json") for f in place_order)  # API Gateway's documents: not read at run time
    publisher = set(bundling.package_spec(topology.function("publisher")).files)
    assert "streams/publisher.py" in publisher
    assert not any(f.startswith("handlers/") for f in publisher)
    migrations = {f for f in bundling.package_spec(topology.function("migrate")).files if f.endswith(".sql")}
    shipped_with_the_migrator = {
        p.relative_to(REPO_ROOT).as_posix()
        for p in (REPO_ROOT / "ordering/adapters/read_model_tables/migrations").glob("*.sql")
    }
    assert migrations == shipped_with_the_migrator != set()


def test_modules_imported_on_first_use_are_reached_and_others_are_not(tmp_path: Path) -> None:
    root = _tree(
        tmp_path,
        {
            "handlers/__init__.py": "",
            "handlers/h.py": "import ordering.eager\n\ndef handler(e, c):\n    from ordering import lazy\n",
            "ordering/__init__.py": "",
            "ordering/eager.py": "import json\nimport boto3\n",  # stdlib, dependency: not ours
            "ordering/lazy.py": "",
            "ordering/unused.py": "",
            "handlers/other.py": "import cli.main\n",
            "cli/__init__.py": "",
            "cli/main.py": "",
        },
    )
    assert bundling.reached_files("handlers.h", root) == (
        "handlers/__init__.py",
        "handlers/h.py",
        "ordering/__init__.py",
        "ordering/eager.py",
        "ordering/lazy.py",
    )
    with pytest.raises(bundling.BundlingError, match=r"handlers.other imports cli.* not shipped"):
        bundling.reached_files("handlers.other", root)


@pytest.mark.parametrize("function", topology.FUNCTIONS, ids=lambda f: f.name)
def test_an_asset_holds_the_adapters_of_the_resources_its_function_uses_and_no_others(
    function: topology.Function,
) -> None:
    shipped = set(bundling.package_spec(function).files)
    for resource, modules in bundling.ADAPTERS_FOR.items():
        for module in modules:
            path = module.replace(".", "/") + ".py"
            if resource not in function.uses:
                assert path not in shipped, f"{function.name} does not use {resource}"
    if "database" in function.uses:
        assert "ordering/adapters/postgres_read_model.py" in shipped


def test_functions_share_an_asset_exactly_when_their_packages_are_equal(synthesized: Synthesized) -> None:
    code = {name: synthesized.props(lid)["Code"]["S3Key"] for name, lid in synthesized.functions().items()}
    for a in topology.FUNCTIONS:
        for b in topology.FUNCTIONS:
            same = bundling.package_spec(a) == bundling.package_spec(b)
            assert (code[a.name] == code[b.name]) is same, (a.name, b.name)


def _tree(root: Path, files: dict[str, str]) -> Path:
    for relative, text in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def test_the_asset_fingerprint_follows_the_contents(tmp_path: Path) -> None:
    files = {
        "handlers/__init__.py": "",
        "handlers/a.py": "import ordering\n",
        "ordering/__init__.py": "",
        "ordering/unused.py": "",
    }
    one, two = _tree(tmp_path / "one", files), _tree(tmp_path / "two", files)
    spec = bundling.PackageSpec(
        packages=("handlers", "ordering"),
        requirements=bundling.package_spec(topology.function("place_order")).requirements,
        files=bundling.reached_files("handlers.a", one),
    )
    assert bundling.asset_hash(spec, one) == bundling.asset_hash(spec, two)
    (two / "handlers" / "__pycache__").mkdir()
    (two / "handlers" / "__pycache__" / "a.cpython-311.pyc").write_bytes(b"\0")
    assert bundling.asset_hash(spec, one) == bundling.asset_hash(spec, two)  # bytecode is not shipped
    (two / "ordering" / "unused.py").write_text("changed = True\n")
    assert bundling.asset_hash(spec, one) == bundling.asset_hash(spec, two)  # nor what it does not reach
    (two / "ordering" / "__init__.py").write_text("changed = True\n")
    assert bundling.asset_hash(spec, one) != bundling.asset_hash(spec, two)
    with_db = dataclasses.replace(spec, requirements=(*spec.requirements, "psycopg[binary]==3.3.9"))
    assert bundling.asset_hash(with_db, one) != bundling.asset_hash(spec, one)


def test_a_missing_handler_module_is_named() -> None:
    ghost = dataclasses.replace(
        topology.function("inventory"), name="ghost", handler="handlers.ghost.handler"
    )
    assert bundling.missing_handlers([ghost], REPO_ROOT) == ["ghost: handlers/ghost.py does not exist"]


@pytest.fixture(scope="module")
def pip_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("lambda-deps")


@pytest.mark.slow
@pytest.mark.parametrize("name", ["place_order", "query_orders"])
def test_bundling_builds_a_package_for_lambda_arm64_python312(
    name: str, tmp_path: Path, pip_cache: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    function = topology.function(name)
    spec = bundling.package_spec(function)
    bundler = bundling.LocalBundler(spec, label=name, cache_root=pip_cache)
    output = tmp_path / "asset"
    report = bundler.bundle(output)

    shipped = {  # first-party code and SQL: what the handler reaches, nothing left behind, nothing more
        p.relative_to(output).as_posix()
        for package in spec.packages
        for p in (output / package).rglob("*")
        if p.is_file() and "__pycache__" not in p.parts  # bytecode: checked below
    }
    assert shipped == set(spec.files)
    assert not (output / "streams").exists()
    assert (output / "pynamodb").is_dir()
    assert (output / "pydantic_core").is_dir()
    assert (output / "psycopg").is_dir() is ("database" in function.uses)
    assert (output / "certifi" / "cacert.pem").is_file() is ("database" in function.uses)
    assert not (output / "snapshot_restore_py").exists()  # the runtime's own
    assert (output / "aws_lambda_powertools").is_dir()
    # Bytecode for every module, ours and every dependency's, as the Lambda runtime loads it.
    assert bundling.missing_bytecode(output) == []
    magic = subprocess.run(
        [
            bundling.lambda_python(),
            "-c",
            "import importlib.util, sys; sys.stdout.write(importlib.util.MAGIC_NUMBER.hex())",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    for package in (*spec.packages, "botocore", "pydantic", "aws_lambda_powertools"):
        compiled = next((output / package).rglob("*.cpython-312.pyc"))
        header = compiled.read_bytes()[:16]
        assert header[:4].hex() == magic, compiled  # compiled by 3.12, the runtime's version
        assert header[4:8] == b"\x01\x00\x00\x00", compiled  # unchecked hash: no timestamp compared
    binaries = list(output.rglob("*.so"))
    assert binaries
    for binary in binaries:  # compiled for Lambda, not for this machine
        assert "aarch64" in binary.name or "abi3" in binary.name, binary
        assert "x86_64" not in binary.name, binary
        assert "cpython-311" not in binary.name, binary
        assert binary.read_bytes()[18] == 0xB7, binary  # ELF e_machine: EM_AARCH64
    assert report.bytes < bundling.UNZIPPED_LIMIT_BYTES
    assert report.line() in capfd.readouterr().err  # each asset's size is printed


@pytest.mark.slow
def test_the_database_drivers_python312_dependencies_are_installed_whatever_python_builds(
    tmp_path: Path, pip_cache: Path
) -> None:
    """The bench's bare baseline (psycopg without pydantic): on 3.13, pip alone left out typing_extensions."""
    spec = bundling.PackageSpec(
        packages=(), requirements=(f"psycopg[binary]=={importlib.metadata.version('psycopg')}",)
    )
    output = tmp_path / "asset"
    bundling.LocalBundler(spec, label="psycopg alone", cache_root=pip_cache).bundle(output)
    assert (output / "typing_extensions.py").is_file()
    assert (output / "psycopg_binary").is_dir()
    assert bundling.unmet_requirements(output, bundling.lambda_environment()) == []


def test_a_module_without_bytecode_is_found(tmp_path: Path) -> None:
    tree = _tree(tmp_path / "asset", {"pkg/__init__.py": "", "pkg/a.py": "x = 1\n", "pkg/b.py": "y = 2\n"})
    bundling.compile_bytecode(tree)
    assert bundling.missing_bytecode(tree) == []
    bundling.bytecode_for(tree / "pkg" / "b.py").unlink()
    (tree / "pkg" / "c.py").write_text("z = 3\n")
    assert bundling.missing_bytecode(tree) == ["pkg/b.py", "pkg/c.py"]


def test_bytecode_is_compiled_by_a_python312_found_without_docker() -> None:
    python = bundling.lambda_python()
    version = subprocess.run(
        [python, "-c", "import sys; print(sys.version_info[:2])"], capture_output=True, text=True, check=True
    )
    assert version.stdout.strip() == "(3, 12)"


def test_without_a_python312_the_build_says_how_to_give_one(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bundling, "PYTHON_VERSION", "3.99")
    bundling.lambda_python.cache_clear()
    try:
        with pytest.raises(bundling.BundlingError, match=r"ORDERS_LAMBDA_PYTHON=/path/to/python3\.99"):
            bundling.lambda_python()
    finally:
        bundling.lambda_python.cache_clear()
