"""Data that a development server starts with, so API.md's examples work verbatim."""

from __future__ import annotations

import logging

from .auth.keys import DEVELOPMENT_ORG_ID
from .db.database import Database
from .db.tx import Tx
from .organizations import actions

log = logging.getLogger(__name__)

DEVELOPMENT_MAILBOX_ID = "mailbox_456"


def _seed(tx: Tx) -> None:
    actions.ensure_organization(tx, org_id=DEVELOPMENT_ORG_ID, name="Development")
    actions.ensure_mailbox(
        tx, DEVELOPMENT_ORG_ID, DEVELOPMENT_MAILBOX_ID, "Support", auto_reply=True
    )


async def seed_development_data(db: Database) -> None:
    """Create the development organization and mailbox when they are missing."""
    await db.write(_seed)
    log.info(
        "development data ready",
        extra={"organization_id": DEVELOPMENT_ORG_ID, "mailbox_id": DEVELOPMENT_MAILBOX_ID},
    )
