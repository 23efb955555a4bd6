"""``sanctuary prepare-stores [--grant ROLE]``: create every service's tables, as their owner.

On PostgreSQL the tables belong to a migration role (the one this command runs as) and the
services connect as another (``--grant``: deploy/postgres/roles.sql) that may only read and
insert; so the services cannot create tables, and this command makes them (again harmlessly:
it creates only what is missing, and puts back any trigger that is gone). Run it after
installing and after every upgrade, before the services start. On SQLite the services create
their own tables, and this command only does it early.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Mapping

from sanctuary.backup import STORED, locate
from shared.chain import Tables
from shared.personal import PersonalDataApplication
from shared.protection import grant


def prepare_stores(role: str | None, environ: Mapping[str, str] | None = None) -> int:
    environ = os.environ if environ is None else environ
    if role is not None and not re.fullmatch(r"[a-z_][a-z0-9_]*", role):
        print(f"sanctuary: {role!r} is not a role name", file=sys.stderr)
        return 2
    for service in STORED:
        print(f"{service}: {prepare_store(service, role, environ)}")
    return 0


def prepare_store(service: str, role: str | None, environ: Mapping[str, str]) -> str:
    """One service's tables, made (and granted to ``role``) through a bare store of it."""
    location = locate(service, environ)
    cls = type(f"{service.title()}Store", (PersonalDataApplication,), {"name": service})
    app = cls(env={**location.env, "CREATE_TABLE": "y"})
    try:
        if location.kind == "sqlite" or role is None:
            return "tables ready"
        tables = Tables.of(app.factory.datastore, service)
        with app.factory.datastore.transaction(commit=True) as cursor:
            grant(tables, cursor, role)
        return f"tables ready; {role} may read them and insert"
    finally:
        app.close()
