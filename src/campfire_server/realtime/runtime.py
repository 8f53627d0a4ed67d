"""The realtime service of one process: hub, broker, heartbeats, presence and log pruning.

``lifespan`` is registered in ``app.SERVICES``; it subscribes to the event
bus, which hears only of committed events, and publishes each one once
through the broker.

Sockets whose token expires or whose API key is revoked are closed by
``credentials.CredentialWatch``.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import asynccontextmanager, suppress
from typing import Any

from .. import clock, ids
from ..auth.connections import ConnectionLimiter
from ..auth.principal import Principal
from ..config import Settings
from ..db import lock_order
from ..db.database import Database
from ..errors import NotFound, ServiceError
from ..events import bus
from ..events.records import EventRecord
from ..logs import log_retried_failure
from ..outage_log import OutageLog
from ..routing import actions as routing_actions
from ..routing import rules as routing_rules
from .brokers import RESYNC, UNKNOWN_COUNT, Broker, InProcessBroker, open_broker
from .catch_up import CatchUp
from .credentials import (
    REVOCATION_CHECK_SECONDS,
    CredentialWatch,
    agent_deletion_envelope,
    revocation_envelope,
)
from .hub import Connection, DirectWriter, Hub, Sender
from .log_tail import LogTail
from .presence_leases import DatabasePresenceBroker
from .service import prune_events

log = logging.getLogger(__name__)

# Messages of the background steps that fail and run again, and the keys of their outages.
_SWEEP_FAILED = "realtime sweep failed"
_PRESENCE_SWEEP_FAILED = "realtime presence sweep failed"
_REVOCATION_CHECK_FAILED = "realtime revocation check failed"

SWEEP_SECONDS = 1.0
PRUNE_INTERVAL_SECONDS = 3600.0
PRUNE_BATCH = 5000


def envelope_for(record: EventRecord) -> dict[str, Any]:
    return {
        "kind": "event",
        "record": {
            "position": record.position,
            "id": record.id,
            "org_id": record.org_id,
            "type": record.type,
            "data": record.data,
            "created_at": record.created_at,
            "conversation_id": record.conversation_id,
            "mailbox_id": record.mailbox_id,
            "sequence": record.sequence,
        },
    }


def author_of(principal: Principal) -> tuple[str, str]:
    """Return the ``authorId`` and ``authorType`` that typing frames of ``principal`` carry."""
    if principal.is_customer:
        return principal.customer_id or principal.subject, "customer"
    return principal.agent_id or principal.subject, "agent"


class RealtimeService:
    def __init__(
        self,
        settings: Settings,
        db: Database,
        broker: Broker | None = None,
        connections: ConnectionLimiter | None = None,
    ) -> None:
        self.settings = settings
        self.db = db
        self.connections = connections or ConnectionLimiter(None, self._default_limit)
        # Envelopes from several processes arrive in another order than the
        # positions of their events, and Redis may miss some.
        ordered_log = getattr(db, "dialect", None) == "postgresql" or bool(settings.redis_url)
        self.hub = Hub(
            heartbeat_seconds=settings.realtime_heartbeat_seconds,
            idle_timeout_seconds=settings.realtime_idle_timeout_seconds,
            ordered_log=ordered_log,
            typing_ttl_seconds=settings.realtime_typing_ttl_seconds,
        )
        # On PostgreSQL or with Redis, mailbox and agent channels are fed from
        # the log in position order.
        self.log_tail = (
            LogTail(db, self.hub.deliver_logged, lambda: self.hub.log_subscriptions > 0)
            if ordered_log
            else None
        )
        # Conversation events that the broker missed, read from the log.
        self.catch_up = CatchUp(db, self.hub)
        self.hub.gap_reader = self.catch_up.request
        self.broker = broker or self._open_broker()
        self.credentials = CredentialWatch(self.hub, db)
        # Failures of the background loops' steps, per message, so a step
        # that fails on every round during an outage logs once a minute.
        self.loop_outages = OutageLog(log)
        # Called with each revoked key's or deleted agent's id, to drop cached credentials.
        self.revocation_listeners: list[Callable[[str], None]] = []
        self._tasks: list[asyncio.Task[None]] = []
        # Presence rechecks still running, kept referenced until they finish.
        self._background: set[asyncio.Task[None]] = set()
        self._unsubscribe: Callable[[], None] | None = None

    def _open_broker(self) -> Broker:
        """Open the Redis broker, or an in-process one with leases on PostgreSQL without Redis."""
        lease_seconds = self.settings.realtime_presence_lease_seconds
        if not self.settings.redis_url and getattr(self.db, "dialect", None) == "postgresql":
            return DatabasePresenceBroker(self.db, lease_seconds=lease_seconds)
        return open_broker(
            self.settings.redis_url, self.settings.redis_prefix, lease_seconds=lease_seconds
        )

    async def start(self) -> None:
        if self.log_tail is not None:
            await self.log_tail.start()
        if self._sole_process():
            await self.clear_stale_presence()
        await self.broker.start(self._deliver)
        self._unsubscribe = bus.subscribe(self._on_event)
        loop = asyncio.get_running_loop()
        self._tasks = [loop.create_task(self._sweep_loop()), loop.create_task(self._prune_loop())]
        log.info("realtime started", extra={"broker": self.broker.name})

    async def stop(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        connections = list(self.hub.connections.values())
        for connection in connections:
            connection.drop(1001, "the server is shutting down; reconnect with since")
        await asyncio.gather(*(connection.close() for connection in connections))
        tasks = [*self._tasks, *self._background]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await self.catch_up.stop()
        if self.log_tail is not None:
            await self.log_tail.stop()
        await self.broker.stop()
        log.info("realtime stopped")

    async def _default_limit(self, org_id: str) -> int:
        return self.settings.rate_limit_websocket_connections

    def _on_event(self, record: EventRecord) -> None:
        self.broker.publish(envelope_for(record))

    def log_horizon(self) -> int | None:
        """Return the position up to which log-fed mailbox and agent channels are final.

        A replay or poll of those channels stops there, and events after it
        reach the sockets live, in position order.
        """
        return None if self.log_tail is None else self.log_tail.released

    def _deliver(self, envelope: dict[str, Any]) -> None:
        """Handle one envelope from the broker: revocations here, the rest in the hub."""
        kind = envelope.get("kind")
        if kind == RESYNC:
            # The broker may have missed envelopes, so the log fills the gaps.
            self.catch_up.resync()
            if self.log_tail is not None:
                self.log_tail.wake()
            return
        if kind != "revocation":
            self.hub.deliver(envelope)
            if kind == "presence":
                self._recheck_offline(envelope)
            if kind == "event" and self.log_tail is not None:
                self.log_tail.wake()
            return
        org_id = envelope.get("org")
        key_id = envelope.get("keyId")
        agent_id = envelope.get("agentId")
        credential = key_id or agent_id
        if not isinstance(org_id, str) or not isinstance(credential, str):
            log.warning("realtime revocation ignored: it has no org, or neither keyId nor agentId")
            return
        for listener in list(self.revocation_listeners):
            try:
                listener(credential)
            except Exception:
                log.exception("revocation listener failed", extra={"credential_id": credential})
        if isinstance(key_id, str):
            self.credentials.drop_key_sockets(org_id, {key_id})
        else:
            self.credentials.drop_agent_sockets(org_id, credential)

    # Credentials ----------------------------------------------------------------

    def publish_key_revoked(self, org_id: str, key_id: str) -> None:
        """Tell every process, this one included, to close the sockets of a revoked key."""
        self.broker.publish(revocation_envelope(org_id, key_id))

    def publish_agent_deleted(self, org_id: str, agent_id: str) -> None:
        """Tell every process, this one included, to close the sockets of a deleted agent."""
        self.broker.publish(agent_deletion_envelope(org_id, agent_id))

    async def check_revoked_keys(self) -> int:
        """Close this process's sockets of revoked keys and deleted agents; return how many."""
        dropped = await self.credentials.check_revoked_keys()
        return dropped + await self.credentials.check_deleted_agents()

    # Connections ----------------------------------------------------------------

    async def open_connection(
        self,
        principal: Principal,
        send: Sender,
        on_drop: Callable[[Connection, int, str], None],
        write_now: DirectWriter | None = None,
    ) -> Connection:
        """Register a socket, counted against its organization's limit (``RateLimited`` past it)."""
        try:
            slot = await self.connections.acquire(principal.org_id)
        except ServiceError:
            log.warning(
                "realtime socket refused: organization at its connection limit",
                extra={"organization_id": principal.org_id},
            )
            raise
        connection = Connection(
            ids.new_id("ws"),
            principal,
            send,
            queue_frames=self.settings.realtime_send_queue_frames,
            on_drop=on_drop,
            write_now=write_now,
        )
        connection.slot = slot
        self.hub.add(connection)
        self.credentials.watch(connection)
        try:
            await self._join_presence(connection)
        except BaseException:
            # The caller never receives this connection, so it cannot close it.
            await self.close_connection(connection)
            raise
        return connection

    async def _join_presence(self, connection: Connection) -> None:
        principal = connection.principal
        if principal.role != "agent" or not principal.agent_id:
            return
        try:
            count = await self.broker.join_presence(
                principal.org_id,
                principal.agent_id,
                connection.id,
                list(principal.mailbox_ids),
            )
        except ServiceError:
            count = 0  # the broker logged it; presence stays as it was
        if count == 1:
            await self._set_agent_status(principal.org_id, principal.agent_id, "online")
            self._publish_presence(
                principal.org_id, principal.agent_id, "online", count, principal.mailbox_ids
            )

    async def close_connection(self, connection: Connection) -> None:
        await connection.close()
        self.credentials.forget(connection)
        for channel in list(connection.typing):
            self.stop_typing(connection, channel)
        self.hub.remove(connection)
        principal = connection.principal
        if connection.slot is not None:
            await self.connections.release(connection.slot)
            connection.slot = None
        if principal.role == "agent" and principal.agent_id:
            count = await self.broker.leave_presence(
                principal.org_id, principal.agent_id, connection.id
            )
            if count == UNKNOWN_COUNT:
                self._recheck_after_refresh(
                    principal.org_id, principal.agent_id, list(principal.mailbox_ids)
                )
            elif count == 0:
                await self._set_agent_status(principal.org_id, principal.agent_id, "offline")
                self._publish_presence(
                    principal.org_id, principal.agent_id, "offline", count, principal.mailbox_ids
                )

    async def run_presence_sweep(self) -> None:
        """Run ``sweep_presence`` for the sweep loop, logging an outage through ``loop_outages``.

        The loop runs the sweep every few seconds. An outage of Redis or the
        database (``ServiceUnavailable``) gets one WARNING line when the first
        sweep fails and a summary at most once a minute. One INFO line follows
        when a sweep succeeds again.
        """
        try:
            await self.sweep_presence()
        except Exception as error:
            log_retried_failure(
                log,
                _PRESENCE_SWEEP_FAILED,
                error,
                retry=f"the presence sweep every {self.broker.sweep_seconds:g} s",
                outages=self.loop_outages,
            )
        else:
            self.loop_outages.recovery(_PRESENCE_SWEEP_FAILED, "realtime presence sweep recovered")

    async def sweep_presence(self) -> int:
        """Mark offline the agents whose last socket lease ran out; return how many.

        A lease runs out when the process holding the socket died without
        closing it. The agent is stored offline, which returns its handoffs
        to the queue when the routing policy requeues on offline, and the
        offline frame is sent.
        """
        marked = 0
        for org_id, agent_id, mailbox_ids in await self.broker.expired_presence():
            log.info(
                "agent socket leases expired; marking the agent offline",
                extra={"organization_id": org_id, "agent_id": agent_id},
            )
            if await self._mark_offline(org_id, agent_id, mailbox_ids):
                marked += 1
        if await self.broker.presence_check_due():
            marked += await self.expire_unleased_presence()
        return marked

    async def expire_unleased_presence(self) -> int:
        """Mark offline the online or away agents without a socket lease; return how many.

        The sweep runs this when the broker reports a due check, a lease
        period after Redis lost its keys.
        By then every live process has stored its sockets' leases again, so
        an agent without one had its sockets on a process that died
        meanwhile, and nothing else would ever mark it offline.

        An agent whose status a request set (``status_source`` is
        ``request``) keeps it, because it may have no socket at all.
        NOTE: so such an agent whose sockets died with a process during the
        loss also keeps its status, until it changes it or a socket of it closes.
        """
        present = await self.db.read(
            lambda tx: tx.all(
                "SELECT org_id, id FROM agents WHERE status IN ('online', 'away') "
                "AND status_source = :sockets ORDER BY org_id, id",
                sockets=routing_rules.STATUS_SET_BY_SOCKETS,
            )
        )
        marked = 0
        for row in present:
            org_id, agent_id = row["org_id"], row["id"]
            if await self.broker.presence_count(org_id, agent_id) > 0:
                continue
            log.info(
                "agent has no socket lease after Redis lost its keys; marking the agent offline",
                extra={"organization_id": org_id, "agent_id": agent_id},
            )
            # The token's mailbox ids were lost with the keys, so the offline
            # frame goes to every mailbox channel of the organization.
            if await self._mark_offline(org_id, agent_id, []):
                marked += 1
        return marked

    async def _mark_offline(self, org_id: str, agent_id: str, mailbox_ids: list[str]) -> bool:
        """Store the agent offline and announce it, unless a socket of it connected meanwhile."""
        await self._set_agent_status(org_id, agent_id, "offline")
        # A socket may have connected while the status was written. Its
        # online write may then have landed first, so write it again.
        if await self.broker.presence_count(org_id, agent_id) > 0:
            await self._set_agent_status(org_id, agent_id, "online")
            return False
        self._publish_presence(org_id, agent_id, "offline", 0, mailbox_ids)
        return True

    async def restore_presence(self, recreated: list[tuple[str, str, list[str]]]) -> None:
        """Announce online the agents whose lost leases a refresh created again.

        Another process may have stored such an agent offline while Redis
        held no lease of this process's sockets, so an offline agent is
        stored online again. An ``away`` agent stays away and is not announced.

        A closing socket whose lease Redis lost does not store its agent
        offline (``_recheck_after_refresh``). An agent reaches this stored
        offline when this process could not renew its leases for a whole
        lease period and the sweep expired them, or when Redis could not be
        reached as the agent's last socket on another process closed.

        NOTE: in that case the agent read offline until this runs, going
        offline may already have returned its routed handoffs to the queue,
        and an agent that was away before comes back online, not away.
        """
        for org_id, agent_id, mailbox_ids in recreated:
            count = await self.broker.presence_count(org_id, agent_id)
            if count == 0:
                continue
            log.info(
                "agent socket leases were missing in Redis and were created again",
                extra={"organization_id": org_id, "agent_id": agent_id},
            )
            # An agent without a record still gets the frame, as on connecting.
            if await self._restore_agent_status(org_id, agent_id) == "away":
                continue
            self._publish_presence(org_id, agent_id, "online", count, mailbox_ids)

    def _recheck_after_refresh(self, org_id: str, agent_id: str, mailbox_ids: list[str]) -> None:
        """Mark the agent offline after every process's next lease renewal, unless leased then.

        Redis lost the closing socket's lease, so a count of 0 may only mean
        that the other processes have not stored their sockets' leases again
        yet. Storing the agent offline now would lose an ``away`` status
        and could return its handoffs to the queue while its sockets are open.
        """

        async def recheck() -> None:
            await asyncio.sleep(self.broker.refresh_seconds + 1.0)
            try:
                if self.broker.holds_presence(org_id, agent_id):
                    return
                if await self.broker.presence_count(org_id, agent_id) > 0:
                    return
                log.info(
                    "agent has no socket lease after its last socket here closed; "
                    "marking the agent offline",
                    extra={"organization_id": org_id, "agent_id": agent_id},
                )
                await self._mark_offline(org_id, agent_id, mailbox_ids)
            except Exception:
                log.exception(
                    "agent presence recheck failed",
                    extra={"organization_id": org_id, "agent_id": agent_id},
                )

        task = asyncio.get_running_loop().create_task(recheck())
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    def _recheck_offline(self, envelope: dict[str, Any]) -> None:
        """Renew at once the leases of an agent announced offline while it has sockets here."""
        if envelope.get("status") != "offline":
            return
        org_id, agent_id = envelope.get("org"), envelope.get("agentId")
        if not isinstance(org_id, str) or not isinstance(agent_id, str):
            return
        if not self.broker.holds_presence(org_id, agent_id):
            return

        async def recheck() -> None:
            try:
                await self.restore_presence(await self.broker.refresh({(org_id, agent_id)}))
            except Exception:
                log.exception(
                    "agent presence recheck failed",
                    extra={"organization_id": org_id, "agent_id": agent_id},
                )

        task = asyncio.get_running_loop().create_task(recheck())
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    def _sole_process(self) -> bool:
        """Tell whether this process is the only one serving its database.

        That holds for one worker on SQLite without Redis. Several servers
        may share a PostgreSQL database without Redis, so there a start-up
        cannot tell stale presence from another server's live sockets, and
        the leases of ``DatabasePresenceBroker`` clear it once they expire.
        """
        return (
            isinstance(self.broker, InProcessBroker)
            and self.settings.workers == 1
            and self.db.dialect == "sqlite"
        )

    async def clear_stale_presence(self) -> int:
        """Store every online agent as offline at start-up; return how many.

        The in-process broker keeps socket presence in memory, so after a
        crash nothing else marks offline the agents whose sockets died with
        the process. In the sole process no socket is open yet, so every
        online status is stale, including one set by a PATCH; such an agent
        comes online again when its inbox reconnects or by another PATCH. A
        database that cannot be read (say, not migrated yet) is logged and
        skipped, so ``/readyz`` can report it.
        """
        try:
            online = await self.db.read(
                lambda tx: tx.all(
                    "SELECT org_id, id FROM agents WHERE status = 'online' ORDER BY org_id, id"
                )
            )
        except Exception as error:  # any database failure; start-up must go on
            log.warning(
                "stale agent presence not cleared: reading the agents failed",
                extra={"error": f"{type(error).__name__}: {error}"},
            )
            return 0
        for row in online:
            await self._set_agent_status(row["org_id"], row["id"], "offline")
        if online:
            log.info(
                "agents online before start-up marked offline, because no socket is open yet",
                extra={"agents": len(online)},
            )
        return len(online)

    async def _set_agent_status(self, org_id: str, agent_id: str, status: str) -> None:
        """Record the agent's presence for routing; an agent without a record only gets frames."""
        await self._write_agent_status(
            org_id,
            agent_id,
            lambda tx: routing_actions.set_agent_status(
                tx, org_id=org_id, agent_id=agent_id, status=status
            ),
        )

    async def _restore_agent_status(self, org_id: str, agent_id: str) -> str | None:
        """Store online an agent stored offline; return its status, or None if unknown."""
        return await self._write_agent_status(
            org_id,
            agent_id,
            lambda tx: routing_actions.restore_agent_online(tx, org_id=org_id, agent_id=agent_id),
        )

    async def _write_agent_status(
        self, org_id: str, agent_id: str, action: Callable[[Any], Any]
    ) -> Any:
        """Run a presence write under the routing lock; a service error is logged and gives None."""
        try:
            return await self.db.write(action, order_key=lock_order.routing(org_id))
        except NotFound:
            log.info(
                "agent socket without an agent record; status not stored",
                extra={"organization_id": org_id, "agent_id": agent_id},
            )
        except ServiceError as error:
            log.warning(
                "agent status update failed",
                extra={"organization_id": org_id, "agent_id": agent_id, "error": error.message},
            )
        return None

    def _publish_presence(
        self,
        org_id: str,
        agent_id: str,
        status: str,
        count: int,
        mailbox_ids: Iterable[str],
    ) -> None:
        self.broker.publish(
            {
                "kind": "presence",
                "org": org_id,
                "agentId": agent_id,
                "status": status,
                "connections": count,
                "mailboxIds": list(mailbox_ids),
                "ts": clock.now_ms(),
            }
        )

    # Typing ------------------------------------------------------------------

    def publish_typing(self, connection: Connection, channel: str, is_typing: bool) -> None:
        """Relay a typing frame; a ``true`` expires into ``false`` unless refreshed in time.

        The ``false`` of an expiry is sent by the hub of every process that
        relayed the ``true``, so it comes even when this process dies. Here
        the socket only stops counting as typing, so that closing it later
        sends no second ``false``.
        """
        timer = connection.typing.pop(channel, None)
        if timer is not None:
            timer.cancel()
        if is_typing:
            connection.typing[channel] = asyncio.get_running_loop().call_later(
                self.settings.realtime_typing_ttl_seconds, connection.typing.pop, channel, None
            )
        self._publish_typing(connection, channel, is_typing)

    @asynccontextmanager
    async def typing_indicator(
        self, org_id: str, conversation_id: str, *, author_id: str = "ai", author_type: str = "ai"
    ) -> AsyncIterator[None]:
        """Show a server-side author (the AI) typing on a conversation while the block runs.

        ``isTyping: false`` follows when the block ends, whether it returned,
        raised or was cancelled, so the indicator never stays on. The ``true``
        is sent again every half typing lifetime, because every process's hub
        expires a ``true`` that is not refreshed.
        """
        interval = self.settings.realtime_typing_ttl_seconds / 2

        async def refresh() -> None:
            while True:
                await asyncio.sleep(interval)
                self._publish_server_typing(org_id, conversation_id, author_id, author_type, True)

        self._publish_server_typing(org_id, conversation_id, author_id, author_type, True)
        refresher = asyncio.get_running_loop().create_task(refresh())
        try:
            yield
        finally:
            refresher.cancel()
            self._publish_server_typing(org_id, conversation_id, author_id, author_type, False)

    def _publish_server_typing(
        self, org_id: str, conversation_id: str, author_id: str, author_type: str, is_typing: bool
    ) -> None:
        self.broker.publish(
            {
                "kind": "typing",
                "org": org_id,
                "channel": f"conversation:{conversation_id}",
                "authorId": author_id,
                "authorType": author_type,
                "isTyping": is_typing,
                "origin": None,
                "ts": clock.now_ms(),
            }
        )

    def stop_typing(self, connection: Connection, channel: str) -> None:
        """Relay ``isTyping: false`` if the socket is typing on ``channel``."""
        timer = connection.typing.pop(channel, None)
        if timer is None:
            return
        timer.cancel()
        self._publish_typing(connection, channel, False)

    def _publish_typing(self, connection: Connection, channel: str, is_typing: bool) -> None:
        author_id, author_type = author_of(connection.principal)
        self.broker.publish(
            {
                "kind": "typing",
                "org": connection.principal.org_id,
                "channel": channel,
                "authorId": author_id,
                "authorType": author_type,
                "isTyping": is_typing,
                "origin": connection.id,
                "ts": clock.now_ms(),
            }
        )

    # Background loops -------------------------------------------------------------

    async def _sweep_loop(self) -> None:
        loop = asyncio.get_running_loop()
        next_refresh = loop.time() + self.broker.refresh_seconds
        next_presence_sweep = loop.time() + self.broker.sweep_seconds
        next_revocation_check = loop.time() + REVOCATION_CHECK_SECONDS
        while True:
            await asyncio.sleep(SWEEP_SECONDS)
            now = loop.time()
            try:
                self.hub.sweep(now)
                if self.log_tail is not None:
                    # Also keeps the horizon of GET /events fresh when no envelope arrives.
                    self.log_tail.wake()
                if now >= next_refresh:
                    next_refresh = now + self.broker.refresh_seconds
                    await self.restore_presence(await self.broker.refresh())
            except Exception as error:
                log_retried_failure(
                    log,
                    _SWEEP_FAILED,
                    error,
                    retry=f"the sweep in {SWEEP_SECONDS:g} s",
                    outages=self.loop_outages,
                )
            else:
                self.loop_outages.recovery(_SWEEP_FAILED, "realtime sweep recovered")
            if now >= next_presence_sweep:
                next_presence_sweep = now + self.broker.sweep_seconds
                await self.run_presence_sweep()
            if now >= next_revocation_check:
                next_revocation_check = now + REVOCATION_CHECK_SECONDS
                try:
                    await self.check_revoked_keys()
                except Exception as error:
                    log_retried_failure(
                        log,
                        _REVOCATION_CHECK_FAILED,
                        error,
                        retry=f"the check in {REVOCATION_CHECK_SECONDS:g} s",
                        outages=self.loop_outages,
                    )
                else:
                    self.loop_outages.recovery(
                        _REVOCATION_CHECK_FAILED, "realtime revocation check recovered"
                    )

    async def _prune_loop(self) -> None:
        # Processes that started together should not all prune at the same moment.
        await asyncio.sleep(random.uniform(30.0, 90.0))
        while True:
            with suppress(Exception):
                await self.prune()
            await asyncio.sleep(PRUNE_INTERVAL_SECONDS * random.uniform(0.9, 1.1))

    async def prune(self) -> int:
        """Delete the events no channel needs any more; return how many were deleted."""
        cutoff = clock.now_ms() - int(self.settings.event_retention_hours * 3_600_000)
        keep = self.settings.event_retention_min_events
        deleted = 0
        try:
            while True:
                count = await self.db.write(
                    lambda tx: prune_events(tx, cutoff_ms=cutoff, keep=keep, batch=PRUNE_BATCH)
                )
                deleted += count
                if count < PRUNE_BATCH:
                    break
        except Exception as error:
            log_retried_failure(
                log,
                "event log pruning failed",
                error,
                retry="the pruning in about an hour",
                extra={"deleted": deleted},
            )
            raise
        if deleted:
            log.info("event log pruned", extra={"deleted": deleted})
        return deleted


@asynccontextmanager
async def lifespan(app: Any) -> AsyncIterator[None]:
    rate_limits = getattr(app.state, "rate_limits", None)
    service = RealtimeService(
        app.state.settings,
        app.state.db,
        connections=getattr(rate_limits, "connections", None),
    )
    app.state.realtime = service
    # A revocation heard from another process drops this process's cached
    # copies of keys and publishable-key origins at once.
    key_cache = getattr(app.state, "key_cache", None)
    if key_cache is not None:
        service.revocation_listeners.append(lambda key_id: key_cache.clear())
    origins = getattr(app.state, "origins", None)
    if origins is not None:
        service.revocation_listeners.append(lambda key_id: origins.invalidate())
    await service.start()
    try:
        yield
    finally:
        await service.stop()
