"""The gateway's token check remembers a token that passed, as API Gateway caches a Cognito
authorizer's result: never past the cache TTL or the token's expiry, and never a token that failed."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from infra.emulator import cognito_tokens
from infra.emulator.cognito_tokens import RESULT_CACHE_SECONDS, TokenVerifier, Unauthorized

ISSUER = "http://127.0.0.1:5000/eu-west-1_pool"
AUDIENCE = "app-client"
KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)


class Clock:
    """One clock for the verifier's cache and for pyjwt's own checks of `exp`."""

    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch) -> Clock:
    clock = Clock()

    class FrozenDatetime(datetime):
        @classmethod
        def now(cls, tz: Any = None) -> datetime:  # type: ignore[override]
            return datetime.fromtimestamp(clock.now, tz or UTC)

    monkeypatch.setattr(jwt.api_jwt, "datetime", FrozenDatetime)
    return clock


@pytest.fixture
def verifier(clock: Clock) -> TokenVerifier:
    verifier = TokenVerifier(
        jwks_url="http://127.0.0.1:1/jwks.json", issuer=ISSUER, audiences=[AUDIENCE], clock=clock
    )
    public = json.loads(RSAAlgorithm.to_jwk(KEY.public_key())) | {
        "kid": "key-1",
        "alg": "RS256",
        "use": "sig",
    }
    verifier._keys.fetch_data = lambda: {"keys": [public]}  # type: ignore[method-assign]
    return verifier


def id_token(clock: Clock, *, lifetime: float = 3600, **claims: Any) -> str:
    now = int(clock.now)
    payload = {
        "sub": "user-1",
        "iss": ISSUER,
        "aud": AUDIENCE,
        "token_use": "id",
        "iat": now,
        "exp": now + int(lifetime),
        "email": "ada@example.com",
    } | claims
    return jwt.encode(payload, KEY, algorithm="RS256", headers={"kid": "key-1"})


@pytest.fixture
def decodes(monkeypatch) -> list[str]:
    """Every full decode and signature check the verifier makes."""
    seen: list[str] = []
    decode = jwt.decode

    def counted(token: str, *args: Any, **kwargs: Any) -> Any:
        seen.append(token)
        return decode(token, *args, **kwargs)

    monkeypatch.setattr(cognito_tokens.jwt, "decode", counted)
    return seen


def test_a_token_that_passed_is_not_verified_again_within_the_cache_ttl(verifier, clock, decodes):
    token = id_token(clock)
    first = verifier.claims(token)
    clock.now += RESULT_CACHE_SECONDS - 1
    again = verifier.claims(f"Bearer {token}")
    assert again == first
    assert again["sub"] == "user-1"
    assert decodes == [token]


def test_after_the_cache_ttl_the_token_is_verified_again(verifier, clock, decodes):
    token = id_token(clock)
    verifier.claims(token)
    clock.now += RESULT_CACHE_SECONDS
    verifier.claims(token)
    assert decodes == [token, token]


def test_a_remembered_token_is_refused_once_it_expires(verifier, clock):
    token = id_token(clock, lifetime=60)
    verifier.claims(token)
    clock.now += 59
    verifier.claims(token)
    clock.now += 1
    with pytest.raises(Unauthorized, match="ExpiredSignatureError"):
        verifier.claims(token)


def test_a_token_that_failed_is_checked_again_every_time(verifier, clock, decodes):
    token = id_token(clock, aud="someone-else")
    for _ in range(2):
        with pytest.raises(Unauthorized, match="InvalidAudienceError"):
            verifier.claims(token)
    assert decodes == [token, token]


def test_the_claims_handed_out_are_copies(verifier, clock):
    token = id_token(clock)
    verifier.claims(token)["sub"] = "someone else"
    assert verifier.claims(token)["sub"] == "user-1"
