"""The customer's contact details: identity is their system of record.

A change is committed with its event (transactional outbox): ``identity.contact-changed`` for
every copy that shows or is keyed by the address (the CRM's customer view and profile, the
support records). An address already on another account is refused: it would make two
customers one. The postal address (where replacement SIMs, letters and deliveries go) changes
the same way, with the same event, so the CRM's town and an open case's profile follow it at
once. The mobile number is the customer's line (billing and the network key on it), so it
changes by a port, not here.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, Field

from mcp_servers._time import iso, utcnow
from shared.errors import InvalidRequest, NotFound
from shared.events import CONTACT_CHANGED
from shared.tools import CallContext

if TYPE_CHECKING:
    from mcp_servers.identity.backend import ReferenceIdentityBackend


class PostalAddress(BaseModel):
    line1: str = Field(description="house number or name and street")
    line2: str | None = Field(default=None, description="flat, building or district, if any")
    town: str
    postcode: str = Field(description="UK postcode, upper case with its space: KM1 4AB")


class ContactDetails(BaseModel):
    customer_id: str
    email: str
    msisdn: str
    address: PostalAddress | None = Field(default=None, description="none: no postal address on record")
    changed: bool = False


# Outward code (area letters, district) and inward code (sector digit, unit letters).
_POSTCODE = re.compile(r"^([A-Z]{1,2}[0-9][A-Z0-9]?) ?([0-9][A-Z]{2})$")
_HAS_LETTER = re.compile(r"[^\W\d_]")


def postal_address(line1: str, line2: str | None, town: str, postcode: str) -> PostalAddress:
    """The address tidied (spaces, postcode case) or InvalidRequest saying, in plain words, what is wrong."""
    line1, town = " ".join(line1.split()), " ".join(town.split())
    line2 = " ".join((line2 or "").split()) or None
    compact = re.sub(r"\s+", "", postcode.upper())
    found = _POSTCODE.match(f"{compact[:-3]} {compact[-3:]}") if len(compact) > 3 else None
    if found is None:
        raise InvalidRequest(
            f"{postcode.strip() or 'that'} is not a UK postcode", hint="a postcode looks like KM1 4AB or SW1A 1AA"
        )
    if len(line1) < 3 or not _HAS_LETTER.search(line1):
        raise InvalidRequest(
            "the first line of the address needs the house number or name and the street",
            hint="like 12 Acacia Avenue",
        )
    if len(town) < 2 or not _HAS_LETTER.search(town) or any(ch.isdigit() for ch in town):
        raise InvalidRequest("the address needs its town or city", hint="like Kingsmere")
    return PostalAddress(line1=line1, line2=line2, town=town, postcode=f"{found.group(1)} {found.group(2)}")


async def _address_of(backend: ReferenceIdentityBackend, customer_id: str) -> PostalAddress | None:
    row = await backend.fetchone(
        "SELECT line1, line2, town, postcode FROM postal_addresses WHERE customer_id = ?", (customer_id,)
    )
    return None if row is None else PostalAddress(**dict(row))


async def get_contact_details(backend: ReferenceIdentityBackend, customer_id: str) -> ContactDetails:
    row = await backend.fetchone(
        "SELECT customer_id, email, msisdn FROM customers WHERE customer_id = ?", (customer_id,)
    )
    if row is None:
        raise NotFound(f"no customer {customer_id}", hint="resolve the customer first")
    address = await _address_of(backend, customer_id)
    return ContactDetails(customer_id=row["customer_id"], email=row["email"], msisdn=row["msisdn"], address=address)


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
        address = await _address_of(backend, customer_id)
        if changed:
            await backend.execute("UPDATE customers SET email = ? WHERE customer_id = ?", (email, customer_id))
            data = {
                "customer_id": customer_id,
                "email": email,
                "msisdn": row["msisdn"],
                "previous_email": row["email"],
                "address": address.model_dump() if address else None,
                "changed_at": iso(utcnow()),
                "audit_id": call.audit_id,
            }
            await backend.emit(CONTACT_CHANGED, data, subject=customer_id)
        return ContactDetails(
            customer_id=customer_id, email=email, msisdn=row["msisdn"], address=address, changed=changed
        ).model_dump()

    args = {"customer_id": customer_id, "email": email}
    return ContactDetails.model_validate(await backend.idempotent("update_contact_details", key, args, write))


async def update_postal_address(
    backend: ReferenceIdentityBackend, customer_id: str, given: PostalAddress, key: str, call: CallContext
) -> ContactDetails:
    address = postal_address(given.line1, given.line2, given.town, given.postcode)

    async def write() -> dict[str, Any]:
        row = await backend.fetchone(
            f"SELECT email, msisdn FROM customers WHERE customer_id = ?{backend.lock_rows}", (customer_id,)
        )
        if row is None:
            raise NotFound(f"no customer {customer_id}", hint="resolve the customer first")
        changed = address != await _address_of(backend, customer_id)
        if changed:
            now = iso(utcnow())
            await backend.execute(
                "INSERT INTO postal_addresses VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (customer_id) DO UPDATE SET line1 = excluded.line1, line2 = excluded.line2,"
                " town = excluded.town, postcode = excluded.postcode,"
                " changed_at = excluded.changed_at, agent = excluded.agent, audit_id = excluded.audit_id,"
                " conversation_id = excluded.conversation_id",
                (
                    customer_id,
                    address.line1,
                    address.line2,
                    address.town,
                    address.postcode,
                    now,
                    call.agent,
                    call.audit_id,
                    call.conversation_id,
                ),
            )
            data = {
                "customer_id": customer_id,
                "email": row["email"],
                "msisdn": row["msisdn"],
                "previous_email": row["email"],
                "address": address.model_dump(),
                "changed_at": now,
                "audit_id": call.audit_id,
            }
            await backend.emit(CONTACT_CHANGED, data, subject=customer_id)
        details = ContactDetails(
            customer_id=customer_id, email=row["email"], msisdn=row["msisdn"], address=address, changed=changed
        )
        return details.model_dump()

    args = {"customer_id": customer_id, **address.model_dump()}
    return ContactDetails.model_validate(await backend.idempotent("update_postal_address", key, args, write))
