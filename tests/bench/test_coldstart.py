from __future__ import annotations

import pytest

pytestmark = [pytest.mark.bench, pytest.mark.moto, pytest.mark.postgres]


@pytest.mark.timeout(1800)  # five cases, each side building its sandbox: slow on a loaded machine
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
        "--function",
        "query_orders",
    )

    results = {r["case"]: r for r in report["results"]["cold_start"]}
    get_order, order_events = "query_orders GET /orders/{id}", "query_orders GET /orders/{id}/events"
    assert set(results) == {"place_order", "notification", "projector", get_order, order_events}
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
        # As deployed: the runtime's Python, and every module loaded from its bytecode.
        assert r["python"] == "3.12"
        assert r["compiled_from_source"] == {"ours": [0], "baseline": [0]}, r["compiled_examples"]
        assert "aws_xray_sdk" not in r["aws_libraries_imported"]["ours"]
    assert results["place_order"]["aws_calls"]["ours"] == [
        "dynamodb:BatchGetItem",
        "dynamodb:TransactWriteItems",
    ]
    assert "sesv2:SendEmail" in results["notification"]["aws_calls"]["baseline"]
    assert results["projector"]["aws_calls"] == {"ours": [], "baseline": []}  # Postgres only
    # A batch with no gap to heal reads no log: the projector builds no botocore client for it.
    assert results["projector"]["botocore_sessions"]["ours"] == 0
    assert results["projector"]["clients"]["ours"] == []
    # GET /orders/{id} makes no AWS call, and loads no AWS client library for it.
    assert results[get_order]["aws_calls"] == {"ours": [], "baseline": []}
    assert not {"boto3", "botocore.client", "pynamodb"} & set(
        results[get_order]["aws_libraries_imported"]["ours"]
    )
    assert results[get_order]["botocore_sessions"]["ours"] == 0
    # POST /orders without an Idempotency-Key needs botocore's client, not boto3 (nor s3transfer).
    assert "boto3" not in results["place_order"]["aws_libraries_imported"]["ours"]
    # One botocore session per function, one client per service, Powertools' idempotency included.
    assert results[order_events]["botocore_sessions"]["ours"] == 1
    assert results[order_events]["clients"]["ours"] == ["dynamodb"]
    # What the handler imports is named: our generated models are among its packages.
    packages = [name for name, _ in results["place_order"]["imports"]["ours_by_package_ms"]]
    assert "bench" not in packages


def test_an_unknown_function_is_refused(run_bench):
    from click.testing import CliRunner

    from bench.cli import main as bench

    result = CliRunner().invoke(bench, ["coldstart", "--runs", "1", "--function", "nope"])
    assert result.exit_code != 0
    assert "unknown function" in str(result.exception)


def test_place_order_builds_one_botocore_session_and_one_client(run_bench):
    report = run_bench("coldstart", "--runs", "1", "--function", "place_order")

    [result] = report["results"]["cold_start"]
    assert result["botocore_sessions"]["ours"] == 1
    assert result["clients"]["ours"] == ["dynamodb"]
