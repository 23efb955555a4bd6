"""The sealing key: what makes each link of the chain a MAC only its holder can compute.

A secret like the session key (``SANCTUARY_SEAL_KEY`` or ``SANCTUARY_SEAL_KEY_FILE``; made
under ``data/secrets`` in development, required in production), and never in a database:
someone who can write a store but cannot read the key can neither forge a link nor
recompute the chain over a rewritten log.

Rotation: the secret holds one key or several, separated by white space, the newest last.
New links are made under the newest; the older ones stay only so that links made under them
can still be checked. A key is named by its id (a MAC of a fixed label under it), which says
which key made a link and nothing about the key itself.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping, Sequence
from pathlib import Path

from shared.secrets import KNOWN_DEFAULTS, MIN_LENGTH, MissingSecret, load_secret, production

ID_LABEL = b"sanctuary seal key id"


def key_id(key: bytes) -> str:
    return hmac.new(key, ID_LABEL, hashlib.sha256).hexdigest()[:16]


class SealKeys:
    """The configured sealing keys, oldest first; the last one makes new links."""

    def __init__(self, keys: Sequence[str]) -> None:
        if not keys:
            raise MissingSecret("SANCTUARY_SEAL_KEY (or SANCTUARY_SEAL_KEY_FILE) holds no key")
        encoded = [key.encode() for key in keys]
        self.ids = [key_id(key) for key in encoded]
        self._keys = dict(zip(self.ids, encoded, strict=True))
        self.current_id = self.ids[-1]

    @classmethod
    def load(cls, data_dir: Path, env: Mapping[str, str] | None = None) -> SealKeys:
        env = None if env is None else dict(env)
        keys = load_secret("seal_key", data_dir, env).split()
        if production(env) and any(len(k) < MIN_LENGTH or k in KNOWN_DEFAULTS for k in keys):
            raise MissingSecret(f"every key in SANCTUARY_SEAL_KEY must be at least {MIN_LENGTH} "
                                "characters in production")
        return cls(keys)

    def has(self, key: str) -> bool:
        return key in self._keys

    def mac(self, key: str, *parts: object) -> str:
        """The MAC of ``parts`` under the key with id ``key``; each part length-prefixed, so
        no two different lists of parts run together into the same bytes."""
        digest = hmac.new(self._keys[key], digestmod=hashlib.sha256)
        for part in parts:
            data = part if isinstance(part, bytes) else str(part).encode()
            digest.update(len(data).to_bytes(8, "big"))
            digest.update(data)
        return digest.hexdigest()
