"""Cognito post-confirmation trigger: record UserRegistered for the confirmed user, once.

Cognito retries a trigger that fails or times out (it waits 5 s), so registering is idempotent:
a user already registered decides nothing. Both trigger sources register: a user whose sign-up
trigger failed is still confirmed by Cognito, and a later password reset then heals the gap.
The trigger must answer with the event it received.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.data_classes import event_source
from aws_lambda_powertools.utilities.data_classes.cognito_user_pool_event import PostConfirmationTriggerEvent
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import ValidationError

from generated import models as m
from ordering import bootstrap
from ordering.domain.user import RegisterUser
from ordering.services.stamp import Cause
from ordering.services.users import register_user

logger = Logger()


class UnusableUser(ValueError):
    """The confirmed user's attributes cannot become a UserRegistered (Cognito shows the message)."""


@logger.inject_lambda_context(clear_state=True)
@event_source(data_class=PostConfirmationTriggerEvent)
def handler(event: PostConfirmationTriggerEvent, context: LambdaContext) -> dict[str, Any]:
    # No client request precedes a Cognito trigger: this invocation's id starts the correlation.
    correlation_id = context.aws_request_id
    logger.set_correlation_id(correlation_id)
    attributes = event.request.user_attributes
    try:
        user = m.UserRegistered(user_id=attributes.get("sub"), email=attributes.get("email"))
    except ValidationError as error:
        fields = ", ".join(str(problem["loc"][0]) for problem in error.errors())
        raise UnusableUser(f"cannot register the user: unusable {fields}") from None
    logger.append_keys(user_id=user.user_id)
    recorded = register_user(
        bootstrap.event_store(), RegisterUser(user.user_id, user.email), Cause(correlation_id)
    )
    logger.info(
        "User registered" if recorded else "User already registered", extra={"trigger": event.trigger_source}
    )
    return event.raw_event
