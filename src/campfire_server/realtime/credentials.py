"""Close sockets whose credential ended: expired tokens, revoked API keys, deleted agents.

A socket lives only as long as its credential. One opened with a token is
closed with 4401 when the token's ``exp`` passes on this server's clock. A
key revocation is published through the broker, so every process closes
the key's sockets with 4401 at once. Every ``REVOCATION_CHECK_SECONDS``
each process also looks up the keys of its sockets, which catches
revocations that reached no broker (``campfire keys revoke``, or Redis down).
Deleting an agent is published and checked the same way: every token that
names the agent (claim ``aid``) loses its sockets.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from .. import clock
from ..auth.tokens import issued_for_agent_row
from ..db.database import Database
from .hub import Connection, Hub
from .protocol import CLOSE_AUTH_FAILED

log = logging.getLogger(__name__)

# How often each process looks up the keys of its open sockets for revocations.
REVOCATION_CHECK_SECONDS = 30.0
TOKEN_EXPIRED_REASON = "the token has expired; request a new token and reconnect"
KEY_REVOKED_REASON = "the API key has been revoked; authenticate with another credential"
AGENT_DELETED_REASON = "the token's agent has been deleted; authenticate with another credential"


def revocation_envelope(org_id: str, key_id: str) -> dict[str, Any]:
    """Return the broker envelope that announces a key's revocation to every process."""
    return {"kind": "revocation", "org": org_id, "keyId": key_id, "ts": clock.now_ms()}


def agent_deletion_envelope(org_id: str, agent_id: str) -> dict[str, Any]:
    """Return the broker envelope that announces an agent's deletion to every process."""
    return {"kind": "revocation", "org": org_id, "agentId": agent_id, "ts": clock.now_ms()}


class CredentialWatch:
    """Expiry timers and revocation checks for the sockets of one process."""

    def __init__(self, hub: Hub, db: Database) -> None:
        self.hub = hub
        self.db = db

    def watch(self, connection: Connection) -> None:
        """Close ``connection`` with 4401 when its token's ``exp`` passes."""
        expires_at = connection.principal.expires_at
        if expires_at is None:
            return
        delay = max(0.0, expires_at - clock.now_ms() / 1000)
        connection.expiry = asyncio.get_running_loop().call_later(delay, self._expire, connection)

    def forget(self, connection: Connection) -> None:
        """Cancel the expiry timer of a socket that is closing."""
        if connection.expiry is not None:
            connection.expiry.cancel()
            connection.expiry = None

    def _expire(self, connection: Connection) -> None:
        connection.expiry = None
        if connection.closed:
            return
        log.info(
            "realtime socket closed: token expired",
            extra={
                "connection_id": connection.id,
                "organization_id": connection.principal.org_id,
                "subject": connection.principal.subject,
            },
        )
        connection.drop(CLOSE_AUTH_FAILED, TOKEN_EXPIRED_REASON)

    def drop_key_sockets(self, org_id: str, key_ids: set[str]) -> int:
        """Close this process's sockets of the keys ``key_ids``; return how many."""
        dropped = 0
        for connection in list(self.hub.connections.values()):
            principal = connection.principal
            if connection.closed or principal.org_id != org_id:
                continue
            if principal.key_id in key_ids:
                connection.drop(CLOSE_AUTH_FAILED, KEY_REVOKED_REASON)
                dropped += 1
        if dropped:
            log.info(
                "realtime sockets of a revoked API key closed",
                extra={"organization_id": org_id, "key_ids": sorted(key_ids), "sockets": dropped},
            )
        return dropped

    def drop_agent_sockets(
        self, org_id: str, agent_id: str, keep_created_at: int | None = None
    ) -> int:
        """Close this process's sockets of tokens naming agent ``agent_id``; return how many.

        With ``keep_created_at``, the sockets of tokens issued for the agent
        row created at that moment (``tokens.issued_for_agent_row``) stay open.
        """
        dropped = 0
        for connection in list(self.hub.connections.values()):
            principal = connection.principal
            if connection.closed or principal.org_id != org_id or principal.agent_id != agent_id:
                continue
            if keep_created_at is not None and issued_for_agent_row(principal, keep_created_at):
                continue
            connection.drop(CLOSE_AUTH_FAILED, AGENT_DELETED_REASON)
            dropped += 1
        if dropped:
            log.info(
                "realtime sockets of a deleted agent closed",
                extra={"organization_id": org_id, "agent_id": agent_id, "sockets": dropped},
            )
        return dropped

    async def check_deleted_agents(self) -> int:
        """Close the sockets whose token names a deleted or recreated agent; return how many."""
        named = sorted(
            {
                (connection.principal.org_id, connection.principal.agent_id)
                for connection in self.hub.connections.values()
                if connection.principal.agent_id is not None
            }
        )
        if not named:
            return 0
        agent_ids = sorted({agent_id for _, agent_id in named})

        def live_agents(tx: Any) -> dict[tuple[str, str], int]:
            names = {f"a{index}": agent_id for index, agent_id in enumerate(agent_ids)}
            placeholders = ", ".join(f":{name}" for name in names)
            rows = tx.all(
                f"SELECT org_id, id, created_at FROM agents WHERE id IN ({placeholders})", **names
            )
            return {(row["org_id"], row["id"]): int(row["created_at"]) for row in rows}

        live = await self.db.lookup(live_agents)
        dropped = 0
        for org_id, agent_id in named:
            if (org_id, agent_id) in live:
                created_at = live[(org_id, agent_id)]
                dropped += self.drop_agent_sockets(org_id, agent_id, keep_created_at=created_at)
            else:
                dropped += self.drop_agent_sockets(org_id, agent_id)
        return dropped

    async def check_revoked_keys(self) -> int:
        """Close the sockets whose API key is revoked or deleted; return how many."""
        keys_by_org: dict[str, set[str]] = {}
        for connection in self.hub.connections.values():
            key_id = connection.principal.key_id
            if key_id is not None and connection.principal.kind == "secret":
                keys_by_org.setdefault(connection.principal.org_id, set()).add(key_id)
        if not keys_by_org:
            return 0
        open_key_ids = sorted({key_id for key_ids in keys_by_org.values() for key_id in key_ids})

        def live_keys(tx: Any) -> set[str]:
            names = {f"k{index}": key_id for index, key_id in enumerate(open_key_ids)}
            placeholders = ", ".join(f":{name}" for name in names)
            rows = tx.all(
                f"SELECT id FROM api_keys WHERE id IN ({placeholders}) AND revoked_at IS NULL",
                **names,
            )
            return {row["id"] for row in rows}

        live = await self.db.lookup(live_keys)
        dropped = 0
        for org_id, key_ids in keys_by_org.items():
            if key_ids - live:
                dropped += self.drop_key_sockets(org_id, key_ids - live)
        return dropped
