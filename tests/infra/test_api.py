"""The API as API Gateway will run it: authorizer, models, validation, throttling, logs, errors."""

from __future__ import annotations

import json

import jsonschema
import pytest

from infra import topology
from infra.aws.api import (
    ACCESS_LOG_FORMAT,
    CORRELATION_HEADER,
    GATEWAY_RESPONSES,
    NOT_JSON,
    NOT_JSON_DOCUMENT,
    request_model_document,
)
from tests.infra.conftest import Synthesized, ref
from tests.infra.test_topology_parity import api_routes

pytestmark = pytest.mark.infra


def only(resources: dict) -> tuple[str, dict]:
    assert len(resources) == 1, list(resources)
    return next(iter(resources.items()))


def test_every_route_needs_a_cognito_token(synthesized: Synthesized) -> None:
    authorizer_id, authorizer = only(synthesized.of_type("AWS::ApiGateway::Authorizer"))
    assert authorizer["Properties"]["Type"] == "COGNITO_USER_POOLS"
    assert authorizer["Properties"]["IdentitySource"] == "method.request.header.Authorization"
    (pool_id,) = synthesized.of_type("AWS::Cognito::UserPool")
    assert authorizer["Properties"]["ProviderARNs"] == [{"Fn::GetAtt": [pool_id, "Arn"]}]
    for route, method in api_routes(synthesized).items():
        assert method["AuthorizationType"] == "COGNITO_USER_POOLS", route
        assert method["AuthorizerId"] == ref(authorizer_id), route


def test_request_models_are_the_generated_documents_unchanged(synthesized: Synthesized) -> None:
    models = {
        m["Properties"]["Name"]: (k, m["Properties"])
        for k, m in synthesized.of_type("AWS::ApiGateway::Model").items()
    }
    wanted = {r.request_model for r in topology.routes() if r.request_model}
    assert set(models) == wanted | {NOT_JSON}
    not_json, refusing = models[NOT_JSON]
    assert refusing["ContentType"] == "$default"
    assert refusing["Schema"] == NOT_JSON_DOCUMENT
    for anything in ({"lines": [{"sku": "MUG-01", "quantity": 1}]}, {}, "text", None):
        assert not jsonschema.Draft4Validator(NOT_JSON_DOCUMENT).is_valid(anything)  # nothing passes
    routes = api_routes(synthesized)
    for route in topology.routes():
        method = routes[(route.method, route.path)]
        if route.request_model is None:
            assert "RequestModels" not in method, route
            continue
        logical_id, model = models[route.request_model]
        assert model["ContentType"] == "application/json"
        assert model["Schema"] == request_model_document(route.request_model)
        assert method["RequestModels"] == {"application/json": ref(logical_id), "$default": ref(not_json)}


def test_every_method_validates_body_and_parameters(synthesized: Synthesized) -> None:
    validator_id, validator = only(synthesized.of_type("AWS::ApiGateway::RequestValidator"))
    assert validator["Properties"]["ValidateRequestBody"] is True
    assert validator["Properties"]["ValidateRequestParameters"] is True
    for route, method in api_routes(synthesized).items():
        assert method["RequestValidatorId"] == ref(validator_id), route


def test_openapi_parameters_are_declared_with_their_required_flag(synthesized: Synthesized) -> None:
    routes = api_routes(synthesized)
    get_order = routes[("GET", "/orders/{order_id}")]
    assert get_order["RequestParameters"] == {"method.request.path.order_id": True}
    list_orders = routes[("GET", "/orders")]
    assert list_orders["RequestParameters"] == {
        "method.request.querystring.limit": False,
        "method.request.querystring.cursor": False,
    }
    place_order = routes[("POST", "/orders")]
    assert place_order["RequestParameters"][f"method.request.header.{CORRELATION_HEADER}"] is False


def _resource_path(path: str) -> str:
    """How a stage's MethodSettings names a resource: "/orders" -> "/~1orders"."""
    return "/" + path.replace("/", "~1")


def test_throttles_apply_to_cognito_callers_and_placing_an_order_is_limited_below_reads(
    synthesized: Synthesized,
) -> None:
    """Stage throttles count every request, whoever sends it; a usage plan would count only API keys."""
    _, stage = only(synthesized.of_type("AWS::ApiGateway::Stage"))
    assert stage["Properties"]["StageName"] == topology.API.stage
    settings = {(s["HttpMethod"], s["ResourcePath"]): s for s in stage["Properties"]["MethodSettings"]}
    everything = settings[("*", "/*")]
    assert everything["ThrottlingRateLimit"] == topology.API.rate_limit
    assert everything["ThrottlingBurstLimit"] == topology.API.burst_limit

    place_order = settings[("POST", _resource_path("/orders"))]
    assert ("GET", _resource_path("/orders")) not in settings  # reads get the stage's limit
    assert place_order["ThrottlingRateLimit"] < everything["ThrottlingRateLimit"]
    assert place_order["ThrottlingBurstLimit"] < everything["ThrottlingBurstLimit"]

    routes = api_routes(synthesized)
    assert topology.API.route_limits
    for limit in topology.API.route_limits:
        method_setting = settings[(limit.method, _resource_path(limit.path))]
        assert method_setting["ThrottlingRateLimit"] == limit.rate_limit
        assert method_setting["ThrottlingBurstLimit"] == limit.burst_limit
        # The limited method is the one a Cognito caller calls, and it asks for no API key.
        method = routes[(limit.method, limit.path)]
        assert method["AuthorizationType"] == "COGNITO_USER_POOLS"
        assert not method.get("ApiKeyRequired", False)
    # Nothing that would only limit holders of an API key, and claim to limit everyone.
    assert synthesized.of_type("AWS::ApiGateway::UsagePlan") == {}
    assert synthesized.of_type("AWS::ApiGateway::ApiKey") == {}


def test_access_logs_record_each_request_as_json(synthesized: Synthesized) -> None:
    _, stage = only(synthesized.of_type("AWS::ApiGateway::Stage"))
    access = stage["Properties"]["AccessLogSetting"]
    assert json.loads(access["Format"]) == ACCESS_LOG_FORMAT
    assert ACCESS_LOG_FORMAT["requestId"] == "$context.requestId"  # API Gateway requires it
    destination = json.dumps(access["DestinationArn"])
    (log_group_id,) = [
        k for k in synthesized.of_type("AWS::Logs::LogGroup") if json.dumps(ref(k)) in destination
    ]
    assert synthesized.props(log_group_id)["RetentionInDays"] > 0
    assert stage["Properties"]["TracingEnabled"] is True


# What API Gateway's validator reports for {"lines": [{"sku": "MUG-01", "quantity": 0}], "x": 1}.
VALIDATOR_SAYS = (
    '[object instance has properties which are not allowed by the schema: ["x"], '
    "numeric instance is lower than the required minimum (minimum: 1, found: 0)]"
)


def _render(template: str) -> dict:
    """What API Gateway sends: simple substitution of $context variables. messageString comes
    quoted; validationErrorString comes escaped for JSON but not quoted."""
    body = template.replace("$context.error.messageString", json.dumps('Invalid request body "x"'))
    body = body.replace("$context.error.validationErrorString", json.dumps(VALIDATOR_SAYS)[1:-1])
    return json.loads(body.replace("$context.requestId", "4f6b3f0e-6b9e-4f7b-9a59-0d9d5b1e2c11"))


def test_gateway_errors_have_the_error_model_shape_and_echo_the_correlation_id(
    synthesized: Synthesized,
) -> None:
    error_schema = request_model_document("Error")
    responses = {
        r["Properties"]["ResponseType"]: r["Properties"]
        for r in synthesized.of_type("AWS::ApiGateway::GatewayResponse").values()
    }
    assert set(responses) == {t.response_type for t, _, _ in GATEWAY_RESPONSES}
    for response_type, status, code in GATEWAY_RESPONSES:
        response = responses[response_type.response_type]
        assert response.get("StatusCode") == status
        body = _render(response["ResponseTemplates"]["application/json"])
        jsonschema.Draft4Validator(error_schema).validate(body)
        assert body["code"] == code
        assert response["ResponseParameters"] == {
            f"gatewayresponse.header.{CORRELATION_HEADER}": f"method.request.header.{CORRELATION_HEADER}"
        }


def test_a_bad_body_answer_names_what_the_validator_found(synthesized: Synthesized) -> None:
    """The deployed 400 carries API Gateway's validation errors, not only "Invalid request body"."""
    (response,) = [
        r["Properties"]
        for r in synthesized.of_type("AWS::ApiGateway::GatewayResponse").values()
        if r["Properties"]["ResponseType"] == "BAD_REQUEST_BODY"
    ]
    body = _render(response["ResponseTemplates"]["application/json"])
    jsonschema.Draft4Validator(request_model_document("Error")).validate(body)
    assert body["code"] == "validation_error"
    assert body["errors"] == [{"field": "$", "message": VALIDATOR_SAYS}]
    assert '["x"]' in body["errors"][0]["message"]  # the field that is not allowed, by name
