from __future__ import annotations

import pytest

pytestmark = [pytest.mark.bench, pytest.mark.e2e, pytest.mark.slow, pytest.mark.xdist_group("e2e")]


def test_posts_are_set_against_put_items_and_orders_go_all_the_way(run_bench):
    report = run_bench(
        "throughput",
        "--seconds",
        "0.5",
        "--concurrency",
        "1,2",
        "--orders",
        "2",
        "--skus",
        "2",
        "--shards",
        "1,2",
    )

    levels = report["results"]["throughput"]
    assert [(level["variant"], level["concurrency"]) for level in levels] == [
        ("2 SKU(s), K=1", 1),
        ("2 SKU(s), K=2", 1),
        ("2 SKU(s), K=1", 2),
        ("2 SKU(s), K=2", 2),
    ]
    assert all(level["ours"]["conflict_retries_per_order"] >= 0 for level in levels)
    for level in levels:
        for side in ("ours", "baseline"):
            assert level[side]["succeeded"] > 0
            assert level[side]["per_second"] > 0
            assert level[side]["p50_ms"] <= level[side]["p99_ms"]
        assert level["ours"]["failed"] == sum(level["ours"]["non_202_by_status"].values()) == 0
        assert level["ratio"] == pytest.approx(  # rounded to 3 places: half a unit of the last one
            level["ours"]["per_second"] / level["baseline"]["per_second"], rel=0.01, abs=0.0005
        )
    pipeline = report["results"]["pipeline"]
    assert (
        pipeline["orders_accepted"]
        == pipeline["fulfilled_and_emailed"]
        == pipeline["emails_to_customer"]
        == 2
    )
    assert pipeline["unfinished"] == 0
    assert 0 < pipeline["min_ms"] <= pipeline["p50_ms"] <= pipeline["p99_ms"] <= pipeline["max_ms"]
