"""The auto-reply setting that each customer message's event looks up."""

from __future__ import annotations

import asyncio
from typing import Any

from campfire_server.assistant.actions import AutoReplier
from campfire_server.db.database import Database
from campfire_server.events import records
from campfire_server.events.records import EventRecord


class _CountedReads:
    """The database's reads, counted, each held long enough for others to overlap it."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.reads = 0

    async def read(self, work: Any) -> Any:
        self.reads += 1
        await asyncio.sleep(0.05)
        return await self.db.read(work)


def _customer_message(tenant: Any) -> EventRecord:
    return EventRecord(
        position=0,
        id="evt_test",
        org_id=tenant.org_id,
        type=records.MESSAGE_SENT,
        data={"message": {"id": "msg_test", "authorType": "customer", "private": False}},
        created_at=0,
        conversation_id="conv_test",
        mailbox_id=tenant.mailbox_id,
        sequence=1,
    )


async def test_concurrent_misses_read_setting_once(db, tenant):
    counted = _CountedReads(db)
    replier = AutoReplier(counted, engine=None)  # type: ignore[arg-type]

    results = await asyncio.gather(
        *(replier._auto_reply_on(tenant.org_id, tenant.mailbox_id) for _ in range(10))
    )

    assert results == [False] * 10
    assert counted.reads == 1


async def test_cached_setting_off_starts_no_task(db, tenant):
    counted = _CountedReads(db)
    replier = AutoReplier(counted, engine=None)  # type: ignore[arg-type]
    first = replier.on_event(_customer_message(tenant))
    assert first is not None
    await first

    second = replier.on_event(_customer_message(tenant))

    assert second is None
    assert counted.reads == 1
