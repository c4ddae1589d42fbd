"""Signed checkpoints of the audit chain head, kept outside the database.

A hash chain alone proves that no record inside it changed, but not that the tail was not
cut off, nor that the whole chain was not rewritten and re-hashed by someone with write
access to the database. A checkpoint is (seq, head hash, time) signed with Ed25519 and
appended to a JSON-lines file next to, not inside, the database: the chain must still
contain every checkpointed record with the checkpointed hash.
"""

from __future__ import annotations

import base64
import fcntl
import json
import os
import time
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


def _body(seq: int, head: str, at: str) -> bytes:
    return canonical_json({"seq": seq, "hash": head, "time": at})


class CheckpointWriter:
    """Appends signed checkpoints; one per gateway (replicas sharing a log may share the file)."""

    def __init__(self, path: Path, private_pem: str, *, max_age_seconds: float = 10.0) -> None:
        key = load_pem_private_key(private_pem.encode(), password=None)
        if not isinstance(key, Ed25519PrivateKey):
            raise ConfigurationError("the audit checkpoint key must be an Ed25519 private key")
        self._key = key
        self.path = Path(path)
        self.last_seq = 0
        self.max_age_seconds = max_age_seconds
        self._written_at = 0.0

    def due(self, seq: int, every: int) -> bool:
        """Sign after record ``seq``? Every ``every`` records; on this writer's first record, so a
        chain with records always has a checkpoint and a deleted file shows; and when the last
        one is ``max_age_seconds`` old, so a quiet gateway leaves few records unsigned."""
        if seq % every == 0 or not self.last_seq:
            return True
        return time.monotonic() - self._written_at >= self.max_age_seconds

    def write(self, seq: int, head: str) -> None:
        """Append and flush to disk: a checkpoint that can vanish in a crash proves nothing.

        Several processes (gateway replicas) may append to one file: each line goes out in a
        single ``write`` on an ``O_APPEND`` descriptor under an exclusive lock, so lines never
        interleave or overwrite each other. Their order does not matter to the check.
        """
        if seq <= self.last_seq:
            return
        at = datetime.now(UTC).isoformat()
        signature = base64.b64encode(self._key.sign(_body(seq, head, at))).decode()
        line = (json.dumps({"seq": seq, "hash": head, "time": at, "sig": signature}) + "\n").encode()
        fd = os.open(self.path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            # A writer that died mid-line left no newline: start on a fresh line, or both lines are lost.
            if os.fstat(fd).st_size and os.pread(fd, 1, os.fstat(fd).st_size - 1) != b"\n":
                line = b"\n" + line
            os.write(fd, line)
            os.fsync(fd)
        finally:
            os.close(fd)  # releases the lock
        self.last_seq = seq
        self._written_at = time.monotonic()


@dataclass(frozen=True)
class CheckpointProblem:
    seq: int
    reason: str


def check_checkpoints(
    path: Path, public_pem: str, chain_count: int, hash_at: Callable[[int], str | None]
) -> tuple[int, CheckpointProblem | None]:
    """Check every checkpoint against the chain: (checkpoints checked, first problem or None).

    A chain with records and no checkpoint at all is a problem too: every gateway run signs
    its first record, so the file was deleted or emptied.
    """
    key = load_pem_public_key(public_pem.encode())
    if not isinstance(key, Ed25519PublicKey):
        raise ConfigurationError("the audit checkpoint key must be an Ed25519 public key")
    lines = Path(path).read_text(encoding="utf-8").splitlines() if Path(path).exists() else []
    checked = 0
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            cp = json.loads(line)
            seq, head, at = int(cp["seq"]), str(cp["hash"]), str(cp["time"])
            key.verify(base64.b64decode(cp["sig"]), _body(seq, head, at))
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
    if checked == 0 and chain_count > 0:
        return 0, CheckpointProblem(
            1,
            f"the chain has {chain_count} records but {path.name} holds no signed checkpoint: the file was "
            "deleted or emptied (every gateway run signs its first record)",
        )
    return checked, None
