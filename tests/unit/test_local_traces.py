"""Each local invocation's X-Ray trace header: new, or an SQS message's trace continued."""

from __future__ import annotations

from infra.emulator.traces import continued, invocation_header, new_header, root_of

HEADER = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"


def sqs_event(header: str | None) -> dict:
    attributes = {"ApproximateReceiveCount": "1"} | ({"AWSTraceHeader": header} if header else {})
    return {"Records": [{"eventSource": "aws:sqs", "attributes": attributes, "body": "{}"}]}


def test_an_sqs_batch_continues_its_first_message_s_trace_with_a_new_parent():
    header = invocation_header(sqs_event(HEADER))
    assert root_of(header) == "1-5759e988-bd862e3fe1be46a994272793"
    assert header != HEADER  # a segment of its own
    assert continued(HEADER).endswith(";Sampled=1")


def test_every_other_invocation_starts_a_trace_of_its_own():
    roots = {root_of(invocation_header(event)) for event in ({}, {"Records": []}, sqs_event(None), None)}
    roots.add(root_of(new_header()))
    assert len(roots) == 5
    assert None not in roots


def test_a_header_without_a_root_has_no_trace_id():
    assert root_of("Parent=53995c3f42cd8ad8") is None
    assert root_of(None) is None


def test_an_eventbridge_event_put_with_a_trace_header_continues_that_trace():
    from infra.emulator.traces import remember_event_trace

    remember_event_trace("event-1", HEADER)
    event = {"id": "event-1", "detail-type": "Payment.Succeeded", "detail": {}}
    assert root_of(invocation_header(event)) == root_of(HEADER)
    other = {"id": "event-2", "detail-type": "Payment.Succeeded", "detail": {}}
    assert root_of(invocation_header(other)) != root_of(HEADER)
