"""The customer's contact details: identity is their system of record.

A change is committed with its event (transactional outbox): ``identity.contact-changed`` for
every copy that shows or is keyed by the address (the CRM's customer view and profile, the
support records). An address already on another account is refused: it would make two
customers one. The mobile number is the customer's line (billing and the network key on it),
so it changes by a port, not here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from mcp_servers._time import iso, utcnow
from shared.errors import InvalidRequest, NotFound
from shared.events import CONTACT_CHANGED
from shared.tools import CallContext

if TYPE_CHECKING:
    from mcp_servers.identity.backend import ReferenceIdentityBackend


class ContactDetails(BaseModel):
    customer_id: str
    email: str
    msisdn: str
    changed: bool = False


async def get_contact_details(backend: ReferenceIdentityBackend, customer_id: str) -> ContactDetails:
    row = await backend.fetchone(
        "SELECT customer_id, email, msisdn FROM customers WHERE customer_id = ?", (customer_id,)
    )
    if row is None:
        raise NotFound(f"no customer {customer_id}", hint="resolve the customer first")
    return ContactDetails(customer_id=row["customer_id"], email=row["email"], msisdn=row["msisdn"])


async def update_contact_details(
    backend: ReferenceIdentityBackend, customer_id: str, email: str, key: str, call: CallContext
) -> ContactDetails:
    email = email.strip().lower()
    if "@" not in email:
        raise InvalidRequest("that is not an email address", hint="ask for the full address, like name@example.com")

    async def write() -> dict[str, Any]:
        row = await backend.fetchone(
            f"SELECT email, msisdn FROM customers WHERE customer_id = ?{backend.lock_rows}", (customer_id,)
        )
        if row is None:
            raise NotFound(f"no customer {customer_id}", hint="resolve the customer first")
        taken = await backend.fetchone(
            "SELECT 1 FROM customers WHERE customer_id != ? AND email = ?", (customer_id, email)
        )
        if taken is not None:
            raise InvalidRequest(
                "that email address is already on another account",
                hint="ask the customer for an address of their own",
            )
        changed = email != row["email"]
        if changed:
            await backend.execute("UPDATE customers SET email = ? WHERE customer_id = ?", (email, customer_id))
            data = {
                "customer_id": customer_id,
                "email": email,
                "msisdn": row["msisdn"],
                "previous_email": row["email"],
                "changed_at": iso(utcnow()),
                "audit_id": call.audit_id,
            }
            await backend.emit(CONTACT_CHANGED, data, subject=customer_id)
        return ContactDetails(customer_id=customer_id, email=email, msisdn=row["msisdn"], changed=changed).model_dump()

    args = {"customer_id": customer_id, "email": email}
    return ContactDetails.model_validate(await backend.idempotent("update_contact_details", key, args, write))
