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

from generated import models as m
from handlers import http
from ordering import bootstrap

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.idempotency.serialization.base import BaseIdempotencySerializer
    from pydantic import BaseModel

Result = TypeVar("Result")
Answer = TypeVar("Answer", bound="BaseModel")


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


def run_once_per_key(
    step: Callable[..., Answer],
    *,
    payload: Any,
    idempotency_key: str,
    validate: str,
    answer: type[Answer],
    context: LambdaContext,
    reused_for: str,
    **arguments: Any,
) -> Answer:
    """`run_once` for an HTTP request with an Idempotency-Key: once per (caller, key).

    `payload` has `user_id` and `idempotency_key`; `answer` is the step's response model.
    Its two refusals become HTTP problems: the key reused with another `validate` part is 422
    (`reused_for` says what it was used for, e.g. "another order body"), a repeat while the
    first still runs is 409.
    """
    from aws_lambda_powertools.utilities.idempotency.exceptions import (
        IdempotencyAlreadyInProgressError,
        IdempotencyValidationError,
    )
    from aws_lambda_powertools.utilities.idempotency.serialization.pydantic import PydanticSerializer

    try:
        return run_once(
            step,
            payload=payload,
            key="[user_id, idempotency_key]",
            validate=validate,
            context=context,
            output=PydanticSerializer(answer),
            **arguments,
        )
    except IdempotencyValidationError:
        header = f"headers.{http.IDEMPOTENCY_HEADER}"
        field = m.FieldError(field=header, message=f"{idempotency_key!r} was used for {reused_for}")
        raise http.HttpProblem(
            422,
            http.Code.idempotency_key_reused,
            f"The Idempotency-Key {idempotency_key!r} was already used for {reused_for}; send a new key",
            [field],
        ) from None
    except IdempotencyAlreadyInProgressError:
        raise http.HttpProblem(
            409,
            http.Code.conflict,
            f"A request with the Idempotency-Key {idempotency_key!r} is still being processed; retry shortly",
        ) from None
