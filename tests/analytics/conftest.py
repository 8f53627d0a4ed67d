"""A frozen clock and a scripted history written through the real API."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

import httpx
import pytest

from campfire_server import clock
from campfire_server.auth.tokens import issue_token
from campfire_server.config import DEVELOPMENT_JWT_SECRET
from campfire_server.db.database import Database
from campfire_server.events import records
from campfire_server.events.emit import emit
from tests.conftest import Tenant
from tests.helpers import HELPER_AGENT, ensure_agent

# Tokens issued under a frozen clock in the past must outlive the real clock.
TOKEN_TTL_SECONDS = 40 * 365 * 86_400


def ms(moment: str) -> int:
    """Epoch milliseconds of an ISO 8601 time with an offset or ``Z``."""
    return int(datetime.fromisoformat(moment.replace("Z", "+00:00")).timestamp() * 1000)


@pytest.fixture
def frozen() -> Iterator[clock.FrozenClock]:
    frozen_clock = clock.FrozenClock(ms("2024-01-01T00:00:00Z"))
    previous = clock.set_clock(frozen_clock)
    yield frozen_clock
    clock.set_clock(previous)


def customer_headers(tenant: Tenant, customer_id: str) -> dict[str, str]:
    token, _ = issue_token(
        secret=DEVELOPMENT_JWT_SECRET,
        issuer="campfire",
        audience="campfire",
        org_id=tenant.org_id,
        role="customer",
        subject=f"customer:{customer_id}",
        ttl_seconds=TOKEN_TTL_SECONDS,
        extra={"cid": customer_id},
    )
    return {"Authorization": f"Bearer {token}"}


class History:
    """Writes conversations, messages, resolutions, handoffs and ratings at set times."""

    def __init__(
        self, client: httpx.AsyncClient, db: Database, tenant: Tenant, frozen: clock.FrozenClock
    ) -> None:
        self.client = client
        self.db = db
        self.tenant = tenant
        self.clock = frozen

    def at(self, when: str | int) -> None:
        self.clock.set(when if isinstance(when, int) else ms(when))

    def later(self, seconds: float) -> None:
        self.clock.advance(seconds)

    async def conversation(
        self, customer_id: str = "customer_a", mailbox_id: str | None = None
    ) -> str:
        response = await self.client.post(
            "/conversations",
            json={"customerId": customer_id, "mailboxId": mailbox_id or self.tenant.mailbox_id},
            headers=self.tenant.headers,
        )
        assert response.status_code == 201, response.text
        return response.json()["id"]

    async def say(
        self,
        conversation_id: str,
        author_type: str,
        private: bool = False,
        author_id: str | None = None,
    ) -> None:
        body: dict[str, object] = {
            "content": f"{author_type} message",
            "authorType": author_type,
            "private": private,
        }
        if author_id is None and author_type == "agent":
            # An API key's agent messages must name an agent of the organization.
            await ensure_agent(self.client, self.tenant, HELPER_AGENT)
            author_id = HELPER_AGENT
        if author_id is not None:
            body["authorId"] = author_id
        response = await self.client.post(
            f"/conversations/{conversation_id}/messages", json=body, headers=self.tenant.headers
        )
        assert response.status_code == 201, response.text

    async def set_status(self, conversation_id: str, status: str) -> None:
        response = await self.client.patch(
            f"/conversations/{conversation_id}",
            json={"status": status},
            headers=self.tenant.headers,
        )
        assert response.status_code == 200, response.text

    async def resolve(self, conversation_id: str) -> None:
        await self.set_status(conversation_id, "resolved")

    async def rate(self, conversation_id: str, rating: int, comment: str | None = None) -> None:
        body: dict[str, Any] = {"rating": rating}
        if comment is not None:
            body["comment"] = comment
        response = await self.client.post(
            f"/conversations/{conversation_id}/satisfaction",
            json=body,
            headers=self.tenant.headers,
        )
        assert response.status_code in (200, 201), response.text

    async def hand_off(self, conversation_id: str) -> None:
        """Log a handoff request the way the handoff feature does: as an event."""
        org_id, mailbox_id = self.tenant.org_id, self.tenant.mailbox_id

        def work(tx):  # type: ignore[no-untyped-def]
            emit(
                tx,
                org_id=org_id,
                type=records.HANDOFF_REQUESTED,
                data={"conversationId": conversation_id, "reason": "customer asked"},
                conversation_id=conversation_id,
                mailbox_id=mailbox_id,
            )

        await self.db.write(work)

    async def metrics(self, **params: Any) -> dict[str, Any]:
        response = await self.client.get(
            "/analytics/metrics", params=params, headers=self.tenant.headers
        )
        assert response.status_code == 200, response.text
        return response.json()


@pytest.fixture
def history(client, db, tenant, frozen) -> History:  # type: ignore[no-untyped-def]
    return History(client, db, tenant, frozen)


def agent_token_headers(tenant: Tenant) -> dict[str, str]:
    token, _ = issue_token(
        secret=DEVELOPMENT_JWT_SECRET,
        issuer="campfire",
        audience="campfire",
        org_id=tenant.org_id,
        role="agent",
        subject="agent:inbox",
        ttl_seconds=TOKEN_TTL_SECONDS,
    )
    return {"Authorization": f"Bearer {token}"}


async def key_headers(db: Database, tenant: Tenant, role: str, **options: Any) -> dict[str, str]:
    from campfire_server.auth import keys

    issued = await db.write(
        lambda tx: keys.create_key(
            tx, org_id=tenant.org_id, name=f"{role} key", role=role, **options
        )
    )
    return {"Authorization": f"Bearer {issued.key}"}
