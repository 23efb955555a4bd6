"""Sealing a sign-in link's code while its email waits to be sent.

The store keeps only a hash of each link, so that reading the database is not
enough to sign in as anyone. An email that is waiting for the SMTP server needs
the code itself; it is kept encrypted under a key derived from the deployment's
session key, which lives in a file or the environment, never in the database.
"""

from __future__ import annotations

import base64
import os

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF


class LinkSeal:
    def __init__(self, secret_key: str) -> None:
        key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None,
                   info=b"sanctuary sign-in link seal").derive(secret_key.encode())
        self._aead = AESGCM(key)

    def seal(self, code: str, link_id: str) -> str:
        """The code, encrypted and bound to its link (a sealed code cannot be moved to another)."""
        nonce = os.urandom(12)
        sealed = self._aead.encrypt(nonce, code.encode(), link_id.encode())
        return base64.urlsafe_b64encode(nonce + sealed).decode("ascii")

    def unseal(self, sealed: str, link_id: str) -> str:
        """The code; raises ``cryptography.exceptions.InvalidTag`` if the key changed."""
        raw = base64.urlsafe_b64decode(sealed)
        return self._aead.decrypt(raw[:12], raw[12:], link_id.encode()).decode()
