"""The Cognito post-confirmation trigger through handlers.register_user.handler."""

from __future__ import annotations

import pytest

from handlers.register_user import UnusableUser, handler
from ordering import bootstrap
from ordering.domain.streams import user_stream
from tests.functional.invoke import USER_B, Context, cognito_confirmation, fixture

pytestmark = pytest.mark.moto


def registered(user_id):
    return bootstrap.event_store().read(user_stream(user_id))


def test_the_confirmed_user_is_registered_and_the_event_returned_as_cognito_requires(aws):
    event = fixture("cognito_post_confirmation")
    context = Context("orders-register_user")

    answer = handler(event, context)

    assert answer == fixture("cognito_post_confirmation")
    [user] = registered("5f0c7a9e-2b3d-4c1e-8f6a-9d0b1c2e3f4a")
    assert user.type == "UserRegistered"
    assert user.data.email == "ada@example.com"
    assert user.correlation_id == context.aws_request_id


def test_cognito_retrying_the_trigger_registers_once(aws):
    for _ in range(3):
        handler(cognito_confirmation(USER_B), Context("orders-register_user"))
    assert len(registered(USER_B[0])) == 1


def test_a_password_reset_confirmation_registers_a_user_the_sign_up_missed(aws):
    handler(
        cognito_confirmation(USER_B, "PostConfirmation_ConfirmForgotPassword"),
        Context("orders-register_user"),
    )
    assert [e.type for e in registered(USER_B[0])] == ["UserRegistered"]


@pytest.mark.parametrize(
    ("user", "field"),
    [(("not-a-uuid", "bob@example.net"), "user_id"), ((USER_B[0], "bob at example"), "email")],
)
def test_attributes_that_cannot_be_a_user_are_refused_clearly(aws, user, field):
    with pytest.raises(UnusableUser, match=field):
        handler(cognito_confirmation(user), Context("orders-register_user"))
