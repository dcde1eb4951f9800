from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

from bench.bundle import OWN_CODE_GOAL_BYTES, zip_directory
from infra import topology
from infra.aws.bundling import copy_own_code, missing_bytecode, package_spec

pytestmark = pytest.mark.bench


def test_zipping_says_what_takes_the_room(tmp_path: Path):
    asset = tmp_path / "asset"
    (asset / "big").mkdir(parents=True)
    (asset / "big" / "data.bin").write_bytes(bytes(range(256)) * 400)
    (asset / "big-1.0.dist-info").mkdir()
    (asset / "big-1.0.dist-info" / "RECORD").write_text("x" * 50)
    (asset / "small.py").write_text("x = 1\n")

    measured = zip_directory(asset, tmp_path / "asset.zip")

    assert measured["files"] == 3
    assert measured["unzipped_bytes"] == 256 * 400 + 50 + 6
    names = [name for name, _ in measured["by_entry_zipped_bytes"]]
    assert names == ["big", "small.py"]  # the dist-info counts with its package
    with zipfile.ZipFile(tmp_path / "asset.zip") as archive:
        assert sorted(archive.namelist()) == ["big-1.0.dist-info/RECORD", "big/data.bin", "small.py"]
    assert sum(size for _, size in measured["by_entry_zipped_bytes"]) < measured["zipped_bytes"]


@pytest.mark.slow
def test_a_function_asset_is_built_zipped_and_set_against_boto3_alone(run_bench):
    report = run_bench("bundle", "--function", "publisher")

    [asset] = report["results"]["assets"]
    baseline = report["results"]["baseline"]
    assert "publisher" in asset["functions"]
    assert 0 < baseline["zipped_bytes"] < asset["zipped_bytes"] < asset["unzipped_bytes"]
    assert asset["ratio_zipped"] == pytest.approx(asset["zipped_bytes"] / baseline["zipped_bytes"], abs=0.01)
    parts = dict(asset["by_entry_zipped_bytes"])
    assert {"streams", "ordering", "generated", "botocore"} <= set(parts)
    assert asset["first_party_zipped_bytes"] == sum(
        parts[name] for name in ("streams", "ordering", "generated")
    )
    assert "aws_lambda_powertools" in parts  # bundled, byte-compiled, like every dependency
    assert "psycopg" not in parts  # the publisher does not use the database
    assert asset["first_party_within_goal"] is (asset["first_party_zipped_bytes"] <= 256 * 1024)
    # The alternative, one layer of every function's dependencies, measured beside it.
    layer = report["results"]["layer"]
    layer_parts = dict(layer["by_entry_zipped_bytes"])
    assert {"botocore", "psycopg", "stripe", "aws_lambda_powertools"} <= set(layer_parts)
    assert not {"streams", "ordering", "generated"} & set(layer_parts)
    assert "one layer" in report["markdown"]


@pytest.mark.parametrize("function", topology.FUNCTIONS, ids=lambda f: f.name)
def test_our_code_in_each_asset_is_within_256_kb_zipped_and_imports_on_its_own(
    function: topology.Function, tmp_path: Path
):
    """Only the modules the handler reaches are shipped: they are enough to import it, and small."""
    spec = package_spec(function)
    own = tmp_path / "own"
    copy_own_code(spec, own)

    measured = zip_directory(own, tmp_path / "own.zip")
    assert measured["zipped_bytes"] <= OWN_CODE_GOAL_BYTES, measured["by_entry_zipped_bytes"]
    assert missing_bytecode(own) == []
    # Our code from the asset alone (-S: no editable install putting the repository on the path),
    # the dependencies from this environment's site-packages.
    module = function.handler.rpartition(".")[0]
    check = f"import {module}, ordering; assert ordering.__file__.startswith({str(own)!r}), ordering.__file__"
    imported = subprocess.run(
        [sys.executable, "-S", "-c", check],
        cwd=own,
        env={"PATH": os.environ["PATH"], "PYTHONPATH": f"{own}:{sysconfig.get_paths()['purelib']}"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert imported.returncode == 0, imported.stderr[-2000:]
