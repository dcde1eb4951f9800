"""Who may call the API: a Cognito user pool, its app client and the admin group."""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_cognito as cognito
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from infra import topology
from infra.aws.nag import acknowledge

TOKEN_VALIDITY = Duration.minutes(15)  # Cognito's shortest is 5 minutes


class Auth(Construct):
    """Users sign up and sign in with their e-mail address, which Cognito verifies.

    Confirming the sign-up triggers `register_user` (UserRegistered in the log). Members of
    the `admin` group get the group in their ID token's `cognito:groups` claim, which the
    restock handler checks. The app client has no secret: it is meant for browsers and CLIs.
    """

    def __init__(
        self, scope: Construct, construct_id: str, *, post_confirmation: lambda_.IFunction, name_prefix: str
    ) -> None:
        super().__init__(scope, construct_id)
        self.user_pool = cognito.UserPool(
            self,
            "UserPool",
            user_pool_name=f"{name_prefix}-users",
            self_sign_up_enabled=True,
            sign_in_aliases=cognito.SignInAliases(email=True),
            auto_verify=cognito.AutoVerifiedAttrs(email=True),
            standard_attributes=cognito.StandardAttributes(
                email=cognito.StandardAttribute(required=True, mutable=True)
            ),
            password_policy=cognito.PasswordPolicy(
                min_length=12,
                require_lowercase=True,
                require_uppercase=True,
                require_digits=True,
                require_symbols=True,
            ),
            account_recovery=cognito.AccountRecovery.EMAIL_ONLY,
            mfa=cognito.Mfa.OPTIONAL,
            mfa_second_factor=cognito.MfaSecondFactor(otp=True, sms=False),
            lambda_triggers=cognito.UserPoolTriggers(post_confirmation=post_confirmation),
            deletion_protection=True,
            removal_policy=RemovalPolicy.RETAIN,
        )
        self.client = self.user_pool.add_client(
            "Client",
            user_pool_client_name=f"{name_prefix}-client",
            generate_secret=False,
            # USER_PASSWORD_AUTH lets docs/deploy.md get a token with one AWS CLI call.
            auth_flows=cognito.AuthFlow(user_srp=True, user_password=True),
            prevent_user_existence_errors=True,
            # The revocation window: API Gateway's Cognito authorizer checks only the signature and
            # expiry, so a disabled or deleted user's ID token works until it expires. Kept short;
            # refreshing is refused at once for such a user (docs/deploy.md).
            id_token_validity=TOKEN_VALIDITY,
            access_token_validity=TOKEN_VALIDITY,
            enable_token_revocation=True,
        )
        self.admin_group = self.user_pool.add_group(
            "Admins",
            group_name=topology.ADMIN_GROUP,
            description="May restock and set prices (POST /inventory)",
        )
        acknowledge(
            self.user_pool,
            "AwsSolutions-COG2",
            "MFA is offered (TOTP) but not required, so that the deploy guide can get a token with one "
            "command. Require it for real users.",
        )
        for rule in ("AwsSolutions-COG3", "AwsSolutions-COG8"):
            acknowledge(
                self.user_pool,
                rule,
                "Threat protection (advanced security) needs Cognito's Plus plan, billed per active user; "
                "this learning deployment stays on Essentials.",
            )
