"""The ``sanctuary`` command: run services, bring the whole system up, check config.

``sanctuary up`` is what the README's run command starts: every service as
its own process (as in production), the gateway's base URL printed, example
data loaded on first start; Ctrl-C stops everything it started.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import warnings
from pathlib import Path
from typing import NoReturn

from sanctuary.services import SERVICES, TOPOLOGY_DECLARED, service_class

STORED = sorted(set(SERVICES) - {"gateway"})  # the services with an event store of their own


def main(argv: list[str] | None = None) -> int:
    # eventlet's own notice, printed by every command that imports it (``up``'s topology too)
    warnings.filterwarnings("ignore", message=r"\s*Eventlet is deprecated")
    args = _parser().parse_args(argv)
    if args.run is _serve:
        _green()
    from shared.logs import configure

    try:  # a service's lines name it; every other command's name the launcher
        configure(args.service if args.run is _serve else "sanctuary")
    except ValueError as error:
        print(f"sanctuary: {error}", file=sys.stderr)
        return 2
    return args.run(args)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="sanctuary", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(required=True)
    serve_cmd = commands.add_parser("serve", help="run one service in this process")
    serve_cmd.add_argument("service", choices=sorted(SERVICES))
    serve_cmd.set_defaults(run=_serve)
    up_cmd = commands.add_parser("up", help="start every service; Ctrl-C stops them")
    up_cmd.add_argument("authority", nargs="?", help="the authority to run: a file's name in "
                        "deploy/authorities (coventry, lancashire) or a file's path; default coventry, "
                        "or SANCTUARY_AUTHORITY")
    up_cmd.add_argument("--no-example", action="store_true", help="do not load example data")
    up_cmd.set_defaults(run=_up)
    add = commands.add_parser("add-account", help="create an account directly in the store "
                              "(the first lead); prints an API token with --token")
    add.add_argument("--email", required=True)
    add.add_argument("--name", required=True)
    add.add_argument("--role", required=True, choices=["lead", "coordinator", "panel_member", "operator"])
    add.add_argument("--urn", help="the school, for a coordinator")
    add.add_argument("--token", metavar="LABEL", help="also create an API token with this label")
    add.set_defaults(run=_add_account)
    audit = commands.add_parser("audit", help="verify, digest, history and decision trails")
    audit_commands = audit.add_subparsers(required=True)
    verify = audit_commands.add_parser("verify", help="check a service's store against its seal, its "
                                       "ledger and the heads the other services witnessed")
    verify.add_argument("service", nargs="?")
    verify.add_argument("--all", action="store_true", dest="every", help="check every service's store")
    verify.add_argument("--digest", help="a digest published earlier, to check the seal against")
    verify.set_defaults(run=lambda a: _verify().verify(a.service, a.digest, a.every))
    digest = audit_commands.add_parser("digest", help="print the digest of a service's seal, to publish")
    digest.add_argument("service")
    digest.set_defaults(run=lambda a: _verify().digest(a.service))
    reseal = audit_commands.add_parser("reseal", help="once, after upgrading: verify a store sealed the "
                                       "old way, then seal it under the sealing key (recorded)")
    reseal.add_argument("service")
    reseal.add_argument("--digest", help="a digest of the old seal published earlier, to check it against")
    reseal.add_argument("--by", required=True, help="who reseals (recorded in the store's ledger)")
    reseal.set_defaults(run=lambda a: _reseal().reseal(a.service, a.by, a.digest))
    upgrade = audit_commands.add_parser("upgrade", help="once, after upgrading from the release before "
                                        "tracking rows and heard heads were sealed: verify the store, then "
                                        "record its tracking rows and heard heads in its ledger (recorded)")
    upgrade.add_argument("service")
    upgrade.add_argument("--by", required=True, help="who upgrades (recorded in the store's ledger)")
    upgrade.set_defaults(run=lambda a: _upgrade().upgrade(a.service, a.by))
    history = audit_commands.add_parser("history", help="an aggregate's history (who, when, what)")
    history.add_argument("service")
    history.add_argument("aggregate", help="the aggregate's id (a UUID)")
    history.add_argument("--as-of", help="only what had happened by this instant (ISO 8601)")
    history.add_argument("--format", choices=("text", "json", "csv"), default="text")
    history.set_defaults(run=lambda a: _audit().history(a.service, a.aggregate, a.as_of, a.format))
    trail = audit_commands.add_parser("trail", help="an application's decision trail")
    trail.add_argument("urn")
    trail.add_argument("school_year")
    trail.add_argument("--html", metavar="FILE", help="write a printable page")
    trail.set_defaults(run=lambda a: _audit().trail(a.urn, a.school_year, a.html))
    replay = commands.add_parser("replay", help="publish a range of a service's log again")
    replay.add_argument("service")
    replay.add_argument("--from", dest="start", type=int, default=1)
    replay.add_argument("--to", dest="stop", type=int)
    replay.set_defaults(run=lambda a: _audit().replay(a.service, a.start, a.stop))
    rebuild = commands.add_parser("rebuild", help="rebuild a service's read model from its log")
    rebuild.add_argument("service")
    rebuild.set_defaults(run=lambda a: _audit().rebuild(a.service))
    backup = commands.add_parser("backup", help="back up every service's event store into a folder")
    backup.add_argument("folder", type=Path)
    backup.add_argument("--dated", action="store_true",
                        help="write into a new folder inside FOLDER named by the time (UTC)")
    backup.set_defaults(run=lambda a: _backup().backup(a.folder, a.dated))
    restore = commands.add_parser("restore", help="restore every event store from a backup and verify it")
    restore.add_argument("folder", type=Path)
    restore.add_argument("--force", action="store_true", help="replace stores that already hold data")
    restore.set_defaults(run=lambda a: _backup().restore(a.folder, a.force))
    prepare = commands.add_parser("prepare-stores", help="create every service's tables, as their owner "
                                  "(PostgreSQL: before the services start)")
    prepare.add_argument("--grant", metavar="ROLE", help="the services' role: may only read and insert")
    prepare.set_defaults(run=lambda a: _prepare().prepare_stores(a.grant))
    replicate = commands.add_parser("replicate-queues", help="once, after upgrading, every service "
                                    "stopped: make the RPC queues an earlier release made quorum queues")
    replicate.set_defaults(run=lambda a: _queues().replicate_queues())
    check = commands.add_parser("check-config", help="validate an authority file")
    check.add_argument("file", type=Path)
    check.set_defaults(run=_check_config)
    return parser


def _green() -> None:
    """eventlet's monkey-patching, before anything else is imported: it looks through every
    object alive for locks to make green, which cost 40 ms more per service started once our
    logging was imported first."""
    import eventlet

    eventlet.monkey_patch()


def _serve(args: argparse.Namespace) -> int:
    import eventlet
    from nameko.runners import ServiceRunner

    from shared.authority import AuthorityConfigError, load_authority
    from shared.config import Settings

    try:
        settings = Settings.from_env()
        authority = load_authority(settings.authority_file)
    except (AuthorityConfigError, ValueError) as error:
        print(f"sanctuary: {error}", file=sys.stderr)
        return 2
    from shared.preflight import Unreachable, check_broker, check_store

    # PostgreSQL's pg_stat_activity then names the service behind each connection
    os.environ.setdefault("PGAPPNAME", f"sanctuary-{args.service}")
    try:
        check_broker(settings.amqp_uri)
        if args.service in STORED:
            check_store(args.service, settings)
    except Unreachable as error:
        print(f"sanctuary {args.service}: {error}", file=sys.stderr, flush=True)
        return 3
    from shared.consumer import declare_topology, learn_rpc_queue

    service = service_class(args.service)
    if os.environ.get(TOPOLOGY_DECLARED) != settings.amqp_uri:  # whoever starts first declares all
        declare_topology(settings.amqp_uri, [service_class(name) for name in SERVICES])
    else:
        learn_rpc_queue(settings.amqp_uri, service)
    runner = ServiceRunner(settings.nameko_config(
        SANCTUARY_SETTINGS=settings, SANCTUARY_AUTHORITY=authority))
    runner.add_service(service)

    def stop(*_: object) -> None:
        eventlet.spawn(runner.stop)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    runner.start()
    runner.wait()
    _exit_at_once()


def _exit_at_once() -> NoReturn:
    """End a service whose containers have stopped cleanly (every store closed, every message
    settled) without the interpreter's teardown: freeing every module's objects one by one cost
    a fifth of a second of CPU per process, more than the stop itself, on every stop and restart.
    The log's handlers are flushed and closed first, as the teardown would have."""
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


def _up(args: argparse.Namespace) -> int:
    from sanctuary.claim import AlreadyTaken, check_free, claim_data_folder, claim_for_authority
    from sanctuary.launch import System
    from shared.authority import AuthorityConfigError, load_authority
    from shared.clock import UK, clock_from_env
    from shared.config import Settings, authority_file

    try:
        if args.authority:  # the services started below inherit it
            os.environ["SANCTUARY_AUTHORITY"] = str(authority_file(args.authority))
        settings = Settings.from_env()
        authority = load_authority(settings.authority_file)
    except (AuthorityConfigError, ValueError) as error:  # a bad setting or authority file
        print(f"sanctuary: {error}", file=sys.stderr)
        return 2
    system = System(settings)
    held = None
    try:  # before anything is started or written: a second `up` changes nothing
        held = claim_data_folder(settings.data_dir)
        check_free(system.listens_on())
        claim_for_authority(settings.data_dir, authority.slug, authority.name)
    except AlreadyTaken as error:
        if held is not None:
            held.close()
        print(f"sanctuary: not starting: {error}", file=sys.stderr)
        return 1
    # SIGTERM as Ctrl-C from here on, starting included: every child is stopped (System.stop).
    # SIGINT's handler set too: Python leaves it ignored when it was ignored at start, as it is
    # for a command a script starts in the background (`./run &`), and Ctrl-C would do nothing
    signal.signal(signal.SIGTERM, _interrupt)
    signal.signal(signal.SIGINT, _interrupt)
    try:
        system.start()
        if not args.no_example:
            from sanctuary.example import EXAMPLE_COORDINATOR, lead_email, load_example, token_file

            today = clock_from_env(system.env).today(authority.timezone)  # the services' day
            loaded = load_example(settings, system.base_url, today)
            if loaded:
                print(f"Loaded example data for {authority.name}: a lead and {loaded} schools.", flush=True)
            print(f"  the example lead's API token is in {token_file(settings)}", flush=True)
            print(f"  sign in at {system.base_url}/sign-in as {lead_email(authority)} (or a coordinator, "
                  f"e.g. {EXAMPLE_COORDINATOR}): the link arrives in {system.mail_dir}", flush=True)
        print(f"Schools of Sanctuary is running at {system.base_url}", flush=True)
        print(f"  data: {settings.data_dir}   authority: {settings.authority_file}", flush=True)
        print(f"  mail goes to the local sink, kept in {system.mail_dir}", flush=True)
        clock = clock_from_env(system.env)
        if clock.shifted:
            shown = f"{clock.now().astimezone(UK):%A %-d %B %Y %H:%M}"
            print(f"  a rehearsal: every clock reads {shown} now, and runs on from there", flush=True)
        print("  Ctrl-C stops it; data is kept for the next start.", flush=True)
        system.watch()
    except KeyboardInterrupt:
        pass
    finally:
        # a second Ctrl-C must not cut the stopping short: it is bounded (System.stop) anyway
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        system.stop()
        held.close()
    return 0


def _interrupt(*_: object) -> None:
    raise KeyboardInterrupt


def _add_account(args: argparse.Namespace) -> int:
    from services.accounts.bootstrap import add_account
    from shared.config import Settings
    from shared.errors import DomainError

    try:
        view, token = add_account(Settings.from_env(), args.email, args.name,
                                  [{"role": args.role, "urn": args.urn}], args.token)
    except DomainError as error:
        print(f"sanctuary: {error}", file=sys.stderr)
        return 2
    print(f"account {view['id']}: {view['name']} <{view['email']}> {view['grants']}")
    if token:
        print(f"API token (shown once; send as 'Authorization: Bearer <token>'):\n{token}")
    return 0


def _audit():  # noqa: ANN202 - the module, imported only when asked for
    from sanctuary import audit_commands

    return audit_commands


def _verify():  # noqa: ANN202 - the module, imported only when asked for
    from sanctuary import verify

    return verify


def _reseal():  # noqa: ANN202 - the module, imported only when asked for
    from sanctuary import reseal

    return reseal


def _upgrade():  # noqa: ANN202 - the module, imported only when asked for
    from sanctuary import upgrade

    return upgrade


def _prepare():  # noqa: ANN202 - the module, imported only when asked for
    from sanctuary import prepare

    return prepare


def _queues():  # noqa: ANN202 - the module, imported only when asked for
    from sanctuary import queues

    return queues


def _backup():  # noqa: ANN202 - the module, imported only when asked for
    from sanctuary import backup

    return backup


def _check_config(args: argparse.Namespace) -> int:
    from shared.authority import AuthorityConfigError, load_authority

    try:
        authority = load_authority(args.file)
    except AuthorityConfigError as error:
        print(error, file=sys.stderr)
        return 2
    print(f"{args.file}: {authority.name} ({authority.slug}) is valid.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
