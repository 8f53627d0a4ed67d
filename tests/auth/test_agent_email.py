"""An agent's email is unique within its organization, ignoring case, on both engines."""

from __future__ import annotations

import itertools
import subprocess
import sys
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from alembic import command

from campfire_server.db import migrate
from tests.conftest import create_postgres_database, drop_postgres_database, make_tenant

PASSWORD = "correct horse battery"
_counter = itertools.count()


def unique_email() -> str:
    return f"Robin{next(_counter)}@Example.test"


async def post_agent(client, tenant, email: str, **fields):
    body = {"name": "Robin", "email": email, "password": PASSWORD, **fields}
    return await client.post("/agents", json=body, headers=tenant.headers)


async def agents_with_email(db, org_id: str, email: str) -> list[str]:
    rows = await db.read(
        lambda tx: tx.all(
            "SELECT id FROM agents WHERE org_id = :org_id AND LOWER(email) = LOWER(:email)",
            org_id=org_id,
            email=email,
        )
    )
    return [row["id"] for row in rows]


@pytest.mark.parametrize("spelling", [str.lower, str.upper, str])
async def test_create_duplicate_email_conflicts(client, db, tenant, spelling) -> None:
    email = unique_email()
    first = await post_agent(client, tenant, email)
    assert first.status_code == 201, first.text

    second = await post_agent(client, tenant, spelling(email), name="Robin Two")

    assert second.status_code == 409, second.text
    error = second.json()["error"]
    assert error["code"] == "CONFLICT"
    assert error["details"]["field"] == "email"
    assert first.json()["id"] in error["message"]
    assert await agents_with_email(db, tenant.org_id, email) == [first.json()["id"]]


async def test_patch_to_taken_email_conflicts(client, db, tenant) -> None:
    taken = unique_email()
    holder = (await post_agent(client, tenant, taken)).json()
    other = (await post_agent(client, tenant, unique_email())).json()

    response = await client.patch(
        f"/agents/{other['id']}", json={"email": taken.upper()}, headers=tenant.headers
    )

    assert response.status_code == 409, response.text
    assert response.json()["error"]["details"]["field"] == "email"
    assert await agents_with_email(db, tenant.org_id, taken) == [holder["id"]]


async def test_patch_own_email_case_allowed(client, tenant) -> None:
    email = unique_email()
    agent = (await post_agent(client, tenant, email)).json()

    response = await client.patch(
        f"/agents/{agent['id']}", json={"email": email.lower()}, headers=tenant.headers
    )

    assert response.status_code == 200, response.text
    assert response.json()["email"] == email.lower()


async def test_same_email_allowed_in_other_org(client, db, tenant) -> None:
    other = await make_tenant(db, "Second org")
    email = unique_email()
    assert (await post_agent(client, tenant, email)).status_code == 201

    response = await post_agent(client, other, email.upper())

    assert response.status_code == 201, response.text


async def test_login_with_org_id_picks_that_org(client, db, tenant) -> None:
    other = await make_tenant(db, "Third org")
    email = unique_email()
    mine = (await post_agent(client, tenant, email)).json()
    theirs = (await post_agent(client, other, email)).json()

    ambiguous = await client.post("/auth/login", json={"email": email, "password": PASSWORD})
    assert ambiguous.status_code == 400
    assert "2 organizations" in ambiguous.json()["error"]["message"]

    for org, agent in ((tenant, mine), (other, theirs)):
        response = await client.post(
            "/auth/login",
            json={"email": email.lower(), "password": PASSWORD, "orgId": org.org_id},
        )
        assert response.status_code == 200, response.text
        assert response.json()["organizationId"] == org.org_id
        assert response.json()["agent"]["id"] == agent["id"]


def run_cli(*args: str, database_url: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "campfire_server.cli", *args, "--database-url", database_url],
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_cli_duplicate_email_is_error(tmp_path) -> None:
    url = f"sqlite:///{tmp_path / 'agents.db'}"
    assert run_cli("migrate", database_url=url).returncode == 0
    assert (
        run_cli("orgs", "create", "--name", "A", "--id", "org_a", database_url=url).returncode == 0
    )
    common = ["agents", "create", "--org", "org_a", "--password", PASSWORD]

    first = run_cli(*common, "--name", "Robin", "--email", "robin@example.com", database_url=url)
    second = run_cli(*common, "--name", "Robin2", "--email", "ROBIN@example.com", database_url=url)

    assert first.returncode == 0, first.stderr
    assert second.returncode == 1
    assert second.stderr.count("\n") == 1
    assert second.stderr.startswith("error: email 'ROBIN@example.com' already belongs to agent")
    assert "Traceback" not in second.stderr


# Migration ---------------------------------------------------------------------


@pytest.fixture
def routing_only_url(backend: str, tmp_path) -> Iterator[str]:
    """A database migrated only up to the revision that created the agents table."""
    if backend == "sqlite":
        url = f"sqlite:///{tmp_path / 'before.db'}"
    else:
        url = create_postgres_database()
    command.upgrade(migrate.alembic_config(url), "0002_routing")
    yield url
    if backend == "postgresql":
        drop_postgres_database(url)


def execute(url: str, *statements: str) -> None:
    engine = sa.create_engine(migrate.sqlalchemy_url(url))
    try:
        with engine.begin() as conn:
            for statement in statements:
                conn.execute(sa.text(statement))
    finally:
        engine.dispose()


def agent_insert(org_id: str, agent_id: str, email: str) -> str:
    return (
        "INSERT INTO agents (org_id, id, name, email, created_at, updated_at) "
        f"VALUES ('{org_id}', '{agent_id}', 'Agent', '{email}', 1, 1)"
    )


def index_names(url: str) -> set[str]:
    # The inspector skips expression indexes, so read each engine's catalog.
    if url.startswith("sqlite"):
        sql = "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'agents'"
    else:
        sql = "SELECT indexname FROM pg_indexes WHERE tablename = 'agents'"
    engine = sa.create_engine(migrate.sqlalchemy_url(url))
    try:
        with engine.connect() as conn:
            return set(conn.scalars(sa.text(sql)))
    finally:
        engine.dispose()


def test_migration_stops_on_duplicates(routing_only_url) -> None:
    url = routing_only_url
    execute(
        url,
        "INSERT INTO organizations (id, name, created_at) VALUES ('org_a', 'A', 1)",
        "INSERT INTO organizations (id, name, created_at) VALUES ('org_b', 'B', 1)",
        agent_insert("org_a", "agent_1", "robin@example.com"),
        agent_insert("org_a", "agent_2", "Robin@Example.com"),
        agent_insert("org_b", "agent_3", "robin@example.com"),
    )

    with pytest.raises(migrate.MigrationBlocked) as blocked:
        migrate.upgrade(url)

    message = str(blocked.value)
    assert "'robin@example.com' in org_a (agents agent_1, agent_2)" in message
    assert "org_b" not in message
    assert "ux_agents_org_email" not in index_names(url)

    execute(url, "UPDATE agents SET email = NULL WHERE id = 'agent_2'")
    migrate.upgrade(url)

    assert "ux_agents_org_email" in index_names(url)
    with pytest.raises(sa.exc.IntegrityError):
        execute(url, agent_insert("org_a", "agent_4", "ROBIN@example.com"))
    execute(url, agent_insert("org_a", "agent_5", "other@example.com"))
