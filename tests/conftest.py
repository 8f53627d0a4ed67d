"""Fixtures shared by every test: real SQLite files, the running PostgreSQL, live servers."""

from __future__ import annotations

import asyncio
import os
import secrets
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from campfire_server.app import create_app
from campfire_server.auth import keys
from campfire_server.config import Settings
from campfire_server.db import migrate
from campfire_server.db.database import Database, open_database
from campfire_server.organizations import actions as org_actions
from campfire_server.organizations.schemas import MailboxCreate, MailboxSettings
from campfire_server.webhooks import guard
from tests.redis_support import (
    REDIS_URL,
    claim_namespace,
    delete_claimed_namespaces,
    redis_reachable,
)

POSTGRES_URL = os.environ.get(
    "CAMPFIRE_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)
IN_CI = os.environ.get("CI") == "true"
# Servers started by tests resolve no webhook host name but localhost.
NO_DNS = {"CAMPFIRE_WEBHOOK_DNS_LOOKUPS": "false"}
# Redis timeout, in seconds, for tests of limits shared through Redis: a busy
# machine can stall one call past the product's half second, which would turn
# the test into a test of the per-process fallback.
SHARED_LIMIT_REDIS_TIMEOUT = 5.0


class LocalResolver:
    """A resolver for the SSRF guard that resolves localhost and records every other name.

    The tests must not send DNS queries, so any other name fails the test
    that asked for it (see ``no_outside_lookups``).
    """

    def __init__(self) -> None:
        self.rejected: list[str] = []

    async def __call__(self, host: str, port: int) -> list:  # type: ignore[type-arg]
        if guard.is_localhost(host):
            return await guard.localhost_resolver(host, port)
        self.rejected.append(host)
        raise guard.ResolutionFailed(f"tests may not look up {host!r}; use 127.0.0.1 URLs")


@pytest.fixture(autouse=True)
def no_outside_lookups() -> Iterator[LocalResolver]:
    """Fail any test whose code makes the SSRF guard resolve a name other than localhost."""
    resolver = LocalResolver()
    previous = guard.set_resolver(resolver)
    yield resolver
    guard.set_resolver(previous)
    assert not resolver.rejected, (
        f"the SSRF guard was asked to resolve {resolver.rejected}; webhook URLs in tests "
        "must use 127.0.0.1 or localhost"
    )


def _postgres_reachable() -> bool:
    try:
        import psycopg

        with psycopg.connect(POSTGRES_URL, connect_timeout=2):
            return True
    except Exception:
        return False


def create_postgres_database() -> str:
    """Create an empty database for this run and return its URL."""
    import psycopg

    name = f"campfire_test_{os.getpid()}_{secrets.token_hex(4)}"
    with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base, _, _ = POSTGRES_URL.rpartition("/")
    return f"{base}/{name}"


def drop_postgres_database(url: str) -> None:
    import psycopg

    name = url.rpartition("/")[2]
    with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session", autouse=True)
def redis_keys_deleted() -> Iterator[None]:
    """Delete the Redis keys of every namespace the session claimed, after its last test."""
    yield
    delete_claimed_namespaces()


@pytest.fixture(scope="session")
def postgres_available() -> bool:
    available = _postgres_reachable()
    if not available and IN_CI:
        pytest.fail(f"PostgreSQL is not reachable at {POSTGRES_URL}; .ci/run should start it")
    return available


@pytest.fixture(scope="session")
def database_urls(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """One migrated database per engine for the whole run, created lazily."""
    urls: dict[str, str] = {}
    yield urls
    for backend, url in urls.items():
        if backend == "postgresql":
            drop_postgres_database(url)


def migrated_url(
    backend: str, urls: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> str:
    if backend not in urls:
        if backend == "sqlite":
            path = tmp_path_factory.mktemp("sqlite") / "campfire.db"
            urls[backend] = f"sqlite:///{path}"
        else:
            urls[backend] = create_postgres_database()
        migrate.upgrade(urls[backend])
    return urls[backend]


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def backend(request: pytest.FixtureRequest, postgres_available: bool) -> str:
    if request.param == "postgresql" and not postgres_available:
        pytest.skip(f"PostgreSQL is not reachable at {POSTGRES_URL}")
    return request.param


@pytest.fixture(scope="session")
async def db(
    backend: str,
    database_urls: dict[str, str],
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[Database]:
    database = open_database(migrated_url(backend, database_urls, tmp_path_factory))
    yield database
    await database.close()


def test_settings(database_url: str, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "env": "development",
        "database_url": database_url,
        "log_format": "text",
        "log_level": "WARNING",
        "webhook_dns_lookups": False,
        # Each test's application would otherwise run a full collection of the
        # test process at start-up. tests/test_gc_policy.py covers the freeze.
        "gc_freeze": False,
    }
    values.update(overrides)
    if values["env"] != "development":
        # Outside development the server rejects a JWT secret under 32 bytes.
        values.setdefault("jwt_secret", "test-only-jwt-secret-of-32-bytes-or-more")
    return Settings(**values)  # type: ignore[arg-type]


@pytest.fixture
async def app(db: Database) -> AsyncIterator[object]:
    application = create_app(test_settings(db.url), db=db)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
async def client(app: object) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
    async with httpx.AsyncClient(
        transport=transport, base_url="http://testserver/api/v2", timeout=30
    ) as http:
        yield http


@dataclass
class Tenant:
    """An organization created for one test, with an admin key and two mailboxes."""

    org_id: str
    key: str
    mailbox_id: str
    other_mailbox_id: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.key}"}


async def make_tenant(db: Database, name: str = "Test org", **mailbox_settings: object) -> Tenant:
    def work(tx):  # type: ignore[no-untyped-def]
        org_id = org_actions.create_organization(tx, name=name)
        issued = keys.create_key(tx, org_id=org_id, name="test admin key", role="admin")
        settings = MailboxSettings(**mailbox_settings)  # type: ignore[arg-type]
        org_actions.create_mailbox(
            tx, org_id, MailboxCreate(id="mailbox_test_1", name="Support", settings=settings)
        )
        org_actions.create_mailbox(tx, org_id, MailboxCreate(id="mailbox_test_2", name="Sales"))
        return Tenant(org_id, issued.key, "mailbox_test_1", "mailbox_test_2")

    return await db.write(work)


@pytest.fixture
async def tenant(db: Database) -> Tenant:
    return await make_tenant(db, "Org A")


@pytest.fixture
async def other_tenant(db: Database) -> Tenant:
    return await make_tenant(db, "Org B")


# Live servers ------------------------------------------------------------------


# The ports, inclusive, that test servers on 127.0.0.1 choose from.
PORT_RANGE = (20000, 60000)


def free_port() -> int:
    """Return a port of ``PORT_RANGE`` on 127.0.0.1 that nothing listens on or binds now."""
    low, high = PORT_RANGE
    for _ in range(200):
        port = low + secrets.randbelow(high - low + 1)
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free port in {low}-{high} on 127.0.0.1 after 200 tries")


@dataclass
class LiveServer:
    process: subprocess.Popen[bytes]
    base_url: str
    port: int
    log_path: Path

    @property
    def api(self) -> str:
        return f"{self.base_url}/api/v2"

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)

    def kill(self) -> None:
        self.process.kill()
        self.process.wait(5)


class _PortTaken(RuntimeError):
    """The port that ``free_port`` chose was taken by another process before the server bound it."""


def start_server(
    database_url: str, log_dir: Path, *, env: dict[str, str] | None = None, port: int | None = None
) -> LiveServer:
    """Start ``campfire serve`` on 127.0.0.1 and wait until it responds to health checks.

    A port chosen here can be taken by a test of another worker between the
    choice and the bind, so the server is started again on another port.
    """
    if port is not None:
        return _start_server_on(database_url, log_dir, env, port)
    for _ in range(2):
        try:
            return _start_server_on(database_url, log_dir, env, free_port())
        except _PortTaken:
            continue
    return _start_server_on(database_url, log_dir, env, free_port())


def port_was_taken(output: str) -> bool:
    """Return whether a server's output reports that its port was taken.

    ``campfire serve`` checks the port first ("Address already in use"), and
    when another process binds it after that check, uvicorn logs its own
    bind error ("address already in use").
    """
    return "address already in use" in output.lower()


def _start_server_on(
    database_url: str, log_dir: Path, env: dict[str, str] | None, port: int
) -> LiveServer:
    log_path = log_dir / f"server-{port}.log"
    environment = {
        **os.environ,
        "CAMPFIRE_ENV": "development",
        "CAMPFIRE_DATABASE_URL": database_url,
        "CAMPFIRE_LOG_LEVEL": "WARNING",
        **NO_DNS,
        **(env or {}),
    }
    redis_url = environment.get("CAMPFIRE_REDIS_URL")
    if redis_url and not environment.get("CAMPFIRE_REDIS_PREFIX"):
        # Keys under the session's prefix are deleted when the session ends.
        environment["CAMPFIRE_REDIS_PREFIX"] = claim_namespace(url=redis_url)
    with open(log_path, "wb") as log_file:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "campfire_server.cli",
                "serve",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
            ],
            env=environment,
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
    server = LiveServer(process, f"http://127.0.0.1:{port}", port, log_path)
    # Generous, because several processes may share a loaded 2-core machine.
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if process.poll() is not None:
            output = log_path.read_text()[-3000:]
            if port_was_taken(output):
                raise _PortTaken(f"server exited early:\n{output}")
            raise RuntimeError(f"server exited early:\n{output}")
        try:
            # Poll /healthz, not /openapi.json, because the first /openapi.json
            # request of a process builds the whole OpenAPI document.
            if httpx.get(f"{server.base_url}/healthz", timeout=1).status_code == 200:
                return server
        except httpx.HTTPError:
            time.sleep(0.1)
    server.stop()
    raise RuntimeError(f"server did not start within 90 s:\n{log_path.read_text()[-3000:]}")


@contextmanager
def server_pair(
    database_url: str, log_dir: Path, *, env: dict[str, str]
) -> Iterator[tuple[LiveServer, LiveServer]]:
    """Start two ``campfire serve`` processes on one database and stop both on exit."""
    first = start_server(database_url, log_dir, env=env)
    try:
        second = start_server(database_url, log_dir, env=env)
    except Exception:
        first.stop()
        raise
    try:
        yield first, second
    finally:
        first.stop()
        second.stop()


@contextmanager
def scaled_postgres(postgres_available: bool) -> Iterator[str]:
    """Yield a new migrated PostgreSQL database for servers that share Redis, then drop it.

    Skips the test when PostgreSQL or Redis is not reachable.
    """
    if not postgres_available:
        pytest.skip(f"PostgreSQL is not reachable at {POSTGRES_URL}")
    if not redis_reachable():
        pytest.skip(f"Redis is not reachable at {REDIS_URL}")
    url = create_postgres_database()
    migrate.upgrade(url)
    try:
        yield url
    finally:
        drop_postgres_database(url)


@contextmanager
def servers_on_new_postgres(count: int, log_dir: Path) -> Iterator[list[LiveServer]]:
    """Start ``count`` servers on a new migrated PostgreSQL database, without Redis or limits.

    The servers stop and the database is dropped on leaving the block.
    """
    url = create_postgres_database()
    migrate.upgrade(url)
    environment = {
        "CAMPFIRE_REDIS_URL": "",
        "CAMPFIRE_RATE_LIMIT_MESSAGES_PER_MINUTE": "100000",
        "CAMPFIRE_RATE_LIMIT_REQUESTS_PER_MINUTE": "100000",
    }
    servers: list[LiveServer] = []
    try:
        for _ in range(count):
            servers.append(start_server(url, log_dir, env=environment))
        yield servers
    finally:
        for server in servers:
            server.stop()
        drop_postgres_database(url)


@pytest.fixture(scope="module")
def live_server(db: Database, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A server on the session database, shared by the tests of one module.

    A start costs seconds on a loaded machine. The tests keep apart by
    creating their own organizations and keys.
    """
    server = start_server(db.url, tmp_path_factory.mktemp("live-server"))
    yield server
    server.stop()


def run(coroutine):  # type: ignore[no-untyped-def]
    return asyncio.get_event_loop().run_until_complete(coroutine)
