"""Run a step at most once per key, with Powertools idempotency on the event table.

The first call with a key records "in progress", runs the step and stores its result; a repeat
gets the stored result without running the step; a concurrent repeat gets
IdempotencyAlreadyInProgressError (the caller answers 409 or lets its trigger retry). A step
that raises leaves no record, so a retry runs it again. With `validate`, a repeat whose
validated part differs raises IdempotencyValidationError.

The payload is the step's own typed argument (a dataclass or pydantic model): Powertools
hashes it as it is, and `output` turns a typed result into the stored record and back.

Powertools' idempotency package imports boto3 and its DynamoDB layer: it is imported here on
first use, so that a request that needs no idempotency (a POST without Idempotency-Key)
never pays for it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from aws_lambda_powertools.utilities.typing import LambdaContext

from ordering import bootstrap

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.idempotency.serialization.base import BaseIdempotencySerializer

Result = TypeVar("Result")


def run_once(
    step: Callable[..., Result],
    *,
    payload: Any,
    key: str,
    context: LambdaContext,
    validate: str = "",
    output: BaseIdempotencySerializer | None = None,
    **arguments: Any,
) -> Result:
    """`step(payload=payload, **arguments)` once per value of the JMESPath `key` in `payload`.

    `validate` is a JMESPath into `payload` whose value must be the same on every repeat.
    The configuration is built per call: it holds this invocation's Lambda context, which
    Powertools uses to let an "in progress" record expire when the invocation times out.
    """
    from aws_lambda_powertools.utilities.idempotency import IdempotencyConfig, idempotent_function

    config = IdempotencyConfig(
        event_key_jmespath=key,
        payload_validation_jmespath=validate,
        raise_on_no_idempotency_key=True,
        expires_after_seconds=bootstrap.settings().idempotency_ttl_seconds,
    )
    config.register_lambda_context(context)
    store = store_for(step)
    guarded = idempotent_function(
        data_keyword_argument="payload", config=config, persistence_store=store, output_serializer=output
    )(step)
    result: Result = guarded(payload=payload, **arguments)
    return result


def store_for(step: Callable[..., Any]) -> Any:
    """The idempotency records of `step` (one persistence layer per guarded step)."""
    return bootstrap.idempotency_store(f"{step.__module__}.{step.__qualname__}")
