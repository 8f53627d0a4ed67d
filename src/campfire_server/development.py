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
from .routing import actions as routing_actions
from .routing.schemas import AgentCreate

log = logging.getLogger(__name__)

DEVELOPMENT_MAILBOX_ID = "mailbox_456"
# The agent that the API reference's PATCH example assigns; offline, so the
# AI's handoffs queue until a person signs in.
DEVELOPMENT_AGENT_ID = "agent_123"
# Articles about a fictional booking product, so the AI has something to answer from.
DEMO_KNOWLEDGE = Path(__file__).with_name("demo") / "knowledge"


def _seed(tx: Tx) -> None:
    actions.ensure_organization(tx, org_id=DEVELOPMENT_ORG_ID, name="Development")
    actions.ensure_mailbox(
        tx, DEVELOPMENT_ORG_ID, DEVELOPMENT_MAILBOX_ID, "Support", auto_reply=True
    )
    knowledge_actions.import_articles(tx, DEVELOPMENT_ORG_ID, read_source(DEMO_KNOWLEDGE))
    exists = tx.value(
        "SELECT 1 FROM agents WHERE org_id = :org_id AND id = :id",
        org_id=DEVELOPMENT_ORG_ID,
        id=DEVELOPMENT_AGENT_ID,
    )
    if not exists:
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


async def seed_development_data(db: Database) -> None:
    """Create the development organization and mailbox when they are missing."""
    await db.write(_seed)
    log.info(
        "development data ready",
        extra={"organization_id": DEVELOPMENT_ORG_ID, "mailbox_id": DEVELOPMENT_MAILBOX_ID},
    )
