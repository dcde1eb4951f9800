"""`orders invoke`: one function, once, on each AWS-shaped fixture of tests/events/, as a user types it.

Against an `orders dev` of this module's own (the fixtures' orders and payments must not
land in the shared one), and once with no `orders dev` at all (a throwaway runtime).
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from infra.dev import dev_process
from infra.dev.dev_process import DevProcess
from tests.e2e.conftest import ORDERS, ROOT, START_TIMEOUT

pytestmark = [pytest.mark.e2e, pytest.mark.postgres, pytest.mark.slow, pytest.mark.xdist_group("e2e")]

EVENTS = ROOT / "tests" / "events"
# Which function each fixture is an event of, as the topology delivers it.
FITS = {
    "apigateway_cancel_order": ["cancel_order"],
    "apigateway_get_order": ["query_orders"],
    "apigateway_list_order_events": ["query_orders"],
    "apigateway_list_orders": ["query_orders"],
    "apigateway_place_order": ["place_order"],
    "apigateway_restock": ["restock"],
    "cognito_post_confirmation": ["register_user"],
    "dynamodb_stream_event_insert": ["projector", "publisher"],
    "eventbridge_order_cancelled": ["notification"],
    "eventbridge_order_fulfilled": ["notification"],
    "eventbridge_payment_failed": ["inventory"],
    "eventbridge_payment_succeeded": ["inventory"],
    "eventbridge_scheduled_reconcile": ["reconcile"],
    "sqs_order_placed": ["payment"],
}


def orders(*arguments: str, stdin: str | None = None, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(ORDERS), *arguments], capture_output=True, text=True, input=stdin, cwd=cwd, timeout=300
    )


@pytest.fixture(scope="module")
def own_dev(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevProcess]:
    """With its embedded Postgres (no DATABASE_URL): the fixtures' rows stay out of the shared one."""
    scratch = tmp_path_factory.mktemp("invoke-dev")
    environment = {name: value for name, value in os.environ.items() if name != "DATABASE_URL"}
    dev = dev_process.start(
        scratch / "dev.json",
        scratch / "dev.log",
        "--no-reload",
        # A profile this machine does not have: `orders dev` never talks to AWS and must not care.
        environment={**environment, "AWS_PROFILE": "no-such-profile"},
        orders=(str(ORDERS),),
        timeout=START_TIMEOUT,
    )
    try:
        yield dev
    finally:
        assert dev_process.stop(dev) == 0, dev.log_tail()


def test_orders_dev_starts_with_an_aws_profile_that_does_not_exist(own_dev):
    assert "ignoring AWS_PROFILE=no-such-profile" in own_dev.log_tail(200)
    assert own_dev.client.status()["dead_letter_queues"]


def test_every_fixture_is_listed_with_the_functions_it_fits():
    assert sorted(path.stem for path in EVENTS.glob("*.json")) == sorted(FITS)
    listed = orders("invoke", "--list-events")
    assert listed.returncode == 0, listed.stderr
    rows = {line.split()[0]: line for line in listed.stdout.splitlines()}
    assert sorted(rows) == sorted(FITS)
    for fixture, functions in FITS.items():
        assert ", ".join(functions) in rows[fixture]


@pytest.mark.parametrize(
    ("fixture", "function"), [(fixture, function) for fixture, names in FITS.items() for function in names]
)
def test_orders_invoke_runs_the_function_once_on_the_fixture(own_dev, fixture, function):
    state = ["--state-file", str(own_dev.state_file)]
    before = len(own_dev.client.invocations(function=function, source="invoke"))
    answer = orders("invoke", function, "--event", str(EVENTS / f"{fixture}.json"), *state)

    payload = json.loads(answer.stdout)  # the result, or Lambda's error object
    verdict = answer.stderr.strip().splitlines()[-1]
    if answer.returncode == 0:
        assert verdict.startswith(f"{function}: ok in "), answer.stderr
    else:
        assert answer.returncode == 1, answer.stderr
        assert verdict.startswith(f"{function}: FAILED"), answer.stderr
        assert "errorType" in payload
    if fixture.startswith("apigateway_"):
        assert isinstance(payload["statusCode"], int)
    ran = own_dev.client.invocations(function=function, source="invoke")
    assert len(ran) == before + 1
    assert ran[-1]["ok"] == (answer.returncode == 0)


def test_a_fixture_by_name_and_an_event_on_stdin(own_dev):
    state = ["--state-file", str(own_dev.state_file)]
    by_name = orders("invoke", "query_orders", "--event", "apigateway_list_orders", *state)
    assert by_name.returncode == 0, by_name.stderr
    assert json.loads(by_name.stdout)["statusCode"] == 200
    piped = orders(
        "invoke",
        "query_orders",
        "--event",
        "-",
        *state,
        stdin=(EVENTS / "apigateway_list_orders.json").read_text(),
    )
    assert piped.returncode == 0, piped.stderr
    assert json.loads(piped.stdout)["statusCode"] == 200
    assert "query_orders" in piped.stderr  # its log lines, then the verdict


def test_the_function_logs_come_back_with_the_result(own_dev):
    answer = orders(
        "invoke",
        "restock",
        "--event",
        str(EVENTS / "apigateway_restock.json"),
        "--state-file",
        str(own_dev.state_file),
    )
    assert answer.returncode == 0, answer.stderr
    assert json.loads(answer.stdout)["statusCode"] == 200
    log_lines = answer.stderr.strip().splitlines()[:-1]
    assert log_lines, answer.stderr
    assert all(" restock " in line for line in log_lines)


def test_without_orders_dev_a_throwaway_runtime_runs_the_invocation(tmp_path):
    answer = orders(
        "invoke",
        "query_orders",
        "--event",
        str(EVENTS / "apigateway_list_orders.json"),
        "--state-file",
        str(tmp_path / "none.json"),
    )
    assert answer.returncode == 0, answer.stderr
    assert "no `orders dev` running: starting a throwaway local runtime" in answer.stderr
    assert json.loads(answer.stdout)["statusCode"] == 200


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (
            ["nosuch", "--event", "apigateway_list_orders"],
            "no function 'nosuch'; the functions are: place_order",
        ),
        (["query_orders", "--event", "missing.json"], "no event file missing.json"),
        (["query_orders"], "give a FUNCTION and --event FILE"),
    ],
)
def test_bad_invocations_say_what_is_wrong(arguments, message, tmp_path):
    answer = orders("invoke", *arguments, "--state-file", str(tmp_path / "none.json"))
    assert answer.returncode != 0
    assert message in answer.stderr
    assert "Traceback" not in answer.stderr


def test_an_event_that_is_not_json_is_refused_naming_the_file(tmp_path):
    broken = tmp_path / "broken.json"
    broken.write_text("{not json", encoding="utf-8")
    answer = orders(
        "invoke", "query_orders", "--event", str(broken), "--state-file", str(tmp_path / "none.json")
    )
    assert answer.returncode == 1
    assert f"{broken} is not JSON" in answer.stderr
