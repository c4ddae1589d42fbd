"""Signed checkpoints of the audit chain head, kept outside the database.

A hash chain alone proves that no record inside it changed, but not that the tail was not
cut off, nor that the whole chain was not rewritten and re-hashed by someone with write
access to the database. A checkpoint is (seq, head hash, time) signed with Ed25519 and
appended to a JSON-lines file next to, not inside, the database: the chain must still
contain every checkpointed record with the checkpointed hash.
"""

from __future__ import annotations

import base64
import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import load_pem_private_key, load_pem_public_key

from shared.audit import canonical_json
from shared.errors import ConfigurationError

CHECKPOINTS_FILE = "audit-checkpoints.jsonl"


def _body(seq: int, head: str, time: str) -> bytes:
    return canonical_json({"seq": seq, "hash": head, "time": time})


class CheckpointWriter:
    """Appends signed checkpoints; one writer per audit log (the gateway)."""

    def __init__(self, path: Path, private_pem: str) -> None:
        key = load_pem_private_key(private_pem.encode(), password=None)
        if not isinstance(key, Ed25519PrivateKey):
            raise ConfigurationError("the audit checkpoint key must be an Ed25519 private key")
        self._key = key
        self.path = Path(path)
        self.last_seq = 0

    def write(self, seq: int, head: str) -> None:
        """Append and flush to disk: a checkpoint that can vanish in a crash proves nothing."""
        if seq <= self.last_seq:
            return
        time = datetime.now(UTC).isoformat()
        signature = base64.b64encode(self._key.sign(_body(seq, head, time))).decode()
        line = json.dumps({"seq": seq, "hash": head, "time": time, "sig": signature}) + "\n"
        with self.path.open("a", encoding="utf-8") as out:
            out.write(line)
            out.flush()
            os.fsync(out.fileno())
        self.last_seq = seq


@dataclass(frozen=True)
class CheckpointProblem:
    seq: int
    reason: str


def check_checkpoints(
    path: Path, public_pem: str, chain_count: int, hash_at: Callable[[int], str | None]
) -> tuple[int, CheckpointProblem | None]:
    """Check every checkpoint against the chain: (checkpoints checked, first problem or None)."""
    key = load_pem_public_key(public_pem.encode())
    if not isinstance(key, Ed25519PublicKey):
        raise ConfigurationError("the audit checkpoint key must be an Ed25519 public key")
    if not Path(path).exists():
        return 0, None
    checked = 0
    with Path(path).open(encoding="utf-8") as lines:
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                cp = json.loads(line)
                seq, head, time = int(cp["seq"]), str(cp["hash"]), str(cp["time"])
                key.verify(base64.b64decode(cp["sig"]), _body(seq, head, time))
            except (ValueError, KeyError, TypeError, InvalidSignature):
                return checked, CheckpointProblem(0, f"checkpoint line {number} is malformed or its signature is wrong")
            if seq > chain_count:
                return checked, CheckpointProblem(
                    chain_count + 1,
                    f"the chain ends at record {chain_count} but a signed checkpoint vouches for record {seq}: "
                    "records were cut off the end",
                )
            if hash_at(seq) != head:
                return checked, CheckpointProblem(
                    seq, f"record {seq} differs from its signed checkpoint: the chain was rewritten"
                )
            checked += 1
    return checked, None
