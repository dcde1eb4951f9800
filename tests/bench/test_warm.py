from __future__ import annotations

import pytest

from infra import topology

pytestmark = pytest.mark.bench


def test_every_request_path_function_is_measured_warm_against_its_service(run_bench):
    report = run_bench("warm", "--invocations", "3")

    results = {r["function"]: r for r in report["results"]["warm"]}
    expected = {
        f.name for f in topology.FUNCTIONS if f.trigger in ("api", "sqs", "eventbridge", "stream", "cognito")
    }
    assert set(results) == expected
    for r in results.values():
        assert r["invocations"] == 3
        assert 0 < r["ours_p50_us"] <= r["ours_p99_us"]
        assert 0 < r["service_p50_us"] <= r["service_p99_us"]
        assert r["ratio_p50"] == pytest.approx(r["ours_p50_us"] / r["service_p50_us"], abs=0.01, rel=0.01)
