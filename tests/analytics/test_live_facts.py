"""Facts kept by each write equal the facts derived from the whole history."""

from __future__ import annotations

import asyncio
import logging
import threading

from campfire_server import clock
from campfire_server.analytics import backfill, facts, rollups, wait_bins
from campfire_server.analytics.stream import AI, HUMAN_SERIES

from .conftest import ms

NOW = "2024-06-01T00:00:00Z"


async def snapshot(db, org_id):
    """Return every facts row, wait, rollup row and wait count of the organization, in order."""

    def work(tx):  # type: ignore[no-untyped-def]
        rows = tx.all(
            "SELECT * FROM analytics_facts WHERE org_id = :org_id ORDER BY conversation_id",
            org_id=org_id,
        )
        waits = tx.all(
            "SELECT conversation_id, series, answered, reply_kind, ms, bin, created_at, mailbox_id "
            "FROM analytics_waits WHERE org_id = :org_id "
            "ORDER BY conversation_id, series, answered",
            org_id=org_id,
        )
        totals = tx.all(
            "SELECT * FROM analytics_rollups WHERE org_id = :org_id "
            "ORDER BY slot_start, mailbox_id",
            org_id=org_id,
        )
        bins = tx.all(
            "SELECT * FROM analytics_wait_bins WHERE org_id = :org_id "
            "ORDER BY slot_start, mailbox_id, bin",
            org_id=org_id,
        )
        return rows, waits, totals, bins

    return await db.read(work)


async def rollups_from_facts(db, org_id):
    """Group the organization's facts rows by hour and mailbox, as the rollups should be."""
    slot = f"(x.created_at - x.created_at % {rollups.SLOT_MS})"
    return await db.read(
        lambda tx: tx.all(
            f"SELECT x.org_id, {slot} AS slot_start, x.mailbox_id, {rollups.FACTS_TOTALS_SQL} "
            f"FROM analytics_facts x WHERE x.org_id = :org_id "
            f"GROUP BY x.org_id, {slot}, x.mailbox_id ORDER BY slot_start, x.mailbox_id",
            org_id=org_id,
        )
    )


def bins_from_waits(waits, org_id):
    """Count wait rows per hour, mailbox and bin, as ``analytics_wait_bins`` should."""
    counts = {}
    for wait in waits:
        key = (int(wait["created_at"]) // rollups.SLOT_MS * rollups.SLOT_MS, wait["mailbox_id"])
        row = counts.setdefault(
            (*key, int(wait["bin"])),
            {"n_reply": 0, "n_first": 0, "n_ai": 0, "n_human": 0},
        )
        if int(wait["series"]) == HUMAN_SERIES:
            row["n_human"] += 1
            continue
        row["n_reply"] += 1
        row["n_first"] += int(wait["answered"]) == 1
        row["n_ai"] += int(wait["reply_kind"]) == AI
    return [
        {"org_id": org_id, "slot_start": slot, "mailbox_id": mailbox, "bin": number, **row}
        for (slot, mailbox, number), row in sorted(counts.items())
    ]


def numbers(rows):
    """Compare rollup rows by value, whatever numeric type each engine returns."""
    return [
        {key: value if isinstance(value, str) else float(value) for key, value in row.items()}
        for row in rows
    ]


async def mixed_history(history):
    """Write conversations whose items arrive in and out of stream order.

    P: two waits, a private note, a handoff, a changed rating, a reopen.
    Q: resolved, then a customer message in the same millisecond, which the
       stream sorts after the resolution, as it was stored.
    R: an agent reply, then a customer message in the same millisecond,
       which the stream sorts after the reply, then an AI reply.
    S: customer messages only, still waiting.
    """
    history.at(ms("2024-05-30T09:00:00Z"))
    p = await history.conversation()
    await history.say(p, "customer")
    history.later(5)
    await history.say(p, "customer")
    history.later(20)
    await history.say(p, "ai")
    history.later(40)
    await history.say(p, "customer")
    await history.hand_off(p)
    history.later(15)
    await history.say(p, "agent", private=True)
    history.later(100)
    await history.say(p, "agent")
    await history.resolve(p)
    await history.rate(p, 2)
    history.later(3_600)
    await history.say(p, "customer")
    history.later(30)
    await history.say(p, "agent")
    await history.resolve(p)
    await history.rate(p, 4)

    history.at(ms("2024-05-30T10:00:00Z"))
    q = await history.conversation()
    await history.say(q, "customer")
    history.later(12)
    await history.say(q, "ai")
    history.later(8)
    await history.resolve(q)
    await history.say(q, "customer")
    history.later(50)
    await history.say(q, "agent")

    history.at(ms("2024-05-30T11:00:00Z"))
    r = await history.conversation()
    await history.say(r, "agent")
    await history.say(r, "customer")
    history.later(10)
    await history.say(r, "ai")

    history.at(ms("2024-05-30T12:00:00Z"))
    s = await history.conversation()
    await history.say(s, "customer")
    history.later(90)
    await history.say(s, "customer")
    history.at(NOW)
    return p, q, r, s


async def test_live_facts_equal_rebuilt(history, db, tenant):
    ids = await mixed_history(history)
    live = await snapshot(db, tenant.org_id)
    await db.write(lambda tx: facts.rebuild(tx, list(ids)))
    rebuilt = await snapshot(db, tenant.org_id)
    assert len(live[0]) == 4
    assert live[0] == rebuilt[0]
    assert live[1] == rebuilt[1]
    assert numbers(live[2]) == numbers(rebuilt[2])
    assert numbers(live[2]) == numbers(await rollups_from_facts(db, tenant.org_id))
    assert numbers(live[3]) == numbers(rebuilt[3])
    assert numbers(live[3]) == numbers(bins_from_waits(live[1], tenant.org_id))
    assert all(wait["bin"] == wait_bins.wait_bin(int(wait["ms"])) for wait in live[1])


async def test_live_facts_hand_computed(history, db, tenant):
    p, q, r, s = await mixed_history(history)
    rows, _waits, _totals, _bins = await snapshot(db, tenant.org_id)
    by_id = {row["conversation_id"]: row for row in rows}

    # P: waits of 25 s (AI), 115 s and 30 s (agent); the human series
    # ignores the AI reply, so it waits 180 s for the first agent reply, then 30 s.
    assert (by_id[p]["reply_waits"], by_id[p]["reply_ms"]) == (3, 170_000)
    assert (by_id[p]["ai_waits"], by_id[p]["ai_ms"]) == (1, 25_000)
    assert (by_id[p]["human_waits"], by_id[p]["human_ms"]) == (2, 210_000)
    assert by_id[p]["first_human_response_ms"] == 180_000
    assert by_id[p]["rating"] == 4
    assert by_id[p]["handoff_at"] == ms("2024-05-30T09:01:05Z")
    assert by_id[p]["agent_at"] == ms("2024-05-30T09:01:20Z")

    # Q: the customer message stored after the resolution in its millisecond
    # opens a wait of both series, and the agent replies 50 s later.
    assert (by_id[q]["reply_waits"], by_id[q]["reply_ms"]) == (2, 62_000)
    assert (by_id[q]["human_waits"], by_id[q]["human_ms"]) == (1, 50_000)
    assert by_id[q]["first_human_response_ms"] == 50_000
    assert by_id[q]["reply_wait_from"] is None
    assert by_id[q]["resolved_at"] == ms("2024-05-30T10:00:20Z")

    # R: the customer message stored after the agent reply of its millisecond
    # waits for the AI reply 10 s later, and still for a human.
    assert (by_id[r]["reply_waits"], by_id[r]["reply_ms"]) == (1, 10_000)
    assert by_id[r]["first_response_ms"] == 10_000
    assert by_id[r]["first_reply_kind"] == AI
    assert by_id[r]["human_waits"] == 0
    assert by_id[r]["human_wait_from"] == ms("2024-05-30T11:00:00Z")

    # S: one wait, still open, from the first customer message.
    assert by_id[s]["reply_waits"] == 0
    assert by_id[s]["reply_wait_from"] == ms("2024-05-30T12:00:00Z")
    assert by_id[s]["human_wait_from"] == ms("2024-05-30T12:00:00Z")


async def test_live_facts_exact_in_one_group(history, db, tenant):
    # Messages queued behind a busy writer commit together, so a customer
    # message's facts check runs after the later works of its group.
    history.at(ms("2024-05-30T09:00:00Z"))
    imported = await history.conversation()
    await history.say(imported, "customer")
    resolved = await history.conversation(customer_id="customer_b")
    await history.say(resolved, "customer")
    history.later(10)
    await history.say(resolved, "ai")
    await history.resolve(resolved)
    await db.write(
        lambda tx: tx.execute(
            "DELETE FROM analytics_facts WHERE conversation_id = :id", id=imported
        )
    )

    release, holding = threading.Event(), threading.Event()

    def hold(tx):  # type: ignore[no-untyped-def]
        holding.set()
        release.wait(5)

    held = asyncio.ensure_future(db.write(hold))
    await asyncio.to_thread(holding.wait, 5)
    # The conversation without a facts row gets two customer messages. The
    # other gets one in the millisecond of its resolution, which the stream
    # sorts before the resolution. Only the facts check derives either again.
    queued = [
        asyncio.ensure_future(history.say(imported, "customer")),
        asyncio.ensure_future(history.say(resolved, "customer")),
        asyncio.ensure_future(history.say(imported, "customer")),
    ]
    await asyncio.sleep(0.1)
    release.set()
    await held
    await asyncio.gather(*queued)

    live = await snapshot(db, tenant.org_id)
    await db.write(lambda tx: facts.rebuild(tx, [imported, resolved]))
    rebuilt = await snapshot(db, tenant.org_id)
    assert len(live[0]) == 2
    assert live[0] == rebuilt[0]
    assert live[1] == rebuilt[1]
    assert numbers(live[2]) == numbers(rebuilt[2])
    assert numbers(live[2]) == numbers(await rollups_from_facts(db, tenant.org_id))


class _TickingClock(clock.FrozenClock):
    """A clock that moves one millisecond forward each time it is read."""

    def now_ms(self) -> int:
        self._now_ms += 1
        return self._now_ms


async def test_live_facts_group_repeats_conversations(history, db, tenant, caplog):  # type: ignore[no-untyped-def]
    # On PostgreSQL the facts updates of a group's customer messages share
    # merged statements, except a second update of one conversation's row.
    # A message that names its author takes the one-statement write there.
    history.at(ms("2024-05-30T09:00:00Z"))
    first = await history.conversation()
    second = await history.conversation(customer_id="customer_b")
    third = await history.conversation(customer_id="customer_c")
    customers = {first: "customer_a", second: "customer_b", third: "customer_c"}
    history.later(5)
    await history.say(second, "ai")

    release, holding = threading.Event(), threading.Event()

    def hold(tx):  # type: ignore[no-untyped-def]
        holding.set()
        release.wait(5)

    held = asyncio.ensure_future(db.write(hold))
    await asyncio.to_thread(holding.wait, 5)
    # Each message of the group gets a later millisecond than the one
    # before, so a lost update of a repeated conversation's row would show.
    previous = clock.set_clock(_TickingClock(history.clock.now_ms()))
    try:
        order = [first, second, first, third, second, first]
        queued = [
            asyncio.ensure_future(history.say(item, "customer", author_id=customers[item]))
            for item in order
        ]
        await asyncio.sleep(0.1)
        release.set()
        await held
        with caplog.at_level(logging.DEBUG, logger="campfire_server.analytics.live"):
            await asyncio.gather(*queued)
    finally:
        clock.set_clock(previous)

    # Every update found its row, so none of the facts was derived again.
    assert "analytics facts derived again" not in caplog.messages

    live = await snapshot(db, tenant.org_id)
    await db.write(lambda tx: facts.rebuild(tx, [first, second, third]))
    rebuilt = await snapshot(db, tenant.org_id)
    assert len(live[0]) == 3
    assert live[0] == rebuilt[0]
    assert live[1] == rebuilt[1]
    assert numbers(live[2]) == numbers(rebuilt[2])


async def test_backfill_fills_imported_rows(history, db, tenant):
    history.at(ms("2024-05-30T09:00:00Z"))
    conversation = await history.conversation()
    await history.say(conversation, "customer")
    history.later(20)
    await history.say(conversation, "ai")
    await history.resolve(conversation)
    live = await snapshot(db, tenant.org_id)

    # An import that writes rows directly leaves the derived tables empty.
    def drop_facts(tx):  # type: ignore[no-untyped-def]
        tx.execute("DELETE FROM analytics_waits WHERE org_id = :org_id", org_id=tenant.org_id)
        tx.execute("DELETE FROM analytics_facts WHERE org_id = :org_id", org_id=tenant.org_id)
        tx.execute("DELETE FROM analytics_rollups WHERE org_id = :org_id", org_id=tenant.org_id)
        tx.execute("DELETE FROM analytics_wait_bins WHERE org_id = :org_id", org_id=tenant.org_id)
        return facts.count_missing(tx)

    assert await db.write(drop_facts) >= 1
    written = await asyncio.to_thread(backfill.rebuild_facts, db)
    assert written >= 1
    assert await db.read(facts.count_missing) == 0
    assert await snapshot(db, tenant.org_id) == live

    history.at(NOW)
    body = await history.metrics(period="7d", metrics="response_time,resolution_rate")
    assert body["metrics"]["response_time"]["average"] == 20.0
    assert body["metrics"]["resolution_rate"]["ai_resolution"] == 1.0


async def test_same_millisecond_follows_seq(history, db, tenant):
    """Messages of one millisecond count in the order they were stored, live and rebuilt."""
    history.at(ms("2024-05-30T09:00:00Z"))
    conversation = await history.conversation()
    # A proactive agent message, then the customer's question in the same millisecond.
    await history.say(conversation, "agent")
    await history.say(conversation, "customer")
    history.later(60)
    await history.say(conversation, "agent")
    history.at(NOW)

    live = await snapshot(db, tenant.org_id)
    body = await history.metrics(period="7d", metrics="first_response_time,human_response_time")
    await db.write(lambda tx: facts.rebuild(tx, [conversation]))
    rebuilt = await snapshot(db, tenant.org_id)

    row = live[0][0]
    assert row["first_response_ms"] == 60_000
    assert row["first_human_response_ms"] == 60_000
    assert row["reply_wait_from"] is None
    assert live[0] == rebuilt[0]
    assert live[1] == rebuilt[1]
    first = body["metrics"]["first_response_time"]
    assert (first["average"], first["sampleSize"]) == (60.0, 1)
    human = body["metrics"]["human_response_time"]
    assert (human["average"], human["sampleSize"]) == (60.0, 1)
