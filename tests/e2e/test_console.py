"""The web console and the API docs in a real browser: Debian's chromium, headless, driven by selenium.

An order placed through the API shows up in the console, moves to FULFILLED, and its event
log and e-mail are there. The screenshot in docs/local.md is the one this test takes when run
with ORDERS_UPDATE_SCREENSHOT=1 (otherwise it goes to a temporary directory, so that a test run
leaves the working tree as it was).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.conftest import ROOT

pytestmark = [pytest.mark.e2e, pytest.mark.postgres, pytest.mark.slow, pytest.mark.xdist_group("e2e")]

SCREENSHOT = ROOT / "docs" / "images" / "console.png"
INSTALL = "apt-get update && apt-get install -y chromium chromium-driver"
WAIT_SECONDS = 60


def executables() -> tuple[str, str]:
    """chromium and its driver, or a failure that says what to type."""
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver")
    if not chromium or not driver:
        pytest.fail(f"the console's browser test needs Debian's chromium and chromedriver: run `{INSTALL}`")
    return chromium, driver


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    chromium, driver = executables()
    with tempfile.TemporaryDirectory(prefix="orders-chromium-") as profile:
        options = webdriver.ChromeOptions()
        options.binary_location = chromium
        for flag in (
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--window-size=1400,1800",
            f"--user-data-dir={profile}",
        ):
            options.add_argument(flag)
        chrome = webdriver.Chrome(options=options, service=Service(executable_path=driver))
        try:
            yield chrome
        finally:
            chrome.quit()


def wait_for(browser, check, message: str):
    from selenium.common.exceptions import StaleElementReferenceException, WebDriverException
    from selenium.webdriver.support.ui import WebDriverWait

    def attempt(driver):
        try:
            return check(driver)
        except (StaleElementReferenceException, WebDriverException):
            return False

    return WebDriverWait(browser, WAIT_SECONDS, poll_frequency=0.2).until(attempt, message)


def test_the_console_shows_an_order_move_to_fulfilled_with_its_log_and_email(
    browser, orders_dev, shop, tmp_path
):
    from selenium.webdriver.common.by import By

    customer = shop.customer("console")
    shop.restock("CONSOLE-01", 5, "7.50")
    placed = shop.place(customer, {"CONSOLE-01": 2}, headers={"X-Correlation-Id": "console-checkout"})
    assert placed.status_code == 202, placed.text
    order_id = placed.json()["order_id"]

    browser.get(orders_dev.client.state.console_url)
    row = f'#orders tr[data-order-id="{order_id}"]'
    wait_for(
        browser,
        lambda b: b.find_element(By.CSS_SELECTOR, f"{row} .status").text == "FULFILLED",
        f"order {order_id} never shown FULFILLED",
    )
    wait_for(
        browser,
        lambda b: b.find_element(By.CSS_SELECTOR, f"{row} .read-model-status").text == "FULFILLED",
        "the read model never caught up in the console",
    )

    # The page re-renders every second: an element found may be gone by the time it is used, so
    # each step finds, acts and reads in one go, again until it holds.
    wait_for(
        browser,
        lambda b: b.find_element(By.CSS_SELECTOR, f"{row} a.order-link").click() or True,
        "the order's link could not be clicked",
    )

    def order_page(b):
        types = [e.text for e in b.find_elements(By.CSS_SELECTOR, "#event-log .event-type")]
        log, agreement = b.find_element(By.ID, "event-log").text, b.find_element(By.ID, "agreement").text
        # The read model follows the log by a stream batch: it agrees once the projector caught up.
        return (types, log, agreement) if "ConfirmationSent" in types and "agrees" in agreement else False

    types, log, agreement = wait_for(
        browser, order_page, "the event log never showed ConfirmationSent with the read model agreeing"
    )
    assert types[0] == "OrderPlaced"
    assert "PaymentSucceeded" in types
    assert "OrderFulfilled" in types
    assert "console-checkout" in log
    assert "agrees" in agreement

    wait_for(
        browser,
        lambda b: customer.email in b.find_element(By.ID, "emails").text,
        f"no e-mail to {customer.email} in the console",
    )
    email = wait_for(  # the page re-renders every second: read the text in one go
        browser,
        lambda b: next(
            (e.text for e in b.find_elements(By.CSS_SELECTOR, "#emails .email") if customer.email in e.text),
            False,
        ),
        f"no e-mail to {customer.email} in the console",
    )
    assert order_id in email or "CONSOLE-01" in email

    browser.find_element(By.ID, "correlation").send_keys("console-checkout")
    wait_for(
        browser,
        lambda b: (
            {"place_order", "payment", "notification"}
            <= {
                row.find_elements(By.TAG_NAME, "td")[0].text
                for row in b.find_elements(By.CSS_SELECTOR, "#invocations tbody tr")
            }
        ),
        "the invocations filtered by correlation id miss a step of the order",
    )
    screenshot = SCREENSHOT if os.environ.get("ORDERS_UPDATE_SCREENSHOT") else tmp_path / "console.png"
    screenshot.parent.mkdir(parents=True, exist_ok=True)
    browser.save_screenshot(str(screenshot))
    assert screenshot.stat().st_size > 10_000


def test_the_api_docs_authorise_with_a_token_and_call_the_running_api(browser, orders_dev, shop):
    from selenium.webdriver.common.by import By

    customer = shop.customer("docs")
    browser.get(orders_dev.client.state.docs_url)
    wait_for(
        browser, lambda b: b.find_element(By.CSS_SELECTOR, "button.authorize"), "Swagger UI never loaded"
    )
    browser.find_element(By.CSS_SELECTOR, "button.authorize").click()
    field = wait_for(
        browser, lambda b: b.find_element(By.CSS_SELECTOR, ".auth-container input"), "no token field"
    )
    field.send_keys(customer.token)
    browser.find_element(By.CSS_SELECTOR, ".auth-btn-wrapper button.authorize").click()
    browser.find_element(By.CSS_SELECTOR, "button.btn-done").click()

    operation = wait_for(
        browser,
        lambda b: b.find_element(By.CSS_SELECTOR, "[id$='listOrders'] .opblock-summary"),
        "no listOrders",
    )
    operation.click()
    wait_for(browser, lambda b: b.find_element(By.CSS_SELECTOR, ".try-out__btn"), "no Try it out").click()
    wait_for(browser, lambda b: b.find_element(By.CSS_SELECTOR, "button.execute"), "no Execute").click()
    status = wait_for(
        browser,
        lambda b: b.find_element(
            By.CSS_SELECTOR, ".live-responses-table tbody .response-col_status"
        ).text.strip(),
        "no response shown",
    )
    assert status.startswith("200"), status


def test_the_browser_test_says_how_to_install_chromium_when_it_is_missing(monkeypatch):
    monkeypatch.setenv("PATH", str(Path(os.devnull).parent / "nowhere"))
    with pytest.raises(pytest.fail.Exception, match="apt-get install -y chromium chromium-driver"):
        executables()


def test_a_dead_letter_queue_is_redriven_from_the_console(browser, orders_dev, shop):
    """The button calls the control API `orders dlq redrive` calls: the parked payment request goes
    back to the payment queue, and (the order being paid already) changes nothing."""
    import json

    from boto3.dynamodb.types import TypeDeserializer
    from selenium.webdriver.common.by import By

    from infra.emulator.aws import client
    from ordering.adapters.dynamodb_table import event_key
    from ordering.adapters.table_items import recorded_from_item
    from ordering.domain.recorded import to_envelope
    from tests.e2e.shop import order_events

    customer = shop.customer("console-redrive")
    shop.restock("CONSOLE-02", 5, "3.00")
    placed = shop.place(customer, {"CONSOLE-02": 1})
    assert placed.status_code == 202, placed.text
    order_id = placed.json()["order_id"]
    assert shop.wait_for_status(customer, order_id)["status"] == "FULFILLED"
    assert shop.dev.wait_idle()
    # Park a copy of the order's payment request, as five failed deliveries would have.
    state = orders_dev.client.state
    raw = client("dynamodb", state.moto_url).get_item(
        TableName=state.resources.table_name,
        Key={"PK": {"S": f"ORDER#{order_id}"}, "SK": {"S": event_key(1)}},  # OrderPlaced
        ConsistentRead=True,
    )["Item"]
    item = {name: TypeDeserializer().deserialize(value) for name, value in raw.items()}
    client("sqs", state.moto_url).send_message(
        QueueUrl=state.resources.queue_urls["payment-dlq"],
        MessageBody=json.dumps(to_envelope(recorded_from_item(item))),
    )
    before = order_events(shop, order_id)

    browser.get(state.console_url)
    button = 'button.redrive[data-queue="payment-dlq"]'
    wait_for(
        browser,
        lambda b: (
            b.find_element(By.XPATH, "//table[@id='queues']//tr[td[1]='payment-dlq']/td[2]").text == "1"
        ),
        "payment-dlq never showed its parked message",
    )
    # The DLQ's alarm fires within an alarm period, and the console shows it with its metric.
    wait_for(
        browser,
        lambda b: any(
            "payment-dlq-not-empty" in row.text and "ApproximateNumberOfMessagesVisible" in row.text
            for row in b.find_elements(By.CSS_SELECTOR, "#alarms tbody tr")
        ),
        "the console never showed payment-dlq-not-empty in ALARM",
    )
    wait_for(browser, lambda b: b.find_element(By.CSS_SELECTOR, button).click() or True, "no redrive button")
    report = wait_for(
        browser,
        lambda b: next(
            (
                li.text
                for li in b.find_elements(By.CSS_SELECTOR, "#redrive-reports li")
                if "redriven" in li.text
            ),
            False,
        ),
        "no redrive report shown",
    )
    assert report.startswith("payment-dlq: 1 message(s) redriven to payment"), report
    assert shop.dev.dead_letters()["payment-dlq"] == []
    assert shop.dev.wait_idle()
    assert order_events(shop, order_id) == before  # paid once already: nothing recorded twice
