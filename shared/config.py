"""Deployment settings, read once from the environment.

Event-store details that eventsourcing reads itself (``POSTGRES_HOST``,
``PLEDGES_POSTGRES_DBNAME`` ...) pass straight through from the environment.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

from shared.clock import Clock, clock_from_env

ROOT = Path(__file__).resolve().parent.parent
AUTHORITIES = ROOT / "deploy" / "authorities"  # one file per authority, named by its slug


def authority_file(given: str) -> Path:
    """The authority file ``given`` names: a file's name in deploy/authorities (``lancashire``),
    or a path to a file of the same form elsewhere."""
    named = AUTHORITIES / f"{given}.toml"
    if "/" not in given and not given.endswith(".toml") and named.is_file():
        return named
    path = Path(given)
    if path.is_file():
        return path.resolve()
    known = ", ".join(sorted(p.stem for p in AUTHORITIES.glob("*.toml")))
    raise ValueError(f"authority: no authority {given!r}: name one of {known}, "
                     "or give the path of an authority file")


def version() -> str:
    """The installed release (pyproject.toml's version): in metrics, the API document, backups."""
    try:
        return metadata.version("schools-of-sanctuary")
    except metadata.PackageNotFoundError:  # run from a source tree that was never installed
        return "0+unknown"


@dataclass(frozen=True)
class Settings:
    amqp_uri: str
    data_dir: Path
    store: str  # "sqlite" or "postgres"
    authority_file: Path
    gateway_address: str
    rpc_timeout: float
    public_url: str  # how people reach the gateway, for links in emails
    mail_from: str
    ops_address: str = ""  # where this process serves /metrics and /health/*; none if empty
    clock: Clock = field(default_factory=Clock)  # shifted only for a rehearsal (shared/clock.py)
    # sign-in links: at most this many emailed to one address an hour (more requests are
    # answered alike and send nothing), and at most this many requests an hour from one
    # client (more are answered 429)
    sign_in_links_per_address: int = 5
    sign_in_requests_per_client: int = 30
    # reverse proxies whose X-Forwarded-For names the client: by default the same host, as
    # deploy/nginx proxies (otherwise every client would count as one); empty: trust none
    trusted_proxies: tuple[str, ...] = ("127.0.0.1", "::1")
    # PostgreSQL connections of each process's event store: this many kept open, and up to
    # this many more while busy (docs/operations.md adds them up against max_connections)
    postgres_pool_size: int = 2
    postgres_max_overflow: int = 10

    @classmethod
    def from_env(cls, env: dict | None = None) -> Settings:
        env = os.environ if env is None else env
        store = env.get("SANCTUARY_STORE", "sqlite")
        if store not in ("sqlite", "postgres"):
            raise ValueError(f"SANCTUARY_STORE must be 'sqlite' or 'postgres', not {store!r}")
        return cls(
            amqp_uri=env.get("SANCTUARY_AMQP_URI", "amqp://guest:guest@127.0.0.1:5672/"),
            data_dir=Path(env.get("SANCTUARY_DATA_DIR", ROOT / "data")),
            store=store,
            authority_file=Path(
                env.get("SANCTUARY_AUTHORITY", AUTHORITIES / "coventry.toml")
            ),
            gateway_address=env.get("SANCTUARY_GATEWAY_ADDRESS", "127.0.0.1:8080"),
            rpc_timeout=float(env.get("SANCTUARY_RPC_TIMEOUT", "10")),
            public_url=env.get("SANCTUARY_PUBLIC_URL", "").rstrip("/")
            or f"http://{env.get('SANCTUARY_GATEWAY_ADDRESS', '127.0.0.1:8080')}",
            mail_from=env.get("SANCTUARY_MAIL_FROM", "Schools of Sanctuary <no-reply@sanctuary.invalid>"),
            ops_address=env.get("SANCTUARY_OPS_ADDRESS", ""),
            clock=clock_from_env(env),  # refuses a shifted clock in production
            sign_in_links_per_address=_count(env, "SANCTUARY_SIGN_IN_LINKS_PER_ADDRESS", 5),
            sign_in_requests_per_client=_count(env, "SANCTUARY_SIGN_IN_REQUESTS_PER_CLIENT", 30),
            postgres_pool_size=_count(env, "SANCTUARY_POSTGRES_POOL_SIZE", 2),
            postgres_max_overflow=_count(env, "SANCTUARY_POSTGRES_MAX_OVERFLOW", 10, least=0),
            trusted_proxies=tuple(a.strip() for a in env.get("SANCTUARY_TRUSTED_PROXIES", "127.0.0.1,::1")
                                  .split(",") if a.strip()),
        )

    @property
    def mail_domain(self) -> str:
        """The domain for Message-IDs: the sender's."""
        return self.mail_from.rsplit("@", 1)[-1].strip(">") or "sanctuary.invalid"

    def nameko_config(self, **extra: object) -> dict:
        """The config dict a nameko container of ours is started with."""
        return {
            "AMQP_URI": self.amqp_uri,
            "WEB_SERVER_ADDRESS": self.gateway_address,
            "SANCTUARY_OPS_ADDRESS": self.ops_address,
            "max_workers": 10,
            "serializer": "json",
            **extra,
        }


def _count(env: dict, name: str, default: int, least: int = 1) -> int:
    """A whole number of at least ``least``, read from ``env``."""
    raw = env.get(name, str(default))
    try:
        value = int(raw)
    except ValueError:
        raise ValueError(f"{name} must be a whole number, not {raw!r}") from None
    if value < least:
        raise ValueError(f"{name} must be at least {least}, not {value}")
    return value
