"""Sign-in links: a one-time link (valid an hour) to set a password or finish registering online.

Only to the email address on record, never by text message: a swapped SIM must not be
enough to take over the online account. The link's token is stored only as a keyed hash.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import TYPE_CHECKING, Any

from mcp_servers.identity.hints import mask_email
from mcp_servers.identity.models import SignInLinkSent
from mcp_servers.identity.outbox import append_message
from mcp_servers.identity.records import iso_seconds
from shared.tools import CallContext

if TYPE_CHECKING:
    from mcp_servers.identity.backend import ReferenceIdentityBackend

SIGN_IN_LINK_SECONDS = 3600


async def send_sign_in_link(
    backend: ReferenceIdentityBackend, customer_id: str, purpose: str, key: str, call: CallContext
) -> SignInLinkSent:
    """Email the link; a retry with the same idempotency ``key`` answers the first send."""

    async def write() -> dict[str, Any]:
        row = await backend._customer(customer_id)
        now = backend._clock()
        token = secrets.token_urlsafe(24)
        link = SignInLinkSent(
            link_id=f"LNK-{secrets.token_hex(4).upper()}",
            purpose=purpose,
            sent_to=mask_email(row["email"]),
            expires_at=iso_seconds(now + SIGN_IN_LINK_SECONDS),
        )
        token_hash = hmac.new(backend._secret, f"{link.link_id}|{token}".encode(), hashlib.sha256).hexdigest()
        await backend.execute(
            "INSERT INTO sign_in_links VALUES (?, ?, ?, ?, ?, ?)",
            (link.link_id, customer_id, purpose, token_hash, now + SIGN_IN_LINK_SECONDS, call.conversation_id),
        )
        what = "set a new password" if purpose == "password-reset" else "finish setting up your online account"
        message = {
            "at": iso_seconds(now),
            "customer_id": customer_id,
            "channel": "email",
            "to": row["email"],
            "text": f"Use this link within an hour to {what}: https://my.northwind.example/sign-in/{token} "
            "If you did not ask for it, ignore this email.",
        }
        await backend.blocking(lambda: append_message(backend._outbox_dir, message))
        return link.model_dump()

    args = {"customer_id": customer_id, "purpose": purpose}
    return SignInLinkSent.model_validate(await backend.idempotent("send_sign_in_link", key, args, write))
