"""Secrets come from the environment or a file, never from the repository.

``SANCTUARY_<NAME>`` or ``SANCTUARY_<NAME>_FILE`` (the file wins). In
production (``SANCTUARY_MODE=production``) a missing secret, or one left at
a known development value, stops the service at start-up. In development a
random secret is made once and kept under the data folder, so sessions
survive a restart of ``./run``.
"""

from __future__ import annotations

import os
import secrets as random
from pathlib import Path

MIN_LENGTH = 32
KNOWN_DEFAULTS = {"", "changeme", "secret", "development", "sanctuary"}


class MissingSecret(RuntimeError):
    pass


def production(env: dict | None = None) -> bool:
    env = os.environ if env is None else env
    return env.get("SANCTUARY_MODE", "development") == "production"


def load_secret(name: str, data_dir: Path, env: dict | None = None) -> str:
    env = os.environ if env is None else env
    var = f"SANCTUARY_{name.upper()}"
    value = env.get(var)
    if env.get(f"{var}_FILE"):
        value = Path(env[f"{var}_FILE"]).read_text().strip()
    if production(env):
        if value is None or value in KNOWN_DEFAULTS or len(value) < MIN_LENGTH:
            raise MissingSecret(f"{var} (or {var}_FILE) must hold a secret of at least "
                                f"{MIN_LENGTH} characters in production")
        return value
    return value or _development_secret(name, data_dir)


def _development_secret(name: str, data_dir: Path) -> str:
    """Made once, whole: services starting together must all read the same secret, never a
    file another process has created but not yet written."""
    path = data_dir / "secrets" / name
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        draft = path.with_name(f".{name}.{os.getpid()}.{random.token_hex(4)}")
        fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(random.token_urlsafe(48))
        try:
            os.link(draft, path)  # appears complete, and only if no other process was first
        except FileExistsError:
            pass
        finally:
            os.unlink(draft)
    return path.read_text().strip()
