"""Signing and verifying customer auth contexts (compact JWS, Ed25519).

Only the identity system holds the private key; the gateway holds the public key. Signature
checks are cached per token because a token is immutable: expiry is still checked every time.
"""

from __future__ import annotations

import base64
import json
import time
import uuid
from functools import lru_cache

from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import OKPKey

from shared.envelope import AuthClaims, CustomerKeys
from shared.errors import AuthContextInvalid

_ALG = "Ed25519"
AUTH_CONTEXT_AUDIENCE = "gateway"
"""An auth context is presented to the governance gateway and nowhere else."""


def generate_private_key_pem() -> bytes:
    return OKPKey.generate_key("Ed25519").as_pem(private=True)


def public_pem_from_private(private_pem: bytes) -> bytes:
    return OKPKey.import_key(private_pem).as_pem(private=False)


class AuthContextSigner:
    """Issues auth contexts. Lives in the identity system only."""

    def __init__(self, private_pem: bytes, *, ttl_seconds: int = 1800) -> None:
        self._key = OKPKey.import_key(private_pem)
        self._ttl = ttl_seconds

    def issue(
        self,
        keys: CustomerKeys,
        *,
        method: str,
        assurance: str,
        conversation_id: str | None = None,
        now: float | None = None,
    ) -> str:
        issued = int(now if now is not None else time.time())
        claims = AuthClaims(
            sub=keys.customer_id,
            keys=keys,
            method=method,
            assurance=assurance,
            iat=issued,
            exp=issued + self._ttl,
            jti=uuid.uuid4().hex,
            conversation_id=conversation_id,
            aud=AUTH_CONTEXT_AUDIENCE,
        )
        return jwt.encode({"alg": _ALG}, claims.model_dump(exclude_none=True), self._key, algorithms=[_ALG])


class AuthContextVerifier:
    """Verifies auth contexts; raises ``AuthContextInvalid`` with the reason."""

    def __init__(self, public_pem: bytes, *, cache_size: int = 4096) -> None:
        key = OKPKey.import_key(public_pem)

        @lru_cache(maxsize=cache_size)
        def _check_signature(token: str) -> AuthClaims:
            try:
                decoded = jwt.decode(token, key, algorithms=[_ALG])
            except (JoseError, ValueError) as exc:
                raise AuthContextInvalid(
                    "the auth context signature is not valid",
                    hint="verify the customer again through the identity agent",
                ) from exc
            return AuthClaims.model_validate(decoded.claims)

        self._check_signature = _check_signature

    def verify(self, token: str, *, conversation_id: str, now: float | None = None) -> AuthClaims:
        """The claims of a context valid now, for the gateway, in ``conversation_id``; else AuthContextInvalid.

        Binding the conversation keeps per-conversation limits (refunds, approvals) real: a
        context copied into another conversation, or a made-up one, verifies nobody.
        """
        if not token or token.count(".") != 2:
            raise AuthContextInvalid("the auth context is malformed")
        # A failed check raises and is therefore never cached: lru_cache only keeps returns.
        claims = self._check_signature(token)
        if claims.aud != AUTH_CONTEXT_AUDIENCE:
            raise AuthContextInvalid(
                "the auth context is not meant for the governance gateway",
                hint="verify the customer again through the identity agent",
            )
        if claims.conversation_id != conversation_id:
            raise AuthContextInvalid(
                "the auth context belongs to another conversation",
                hint="verify the customer again in this conversation",
            )
        if claims.exp <= int(now if now is not None else time.time()):
            raise AuthContextInvalid(
                "the auth context has expired", hint="verify the customer again through the identity agent"
            )
        return claims


def peek_claims(token: str) -> AuthClaims | None:
    """Read the claims WITHOUT checking the signature: for display and re-verification timing only.

    Never use this to decide what is allowed; that is the gateway's verified check.
    """
    try:
        payload = token.split(".")[1]
        raw = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
        return AuthClaims.model_validate(json.loads(raw))
    except (IndexError, ValueError):
        return None
