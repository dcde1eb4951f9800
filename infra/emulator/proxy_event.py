"""The REST API (v1) Lambda proxy event, built from an HTTP request as API Gateway builds it.

Shape as AWS documents it for proxy integrations: `resource`, `path`, `httpMethod`, single- and
multi-value headers and query strings (null when absent), `pathParameters`, `stageVariables`,
`requestContext` (with `authorizer.claims` from the Cognito authorizer), `body` and
`isBase64Encoded`. The claims are rendered the way the Cognito authorizer renders them: every
value a string, `exp`/`iat` as dates ("Tue Apr 04 18:39:39 UTC 2023"), a list of groups
joined by commas.
"""

from __future__ import annotations

import base64
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from werkzeug.wrappers import Request

from infra.emulator.aws import ACCOUNT_ID

API_ID = "local"
DATE_CLAIMS = ("exp", "iat")


def claim_strings(claims: dict[str, Any]) -> dict[str, str]:
    rendered = {}
    for name, value in claims.items():
        if name in DATE_CLAIMS and isinstance(value, int | float):
            rendered[name] = datetime.fromtimestamp(value, UTC).strftime("%a %b %d %H:%M:%S UTC %Y")
        elif isinstance(value, bool):
            rendered[name] = "true" if value else "false"
        elif isinstance(value, list | tuple):
            rendered[name] = ",".join(str(item) for item in value)
        else:
            rendered[name] = str(value)
    return rendered


def _single_and_multi(
    pairs: Iterable[tuple[str, str]],
) -> tuple[dict[str, str] | None, dict[str, list[str]] | None]:
    multi: dict[str, list[str]] = {}
    for name, value in pairs:
        multi.setdefault(name, []).append(value)
    if not multi:
        return None, None
    return {name: values[-1] for name, values in multi.items()}, multi


def body_of(raw: bytes) -> tuple[str | None, bool]:
    """Text bodies are passed as they are; anything not UTF-8 is base64, flagged isBase64Encoded."""
    if not raw:
        return None, False
    try:
        return raw.decode("utf-8"), False
    except UnicodeDecodeError:
        return base64.b64encode(raw).decode("ascii"), True


def proxy_event(
    request: Request,
    *,
    raw_body: bytes,
    stage: str,
    resource: str,
    path: str,
    path_parameters: dict[str, str],
    claims: dict[str, Any],
    request_id: str,
    received_at: datetime,
) -> dict[str, Any]:
    headers, multi_headers = _single_and_multi(request.headers.items())
    query, multi_query = _single_and_multi(request.args.items(multi=True))
    body, is_base64 = body_of(raw_body)
    return {
        "resource": resource,
        "path": path,
        "httpMethod": request.method,
        "headers": headers,
        "multiValueHeaders": multi_headers,
        "queryStringParameters": query,
        "multiValueQueryStringParameters": multi_query,
        "pathParameters": path_parameters or None,
        "stageVariables": None,
        "requestContext": {
            "resourceId": resource,
            "resourcePath": resource,
            "httpMethod": request.method,
            "extendedRequestId": request_id,
            "requestTime": received_at.strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "path": f"/{stage}{path}",
            "accountId": ACCOUNT_ID,
            "protocol": request.environ.get("SERVER_PROTOCOL", "HTTP/1.1"),
            "stage": stage,
            "domainPrefix": request.host.split(":")[0].split(".")[0],
            "requestTimeEpoch": int(received_at.timestamp() * 1000),
            "requestId": request_id,
            "identity": {
                "cognitoIdentityPoolId": None,
                "accountId": None,
                "cognitoIdentityId": None,
                "caller": None,
                "sourceIp": request.remote_addr,
                "principalOrgId": None,
                "accessKey": None,
                "cognitoAuthenticationType": None,
                "cognitoAuthenticationProvider": None,
                "userArn": None,
                "userAgent": request.headers.get("User-Agent"),
                "user": None,
            },
            "domainName": request.host,
            "apiId": API_ID,
            "authorizer": {"claims": claim_strings(claims)},
        },
        "body": body,
        "isBase64Encoded": is_base64,
    }
