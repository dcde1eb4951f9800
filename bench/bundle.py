"""Bundle size per function asset, zipped, bytecode included.

Each asset is built exactly as `cdk deploy` builds it, by infra/aws/bundling.py's
LocalBundler (pip for Lambda's arm64 platform, then our packages, all byte-compiled), then
zipped the way a Lambda asset is uploaded (deflate). What dominates is read from the zip: the
compressed bytes of each top-level entry. Our own code is set against the 256 KB goal. The
alternative to per-asset dependencies, one layer holding every function's dependencies, is
built the same way and zipped beside them. The baseline, built in the same run with the same
pip command, is boto3 alone: what a bare function that bundles its own boto3 ships.
"""

from __future__ import annotations

import tempfile
import zipfile
from collections import Counter
from pathlib import Path
from typing import Any

from bench.report import Report, table
from infra import topology

TOP_ENTRIES = 6
MB = 1_048_576
OWN_CODE_GOAL_BYTES = 256 * 1024  # our own code per asset, zipped


def zip_directory(directory: Path, archive: Path) -> dict[str, Any]:
    """Zip `directory` (deflate, as CDK does) and say what takes the room, by top-level entry."""
    by_entry: Counter[str] = Counter()
    unzipped = 0
    files = 0
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED) as out:
        for path in sorted(directory.rglob("*")):
            if not path.is_file():
                continue
            name = path.relative_to(directory).as_posix()
            out.write(path, name)
            files += 1
            unzipped += path.stat().st_size
    with zipfile.ZipFile(archive) as written:
        for info in written.infolist():
            top = info.filename.split("/", 1)[0]
            by_entry[_distribution_of(top)] += info.compress_size
    return {
        "zipped_bytes": archive.stat().st_size,
        "unzipped_bytes": unzipped,
        "files": files,
        "by_entry_zipped_bytes": by_entry.most_common(),
    }


def _distribution_of(top: str) -> str:
    """`botocore-1.35.0.dist-info` belongs with `botocore`, `psycopg_binary.libs` with `psycopg_binary`."""
    if top.endswith(".dist-info"):
        return top.split("-")[0]
    return top.removesuffix(".libs")


def _mb(size: int) -> float:
    return round(size / MB, 2)


def run(report: Report, *, functions: list[str] | None = None) -> Report:
    """Every asset (or those of `functions`), and the baseline."""
    from infra.aws.bundling import LocalBundler, PackageSpec, package_spec, pip_command

    specs: dict[PackageSpec, list[str]] = {}
    for function in topology.FUNCTIONS:
        specs.setdefault(package_spec(function), []).append(function.name)
    if functions is not None:
        specs = {spec: names for spec, names in specs.items() if set(names) & set(functions)}
    boto3_only = next(r for s in specs for r in s.requirements if r.startswith("boto3"))
    assets = []
    with tempfile.TemporaryDirectory(prefix="bench-bundle-") as scratch:
        root = Path(scratch)
        for number, (spec, functions) in enumerate(specs.items()):
            built = root / f"asset{number}"
            LocalBundler(spec, label=", ".join(functions)).bundle(built)
            measured = zip_directory(built, root / f"asset{number}.zip")
            ours = sum(size for name, size in measured["by_entry_zipped_bytes"] if name in spec.packages)
            assets.append(
                {
                    "functions": functions,
                    "packages": list(spec.packages),
                    "requirements": list(spec.requirements),
                    "first_party_zipped_bytes": ours,
                    **measured,
                }
            )
        every = tuple(sorted({r for f in topology.FUNCTIONS for r in package_spec(f).requirements}))
        layer_dir = root / "layer"
        LocalBundler(PackageSpec(packages=(), requirements=every), label="one dependency layer").bundle(
            layer_dir
        )
        layer = {"requirements": list(every), **zip_directory(layer_dir, root / "layer.zip")}
        baseline_spec = PackageSpec(packages=(), requirements=(boto3_only,))
        baseline_dir = root / "baseline"
        LocalBundler(baseline_spec, label="boto3 alone").bundle(baseline_dir)
        baseline = {"requirements": [boto3_only], **zip_directory(baseline_dir, root / "baseline.zip")}
    for asset in assets:
        asset["ratio_zipped"] = round(asset["zipped_bytes"] / baseline["zipped_bytes"], 2)
        asset["first_party_within_goal"] = asset["first_party_zipped_bytes"] <= OWN_CODE_GOAL_BYTES
    layer["ratio_zipped"] = round(layer["zipped_bytes"] / baseline["zipped_bytes"], 2)
    report.results["assets"] = assets
    report.results["layer"] = layer
    report.results["baseline"] = baseline
    report.results["pip_command"] = " ".join(pip_command(("<requirements>",), Path("<target>"))[1:])
    report.add(_markdown(assets, layer, baseline))
    return report


def _markdown(assets: list[dict[str, Any]], layer: dict[str, Any], baseline: dict[str, Any]) -> str:
    def dominant(measured: dict[str, Any]) -> str:
        total = measured["zipped_bytes"]
        return ", ".join(
            f"{name} {_mb(size)} MB ({100 * size / total:.0f}%)"
            for name, size in measured["by_entry_zipped_bytes"][:TOP_ENTRIES]
        )

    rows = [
        [
            ", ".join(asset["functions"]),
            _mb(asset["zipped_bytes"]),
            _mb(asset["unzipped_bytes"]),
            asset["files"],
            f"{asset['ratio_zipped']}x",
            f"{round(asset['first_party_zipped_bytes'] / 1024, 1)} KB ({', '.join(asset['packages'])})"
            + ("" if asset["first_party_within_goal"] else " over 256 KB"),
            dominant(asset),
        ]
        for asset in assets
    ]
    rows.append(
        [
            "alternative: one layer of every function's dependencies",
            _mb(layer["zipped_bytes"]),
            _mb(layer["unzipped_bytes"]),
            layer["files"],
            f"{layer['ratio_zipped']}x",
            "",
            dominant(layer),
        ]
    )
    rows.append(
        [
            "baseline: boto3 alone",
            _mb(baseline["zipped_bytes"]),
            _mb(baseline["unzipped_bytes"]),
            baseline["files"],
            "1.0x",
            "",
            dominant(baseline),
        ]
    )
    return "### Function assets (zipped, bytecode included)\n\n" + table(
        [
            "functions (one asset)",
            "zipped MB",
            "unzipped MB",
            "files",
            "zipped / baseline",
            "our code, zipped",
            "largest parts, zipped",
        ],
        rows,
    )
