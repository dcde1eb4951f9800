"""Check a Cognito ID token as API Gateway's Cognito authorizer does, before any function runs.

The token must be signed by a key of the user pool's JWKS (RS256 only: `alg: none` and
HMAC tricks are refused), unexpired, issued by the pool (`iss`), for one of the pool's app
clients this API accepts (`aud`), and an ID token (`token_use` = "id"; an access token
carries `client_id` instead of `aud` and is refused). Anything else is a 401, and the
reason is logged, never sent to the caller.

A token that passed is remembered for the authorizer's result cache TTL (the CDK default API
Gateway applies, 300 s), never past its own `exp`, as API Gateway caches a Cognito
authorizer's result by the token: a client that sends the same token again is not decoded and
verified again (pyjwt's parsing and the RSA check were most of the gateway's work per request).
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from typing import Any

import jwt

ALGORITHMS = ["RS256"]  # what Cognito signs with
REQUIRED_CLAIMS = ["exp", "iat", "iss", "sub", "aud", "token_use"]
LEEWAY_SECONDS = 0
RESULT_CACHE_SECONDS = 300  # CognitoUserPoolsAuthorizer's default resultsCacheTtl
CACHED_TOKENS = 10_000  # the least recently used beyond this are verified again when they return


class Unauthorized(Exception):
    """The request carries no acceptable ID token; the message says why (for the log only)."""


class TokenVerifier:
    def __init__(
        self,
        *,
        jwks_url: str,
        issuer: str,
        audiences: Iterable[str],
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.issuer = issuer
        self.audiences = list(audiences)
        self._clock = clock
        # token -> (until when it is remembered, its claims), the least recently used first
        self._passed: OrderedDict[str, tuple[float, dict[str, Any]]] = OrderedDict()
        self._passed_lock = threading.Lock()
        # Keys are fetched on first use and cached; an unknown `kid` triggers one refetch.
        # The User-Agent names the gateway to moto's request counter (request_counter.py).
        self._keys = jwt.PyJWKClient(
            jwks_url, cache_keys=True, lifespan=3600, timeout=5, headers={"User-Agent": "orders app/gateway"}
        )

    def claims(self, authorization: str | None) -> dict[str, Any]:
        """The verified claims of the token in an Authorization header, or Unauthorized."""
        token = _token_of(authorization)
        remembered = self._remembered(token)
        if remembered is not None:
            return remembered
        claims = self._verified(token)
        # Until the cache TTL ends or the token expires (pyjwt refuses it once now - leeway >= exp).
        until = min(self._clock() + RESULT_CACHE_SECONDS, float(claims["exp"]) + LEEWAY_SECONDS)
        with self._passed_lock:
            self._passed[token] = (until, claims)
            while len(self._passed) > CACHED_TOKENS:
                self._passed.popitem(last=False)
        return dict(claims)

    def _remembered(self, token: str) -> dict[str, Any] | None:
        """A copy of the claims of a token that passed and is still within its cache time."""
        with self._passed_lock:
            found = self._passed.get(token)
            if found is None:
                return None
            until, claims = found
            if self._clock() >= until:
                del self._passed[token]  # verified again from scratch: an expired token is refused
                return None
            self._passed.move_to_end(token)
        return dict(claims)

    def _verified(self, token: str) -> dict[str, Any]:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as error:
            raise Unauthorized(f"not a JWT: {error}") from None
        if header.get("alg") not in ALGORITHMS:
            raise Unauthorized(f"algorithm {header.get('alg')!r} is not accepted")
        try:
            key = self._keys.get_signing_key_from_jwt(token)
        except jwt.PyJWKClientError as error:
            raise Unauthorized(f"no key of the user pool signs this token: {error}") from None
        try:
            claims = jwt.decode(
                token,
                key.key,
                algorithms=ALGORITHMS,
                audience=self.audiences,
                issuer=self.issuer,
                leeway=LEEWAY_SECONDS,
                options={"require": REQUIRED_CLAIMS},
            )
        except jwt.PyJWTError as error:
            raise Unauthorized(f"{type(error).__name__}: {error}") from None
        if claims.get("token_use") != "id":
            raise Unauthorized(f"token_use is {claims.get('token_use')!r}; an ID token is required")
        return claims


def _token_of(authorization: str | None) -> str:
    """Cognito authorizers read the raw token from Authorization; a `Bearer ` prefix is tolerated."""
    if not authorization or not authorization.strip():
        raise Unauthorized("no Authorization header")
    value = authorization.strip()
    if value[:7].lower() == "bearer ":
        value = value[7:].strip()
    if not value:
        raise Unauthorized("empty token")
    return value
