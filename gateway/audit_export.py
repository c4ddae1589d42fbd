"""The verifiable audit export: the whole chain as stored, its signed checkpoints, and a signed seal.

Format ``switchboard-audit-export/1``, one JSON document::

    {"format": …, "exported_at": …, "exported_by": …,
     "records": [{"seq": 1, "hash": …, "prev_hash": …, "body": "<the exact canonical JSON hashed>"}, …],
     "checkpoints": [<each signed checkpoint line, as written>, …],
     "seal": {"format": …, "count": N, "last_seq": N, "head": <hash of record N>,
              "exported_at": …, "exported_by": …, "sig": <Ed25519 over the rest, canonical JSON>}}

The filtered CSV/JSON exports are views for people; this one is a proof. Every record from 1
to the head at the moment of export is included, so an auditor can recompute each hash from
its body and follow each link; the seal, signed with the audit checkpoint key, says how long
the chain was and what its last hash was, so a truncated or extended copy is caught too.
``audit_verifier.py`` (standard library only) checks all of it with the published public key.
"""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import load_pem_private_key

from gateway.audit_reader import AuditLocation, AuditReader, open_reader
from shared.audit import canonical_json
from shared.errors import ConfigurationError

FORMAT = "switchboard-audit-export/1"
PUBLIC_KEY_FILE = "audit-public-key.pem"
_PAGE = 2000
_RECORDS = "SELECT seq, body, hash FROM audit WHERE seq > ? AND seq <= ? ORDER BY seq LIMIT ?"


def seal(
    private_pem: str,
    *,
    count: int,
    head: str,
    exported_at: datetime,
    exported_by: str,
    first_seq: int = 1,
    anchor: str = "0" * 64,
) -> dict[str, Any]:
    """The signed statement of what the export covers (from ``first_seq`` when retention pruned the start)."""
    key = load_pem_private_key(private_pem.encode(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ConfigurationError("the audit checkpoint key must be an Ed25519 private key")
    fields: dict[str, Any] = {
        "format": FORMAT,
        "count": count,
        "last_seq": first_seq + count - 1,
        "head": head,
        "exported_at": exported_at.isoformat(),
        "exported_by": exported_by,
    }
    if first_seq > 1:  # a pruned chain: where the kept part starts and the hash it links to
        fields.update({"first_seq": first_seq, "anchor": anchor})
    fields["sig"] = base64.b64encode(key.sign(canonical_json(fields))).decode()
    return fields


def checkpoint_lines(checkpoints: Path, witness: Path | None) -> list[dict[str, Any]]:
    """Every readable signed checkpoint line, local and witnessed, each once."""
    seen: set[str] = set()
    lines: list[dict[str, Any]] = []
    for path in (checkpoints, witness / checkpoints.name if witness is not None else None):
        if path is None or not path.exists():
            continue
        for text in path.read_text(encoding="utf-8").splitlines():
            if not text.strip() or text in seen:
                continue
            seen.add(text)
            try:
                lines.append(json.loads(text))
            except ValueError:
                continue  # a line torn by a crash; verify reports it, the export leaves it out
    return lines


def _start(reader: AuditReader) -> tuple[int, str]:
    """The first record kept and the hash it links to (genesis unless retention pruned the start)."""
    row = reader.one("SELECT seq, body FROM audit ORDER BY seq LIMIT 1")
    if row is None:
        return 1, "0" * 64
    return int(row[0]), str(json.loads(row[1])["prev_hash"])


def _tail(reader: AuditReader) -> tuple[int, str]:
    row = reader.one("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1")
    return (int(row[0]), str(row[1])) if row else (0, "0" * 64)


async def chain_export(
    db: AuditLocation,
    *,
    private_pem: str,
    checkpoints: Path,
    witness: Path | None,
    exported_by: str,
    exported_at: datetime,
) -> AsyncIterator[str]:
    """The export as text chunks, read page by page on one worker thread (appends carry on meanwhile).

    One thread owns the reader for its whole life: a SQLite connection is used on the thread that made it.
    """
    worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="audit-export")
    loop = asyncio.get_running_loop()
    reader = await loop.run_in_executor(worker, open_reader, db)
    try:
        last, head = await loop.run_in_executor(worker, _tail, reader)
        first, anchor = await loop.run_in_executor(worker, _start, reader)
        head_fields = {"format": FORMAT, "exported_at": exported_at.isoformat(), "exported_by": exported_by}
        yield json.dumps(head_fields)[:-1] + ', "records": ['
        after, prev, opening = first - 1, anchor, True
        while after < last:
            rows = await loop.run_in_executor(worker, reader.rows, _RECORDS, (after, last, _PAGE))
            if not rows:
                break
            entries = []
            for seq, body, hash_ in rows:
                text = body if isinstance(body, str) else bytes(body).decode()
                entries.append(json.dumps({"seq": int(seq), "hash": hash_, "prev_hash": prev, "body": text}))
                prev, after = str(hash_), int(seq)
            yield ("" if opening else ",") + ",".join(entries)
            opening = False
        lines = await loop.run_in_executor(worker, checkpoint_lines, checkpoints, witness)
        sealed = seal(
            private_pem,
            count=last - first + 1 if last else 0,
            head=head,
            exported_at=exported_at,
            exported_by=exported_by,
            first_seq=first,
            anchor=anchor,
        )
        yield f'], "checkpoints": {json.dumps(lines)}, "seal": {json.dumps(sealed)}}}'
    finally:
        try:
            await loop.run_in_executor(worker, reader.close)
        finally:
            worker.shutdown(wait=False)


def write_public_key(folder: Path, public_pem: str) -> Path:
    """Publish the audit public key in its own file beside the log (the private key stays in secrets.json)."""
    path = folder / PUBLIC_KEY_FILE
    if not path.exists() or path.read_text(encoding="utf-8") != public_pem:
        folder.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(public_pem, encoding="utf-8")
        tmp.chmod(0o600)  # private by default like every file here; publish a copy where auditors read it
        tmp.replace(path)
    return path
