from __future__ import annotations

import pytest

pytestmark = [pytest.mark.bench, pytest.mark.postgres, pytest.mark.moto]


def test_a_reconciliation_run_against_a_query_per_order_healing_the_same_orders(run_bench):
    report = run_bench("reconcile", "--events", "600", "--behind-every", "5")

    result = report["results"]["reconcile"]
    assert result["events"] >= 600
    assert result["orders_checked"] > 0
    # Every fifth order was held behind, and both sides healed exactly those (the run checks it).
    assert result["orders_healed"] == result["orders_checked"] // 5
    assert result["ratio_to_per_order"] == pytest.approx(result["run_s"] / result["per_order_s"], rel=0.02)
    assert "| orders in the window |" in report["markdown"]
    # Held behind from their final events on, with a window of the newest tenth: the sweep still
    # healed every order behind left unfinished.
    assert result["capped_window"] == result["orders_checked"] // 10
    assert 0 < result["behind_unfinished"] <= result["capped_healed"] <= result["behind"]
    assert result["capped_unfinished_checked"] >= result["behind_unfinished"]
    assert "| unfinished orders swept |" in report["markdown"]
