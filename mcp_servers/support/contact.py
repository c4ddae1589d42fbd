"""Support keys its customers, tickets and hand-offs by email: it follows identity's address changes.

Identity is the system of record for contact details; ``identity.contact-changed`` moves the
support records from the old address to the new one, once per event (``apply_once``), in one
transaction, so a customer's open tickets are still theirs after they change their address.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from cloudevents.core.v1.event import CloudEvent

from shared.events import CONTACT_CHANGED, data_of, kind_of

if TYPE_CHECKING:
    from mcp_servers.support.backend import ReferenceSupportBackend


async def follow_contact_change(backend: ReferenceSupportBackend, event: CloudEvent) -> bool:
    """Move the records of a changed address; False when the event is not one or moves nothing."""
    if kind_of(event) != CONTACT_CHANGED:
        return False
    data = data_of(event)
    old, new = data.get("previous_email"), data.get("email")
    if not (isinstance(old, str) and isinstance(new, str)) or old == new:
        return False

    async def move() -> None:
        # The new row first, then what refers to it, then the old row: every reference stays valid.
        await backend.execute(
            "INSERT INTO customers (email, name) SELECT ?, name FROM customers WHERE email = ?"
            " ON CONFLICT (email) DO NOTHING",
            (new, old),
        )
        await backend.execute("UPDATE tickets SET email = ? WHERE email = ?", (new, old))
        await backend.execute("UPDATE handoffs SET email = ? WHERE email = ?", (new, old))
        await backend.execute("DELETE FROM customers WHERE email = ?", (old,))

    applied: bool = await backend.apply_once(event.get_id(), move)
    return applied
