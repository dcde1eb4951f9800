from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from bench.bundle import zip_directory

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
