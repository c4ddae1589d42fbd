"""Four eyes on weakening a control, and an expiry on every weakening.

Weakening a control is one of: switching a protective policy to log-only, lifting a fraud
hold, turning a kill switch off, reloading policy files that remove or weaken a protective
policy (``policy_reload``). One compliance person *requests* it (with a reason and how
many minutes it should last); a *second*, different compliance person approves it; only then
does it take effect, and when its time is up the control is restored by itself. Each step is a
chained audit record (the two people's as ``oversight``), committed together with the state
change it explains. While a weakening lasts, ``GET /governance/changes?status=active`` lists
it and both consoles show it.

States: ``pending`` → ``active`` → ``expired`` (restored) or ``ended`` (restored early by
someone strengthening the control); ``pending`` → ``rejected`` or ``lapsed`` (nobody approved
it within its own duration). Every move is a guarded UPDATE, so two replicas or two people
pressing at once move it once.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from gateway.audit_store import StaleState, Statement
from gateway.errors import ChangeConflict as Conflict
from gateway.policy_reload import fingerprint, load_checked, put_in_force
from gateway.state import GovernanceState
from shared.audit import Oversight, digest
from shared.errors import ConfigurationError, Forbidden, NotFound

if TYPE_CHECKING:
    from gateway.gateway import Gateway
    from gateway.policy_interface import PolicyEngine

log = logging.getLogger(__name__)

# The table is ``gateway.tables.control_changes``, created by the gateway's revisions.

POLICY_LOG_ONLY, HOLD_LIFT, SWITCH_OFF = "policy-log-only", "fraud-hold-lift", "kill-switch-off"
POLICY_RELOAD = "policy-reload"
PENDING, ACTIVE, EXPIRED, ENDED, REJECTED, LAPSED = "pending", "active", "expired", "ended", "rejected", "lapsed"
MAX_MINUTES = 24 * 60
_COLUMNS = (
    "id, kind, target, detail, status, reason, minutes, requested_by, requested_at, approved_by, approved_at,"
    " expires_at"
)


@dataclass
class ControlChange:
    id: str
    kind: str
    target: str
    detail: dict[str, Any]
    status: str
    reason: str
    minutes: int
    requested_by: str
    requested_at: float
    approved_by: str | None
    approved_at: float | None
    expires_at: float

    def public(self) -> dict[str, Any]:
        return asdict(self)

    def describe(self) -> str:
        what = {
            POLICY_LOG_ONLY: f"policy {self.target} runs log-only",
            HOLD_LIFT: f"the fraud hold on {self.target} is lifted",
            SWITCH_OFF: f"the kill switch {self.target} is off",
            POLICY_RELOAD: "the policy files are in force without "
            + ", ".join(
                [
                    *(f"{p} (removed)" for p in self.detail.get("removed", [])),
                    *(f"{p} as it was" for p in self.detail.get("weakened", [])),
                ]
            ),
        }
        return what.get(self.kind, f"{self.kind} {self.target}")


def _row(row: Any) -> ControlChange:
    values = list(row)
    values[3] = json.loads(values[3])
    return ControlChange(*values)


def _move(change_id: str, expected: str, new: str, **columns: Any) -> Statement:
    sets = "".join(f", {name} = ?" for name in columns)
    return (
        f"UPDATE control_changes SET status = ?{sets} WHERE id = ? AND status = ?",
        (new, *columns.values(), change_id, expected),
    )


class WeakeningDesk:
    """Requests, second approvals and expiries of weakened controls, for one gateway."""

    def __init__(self, gateway: Gateway, clock: Callable[[], float] = time.time) -> None:
        self._gw = gateway
        self._clock = clock
        self._lock = asyncio.Lock()
        self._before_reload: dict[str, PolicyEngine] = {}
        """The policy set each active reload replaced, put back when it expires."""

    @classmethod
    async def open(cls, gateway: Gateway, clock: Callable[[], float] = time.time) -> WeakeningDesk:
        return cls(gateway, clock)

    async def changes(self, status: str | None = None) -> list[ControlChange]:
        where, params = ("WHERE status = ?", (status,)) if status else ("", ())
        rows = await self._gw.store.fetch(
            f"SELECT {_COLUMNS} FROM control_changes {where} ORDER BY requested_at DESC LIMIT 200", params
        )
        return [_row(r) for r in rows]

    async def get(self, change_id: str) -> ControlChange:
        rows = await self._gw.store.fetch(f"SELECT {_COLUMNS} FROM control_changes WHERE id = ?", (change_id,))
        if not rows:
            raise NotFound(f"no control change {change_id!r}", hint="GET /governance/changes lists them")
        return _row(rows[0])

    async def request(
        self, kind: str, target: str, detail: dict[str, Any], reason: str, minutes: int, person: Oversight
    ) -> ControlChange:
        """One person asks to weaken a control; nothing changes until a second person approves."""
        now = self._clock()
        change = ControlChange(
            id=f"CHG-{uuid.uuid4().hex[:12].upper()}",
            kind=kind,
            target=target,
            detail=detail,
            status=PENDING,
            reason=reason,
            minutes=minutes,
            requested_by=person.person,
            requested_at=now,
            approved_by=None,
            approved_at=None,
            expires_at=now + minutes * 60,  # a request nobody approves in its own duration lapses
        )
        insert = (
            f"INSERT INTO control_changes ({_COLUMNS}) VALUES ({', '.join('?' for _ in _COLUMNS.split(','))})",
            (
                change.id,
                kind,
                target,
                json.dumps(detail, sort_keys=True),
                PENDING,
                reason,
                minutes,
                person.person,
                now,
                None,
                None,
                change.expires_at,
            ),
        )
        await self._record(
            change,
            "approval-required",
            f"{person.person} asks that {change.describe()} for {minutes} min ({reason}); "
            f"a second compliance person must approve {change.id}",
            person.model_copy(update={"target": change.id}),
            also=(insert,),
        )
        return change

    async def approve(self, change_id: str, person: Oversight) -> ControlChange:
        """The second person: the weakening takes effect now and lasts its minutes."""
        async with self._lock:
            change = await self.get(change_id)
            if change.status != PENDING:
                raise Conflict(f"control change {change_id} is {change.status}: only a pending one can be approved")
            if person.person == change.requested_by:
                # An attempt, not a decision: the person is named in the reason, not as oversight.
                reason = f"{person.person} may not approve their own request {change.id}: four eyes"
                await self._record(change, "deny", reason, None, actor=person.person)
                raise Forbidden(
                    "the person who asked to weaken a control may not approve it",
                    hint="a second compliance person must approve it",
                )
            if not self._still_weakenable(change):
                await self._lapse(change)
                raise Conflict(f"control change {change_id} is moot: {change.target} is no longer on")
            now = self._clock()
            if change.expires_at <= now:
                await self._lapse(change)
                raise Conflict(f"control change {change_id} lapsed before anyone approved it", hint="ask again")
            fresh = await self._reloaded(change) if change.kind == POLICY_RELOAD else None
            expires = now + change.minutes * 60
            moved = _move(change.id, PENDING, ACTIVE, approved_by=person.person, approved_at=now, expires_at=expires)
            try:
                await self._record(
                    change,
                    "approved",
                    f"{person.person} approved {change.id}: {change.describe()} until "
                    f"{time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime(expires))}, requested by {change.requested_by}",
                    person,
                    also=(moved, *self._weaken(change, person.person)),
                )
            except StaleState:
                raise Conflict(f"control change {change_id} was decided meanwhile") from None
            if fresh is not None:
                self._before_reload[change.id] = self._gw.policy.snapshot()
                put_in_force(self._gw, fresh)
            self._apply(change, weaken=True)
        return await self.get(change_id)

    async def _reloaded(self, change: ControlChange) -> PolicyEngine:
        """The policy files as asked for: read again now, and refused if they changed since the request."""
        try:
            fresh, _ = await load_checked(self._gw)
        except ConfigurationError as exc:
            raise Conflict(
                f"the policy files no longer load: {exc.message}", hint="fix them and reload again"
            ) from None
        if fingerprint(self._gw.policy) != change.detail.get("in_force"):
            raise Conflict(
                f"the policies in force changed since {change.id} was asked for: what it weakens may differ now",
                hint="reject it and reload again",
            )
        if fingerprint(fresh) != change.detail.get("fingerprint"):
            raise Conflict(
                f"the policy files changed since {change.id} was asked for: approving would put other rules in force",
                hint="reject it and reload again, so the new files are what a second person approves",
            )
        return fresh

    async def reject(self, change_id: str, person: Oversight) -> ControlChange:
        async with self._lock:
            change = await self.get(change_id)
            if change.status != PENDING:
                raise Conflict(f"control change {change_id} is {change.status}: only a pending one can be rejected")
            try:
                await self._record(
                    change,
                    "rejected",
                    f"{person.person} rejected {change.id}",
                    person,
                    also=(_move(change.id, PENDING, REJECTED),),
                )
            except StaleState:
                raise Conflict(f"control change {change_id} was decided meanwhile") from None
        return await self.get(change_id)

    async def end_for(self, kind: str, target: str) -> None:
        """A person strengthened the control themselves (an audited change): active weakenings of it end."""
        for change in await self.changes(ACTIVE):
            if change.kind == kind and change.target == target:
                try:
                    await self._gw.store.run((_move(change.id, ACTIVE, ENDED),))
                except StaleState:
                    continue

    async def expire_due(self) -> int:
        """Restore every control whose weakening is over; lapse requests nobody approved. Returns how many."""
        now, count = self._clock(), 0
        async with self._lock:
            for change in await self.changes(ACTIVE):
                if change.expires_at > now:
                    continue
                try:
                    await self._record(
                        change,
                        "allow",
                        f"{change.id} expired: {change.describe()} no longer; the control is restored",
                        None,
                        also=(_move(change.id, ACTIVE, EXPIRED), *self._restore(change)),
                    )
                except StaleState:
                    continue  # another replica restored it
                self._apply(change, weaken=False)
                count += 1
            for change in await self.changes(PENDING):
                if change.expires_at <= now:
                    await self._lapse(change)
            # A reload put in force here whose expiry another replica recorded: put the old set back here too.
            for change_id in list(self._before_reload):
                change = await self.get(change_id)
                if change.status != ACTIVE:
                    self._apply(change, weaken=False)
        return count

    async def run(self, interval: float = 1.0) -> None:
        """Background loop: restore controls on time, also after a restart (it runs at once)."""
        while True:
            try:
                await self.expire_due()
            except Exception:
                log.exception("restoring expired control changes failed; will retry")
            await asyncio.sleep(interval)

    # ----- what each kind changes

    def _still_weakenable(self, change: ControlChange) -> bool:
        if change.kind == HOLD_LIFT:
            return change.target in self._gw.state.fraud_holds
        if change.kind == SWITCH_OFF:
            return change.target in self._gw.state.kill_switches
        return True

    def _weaken(self, change: ControlChange, by: str) -> tuple[Statement, ...]:
        if change.kind == POLICY_RELOAD:
            return ()  # the policy set is files and memory, no governance switch: approve puts it in force
        if change.kind == POLICY_LOG_ONLY:
            return GovernanceState.mode_statements(change.target, "log-only", by)
        if change.kind == HOLD_LIFT:
            return GovernanceState.hold_statements(change.target, "lifted", by, False)
        return GovernanceState.switch_statements(change.target, "", by, False)

    def _restore(self, change: ControlChange) -> tuple[Statement, ...]:
        by = f"expiry of {change.id}"
        if change.kind == POLICY_RELOAD:
            return ()
        if change.kind == POLICY_LOG_ONLY:
            return GovernanceState.mode_statements(change.target, "enforce", by)
        if change.kind == HOLD_LIFT:
            return GovernanceState.hold_statements(change.target, str(change.detail.get("reason") or by), by, True)
        return GovernanceState.switch_statements(change.target, str(change.detail.get("reason") or by), by, True)

    def _apply(self, change: ControlChange, *, weaken: bool) -> None:
        """Mirror a committed change in memory (other replicas reload on the commit's notification)."""
        state = self._gw.state
        if change.kind == POLICY_RELOAD:
            before = None if weaken else self._before_reload.pop(change.id, None)
            if before is not None:
                put_in_force(self._gw, before)
            elif not weaken:
                log.error("%s expired but the set it replaced is not in this process: reload the files", change.id)
        elif change.kind == POLICY_LOG_ONLY:
            mode = "log-only" if weaken else "enforce"
            self._gw.policy.set_mode(change.target, mode)
            state.policy_modes[change.target] = mode
        elif change.kind == HOLD_LIFT:
            if weaken:
                state.fraud_holds.pop(change.target, None)
            else:
                reason = str(change.detail.get("reason") or f"expiry of {change.id}")
                state.fraud_holds[change.target] = {"reason": reason, "set_by": f"expiry of {change.id}"}
        elif weaken:
            state.kill_switches.pop(change.target, None)
        else:
            reason = str(change.detail.get("reason") or "")
            state.kill_switches[change.target] = {"set_by": f"expiry of {change.id}", "reason": reason}

    async def _lapse(self, change: ControlChange) -> None:
        lapsed = (_move(change.id, PENDING, LAPSED),)
        with contextlib.suppress(StaleState):  # another replica lapsed it
            await self._record(change, "rejected", f"{change.id} lapsed: nobody approved it in time", None, also=lapsed)

    async def _record(
        self,
        change: ControlChange,
        decision: str,
        reason: str,
        person: Oversight | None,
        *,
        also: tuple[Statement, ...] = (),
        actor: str | None = None,
    ) -> None:
        who = actor or (person.person if person is not None else None)
        args = {"change_id": change.id, "kind": change.kind, "target": change.target, "minutes": change.minutes}
        await self._gw.store.append(
            kind="decision",
            decision=decision,
            agent=f"staff:{who}" if who else "gateway",
            tool=f"governance.{change.kind}",
            customer_id=change.target if change.kind == HOLD_LIFT else None,
            arguments=args,
            arguments_digest=digest(args),
            policy_ids=["four-eyes"],
            reason=reason,
            oversight=person,
            also=also,
        )
