"""Data that a development server starts with, so the API reference's examples work verbatim."""

from __future__ import annotations

import logging
from pathlib import Path

from .auth.keys import DEVELOPMENT_ORG_ID
from .db.database import Database
from .db.tx import Tx
from .knowledge import actions as knowledge_actions
from .knowledge.importer import read_source
from .organizations import actions
from .organizations import service as org_service
from .routing import actions as routing_actions
from .routing.schemas import AgentCreate

log = logging.getLogger(__name__)

DEVELOPMENT_MAILBOX_ID = "mailbox_456"
# The agent that the API reference's PATCH example assigns; offline, so the
# AI's handoffs queue until a person signs in.
DEVELOPMENT_AGENT_ID = "agent_123"
# Articles about a fictional booking product, so the AI has something to answer from.
DEMO_KNOWLEDGE = Path(__file__).with_name("demo") / "knowledge"
# The PostgreSQL advisory lock key that serializes seeding: the bytes of "seed:dev".
SEED_LOCK_KEY = int.from_bytes(b"seed:dev", "big", signed=True)


def _seed(tx: Tx) -> bool:
    """Create the development data unless its organization exists, and return whether it did.

    The organization is created in the same transaction as the rest and
    cannot be deleted through the API, so it marks a database as seeded.
    Later starts then keep every edit and deletion of the seeded mailbox,
    agent and articles. Servers that start together on one PostgreSQL
    database take turns on a transaction lock, so only the first seeds.
    SQLite's write lock orders them the same way.
    """
    if tx.dialect == "postgresql":
        tx.value(f"SELECT pg_advisory_xact_lock({SEED_LOCK_KEY})")

    if org_service.organization_exists(tx, DEVELOPMENT_ORG_ID):
        return False
    actions.create_organization(tx, org_id=DEVELOPMENT_ORG_ID, name="Development")
    actions.ensure_mailbox(
        tx, DEVELOPMENT_ORG_ID, DEVELOPMENT_MAILBOX_ID, "Support", auto_reply=True
    )
    knowledge_actions.import_articles(tx, DEVELOPMENT_ORG_ID, read_source(DEMO_KNOWLEDGE))
    routing_actions.create_agent(
        tx,
        DEVELOPMENT_ORG_ID,
        AgentCreate(
            id=DEVELOPMENT_AGENT_ID,
            name="Alex Agent",
            email="alex@example.com",
            skills=["billing"],
        ),
    )
    return True


async def seed_development_data(db: Database) -> None:
    """Create the development organization, mailbox, agent and demo articles once per database."""
    seeded = await db.write(_seed)
    log.info(
        "development data seeded" if seeded else "development data already seeded; kept as is",
        extra={"organization_id": DEVELOPMENT_ORG_ID, "mailbox_id": DEVELOPMENT_MAILBOX_ID},
    )
