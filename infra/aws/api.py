"""The REST API: what API Gateway checks before any function runs.

Every route: a Cognito user-pool authorizer (no valid ID token -> 401, no Lambda), the
request validator for body and parameters against the draft-04 models that codegen.py
wrote to generated/apigateway/ (passed through unchanged: the same documents the local
gateway enforces), then a Lambda proxy integration. Throttling is on the stage (every method)
and, lower, per method for the writes (topology.API.route_limits): stage throttles apply to
every caller, Cognito users included. There is no usage plan: without API keys it limits nobody.

What API Gateway does not do, the handlers do: `admin_only` routes are checked by the
handler, which reads the caller's groups from `requestContext.authorizer.claims
["cognito:groups"]` and answers 403; API Gateway's validator only checks that required
parameters are present, so the handlers validate their values (e.g. that order_id is a UUID).

`X-Correlation-Id` reaches the handler untouched (proxy integration passes every header);
the handler defaults it to the request id, which the access log records as `requestId`.
API Gateway's own error answers (bad body, no token, throttled...) use the shape of the
generated Error model and echo the header back.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from importlib import resources

from aws_cdk import RemovalPolicy
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_cognito as cognito
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from infra import topology
from infra.aws.nag import acknowledge

JSON = "application/json"
CORRELATION_HEADER = "X-Correlation-Id"
PARAMETER_LOCATIONS = {"query": "querystring", "header": "header", "path": "path"}

# One JSON line per request. `requestId` is the correlation id when the client sent none.
ACCESS_LOG_FORMAT = {
    "requestId": "$context.requestId",
    "extendedRequestId": "$context.extendedRequestId",
    "requestTime": "$context.requestTime",
    "ip": "$context.identity.sourceIp",
    "caller": "$context.authorizer.claims.sub",
    "method": "$context.httpMethod",
    "resourcePath": "$context.resourcePath",
    "status": "$context.status",
    "responseLength": "$context.responseLength",
    "latencyMs": "$context.responseLatency",
    "integrationLatencyMs": "$context.integrationLatency",
    "error": "$context.error.message",
    "validationError": "$context.error.validationErrorString",
    "xrayTraceId": "$context.xrayTraceId",
}

# The request model of every content type but application/json: no body satisfies it.
NOT_JSON = "NotJson"
NOT_JSON_DOCUMENT = {"$schema": "http://json-schema.org/draft-04/schema#", "title": NOT_JSON, "not": {}}

# API Gateway's own answers, shaped like the generated Error model: (type, status, code).
GATEWAY_RESPONSES = (
    (apigw.ResponseType.BAD_REQUEST_BODY, "400", "validation_error"),
    (apigw.ResponseType.BAD_REQUEST_PARAMETERS, "400", "validation_error"),
    (apigw.ResponseType.UNAUTHORIZED, "401", "unauthorized"),
    (apigw.ResponseType.ACCESS_DENIED, "403", "forbidden"),
    # What API Gateway answers for a path or method it does not know.
    (apigw.ResponseType.MISSING_AUTHENTICATION_TOKEN, "404", "not_found"),
    (apigw.ResponseType.REQUEST_TOO_LARGE, "413", "payload_too_large"),
    (apigw.ResponseType.UNSUPPORTED_MEDIA_TYPE, "415", "unsupported_media_type"),
    (apigw.ResponseType.THROTTLED, "429", "too_many_requests"),
    (apigw.ResponseType.DEFAULT_5_XX, None, "internal_error"),
)


# What the request validator found, as one entry for the whole body ("$", as the local gateway
# names the body). API Gateway words it (e.g. `[object has missing required properties
# (["lines"])]`) and escapes it for JSON, unquoted; its message alone is "Invalid request body".
VALIDATION_ERRORS = '[{"field": "$", "message": "$context.error.validationErrorString"}]'


def error_template(code: str, *, validation_errors: bool = False) -> str:
    """A gateway response body: simple substitution, no VTL. messageString comes quoted."""
    errors = f', "errors": {VALIDATION_ERRORS}' if validation_errors else ""
    return (
        '{"code": "'
        + code
        + '", "message": $context.error.messageString'
        + errors
        + ', "correlation_id": "$context.requestId"}'
    )


def request_model_document(name: str) -> dict:
    """The draft-04 document codegen.py wrote for this model."""
    path = resources.files("generated").joinpath("apigateway", f"{name}.json")
    return json.loads(path.read_text(encoding="utf-8"))


def request_parameters(route: topology.Route) -> dict[str, bool]:
    """The route's OpenAPI parameters as API Gateway method request parameters (name -> required)."""
    operation = topology.openapi()["paths"][route.path][route.method.lower()]
    return {
        f"method.request.{PARAMETER_LOCATIONS[p['in']]}.{p['name']}": bool(p.get("required", False))
        for p in operation.get("parameters", [])
    }


class Api(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        settings: topology.Api,
        routes: Sequence[topology.Route],
        functions: Mapping[str, lambda_.IFunction],
        user_pool: cognito.IUserPool,
        name_prefix: str,
    ) -> None:
        super().__init__(scope, construct_id)
        access_logs = logs.LogGroup(
            self, "AccessLogs", retention=logs.RetentionDays.ONE_MONTH, removal_policy=RemovalPolicy.DESTROY
        )
        self.rest_api = apigw.RestApi(
            self,
            "RestApi",
            rest_api_name=f"{name_prefix}-{settings.name}",
            description=topology.openapi()["info"]["description"],
            endpoint_types=[apigw.EndpointType.REGIONAL],
            # Execution logs (ERROR level) need the account-wide role that lets API Gateway write logs.
            cloud_watch_role=True,
            deploy_options=apigw.StageOptions(
                stage_name=settings.stage,
                throttling_rate_limit=settings.rate_limit,
                throttling_burst_limit=settings.burst_limit,
                method_options={
                    f"{limit.path}/{limit.method}": apigw.MethodDeploymentOptions(
                        throttling_rate_limit=limit.rate_limit, throttling_burst_limit=limit.burst_limit
                    )
                    for limit in settings.route_limits
                },
                access_log_destination=apigw.LogGroupLogDestination(access_logs),
                access_log_format=apigw.AccessLogFormat.custom(json.dumps(ACCESS_LOG_FORMAT)),
                logging_level=apigw.MethodLoggingLevel.ERROR,
                metrics_enabled=True,
                tracing_enabled=True,
            ),
        )
        self.authorizer = apigw.CognitoUserPoolsAuthorizer(
            self,
            "Authorizer",
            cognito_user_pools=[user_pool],
            identity_source=apigw.IdentitySource.header("Authorization"),
        )
        self.validator = self.rest_api.add_request_validator(
            "Validator", validate_request_body=True, validate_request_parameters=True
        )
        self.models = {
            name: self._model(name) for name in sorted({r.request_model for r in routes if r.request_model})
        }
        self.refuse_other_types = self._model(NOT_JSON, NOT_JSON_DOCUMENT, content_type="$default")
        for route in routes:
            self._route(route, functions[route.function])
        for response_type, status, code in GATEWAY_RESPONSES:
            self.rest_api.add_gateway_response(
                f"{code}-{response_type.response_type}",
                type=response_type,
                status_code=status,
                response_headers={CORRELATION_HEADER: f"method.request.header.{CORRELATION_HEADER}"},
                templates={
                    JSON: error_template(
                        code, validation_errors=response_type.response_type == "BAD_REQUEST_BODY"
                    )
                },
            )
        acknowledge(
            self.rest_api,
            "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/"
            "AmazonAPIGatewayPushToCloudWatchLogs]",
            "The AWS-managed policy only lets API Gateway write execution and access logs.",
        )
        acknowledge(
            self.rest_api,
            "AwsSolutions-APIG3",
            "No WAF web ACL (about 6 USD a month before requests): every route needs a Cognito token and the "
            "stage is throttled. Add one in front for a production deployment.",
        )

    def _model(self, name: str, document: dict | None = None, *, content_type: str = JSON) -> apigw.IModel:
        # The L1 resource takes the document as it is; the L2 Model would retype it field by field.
        model = apigw.CfnModel(
            self,
            f"{name}Model",
            rest_api_id=self.rest_api.rest_api_id,
            name=name,
            content_type=content_type,
            schema=document or request_model_document(name),
        )
        # Ref of a model is its name; referencing it makes every method wait for the model.
        return apigw.Model.from_model_name(self, f"{name}ModelRef", model.ref)

    def _route(self, route: topology.Route, function: lambda_.IFunction) -> apigw.Method:
        return self.rest_api.root.resource_for_path(route.path).add_method(
            route.method,
            apigw.LambdaIntegration(function),
            operation_name=route.operation_id,
            authorization_type=apigw.AuthorizationType.COGNITO,
            authorizer=self.authorizer,
            request_validator=self.validator,
            # Any other content type meets a model nothing satisfies: 400 before the function runs.
            # (Without a `$default` model, API Gateway would pass a text/plain body through.)
            request_models=(
                {JSON: self.models[route.request_model], "$default": self.refuse_other_types}
                if route.request_model
                else None
            ),
            request_parameters=request_parameters(route) or None,
        )
