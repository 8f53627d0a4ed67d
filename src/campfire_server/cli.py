"""The ``campfire`` command line: serve, migrate and administer organizations."""

from __future__ import annotations

import argparse
import errno
import json
import logging
import os
import socket
import sys
from collections.abc import Callable, Sequence
from typing import Any

from pydantic import ValidationError

from . import cli_errors, supervision
from .assistant.commands import add_commands as add_assistant_commands
from .assistant.config import load_assistant_settings
from .auth import keys
from .auth.schemas import ApiKey, KeyCreate
from .clock import to_iso
from .config import Settings, get_settings
from .db import migrate
from .db.database import open_database
from .db.tx import Tx
from .logs import configure_logging
from .organizations import actions as org_actions
from .organizations import service as org_service
from .organizations.schemas import MailboxCreate, MailboxSettings, OrganizationCreate
from .redaction import hide_password

Handler = Callable[[argparse.Namespace], int]

log = logging.getLogger(__name__)


def _settings(args: argparse.Namespace) -> Settings:
    """Apply command-line overrides as environment variables, then read the settings once."""
    overrides = {
        "CAMPFIRE_DATABASE_URL": getattr(args, "database_url", None),
        "CAMPFIRE_ENV": getattr(args, "env", None),
        "CAMPFIRE_HOST": getattr(args, "host", None),
        "CAMPFIRE_PORT": getattr(args, "port", None),
        "CAMPFIRE_WORKERS": getattr(args, "workers", None),
        "CAMPFIRE_MAX_HEADER_BYTES": getattr(args, "max_header_bytes", None),
        "CAMPFIRE_HEADER_TIMEOUT_SECONDS": getattr(args, "header_timeout", None),
        "CAMPFIRE_EARLY_ERROR_DISCARD_BYTES": getattr(args, "early_error_discard_bytes", None),
        "CAMPFIRE_EARLY_ERROR_DISCARD_SECONDS": getattr(args, "early_error_discard_seconds", None),
    }
    for name, value in overrides.items():
        if value is not None:
            os.environ[name] = str(value)
    get_settings.cache_clear()
    return get_settings()


def _run(settings: Settings, work: Callable[[Tx], Any], *, write: bool = True) -> Any:
    cli_errors.require_migrated(settings.database_url)
    db = open_database(settings.database_url, pool_size=2)
    try:
        return db.write_sync(work) if write else db.read_sync(work)
    finally:
        import asyncio

        asyncio.run(db.close())


def _print(value: Any) -> None:
    print(json.dumps(value, indent=2, ensure_ascii=False, default=str))


def _check_listen_address(host: str, port: int, args: argparse.Namespace) -> None:
    """Raise ``CommandError`` when ``host:port`` cannot be bound, before anything is printed.

    Binds the way uvicorn 0.55 does (IPv6 when the host has a colon, with
    SO_REUSEADDR), so a socket in TIME_WAIT does not count as taken. A host
    that does not resolve or is not an address of this machine is reported
    as an invalid host. Any other failure is reported as a port that cannot
    be used.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        with socket.socket(family, socket.SOCK_STREAM) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind((host, port))
    except OSError as error:
        reason = error.strerror or str(error)
        if isinstance(error, socket.gaierror) or error.errno == errno.EADDRNOTAVAIL:
            option = "--host" if getattr(args, "host", None) is not None else "CAMPFIRE_HOST"
            raise cli_errors.CommandError(
                f"{option} {host} is invalid: it is not an address of this machine ({reason}); "
                "use an IP address or host name of this machine, such as 127.0.0.1, "
                "or 0.0.0.0 for every interface",
                cli_errors.USAGE,
            ) from None
        if error.errno == errno.EACCES:
            hint = "ports below 1024 need root; pass --port with a port from 1024 to 65535"
        else:
            hint = (
                "stop what uses the port or pass --port with a free one "
                "(`make run PORT=3001` under make)"
            )
        raise cli_errors.CommandError(f"cannot listen on {host}:{port}: {reason}; {hint}") from None


# Addresses that bind every interface, and the loopback address a link on
# this machine uses for each.
_WILDCARD_LOOPBACK = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}


def startup_banner(host: str, port: int) -> list[str]:
    """Return the lines `campfire serve` prints in development: the bound address and the URLs.

    The URLs use the address that the server binds, so they work whatever
    ``localhost`` resolves to. On 127.0.0.1, ``localhost`` reaches it too
    where ``localhost`` resolves to 127.0.0.1 (clients such as curl try each
    address that it resolves to).
    """
    loopback = _WILDCARD_LOOPBACK.get(host)
    if loopback is not None:
        listening = f"{host or '0.0.0.0'} port {port} (every interface of this machine)"
        link_host = loopback
    else:
        listening = f"{host} port {port}"
        link_host = host
    if ":" in link_host:
        link_host = f"[{link_host}]"
    base = f"http://{link_host}:{port}"
    api = f"  API:        {base}/api/v2"
    if link_host == "127.0.0.1":
        api += f" (or http://localhost:{port}/api/v2)"
    return [
        f"Campfire is listening on {listening}",
        api,
        f"  API docs:   {base}/api/v2/docs",
        f"  Test key:   {keys.DEVELOPMENT_KEY}",
        f"  Demo page:  {base}/",
    ]


def _http_protocol() -> str:
    from .api.head_limits import http_protocol

    return http_protocol()


def _warn_about_workers(settings: Settings) -> None:
    if settings.workers > 1 and not settings.redis_url:
        log.warning(
            "several worker processes without CAMPFIRE_REDIS_URL: each process counts "
            "rate limits on its own, so clients get up to that many times the limits, and "
            "realtime events reach only the sockets of the process that wrote them; "
            "set CAMPFIRE_REDIS_URL to share both",
            extra={"workers": settings.workers},
        )


# Commands -------------------------------------------------------------------


def cmd_serve(args: argparse.Namespace) -> int:
    settings = _settings(args)
    configure_logging(settings.log_level, settings.log_format)
    settings.check_serving_secrets()
    load_assistant_settings()
    _check_listen_address(settings.host, settings.port, args)
    if settings.is_development:
        migrate.upgrade(settings.database_url)
    elif not migrate.is_current(settings.database_url):
        print(
            "error: the database schema is not current; run `campfire migrate` first",
            file=sys.stderr,
        )
        return 2
    _warn_about_workers(settings)
    banner = startup_banner(settings.host, settings.port) if settings.is_development else []
    options: dict[str, Any] = dict(
        factory=True,
        host=settings.host,
        port=settings.port,
        workers=settings.workers,
        log_config=None,
        access_log=False,
        ws_per_message_deflate=settings.realtime_per_message_deflate,
        ws_max_size=settings.realtime_max_frame_bytes,
        proxy_headers=False,
        http=_http_protocol(),
        # h11 rejects a head over this size with a plain 400. The protocol
        # class rejects one over max_header_bytes with 431 before h11 reads it.
        h11_max_incomplete_event_size=settings.max_header_bytes + 64 * 1024,
        # Longer than the idle timeout of common clients and load balancers,
        # so the server is not the side that closes a connection mid-reuse.
        timeout_keep_alive=75,
    )
    if settings.workers == 1:
        _serve_single(options, banner)
        return 0
    _serve_workers(settings, options, banner)
    return 0


def _serve_single(options: dict[str, Any], banner: list[str]) -> None:
    """Serve in this process, printing ``banner`` once the socket accepts connections.

    uvicorn binds the socket only after the application's lifespan startup,
    so a banner printed before ``run`` would name a port that refuses
    connections for as long as the startup takes.
    """
    import uvicorn
    from uvicorn.main import STARTUP_FAILURE

    class BannerServer(uvicorn.Server):
        async def startup(self, sockets: list[socket.socket] | None = None) -> None:
            await super().startup(sockets)
            # uvicorn 0.55 exits inside startup when the lifespan or the bind
            # fails, so a started server's socket already listens here.
            if self.started:
                for line in banner:
                    print(line, file=sys.stderr, flush=True)

    config = uvicorn.Config("campfire_server.app:create_served_app", **options)
    server = BannerServer(config)
    try:
        server.run()
    except KeyboardInterrupt:
        pass
    if not server.started:
        # The exit status that uvicorn.run uses when the server never started.
        sys.exit(STARTUP_FAILURE)


def _serve_workers(settings: Settings, options: dict[str, Any], banner: list[str]) -> None:
    """Serve with several worker processes, printing ``banner`` once every worker serves.

    Before that it prints that the workers are starting, because the port
    already accepts connections that no worker answers yet.
    """
    import uvicorn

    from .worker_pool import WorkerPool

    supervision.mark_supervisor()
    if banner:
        print(
            f"Campfire is starting {settings.workers} worker processes on "
            f"{settings.host} port {settings.port}; it serves once they are ready",
            file=sys.stderr,
        )

    def print_banner() -> None:
        for line in banner:
            print(line, file=sys.stderr, flush=True)

    config = uvicorn.Config("campfire_server.app:create_served_app", **options)
    pool = WorkerPool(
        config,
        [config.bind_socket()],
        start_timeout=settings.worker_start_timeout_seconds,
        on_ready=print_banner,
    )
    pool.run()


def cmd_worker(args: argparse.Namespace) -> int:
    import asyncio

    from .webhooks.delivery import run_standalone

    settings = _settings(args)
    configure_logging(settings.log_level, settings.log_format)
    if not migrate.is_current(settings.database_url):
        print(
            "error: the database schema is not current; run `campfire migrate` first",
            file=sys.stderr,
        )
        return 2
    asyncio.run(run_standalone(settings, concurrency=args.concurrency))
    return 0


def cmd_migrate(args: argparse.Namespace) -> int:
    settings = _settings(args)
    # The printed line below reports the outcome, so the "database migrated"
    # log record would only repeat it; warnings and errors still show.
    configure_logging("WARNING", "text")
    if migrate.upgrade(settings.database_url):
        print("database migrated to the current schema")
    else:
        print("database is already up to date; no migration to apply")
    return 0


def _copy_url(value: str, option: str) -> str:
    try:
        return Settings(database_url=value).database_url
    except ValidationError as error:
        shown = hide_password(value)
        reason = error.errors()[0].get("msg", "is invalid").removeprefix("Value error, ")
        raise cli_errors.CommandError(
            f"{option} {shown} is invalid: it {reason}", cli_errors.USAGE
        ) from None


def cmd_db_copy(args: argparse.Namespace) -> int:
    from .db.copy import CopyError, DatabaseFailed, copy_database

    source = _copy_url(args.source, "--from")
    target = _copy_url(args.target, "--to")
    missing = cli_errors.missing_sqlite_file(source)
    if missing is not None:
        raise cli_errors.CommandError(
            f"--from {hide_password(args.source)} is invalid: the database file "
            f"{str(missing)!r} does not exist; give the path of the database to copy",
            cli_errors.USAGE,
        )
    try:
        counts = copy_database(
            source, target, progress=lambda table, rows: print(f"{table}: {rows} rows")
        )
    except CopyError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    except DatabaseFailed as error:
        option = "--from" if error.role == "source" else "--to"
        message = cli_errors.describe_database(error.original, args, url=error.url, option=option)
        print(f"error: {message}", file=sys.stderr)
        return 1
    print(f"copied {sum(counts.values())} rows in {len(counts)} tables")
    return 0


def cmd_analytics_rebuild(args: argparse.Namespace) -> int:
    from .analytics.backfill import rebuild_facts

    settings = _settings(args)
    configure_logging(settings.log_level, settings.log_format)
    cli_errors.require_migrated(settings.database_url)
    db = open_database(settings.database_url, pool_size=2)
    try:
        written = rebuild_facts(db, only_missing=not args.all)
    finally:
        import asyncio

        asyncio.run(db.close())
    print(f"analytics facts rebuilt for {written} conversations")
    return 0


def cmd_orgs_create(args: argparse.Namespace) -> int:
    settings = _settings(args)
    request = OrganizationCreate(id=args.id, name=args.name)

    def work(tx: Tx) -> dict[str, Any]:
        org_id = org_actions.create_organization(tx, name=request.name, org_id=request.id)
        issued = keys.create_key(tx, org_id=org_id, name="default admin key", role="admin")
        return {"id": org_id, "name": request.name, "apiKey": issued.key}

    result = _run(settings, work)
    _print(result)
    print("Store the API key now: it is shown only once.", file=sys.stderr)
    return 0


def cmd_orgs_list(args: argparse.Namespace) -> int:
    rows = _run(_settings(args), org_service.list_organizations, write=False)
    _print(
        [
            {"id": row["id"], "name": row["name"], "createdAt": to_iso(row["created_at"])}
            for row in rows
        ]
    )
    return 0


def _in_org(args: argparse.Namespace, work: Callable[[Tx], Any]) -> Callable[[Tx], Any]:
    """Wrap ``work`` so an unknown ``--org`` fails with its own message, not a foreign key error."""

    def checked(tx: Tx) -> Any:
        cli_errors.require_organization(tx, args.org)
        return work(tx)

    return checked


def cmd_keys_create(args: argparse.Namespace) -> int:
    settings = _settings(args)
    kind = "publishable" if args.publishable else "secret"
    role = "customer" if args.publishable else args.role

    # The checks of POST /api/v2/keys, so the command accepts no key the API would reject.
    request = KeyCreate(
        name=args.name,
        kind=kind,
        role=role,
        live=not args.test,
        mailbox_ids=args.mailbox or [],
        allowed_origins=args.origin or [],
    )

    def work(tx: Tx) -> dict[str, Any]:
        cli_errors.require_organization(tx, args.org)
        org_service.require_mailboxes(tx, args.org, request.mailbox_ids)
        issued = keys.create_key(
            tx,
            org_id=args.org,
            name=request.name,
            kind=kind,
            role=role,
            live=request.live,
            mailbox_ids=request.mailbox_ids,
            allowed_origins=request.allowed_origins,
        )
        return {"id": issued.id, "key": issued.key, "kind": kind, "role": role}

    _print(_run(settings, work))
    print("Store the key now: it is shown only once.", file=sys.stderr)
    return 0


def cmd_keys_list(args: argparse.Namespace) -> int:
    rows = _run(
        _settings(args), _in_org(args, lambda tx: keys.list_keys(tx, args.org)), write=False
    )
    # The shape of GET /api/v2/keys: camelCase, lists, ISO 8601 times in UTC.
    _print([ApiKey.from_row(row).model_dump(mode="json", by_alias=True) for row in rows])
    return 0


def cmd_keys_revoke(args: argparse.Namespace) -> int:
    _run(
        _settings(args),
        _in_org(args, lambda tx: keys.revoke_key(tx, org_id=args.org, key_id=args.key_id)),
    )
    print(f"revoked {args.key_id}")
    return 0


def cmd_mailboxes_create(args: argparse.Namespace) -> int:
    request = MailboxCreate(
        id=args.id,
        name=args.name,
        settings=MailboxSettings(
            auto_reply=args.auto_reply,
            handoff_threshold=args.handoff_threshold,
            identity_verification=args.identity_verification,
        ),
        identity_secret=args.identity_secret,
    )
    mailbox = _run(
        _settings(args), _in_org(args, lambda tx: org_actions.create_mailbox(tx, args.org, request))
    )
    _print(mailbox.model_dump(mode="json", by_alias=True))
    return 0


def cmd_mailboxes_list(args: argparse.Namespace) -> int:
    mailboxes = _run(
        _settings(args),
        _in_org(args, lambda tx: org_service.list_mailboxes(tx, args.org)),
        write=False,
    )
    _print([mailbox.model_dump(mode="json", by_alias=True) for mailbox in mailboxes])
    return 0


def _password(args: argparse.Namespace) -> str | None:
    """Return --password, or ask for it on a terminal; ``None`` leaves the agent without one."""
    if args.password is not None:
        return args.password
    if not sys.stdin.isatty():
        return None
    import getpass

    return getpass.getpass("inbox password for the agent (empty for none): ") or None


def cmd_agents_create(args: argparse.Namespace) -> int:
    from .routing import actions as routing_actions
    from .routing.schemas import AgentCreate

    request = AgentCreate(
        id=args.id,
        name=args.name,
        email=args.email,
        skills=args.skill or [],
        capacity=args.capacity,
        password=_password(args),
    )
    agent = _run(
        _settings(args),
        _in_org(args, lambda tx: routing_actions.create_agent(tx, args.org, request)),
    )
    _print(agent.model_dump(mode="json", by_alias=True))
    return 0


def cmd_agents_set_password(args: argparse.Namespace) -> int:
    from .routing import actions as routing_actions
    from .routing.schemas import AgentUpdate

    password = _password(args)
    if password is None:
        print(
            "error: the password is missing; pass --password or run on a terminal",
            file=sys.stderr,
        )
        return 2
    request = AgentUpdate(password=password)
    agent = _run(
        _settings(args),
        _in_org(
            args, lambda tx: routing_actions.update_agent(tx, args.org, args.agent_id, request)
        ),
    )
    _print(agent.model_dump(mode="json", by_alias=True))
    return 0


# Parser ---------------------------------------------------------------------


def _add_database(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--database-url",
        metavar="URL",
        help="database to use: sqlite:///path.db or postgresql://user@host:5432/db "
        "(sets CAMPFIRE_DATABASE_URL; default sqlite:///campfire.db)",
    )


def _add_org(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--org", required=True, metavar="ORG_ID", help="organization id")


def build_parser() -> argparse.ArgumentParser:
    parser = cli_errors.ArgumentParser(
        prog="campfire", description="Campfire: AI-first customer support server."
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    serve = commands.add_parser("serve", help="run the HTTP and WebSocket server")
    serve.add_argument("--host", help="interface to listen on (CAMPFIRE_HOST; default 127.0.0.1)")
    serve.add_argument("--port", type=int, help="TCP port (CAMPFIRE_PORT; default 3000)")
    serve.add_argument(
        "--workers",
        type=int,
        metavar="N",
        help="number of server processes (CAMPFIRE_WORKERS; default 1). Without "
        "CAMPFIRE_REDIS_URL each process counts rate limits on its own (N workers allow up "
        "to N times the limits) and delivers realtime events only to its own sockets; "
        "set CAMPFIRE_REDIS_URL when N > 1",
    )
    serve.add_argument(
        "--env",
        choices=["development", "test", "production"],
        help="environment (CAMPFIRE_ENV; default production). development migrates on start, "
        "seeds a demo organization into a database that has none, and accepts the test key "
        "test_sk_123456789. test behaves as production except that webhooks may reach "
        "loopback addresses",
    )
    serve.add_argument(
        "--max-header-bytes",
        type=int,
        metavar="BYTES",
        help="largest request line and headers, in bytes; larger ones get 431 "
        "(CAMPFIRE_MAX_HEADER_BYTES; default 32768)",
    )
    serve.add_argument(
        "--header-timeout",
        type=float,
        metavar="SECONDS",
        help="seconds a client has to send a request line and headers; a partial head gets "
        "408 and a new connection that sent nothing is closed without a response "
        "(CAMPFIRE_HEADER_TIMEOUT_SECONDS; default 10)",
    )
    serve.add_argument(
        "--early-error-discard-bytes",
        type=int,
        metavar="BYTES",
        help="bytes of an unread request body that the server reads and drops before it "
        "closes the connection after an early error such as 401 or 413, 0 to 1073741824 "
        "(CAMPFIRE_EARLY_ERROR_DISCARD_BYTES; default 4194304)",
    )
    serve.add_argument(
        "--early-error-discard-seconds",
        type=float,
        metavar="SECONDS",
        help="maximum time, in seconds, that the server spends reading and dropping an "
        "unread request body after an early error, 0 to 60 "
        "(CAMPFIRE_EARLY_ERROR_DISCARD_SECONDS; default 1)",
    )
    _add_database(serve)
    serve.set_defaults(handler=cmd_serve)

    worker = commands.add_parser(
        "worker", help="deliver webhooks; run any number beside the servers in scaled mode"
    )
    worker.add_argument(
        "--concurrency",
        type=int,
        metavar="N",
        help="deliveries in flight at once (CAMPFIRE_WEBHOOK_CONCURRENCY; default 16)",
    )
    worker.add_argument(
        "--env",
        choices=["development", "test", "production"],
        help="environment (CAMPFIRE_ENV; default production). production rejects webhook "
        "URLs that resolve to loopback addresses. development and test deliver to them too, "
        "for receivers on this machine. The worker never migrates: run `campfire migrate` first",
    )
    _add_database(worker)
    worker.set_defaults(handler=cmd_worker)

    migrate_cmd = commands.add_parser("migrate", help="apply database migrations")
    _add_database(migrate_cmd)
    migrate_cmd.set_defaults(handler=cmd_migrate)

    db_cmd = commands.add_parser("db", help="move data between databases").add_subparsers(
        dest="action", required=True, metavar="ACTION"
    )
    db_copy = db_cmd.add_parser(
        "copy",
        help="copy every row into an empty database, e.g. from SQLite to PostgreSQL; "
        "stop the servers first",
    )
    db_copy.add_argument(
        "--from",
        dest="source",
        required=True,
        metavar="URL",
        help="database to read, e.g. sqlite:///campfire.db",
    )
    db_copy.add_argument(
        "--to",
        dest="target",
        required=True,
        metavar="URL",
        help="empty database to fill, e.g. postgresql://user@host:5432/campfire",
    )
    db_copy.set_defaults(handler=cmd_db_copy)

    analytics_cmd = commands.add_parser(
        "analytics", help="maintain the analytics tables"
    ).add_subparsers(dest="action", required=True, metavar="ACTION")
    analytics_rebuild = analytics_cmd.add_parser(
        "rebuild",
        help="derive the analytics facts of conversations that have none, such as rows "
        "loaded straight into the tables; run it after every bulk import",
    )
    analytics_rebuild.add_argument(
        "--all",
        action="store_true",
        help="derive every conversation's facts again, also those that have some",
    )
    _add_database(analytics_rebuild)
    analytics_rebuild.set_defaults(handler=cmd_analytics_rebuild)

    orgs = commands.add_parser("orgs", help="manage organizations").add_subparsers(
        dest="action", required=True, metavar="ACTION"
    )
    orgs_create = orgs.add_parser("create", help="create an organization and its first admin key")
    orgs_create.add_argument("--name", required=True, help="display name of the organization")
    orgs_create.add_argument(
        "--id", help="organization id: 1 to 64 letters, digits, _ or - (default: generated org_...)"
    )
    _add_database(orgs_create)
    orgs_create.set_defaults(handler=cmd_orgs_create)
    orgs_list = orgs.add_parser("list", help="list organizations")
    _add_database(orgs_list)
    orgs_list.set_defaults(handler=cmd_orgs_list)

    keys_cmd = commands.add_parser("keys", help="manage API keys").add_subparsers(
        dest="action", required=True, metavar="ACTION"
    )
    keys_create = keys_cmd.add_parser("create", help="create a key; the key is printed once")
    _add_org(keys_create)
    keys_create.add_argument(
        "--name", default="api key", help='label shown in keys list (default "api key")'
    )
    keys_create.add_argument(
        "--role",
        choices=["admin", "agent", "viewer"],
        default="admin",
        help="what the key may do: admin may do everything, including managing keys, "
        "mailboxes, agents, webhooks and articles; agent also answers conversations and handoffs; "
        "viewer only reads (default admin). Ignored with --publishable",
    )
    keys_create.add_argument(
        "--publishable",
        action="store_true",
        help="create a pk_ key for the widget; it may only open widget sessions",
    )
    keys_create.add_argument(
        "--mailbox",
        action="append",
        metavar="MAILBOX_ID",
        help="limit the key to this mailbox; repeat the option for several mailboxes "
        "(default: every mailbox of the organization)",
    )
    keys_create.add_argument(
        "--origin",
        action="append",
        metavar="ORIGIN",
        help="browser origin allowed to use a publishable key, e.g. https://shop.example; "
        "repeat the option for several origins",
    )
    keys_create.add_argument(
        "--test",
        action="store_true",
        help="make an sk_test_/pk_test_ key instead of sk_live_/pk_live_. Only the prefix "
        "differs, so scripts and logs can tell the keys apart: a test key has the same "
        "access as a live key with the same options, in every environment",
    )
    _add_database(keys_create)
    keys_create.set_defaults(handler=cmd_keys_create)
    keys_list = keys_cmd.add_parser("list", help="list keys (never their secret part)")
    _add_org(keys_list)
    _add_database(keys_list)
    keys_list.set_defaults(handler=cmd_keys_list)
    keys_revoke = keys_cmd.add_parser("revoke", help="revoke a key by id")
    _add_org(keys_revoke)
    keys_revoke.add_argument("key_id", help="the key's id (key_...)")
    _add_database(keys_revoke)
    keys_revoke.set_defaults(handler=cmd_keys_revoke)

    mailboxes_cmd = commands.add_parser("mailboxes", help="manage mailboxes").add_subparsers(
        dest="action", required=True, metavar="ACTION"
    )
    mailboxes_create = mailboxes_cmd.add_parser("create", help="create a mailbox")
    _add_org(mailboxes_create)
    mailboxes_create.add_argument("--name", required=True, help="display name")
    mailboxes_create.add_argument("--id", help="mailbox id (default: generated mbx_...)")
    mailboxes_create.add_argument(
        "--auto-reply", action="store_true", help="answer customer messages with the AI"
    )
    mailboxes_create.add_argument(
        "--handoff-threshold",
        type=float,
        default=0.6,
        help="hand off to a person when AI confidence is below this (0..1, default 0.6)",
    )
    mailboxes_create.add_argument(
        "--identity-verification",
        action="store_true",
        help="require customerHash for widget sessions of this mailbox",
    )
    mailboxes_create.add_argument(
        "--identity-secret",
        metavar="SECRET",
        help="key of the customerHash HMAC (16 to 255 characters); required with "
        "--identity-verification",
    )
    _add_database(mailboxes_create)
    mailboxes_create.set_defaults(handler=cmd_mailboxes_create)
    mailboxes_list = mailboxes_cmd.add_parser("list", help="list mailboxes")
    _add_org(mailboxes_list)
    _add_database(mailboxes_list)
    mailboxes_list.set_defaults(handler=cmd_mailboxes_list)

    agents_cmd = commands.add_parser(
        "agents", help="manage agents and their inbox sign-in"
    ).add_subparsers(dest="action", required=True, metavar="ACTION")
    agents_create = agents_cmd.add_parser("create", help="create an agent who can sign in")
    _add_org(agents_create)
    agents_create.add_argument("--name", required=True, help="display name")
    agents_create.add_argument("--email", required=True, help="sign-in email address")
    agents_create.add_argument(
        "--password",
        help="sign-in password, 8 to 256 characters (asked on a terminal when omitted); "
        "stored as an Argon2id hash",
    )
    agents_create.add_argument("--id", help="agent id (default: generated agent_...)")
    agents_create.add_argument(
        "--skill",
        action="append",
        metavar="SKILL",
        help="a skill handoffs can require; repeat the option for several skills (default: none)",
    )
    agents_create.add_argument(
        "--capacity", type=int, default=5, help="open conversations the agent can hold (default 5)"
    )
    _add_database(agents_create)
    agents_create.set_defaults(handler=cmd_agents_create)
    agents_password = agents_cmd.add_parser("set-password", help="set an agent's password")
    _add_org(agents_password)
    agents_password.add_argument("agent_id", help="the agent's id")
    agents_password.add_argument(
        "--password",
        help="the new sign-in password, 8 to 256 characters (asked on a terminal when omitted)",
    )
    _add_database(agents_password)
    agents_password.set_defaults(handler=cmd_agents_set_password)

    add_assistant_commands(commands, add_database=_add_database, settings_from_args=_settings)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
    except cli_errors.CommandError as error:
        print(f"error: {error.message}", file=sys.stderr)
        return error.exit_code
    handler: Handler = args.handler
    # Commands that serve configure logging from the settings; the others
    # print only errors, so a failure reads as the one line below.
    configure_logging("ERROR", "text")
    try:
        return handler(args)
    except Exception as error:
        described = cli_errors.describe(error, args)
        if described is None:
            raise
        message, exit_code = described
        print(f"error: {message}", file=sys.stderr)
        return exit_code


if __name__ == "__main__":
    sys.exit(main())
