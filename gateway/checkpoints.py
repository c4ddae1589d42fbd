"""Signed checkpoints of the audit chain head, kept outside the database, and at a witness.

A hash chain alone proves that no record inside it changed, but not that the tail was not
cut off, nor that the whole chain was not rewritten and re-hashed by someone with write
access to the database. A checkpoint is (seq, head hash, time, and a 64-bit prefix of every
record hash since the previous checkpoint) signed with Ed25519 and appended to a JSON-lines
file next to, not inside, the database, and to the same file in a *witness directory*
outside the data directory: the chain must still contain every checkpointed record with the
checkpointed hash. Because each checkpoint names every record it covers, a rewrite that
re-hashes the chain from record 5 on is reported at record 5, not at the next checkpoint.

Cutting the local file back and deleting the records after it is caught by the witness,
which an attacker with the data directory cannot rewrite: verify reports the missing tail
and names the last record the witness knows. An operator may accept a chain that does not
verify (``accept``): a signed acceptance line, also at the witness, after an audit record
that says who accepted what. The chain still reports broken; a gateway then starts on it.
"""

from __future__ import annotations

import base64
import fcntl
import json
import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import load_pem_private_key, load_pem_public_key

from shared.audit import canonical_json
from shared.errors import ConfigurationError

CHECKPOINTS_FILE = "audit-checkpoints.jsonl"
PREFIX = 16
SEGMENT = "pruned"
"""The marker of a retention segment line: the records up to its ``seq`` were pruned."""
"""Hex characters of each record hash a checkpoint keeps (64 bits: no rewrite hits one by chance)."""

log = logging.getLogger(__name__)


def _body(seq: int, head: str, at: str, first: int | None = None, hashes: str | None = None) -> bytes:
    fields: dict[str, object] = {"seq": seq, "hash": head, "time": at}
    if first is not None and hashes is not None:  # lines before per-record hashes carry neither
        fields.update({"from": first, "hashes": hashes})
    return canonical_json(fields)


def append_line(path: Path, line: bytes) -> None:
    """One ``write`` on an ``O_APPEND`` descriptor under an exclusive lock, then fsync."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        # A writer that died mid-line left no newline: start on a fresh line, or both lines are lost.
        if os.fstat(fd).st_size and os.pread(fd, 1, os.fstat(fd).st_size - 1) != b"\n":
            line = b"\n" + line
        os.write(fd, line)
        os.fsync(fd)
    finally:
        os.close(fd)  # releases the lock


class Witness(Protocol):
    """Somewhere outside the data directory that keeps every signed checkpoint line."""

    def send(self, line: bytes) -> None:
        """Keep ``line`` (blocking; called off the event loop). Failing logs and leaves the local line."""
        ...

    def lines(self) -> list[str]:
        """Every line it keeps, for ``audit verify``."""
        ...


class CheckpointWriter:
    """Appends signed checkpoints; one per gateway (replicas sharing a log may share the file)."""

    def __init__(
        self, path: Path, private_pem: str, *, max_age_seconds: float = 10.0, witness: Path | None = None
    ) -> None:
        key = load_pem_private_key(private_pem.encode(), password=None)
        if not isinstance(key, Ed25519PrivateKey):
            raise ConfigurationError("the audit checkpoint key must be an Ed25519 private key")
        self._key = key
        self.path = Path(path)
        self.witness = Path(witness) / self.path.name if witness is not None else None
        self.last_seq = 0
        self.max_age_seconds = max_age_seconds
        self._written_at = 0.0
        self._first = 0
        self._pending: list[str] = []
        self.witnesses: list[Witness] = []
        """Witnesses beyond the directory (an HTTP witness …): each signed line is also sent there."""

    def note(self, seq: int, head: str) -> None:
        """Remember one appended record's hash for the next checkpoint (memory only: no I/O)."""
        if not self._pending or seq != self._first + len(self._pending):
            self._first, self._pending = seq, []
        self._pending.append(head[:PREFIX])

    def due(self, seq: int, every: int) -> bool:
        """Sign after record ``seq``? Every ``every`` records; on this writer's first record, so a
        chain with records always has a checkpoint and a deleted file shows; and when the last
        one is ``max_age_seconds`` old, so a quiet gateway leaves few records unsigned."""
        if seq % every == 0 or not self.last_seq:
            return True
        return time.monotonic() - self._written_at >= self.max_age_seconds

    def write(self, seq: int, head: str, *, accept: str | None = None) -> None:
        """Append and flush to disk, locally and at the witness: a checkpoint that can vanish proves nothing.

        Several processes (gateway replicas) may append to one file; their order does not matter
        to the check. ``accept`` makes it an operator's acceptance of the chain up to ``seq``.
        Blocking: call it off the event loop (``sign`` then ``persist`` split the two halves).
        """
        line = self.sign(seq, head, accept=accept)
        if line is not None:
            self.persist(line)

    def sign(self, seq: int, head: str, *, accept: str | None = None, segment: bool = False) -> bytes | None:
        """The signed line for the head ``seq`` (memory and a signature only, no I/O); None when not due."""
        if seq <= self.last_seq and accept is None and not segment:
            return None
        at = datetime.now(UTC).isoformat()
        covered = self._pending if self._pending and self._first + len(self._pending) - 1 == seq else []
        first, hashes = (self._first, "".join(covered)) if covered else (None, None)
        fields: dict[str, object] = {"seq": seq, "hash": head, "time": at}
        if first is not None:
            fields.update({"from": first, "hashes": hashes})
        if segment:  # the whole line is signed: the marker cannot be added to a checkpoint later
            fields = {"seq": seq, "hash": head, "time": at, "segment": SEGMENT}
            signed = canonical_json(fields)
        elif accept is not None:
            fields["accept"] = accept
            signed = canonical_json(fields)
        else:
            signed = _body(seq, head, at, first, hashes)
        fields["sig"] = base64.b64encode(self._key.sign(signed)).decode()
        if segment:
            return (json.dumps(fields) + "\n").encode()  # not a checkpoint: the pending hashes stay
        self.last_seq = max(self.last_seq, seq)
        self._written_at = time.monotonic()
        self._pending = []
        return (json.dumps(fields) + "\n").encode()

    def persist(self, line: bytes) -> None:
        """Append one signed line locally and at the witness, each flushed to disk (blocking I/O)."""
        append_line(self.path, line)
        if self.witness is not None:
            try:
                append_line(self.witness, line)
            except OSError as exc:  # the local line stands; verify will show the witness lagging
                log.error("the audit witness at %s could not be written: %s", self.witness, exc)
        for witness in self.witnesses:
            witness.send(line)


@dataclass(frozen=True)
class CheckpointProblem:
    seq: int
    reason: str


@dataclass(frozen=True)
class _Line:
    seq: int
    hash: str
    first: int | None
    hashes: str
    accept: str | None
    witnessed: bool
    segment: bool = False
    """A retention segment: records up to ``seq`` were pruned; ``hash`` anchors the kept chain."""


def _read_lines(path: Path, key: Ed25519PublicKey, witnessed: bool) -> tuple[list[_Line], CheckpointProblem | None]:
    lines = path.read_text(encoding="utf-8").splitlines() if path.exists() else []
    return _parse_lines(lines, key, witnessed)


def _parse_lines(
    lines: list[str], key: Ed25519PublicKey, witnessed: bool
) -> tuple[list[_Line], CheckpointProblem | None]:
    found: list[_Line] = []
    for number, text in enumerate(lines, start=1):
        if not text.strip():
            continue
        try:
            cp = json.loads(text)
            seq, head, at = int(cp["seq"]), str(cp["hash"]), str(cp["time"])
            first = int(cp["from"]) if "from" in cp else None
            hashes = str(cp.get("hashes", ""))
            accept = str(cp["accept"]) if "accept" in cp else None
            segment = cp.get("segment") == SEGMENT
            signed = {k: v for k, v in cp.items() if k != "sig"}
            whole = accept is not None or segment
            body = canonical_json(signed) if whole else _body(seq, head, at, first, cp.get("hashes"))
            key.verify(base64.b64decode(cp["sig"]), body)
        except (ValueError, KeyError, TypeError, InvalidSignature):
            where = "the witness's" if witnessed else "checkpoint"
            return found, CheckpointProblem(0, f"{where} line {number} is malformed or its signature is wrong")
        found.append(_Line(seq, head, first, hashes, accept, witnessed, segment))
    return found, None


def check_checkpoints(
    path: Path,
    public_pem: str,
    chain_count: int,
    hashes: Callable[[int, int], dict[int, str]],
    *,
    witness: Path | None = None,
    remote: Witness | None = None,
    first_kept: int = 1,
) -> tuple[int, CheckpointProblem | None]:
    """Check every checkpoint (local and witnessed) against the chain: (checked, first problem or None).

    ``hashes(first, last)`` returns the chain's record hashes by seq in that range. A chain with
    records and no checkpoint at all is a problem too: every gateway run signs its first record,
    so the file was deleted or emptied.
    """
    key = load_pem_public_key(public_pem.encode())
    if not isinstance(key, Ed25519PublicKey):
        raise ConfigurationError("the audit checkpoint key must be an Ed25519 public key")
    local, problem = _read_lines(Path(path), key, witnessed=False)
    if problem is not None:
        return 0, problem
    witnessed: list[_Line] = []
    if witness is not None:
        witnessed, problem = _read_lines(Path(witness) / Path(path).name, key, witnessed=True)
        if problem is not None:
            return 0, problem
    if remote is not None:
        kept, problem = _parse_lines(remote.lines(), key, witnessed=True)
        if problem is not None:
            return 0, problem
        witnessed += kept
    lines = [line for line in local + witnessed if not line.segment]
    last = first_kept - 1 + chain_count
    problems = [p for line in lines if (p := _check_line(line, last, hashes, witnessed, first_kept)) is not None]
    if problems:
        return 0, min(problems, key=lambda p: p.seq)
    checked = len({(line.seq, line.hash) for line in lines if line.accept is None and line.seq >= first_kept})
    if checked == 0 and chain_count > 0 and first_kept == 1:
        return 0, CheckpointProblem(
            1,
            f"the chain has {chain_count} records but {Path(path).name} holds no signed checkpoint: the file was "
            "deleted or emptied (every gateway run signs its first record)",
        )
    return checked, None


def _check_line(
    line: _Line,
    chain_count: int,
    hashes: Callable[[int, int], dict[int, str]],
    witnessed: list[_Line],
    first_kept: int = 1,
) -> CheckpointProblem | None:
    if line.accept is not None or line.seq < first_kept:
        return None  # an acceptance, or a head pruned under a signed retention segment
    if line.seq > chain_count:
        known = max((w.seq for w in witnessed), default=0)
        who = f"the witness knows record {known}" if known else f"a signed checkpoint vouches for record {line.seq}"
        return CheckpointProblem(
            chain_count + 1,
            f"the chain ends at record {chain_count} but {who}: records were cut off the end",
        )
    if line.first is not None and line.hashes:
        count = len(line.hashes) // PREFIX
        stored = hashes(line.first, line.first + count - 1)
        for i in range(count):
            seq = line.first + i
            if seq > chain_count:
                break
            if seq < first_kept:
                continue
            if stored.get(seq, "")[:PREFIX] != line.hashes[i * PREFIX : (i + 1) * PREFIX]:
                return CheckpointProblem(
                    seq, f"record {seq} differs from its signed checkpoint: the chain was rewritten"
                )
    if hashes(line.seq, line.seq).get(line.seq) != line.hash:
        return CheckpointProblem(
            line.seq, f"record {line.seq} differs from its signed checkpoint: the chain was rewritten"
        )
    return None


def segment_anchor(
    path: Path, public_pem: str, first_kept: int, witness: Path | None, remote: Witness | None = None
) -> str | None:
    """The hash a signed retention segment gives record ``first_kept - 1`` (pruned), if one does."""
    key = load_pem_public_key(public_pem.encode())
    if not isinstance(key, Ed25519PublicKey):
        raise ConfigurationError("the audit checkpoint key must be an Ed25519 public key")
    lines, _ = _read_lines(Path(path), key, witnessed=False)
    if witness is not None:
        lines += _read_lines(Path(witness) / Path(path).name, key, witnessed=True)[0]
    if remote is not None:
        lines += _parse_lines(remote.lines(), key, witnessed=True)[0]
    return next((line.hash for line in lines if line.segment and line.seq == first_kept - 1), None)


def find_acceptance(
    path: Path,
    public_pem: str,
    broken_seq: int,
    hashes: Callable[[int, int], dict[int, str]],
    witness: Path | None,
    remote: Witness | None = None,
) -> str | None:
    """The reason of an operator's signed acceptance that covers a break at ``broken_seq``, if any.

    An acceptance covers the break when it was signed for a record at or after it that is still
    in the chain with the same hash: what the operator accepted is exactly what is there.
    """
    key = load_pem_public_key(public_pem.encode())
    if not isinstance(key, Ed25519PublicKey):
        raise ConfigurationError("the audit checkpoint key must be an Ed25519 public key")
    lines, _ = _read_lines(Path(path), key, witnessed=False)
    if witness is not None:
        lines += _read_lines(Path(witness) / Path(path).name, key, witnessed=True)[0]
    if remote is not None:
        lines += _parse_lines(remote.lines(), key, witnessed=True)[0]
    for line in sorted(lines, key=lambda item: -item.seq):
        if line.accept is not None and line.seq >= broken_seq and hashes(line.seq, line.seq).get(line.seq) == line.hash:
            return line.accept
    return None


def default_witness_dir(data_dir: Path) -> Path:
    """The embedded default: a sibling of the data directory, so cleaning or copying it leaves the witness."""
    resolved = Path(data_dir).resolve()
    return resolved.parent / f"{resolved.name}-audit-witness"
