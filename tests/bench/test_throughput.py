from __future__ import annotations

import pytest

from bench.throughput import OBSERVERS

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
        "--containers",
        "3",
        "--aws-latency",
        "2",
    )
    assert report["results"]["place_order_containers"] == 3  # `orders dev --max-containers 3`
    assert report["results"]["aws_latency_ms"] == 2  # as moto's own process announced it

    levels = report["results"]["throughput"]
    assert [(level["variant"], level["concurrency"]) for level in levels] == [
        ("2 SKU(s), K=1", 1),
        ("2 SKU(s), K=2", 1),
        ("2 SKU(s), K=1", 2),
        ("2 SKU(s), K=2", 2),
    ]
    assert all(level["ours"]["conflict_retries_per_order"] >= 0 for level in levels)
    # Variants side by side: each cell starts with the pipeline idle, none pays for another's.
    assert report["results"]["cells_start_idle"] is True
    assert all(level["ours"]["pipeline_idle_at_start"] for level in levels)
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


def test_with_the_pumps_paused_posts_are_set_against_a_bare_client_making_the_same_calls(run_bench):
    report = run_bench(
        "throughput", "--paused", "--seconds", "0.5", "--concurrency", "1,2", "--orders", "2", "--skus", "2"
    )

    assert report["results"]["paused"] is True
    same_calls = {"dynamodb.BatchGetItem": 1.0, "dynamodb.TransactWriteItems": 1.0}
    for level in report["results"]["throughput"]:
        ours, bare = level["ours"], level["baseline"]
        assert ours["succeeded"] > 0
        assert bare["succeeded"] > 0
        assert level["ratio"] == pytest.approx(ours["per_second"] / bare["per_second"], rel=0.01, abs=0.0005)
        # moto saw the same calls from both sides, and nothing from the paused pumps.
        # (The runtime's own looks, e.g. its metrics put into CloudWatch, are nobody's calls.)
        bare_calls = {c: calls for c, calls in bare["aws_requests_per_call"].items() if c not in OBSERVERS}
        assert bare_calls == {"bench-bare": same_calls}
        if ours["conflict_retries"] == 0:
            assert ours["aws_requests_per_call"]["place_order"] == same_calls
        assert not {"stream-pump", "sqs-pump", "rule-pump"} & set(ours["aws_requests_per_call"])
    # Resumed afterwards: the orders go all the way, and their requests are counted per caller.
    pipeline = report["results"]["pipeline"]
    assert pipeline["fulfilled_and_emailed"] == pipeline["orders_accepted"] == 2
    requests = pipeline["aws_requests"]
    assert requests["by_caller"]["place_order"] == 2.0
    assert requests["per_order"] == pytest.approx(sum(requests["by_caller"].values()), abs=0.05)
    assert {"notification", "inventory", "payment", "publisher"} <= set(requests["by_caller"])
    assert pipeline["orders_per_second_bound"] == pytest.approx(
        report["results"]["put_item_reference"]["per_second"] / requests["per_order"], rel=0.01
    )
    assert "every pump paused" in report["markdown"]


def test_the_pipeline_reports_its_cpu_per_order_by_process(run_bench):
    report = run_bench("pipeline", "--orders", "4")

    pipeline = report["results"]["pipeline"]
    assert pipeline["fulfilled_and_emailed"] == 4
    cpu = pipeline["cpu"]
    parts = cpu["by_part_seconds"]
    expected = {"moto", "runtime", "postgres"} | {
        f"function {name}" for name in ("place_order", "payment", "inventory", "notification", "publisher")
    }
    assert expected <= set(parts)
    assert cpu["postgres_measured"] is True
    assert cpu["cpu_seconds"] > 0
    assert parts["moto"] > 0
    assert parts["runtime"] > 0
    assert all(seconds >= 0 for seconds in parts.values())
    assert sum(parts.values()) == pytest.approx(cpu["cpu_seconds"], abs=0.01 + 0.001 * len(parts))
    assert cpu["per_order_ms"] == pytest.approx(1000 * cpu["cpu_seconds"] / 4, abs=0.1)
    assert cpu["machine_busy_seconds"] > 0
    assert "CPU per order, by process" in report["markdown"]
