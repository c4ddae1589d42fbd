"""Authorization decisions: a tiny engine interface and its Cedar implementation.

The Cedar engine reads and validates every policy file once at start-up (``policy_files``); a decision on
the hot path reuses the parsed policy set and entity graph and sends only the context
attributes policies read (about 0.15 ms). Deny by default, a forbid wins over any permit,
and an evaluation error denies: a policy that cannot be evaluated never lets a call through.

Two annotations besides ``@id`` mean something here:
- ``@approval("required")`` on a forbid: when only such policies deny a call, the call is
  held for a human approval instead of denied, and allowed once approved (``context.approved``).
- Each policy has an enforcement mode, ``enforce`` (default) or ``log-only``: a log-only
  policy is left out of the decision, and the decision records what it would have changed (a
  call allowed only because of it is recorded as ``would-deny``).
- ``@trial("true")`` marks a forbid as a new policy under trial. Every other forbid is
  *protective*: switching it to log-only weakens a control, which takes a second person and
  expires (``weakening``).
  Modes change at run time (a privileged, audited action); the policy sets are rebuilt then,
  never per call.
"""

from __future__ import annotations

from gateway.cedar_engine import CedarPolicyEngine
from gateway.policy_files import DEFAULT_POLICY_DIR
from gateway.policy_interface import MODES, Decision, Mode, PolicyEngine, PolicyRequest, ToolFacts, cedar_amount

__all__ = [
    "DEFAULT_POLICY_DIR",
    "MODES",
    "CedarPolicyEngine",
    "Decision",
    "Mode",
    "PolicyEngine",
    "PolicyRequest",
    "ToolFacts",
    "cedar_amount",
]
