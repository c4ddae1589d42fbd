"""The token service's signing keys: a key set with ids, rotated without downtime.

The newest key signs. A rotation adds a new key and retires the current one: a retired key
signs nothing more but stays in the published set until every token it signed has expired
(``retired + max_token_ttl``), so a verifier that meets the new ``kid`` fetches the set again
while tokens signed before the rotation keep working. The file is private (0600) and is
re-read when it changes on disk, so ``switchboard tokens rotate`` reaches a running service.
"""

from __future__ import annotations

import json
import os
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from joserfc import jwt
from joserfc.jwk import KeySet, OKPKey

from shared.service_auth.verifier import ALGORITHM, LEEWAY_SECONDS

KEYS_FILE = "token-keys.json"


@dataclass(frozen=True, slots=True)
class SigningKey:
    kid: str
    private: dict[str, Any]
    created: float
    retired: float | None = None


def _new_key(now: float) -> SigningKey:
    kid = f"{time.strftime('%Y%m%d', time.gmtime(now))}-{uuid.uuid4().hex[:8]}"
    key = OKPKey.generate_key("Ed25519", parameters={"kid": kid, "use": "sig", "alg": ALGORITHM})
    return SigningKey(kid=kid, private=dict(key.as_dict(private=True)), created=now)


class KeyRing:
    """The key set in ``<data_dir>/token-keys.json``."""

    def __init__(self, path: Path, *, max_token_ttl: int) -> None:
        self._path = path
        self._max_ttl = max_token_ttl
        self._keys: list[SigningKey] = []
        self._mtime = -1.0
        self._public: dict[str, Any] = {"keys": []}
        self._signer: OKPKey | None = None

    @classmethod
    def load_or_create(cls, data_dir: Path, *, max_token_ttl: int, now: float | None = None) -> KeyRing:
        ring = cls(data_dir / KEYS_FILE, max_token_ttl=max_token_ttl)
        if ring._path.exists():
            ring._read()
        if not ring._keys:
            ring._keys = [_new_key(now if now is not None else time.time())]
            ring._write()
        return ring

    def _read(self) -> None:
        raw = json.loads(self._path.read_text())
        self._keys = [SigningKey(**k) for k in raw["keys"]]
        self._mtime = self._path.stat().st_mtime
        self._index()

    def _write(self) -> None:
        self._path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self._path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as out:
            json.dump({"keys": [_as_dict(k) for k in self._keys]}, out)
        tmp.replace(self._path)
        self._mtime = self._path.stat().st_mtime
        self._index()

    def _index(self) -> None:
        active = [k for k in self._keys if k.retired is None]
        newest = max(active or self._keys, key=lambda k: k.created)
        self._signer = OKPKey.import_key(newest.private)
        public = KeySet([OKPKey.import_key(k.private) for k in self._keys])
        self._public = {"keys": [dict(k) for k in public.as_dict(private=False)["keys"]]}

    def refresh(self) -> None:
        """Pick up a rotation another process wrote (one ``stat`` when nothing changed)."""
        try:
            mtime = self._path.stat().st_mtime
        except FileNotFoundError:
            return
        if mtime != self._mtime:
            self._read()

    @property
    def kids(self) -> list[str]:
        return [k.kid for k in self._keys]

    @property
    def active_kid(self) -> str:
        assert self._signer is not None
        return str(self._signer.kid)

    def jwks(self) -> dict[str, Any]:
        """The public keys: the signing key and every retired key that may still have live tokens."""
        return self._public

    def rotate(self, now: float | None = None) -> SigningKey:
        """A new signing key; the old ones retire, and those whose tokens have all expired leave the set."""
        now = now if now is not None else time.time()
        self.refresh()
        grace = self._max_ttl + LEEWAY_SECONDS
        kept = [k for k in self._keys if k.retired is None or k.retired + grace > now]
        retired = [SigningKey(k.kid, k.private, k.created, now) if k.retired is None else k for k in kept]
        fresh = _new_key(now)
        self._keys = [*retired, fresh]
        self._write()
        return fresh

    def sign(self, claims: dict[str, Any]) -> str:
        assert self._signer is not None
        header = {"alg": ALGORITHM, "typ": "at+jwt", "kid": self._signer.kid}
        return jwt.encode(header, claims, self._signer, algorithms=[ALGORITHM])


def _as_dict(key: SigningKey) -> dict[str, Any]:
    return {"kid": key.kid, "private": key.private, "created": key.created, "retired": key.retired}
