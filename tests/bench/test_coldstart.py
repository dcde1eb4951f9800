from __future__ import annotations

import pytest

pytestmark = [pytest.mark.bench, pytest.mark.moto, pytest.mark.postgres]


def test_cold_start_measures_both_sides_with_the_same_aws_calls(run_bench):
    report = run_bench(
        "coldstart",
        "--runs",
        "1",
        "--function",
        "place_order",
        "--function",
        "notification",
        "--function",
        "projector",
    )

    results = {r["case"]: r for r in report["results"]["cold_start"]}
    assert set(results) == {"place_order", "notification", "projector"}
    for r in results.values():
        for side in ("ours", "baseline"):
            measured = r[side]
            assert measured["runs"] == 1
            assert measured["init_ms"] > 0
            assert measured["first_invocation_ms"] > 0
            assert measured["sum_ms"] == pytest.approx(
                measured["init_ms"] + measured["first_invocation_ms"], abs=0.02
            )
        assert r["ratio_sum"] == pytest.approx(r["ours"]["sum_ms"] / r["baseline"]["sum_ms"], abs=0.01)
        assert r["same_aws_calls"], r["aws_calls"]
        assert r["imports"]["ours_by_package_ms"]
        assert r["imports"]["baseline_by_package_ms"]
        assert f"| {r['case']} |" in report["markdown"]
    assert results["place_order"]["aws_calls"]["ours"] == [
        "dynamodb:BatchGetItem",
        "dynamodb:TransactWriteItems",
    ]
    assert "sesv2:SendEmail" in results["notification"]["aws_calls"]["baseline"]
    assert results["projector"]["aws_calls"] == {"ours": [], "baseline": []}  # Postgres only
    # What the handler imports is named: our generated models are among its packages.
    packages = [name for name, _ in results["place_order"]["imports"]["ours_by_package_ms"]]
    assert "bench" not in packages


def test_an_unknown_function_is_refused(run_bench):
    from click.testing import CliRunner

    from bench.cli import main as bench

    result = CliRunner().invoke(bench, ["coldstart", "--runs", "1", "--function", "nope"])
    assert result.exit_code != 0
    assert "unknown function" in str(result.exception)
