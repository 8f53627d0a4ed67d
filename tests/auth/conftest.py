"""Fixtures for the access-control tests: tokens and keys of every kind."""

from __future__ import annotations

from typing import Any

import pytest

from campfire_server.auth import keys
from campfire_server.auth.tokens import issue_token


def mint(app: Any, org_id: str, role: str, subject: str = "user_1", **extra: Any) -> str:
    """Return a valid HS256 token signed with the app's own secret."""
    settings = app.state.settings
    token, _ = issue_token(
        secret=settings.jwt_secret,
        issuer=settings.jwt_issuer,
        audience=settings.jwt_audience,
        org_id=org_id,
        role=role,
        subject=subject,
        ttl_seconds=600,
        extra=extra,
    )
    return token


def bearer(credential: str, **headers: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {credential}", **headers}


async def create_key(db: Any, org_id: str, **options: Any) -> str:
    issued = await db.write(
        lambda tx: keys.create_key(tx, org_id=org_id, name="test key", **options)
    )
    return issued.key


@pytest.fixture
async def publishable_key(db, tenant) -> str:
    return await create_key(
        db,
        tenant.org_id,
        kind="publishable",
        role="customer",
        mailbox_ids=[tenant.mailbox_id],
        allowed_origins=["https://shop.example"],
    )
