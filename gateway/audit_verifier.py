#!/usr/bin/env python3
"""Verify a Switchboard audit export with nothing but Python's standard library and the public key.

    python3 verify_audit_export.py EXPORT.json --key audit-public-key.pem

This file is self-contained on purpose: an auditor copies it (``switchboard audit verifier``
writes it out) and runs it anywhere Python 3.10+ runs, with no Switchboard installed. It proves:

1. the export's *seal* is signed by the audit key: it names how many records the chain had, the
   last record and its hash, when and by whom it was exported;
2. every record's ``hash`` is the SHA-256 of its canonical ``body``, records run 1, 2, 3 … with
   no gap, and each body's ``prev_hash`` is the previous record's hash (genesis: 64 zeros);
3. the last record is the one the seal names: nothing was cut off the end or appended;
4. every signed checkpoint in the export has a valid signature and matches the records it
   covers (its head hash and the 64-bit prefix of every record hash since the previous one).

Any edited, removed, reordered or added record, an edited checkpoint or seal, or a truncated
export fails, naming what failed. Exit codes: 0 verified, 1 failed, 2 unusable input.

Signatures are Ed25519 (RFC 8032). The standard library has no Ed25519, so verification is
done here in pure Python, following RFC 8032 section 5.1.7 and its reference code (section 6):
a few big-integer operations and SHA-512 per signature. Only public data is involved (the
public key, the messages, the signatures), so the constant-time concerns of signing do not
apply. As a cross-check, ``openssl pkeyutl -verify -pubin -inkey KEY -rawin -in MSG -sigfile SIG``
(OpenSSL 3) verifies the same signatures; the messages are the canonical JSON of each signed
object without its ``sig`` field.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import sys
from typing import Any

FORMAT = "switchboard-audit-export/1"
GENESIS = "0" * 64
PREFIX = 16  # hex characters of each record hash a checkpoint keeps

# ----- Ed25519 verification (RFC 8032, section 5.1.7; reference code in section 6)

_P = 2**255 - 19
_Q = 2**252 + 27742317777372353535851937790883648493
_D = -121665 * pow(121666, _P - 2, _P) % _P
_SQRT_M1 = pow(2, (_P - 1) // 4, _P)
_SPKI_PREFIX = bytes.fromhex("302a300506032b6570032100")  # SubjectPublicKeyInfo of an Ed25519 key

Point = tuple[int, int, int, int]


def _add(a: Point, b: Point) -> Point:
    e1 = (a[1] - a[0]) * (b[1] - b[0]) % _P
    e2 = (a[1] + a[0]) * (b[1] + b[0]) % _P
    c = 2 * a[3] * b[3] * _D % _P
    d = 2 * a[2] * b[2] % _P
    e, f, g, h = e2 - e1, d - c, d + c, e2 + e1
    return (e * f, g * h, f * g, e * h)


def _mul(scalar: int, point: Point) -> Point:
    result: Point = (0, 1, 1, 0)
    while scalar > 0:
        if scalar & 1:
            result = _add(result, point)
        point = _add(point, point)
        scalar >>= 1
    return result


def _equal(a: Point, b: Point) -> bool:
    return (a[0] * b[2] - b[0] * a[2]) % _P == 0 and (a[1] * b[2] - b[1] * a[2]) % _P == 0


def _recover_x(y: int, sign: int) -> int | None:
    if y >= _P:
        return None
    x2 = (y * y - 1) * pow(_D * y * y + 1, _P - 2, _P)
    if x2 == 0:
        return None if sign else 0
    x = pow(x2, (_P + 3) // 8, _P)
    if (x * x - x2) % _P != 0:
        x = x * _SQRT_M1 % _P
    if (x * x - x2) % _P != 0:
        return None
    if (x & 1) != sign:
        x = _P - x
    return x


def _decompress(data: bytes) -> Point | None:
    if len(data) != 32:
        return None
    y = int.from_bytes(data, "little")
    sign = y >> 255
    y &= (1 << 255) - 1
    x = _recover_x(y, sign)
    return None if x is None else (x, y, 1, x * y % _P)


_GY = 4 * pow(5, _P - 2, _P) % _P
_GX = _recover_x(_GY, 0)
assert _GX is not None
_G: Point = (_GX, _GY, 1, _GX * _GY % _P)


def ed25519_verify(public: bytes, message: bytes, signature: bytes) -> bool:
    """True when ``signature`` is ``public``'s Ed25519 signature of ``message``."""
    if len(public) != 32 or len(signature) != 64:
        return False
    a = _decompress(public)
    r = _decompress(signature[:32])
    if a is None or r is None:
        return False
    s = int.from_bytes(signature[32:], "little")
    if s >= _Q:
        return False
    h = int.from_bytes(hashlib.sha512(signature[:32] + public + message).digest(), "little") % _Q
    return _equal(_mul(s, _G), _add(r, _mul(h, a)))


def public_key_from_pem(pem: str) -> bytes:
    """The 32 raw bytes of an Ed25519 public key in PEM (SubjectPublicKeyInfo) form."""
    lines = [line.strip() for line in pem.strip().splitlines()]
    if not lines or lines[0] != "-----BEGIN PUBLIC KEY-----" or lines[-1] != "-----END PUBLIC KEY-----":
        raise ValueError("the key is not a PEM public key (-----BEGIN PUBLIC KEY-----)")
    der = base64.b64decode("".join(lines[1:-1]), validate=True)
    if len(der) != 44 or not der.startswith(_SPKI_PREFIX):
        raise ValueError("the key is not an Ed25519 public key")
    return der[len(_SPKI_PREFIX) :]


# ----- the export


class Failed(Exception):
    """The export is not complete and unaltered; the message says where."""


def canonical(value: Any) -> bytes:
    """The canonical JSON Switchboard signs and hashes: sorted keys, no spaces, UTF-8."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def _signed(obj: dict[str, Any], key: bytes, what: str) -> None:
    try:
        signature = base64.b64decode(obj["sig"], validate=True)
    except (KeyError, TypeError, ValueError):
        raise Failed(f"{what} carries no readable signature") from None
    if not ed25519_verify(key, canonical({k: v for k, v in obj.items() if k != "sig"}), signature):
        raise Failed(f"{what}: the signature does not match the audit public key (edited, or another key)")


def _records(records: list[Any], first: int, anchor: str) -> list[str]:
    """Check the chain from record ``first`` (linked to ``anchor``); returns the record hashes in order."""
    hashes: list[str] = []
    prev = anchor
    for index, entry in enumerate(records):
        seq = first + index
        if not isinstance(entry, dict) or not isinstance(entry.get("body"), str):
            raise Failed(f"record {seq}: not a record with a body")
        body_text: str = entry["body"]
        if entry.get("seq") != seq:
            raise Failed(f"record {seq} is missing or out of order (found seq {entry.get('seq')!r})")
        digest = hashlib.sha256(body_text.encode()).hexdigest()
        if digest != entry.get("hash"):
            raise Failed(f"record {seq}: its body does not hash to its hash (the record was changed)")
        try:
            body = json.loads(body_text)
        except ValueError:
            raise Failed(f"record {seq}: its body is not JSON") from None
        if not isinstance(body, dict) or body.get("seq") != seq:
            raise Failed(f"record {seq}: its body names another position in the chain")
        if body.get("prev_hash") != prev or entry.get("prev_hash") != prev:
            raise Failed(f"record {seq}: its previous-hash link is broken (a record before it was removed or changed)")
        hashes.append(digest)
        prev = digest
    return hashes


def _checkpoint(line: Any, hashes: list[str], key: bytes, number: int, first: int = 1) -> bool:
    """Check one signed checkpoint; True when it covers records in this export."""
    if not isinstance(line, dict):
        raise Failed(f"checkpoint {number} is not an object")
    _signed(line, key, f"checkpoint {number}")
    seq = line.get("seq")
    if not isinstance(seq, int) or seq < 1:
        raise Failed(f"checkpoint {number} names no record")
    last = first + len(hashes) - 1
    if "accept" in line or "segment" in line or seq > last or seq < first:
        return False  # an acceptance, a retention segment, or outside the records exported
    start, prefixes = line.get("from"), line.get("hashes")
    if isinstance(start, int) and isinstance(prefixes, str):
        for i in range(len(prefixes) // PREFIX):
            covered = start + i
            if first <= covered <= last and hashes[covered - first][:PREFIX] != prefixes[i * PREFIX : (i + 1) * PREFIX]:
                raise Failed(f"record {covered} differs from signed checkpoint {number}: the chain was rewritten")
    if hashes[seq - first] != line.get("hash"):
        raise Failed(f"record {seq} differs from signed checkpoint {number}: the chain was rewritten")
    return True


def verify_export(export: Any, key: bytes) -> str:
    """A one-line summary of a complete, unaltered export; raises Failed naming what is wrong."""
    if not isinstance(export, dict) or export.get("format") != FORMAT:
        raise Failed(f"not a {FORMAT} export")
    seal = export.get("seal")
    if not isinstance(seal, dict):
        raise Failed("the export has no seal: it cannot be shown complete")
    _signed(seal, key, "the export's seal")
    if seal.get("format") != FORMAT:
        raise Failed("the seal is not an export seal")
    records = export.get("records")
    if not isinstance(records, list):
        raise Failed("the export has no records list")
    first, anchor = seal.get("first_seq", 1), seal.get("anchor", GENESIS)
    if not isinstance(first, int) or first < 1 or not isinstance(anchor, str):
        raise Failed("the seal names no valid start of the chain")
    checkpoints = export.get("checkpoints", [])
    if not isinstance(checkpoints, list):
        raise Failed("the checkpoints are not a list")
    if first > 1 and not any(
        isinstance(c, dict) and c.get("segment") == "pruned" and c.get("seq") == first - 1 and c.get("hash") == anchor
        for c in checkpoints
    ):
        raise Failed(f"records 1 to {first - 1} were pruned but no signed retention segment says so")
    hashes = _records(records, first, anchor)
    if len(hashes) != seal.get("count") or seal.get("last_seq") != first + len(hashes) - 1:
        raise Failed(
            f"the export holds {len(hashes)} records but its seal says the chain had {seal.get('count')}: "
            "records were removed or added"
        )
    if (hashes[-1] if hashes else GENESIS) != seal.get("head"):
        raise Failed("the last record is not the one the seal names: the end of the chain was changed")
    matched = sum(_checkpoint(line, hashes, key, n, first) for n, line in enumerate(checkpoints, start=1))
    return (
        f"VERIFIED: {len(hashes)} records (from record {first}), complete and unaltered; head {seal.get('head')}; "
        f"sealed {seal.get('exported_at')} by {seal.get('exported_by')}; {matched} signed checkpoints match"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Verify a Switchboard audit export (standard library only).")
    parser.add_argument("export", help="the export file (JSON, format switchboard-audit-export/1)")
    parser.add_argument("--key", required=True, help="the published audit public key (PEM)")
    args = parser.parse_args(argv)
    try:
        with open(args.key, encoding="utf-8") as handle:
            key = public_key_from_pem(handle.read())
        with open(args.export, encoding="utf-8") as handle:
            export = json.load(handle)
    except (OSError, ValueError) as exc:
        print(f"cannot read the input: {exc}", file=sys.stderr)
        return 2
    try:
        print(verify_export(export, key))
    except Failed as exc:
        print(f"FAILED: {exc}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
