"""Agent socket leases in the database, for servers on PostgreSQL without Redis.

Such servers may share one database, so none of them can tell at start-up
whether an ``online`` agent is a leftover of a crash or held by another
server's socket. Each agent socket is therefore a row of
``presence_leases`` with an expiry that its process renews every third of a
lease. A row whose expiry passed belongs to a process that died, and
whichever live process sweeps first deletes it and marks the agent offline
once none of its rows is left. Envelopes still reach only this process's
hub, as with ``InProcessBroker``.
"""

from __future__ import annotations

import json
import logging
import secrets

from .. import clock
from ..db.database import Database
from ..db.tx import Tx
from ..outage_log import OutageLog
from .brokers import LEASE_SECONDS, MAX_SWEEP_SECONDS, InProcessBroker

log = logging.getLogger(__name__)

# Log messages of lease writes that fail during an outage, and their outage keys.
_NOT_STORED = "presence lease not stored; counting this process's sockets only"
_NOT_RELEASED = "presence lease not released; it counts until it expires"
_REFRESH_FAILED = "presence lease refresh failed"

_COUNT = (
    "SELECT COUNT(*) AS n FROM presence_leases "
    "WHERE org_id = :org_id AND agent_id = :agent_id AND expires_at > :now"
)


class DatabasePresenceBroker(InProcessBroker):
    """The in-process broker, with agent socket counts kept as leases in the database."""

    name = "in-process, presence leases in the database"

    def __init__(self, db: Database, *, lease_seconds: float = LEASE_SECONDS) -> None:
        super().__init__()
        self._db = db
        self.process_id = f"proc_{secrets.token_hex(8)}"
        # Lease writes that fail during a database outage, by log message.
        self._outages = OutageLog(log)
        self.lease_ms = int(lease_seconds * 1000)
        self.refresh_seconds = lease_seconds / 3
        self.sweep_seconds = min(MAX_SWEEP_SECONDS, lease_seconds / 3)
        # (organization id, agent id) -> connection id -> the token's mailbox ids.
        self._sockets: dict[tuple[str, str], dict[str, list[str]]] = {}

    async def join_presence(
        self, org_id: str, agent_id: str, connection_id: str, mailbox_ids: list[str] | None = None
    ) -> int:
        mailboxes = sorted(mailbox_ids or ())
        self._sockets.setdefault((org_id, agent_id), {})[connection_id] = mailboxes

        def work(tx: Tx) -> int:
            now = clock.now_ms()
            self._insert(tx, org_id, agent_id, connection_id, mailboxes, now)
            return int(tx.value(_COUNT, org_id=org_id, agent_id=agent_id, now=now) or 0)

        try:
            count = await self._db.write(work)
        except Exception as error:  # any database failure; the socket stays open
            self._outages.failure(
                _NOT_STORED,
                _NOT_STORED,
                extra={"error": str(error), "organization_id": org_id, "agent_id": agent_id},
            )
            return len(self._sockets.get((org_id, agent_id), ()))
        self._outages.recovery(_NOT_STORED, "presence leases are stored again")
        return count

    async def leave_presence(self, org_id: str, agent_id: str, connection_id: str) -> int:
        sockets = self._sockets.get((org_id, agent_id), {})
        sockets.pop(connection_id, None)
        if not sockets:
            self._sockets.pop((org_id, agent_id), None)

        def work(tx: Tx) -> int:
            tx.execute(
                "DELETE FROM presence_leases WHERE connection_id = :connection_id",
                connection_id=connection_id,
            )
            now = clock.now_ms()
            return int(tx.value(_COUNT, org_id=org_id, agent_id=agent_id, now=now) or 0)

        try:
            count = await self._db.write(work)
        except Exception as error:  # any database failure; the lease then runs out
            self._outages.failure(
                _NOT_RELEASED,
                _NOT_RELEASED,
                extra={"error": str(error), "organization_id": org_id, "agent_id": agent_id},
            )
            return len(sockets)
        self._outages.recovery(_NOT_RELEASED, "presence leases are released again")
        return count

    async def presence_count(self, org_id: str, agent_id: str) -> int:
        now = clock.now_ms()
        return int(
            await self._db.read(
                lambda tx: tx.value(_COUNT, org_id=org_id, agent_id=agent_id, now=now) or 0
            )
        )

    def holds_presence(self, org_id: str, agent_id: str) -> bool:
        return bool(self._sockets.get((org_id, agent_id)))

    async def refresh(
        self, agents: set[tuple[str, str]] | None = None
    ) -> list[tuple[str, str, list[str]]]:
        """Renew this process's leases, and store again the ones another process swept.

        A sweep deletes a lease that expired, which happens to a live
        process only when it could not renew in time (a stall, or the
        database unreachable). Such an agent is returned so that it is
        stored online again.
        """
        sockets = {
            agent: dict(connections)
            for agent, connections in self._sockets.items()
            if connections and (agents is None or agent in agents)
        }
        if not sockets:
            return []

        def work(tx: Tx) -> list[tuple[str, str, list[str]]]:
            now = clock.now_ms()
            tx.execute(
                "UPDATE presence_leases SET expires_at = :expires_at "
                "WHERE process_id = :process_id",
                expires_at=now + self.lease_ms,
                process_id=self.process_id,
            )
            stored = {
                row["connection_id"]
                for row in tx.all(
                    "SELECT connection_id FROM presence_leases WHERE process_id = :process_id",
                    process_id=self.process_id,
                )
            }
            recreated = []
            for (org_id, agent_id), connections in sockets.items():
                missing = [cid for cid in connections if cid not in stored]
                for connection_id in missing:
                    mailboxes = connections[connection_id]
                    self._insert(tx, org_id, agent_id, connection_id, mailboxes, now)
                if missing:
                    recreated.append((org_id, agent_id, connections[missing[0]]))
            return recreated

        try:
            recreated = await self._db.write(work)
        except Exception as error:  # any database failure; the next refresh tries again
            self._outages.failure(_REFRESH_FAILED, _REFRESH_FAILED, extra={"error": str(error)})
            return []
        self._outages.recovery(_REFRESH_FAILED, "presence lease refresh recovered")
        await self._release_closed(sockets)
        return recreated

    async def _release_closed(self, renewed: dict[tuple[str, str], dict[str, list[str]]]) -> None:
        """Delete the leases a refresh stored again for sockets that closed meanwhile."""
        for (org_id, agent_id), connections in renewed.items():
            current = self._sockets.get((org_id, agent_id), {})
            for connection_id in set(connections) - set(current):
                await self.leave_presence(org_id, agent_id, connection_id)

    async def expired_presence(self) -> list[tuple[str, str, list[str]]]:
        """Delete the expired leases; return the agents left without a lease.

        The rows are deleted and the remaining leases counted in one
        transaction. Two processes that sweep at once may both return an
        agent whose expired leases each of them deleted, which marks it
        offline twice.
        """

        def work(tx: Tx) -> list[tuple[str, str, list[str]]]:
            now = clock.now_ms()
            rows = tx.all(
                "DELETE FROM presence_leases WHERE expires_at <= :now "
                "RETURNING org_id, agent_id, mailbox_ids",
                now=now,
            )
            expired: dict[tuple[str, str], list[str]] = {}
            for row in rows:
                expired.setdefault((row["org_id"], row["agent_id"]), json.loads(row["mailbox_ids"]))
            return [
                (org_id, agent_id, mailbox_ids)
                for (org_id, agent_id), mailbox_ids in expired.items()
                if not tx.value(_COUNT, org_id=org_id, agent_id=agent_id, now=now)
            ]

        return await self._db.write(work)

    def _insert(
        self,
        tx: Tx,
        org_id: str,
        agent_id: str,
        connection_id: str,
        mailbox_ids: list[str],
        now: int,
    ) -> None:
        tx.execute(
            "INSERT INTO presence_leases "
            "(connection_id, process_id, org_id, agent_id, mailbox_ids, expires_at) "
            "VALUES (:connection_id, :process_id, :org_id, :agent_id, :mailbox_ids, :expires_at)",
            connection_id=connection_id,
            process_id=self.process_id,
            org_id=org_id,
            agent_id=agent_id,
            mailbox_ids=json.dumps(mailbox_ids),
            expires_at=now + self.lease_ms,
        )
