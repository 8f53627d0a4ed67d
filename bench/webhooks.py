"""Benchmark webhook emission and delivery.

1. What webhooks add to ``POST .../messages``: the same requests without
   the worker's wake-up listener (the bare baseline), with it and no webhook
   in the organization, with one webhook that matches every message, and
   with that webhook served the previous way (a delivery row inserted in the
   emitting transaction). The worker loop is not running, so only what a
   POST pays is timed; the fan-out that the worker then runs for the
   "one webhook" events is timed on its own.
2. Events per second that one in-process worker fans out and delivers to a
   local receiver (a separate process on 127.0.0.1 answering 200 at once).

The figures go into the "webhooks" section of BENCHMARKS.md.

Usage: python bench/webhooks.py [--requests 300] [--rounds 5] [--events 2000]
       [--postgres postgresql://postgres@127.0.0.1:5432/test] [--no-write]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from ports import free_port  # noqa: E402
from report import machine, write_section  # noqa: E402

from campfire_server.app import create_app
from campfire_server.auth import keys
from campfire_server.config import Settings
from campfire_server.db import migrate
from campfire_server.db.database import Database, open_database
from campfire_server.events import bus, records
from campfire_server.events import emit as emit_module
from campfire_server.organizations import actions as org_actions
from campfire_server.organizations.schemas import MailboxCreate
from campfire_server.routing import actions as routing_actions
from campfire_server.routing.schemas import AgentCreate
from campfire_server.webhooks import actions, fanout
from campfire_server.webhooks.delivery import DeliveryWorker, fan_out_all, new_http_client
from campfire_server.webhooks.schemas import WebhookCreate

RECEIVER = r"""
import asyncio, sys

RESPONSE = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Type: text/plain\r\n\r\nok"

async def serve(reader, writer):
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n"):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":", 1)[1])
            if length:
                await reader.readexactly(length)
            writer.write(RESPONSE)
            await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError):
        writer.close()

async def main():
    server = await asyncio.start_server(serve, "127.0.0.1", int(sys.argv[1]))
    async with server:
        await server.serve_forever()

asyncio.run(main())
"""


def settings_for(url: str, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "env": "development",
        "database_url": url,
        "log_level": "WARNING",
        "log_format": "text",
        "webhook_worker": False,
        # The limiter still runs on every request; its limits are raised so the
        # rounds measure the write path rather than 429s.
        "rate_limit_requests_per_minute": 100_000_000,
        "rate_limit_messages_per_minute": 100_000_000,
    }
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


# The agent that writes the benchmark's agent messages, one per organization.
BENCH_AGENT_ID = "agent_bench"


def make_org(db: Database, name: str) -> tuple[str, str]:
    def work(tx):  # type: ignore[no-untyped-def]
        org_id = org_actions.create_organization(tx, name=name)
        issued = keys.create_key(tx, org_id=org_id, name="bench", role="admin")
        org_actions.create_mailbox(tx, org_id, MailboxCreate(id="mailbox_bench", name="Bench"))
        routing_actions.create_agent(tx, org_id, AgentCreate(id=BENCH_AGENT_ID, name="Bench Agent"))
        return org_id, issued.key

    return db.write_sync(work)


async def post_messages(
    client: httpx.AsyncClient, key: str, conversation_id: str, count: int, concurrency: int
) -> tuple[float, float]:
    """Return the mean wall and CPU time per message POST, in microseconds.

    CPU time counts every thread of this process (the event loop and the
    database threads), so other load on the machine disturbs it less.
    """
    headers = {"Authorization": f"Bearer {key}"}
    gate = asyncio.Semaphore(concurrency)

    async def one(index: int) -> None:
        async with gate:
            response = await client.post(
                f"/conversations/{conversation_id}/messages",
                json={
                    "content": f"benchmark message {index}",
                    "authorType": "agent",
                    "authorId": BENCH_AGENT_ID,
                },
                headers=headers,
            )
            assert response.status_code == 201, response.text

    started, cpu_started = time.perf_counter(), time.process_time()
    await asyncio.gather(*(one(index) for index in range(count)))
    wall = (time.perf_counter() - started) / count * 1e6
    return wall, (time.process_time() - cpu_started) / count * 1e6


def previous_design_hook(tx, record):  # type: ignore[no-untyped-def]
    """Queue deliveries inside the emitting transaction, as the product did before the fan-out.

    Kept here only as the comparison: the same INSERT ... SELECT on
    PostgreSQL, and an indexed SELECT then one INSERT per match on SQLite.
    """
    payload = json.dumps(record.payload(), ensure_ascii=False, separators=(",", ":"))
    now = record.created_at
    if tx.dialect == "postgresql":
        tx.execute(
            "INSERT INTO webhook_deliveries (id, webhook_id, org_id, event_id, event_type, "
            "payload, status, attempts, next_attempt_at, created_at, updated_at) "
            "SELECT :prefix || SUBSTR(id, 4), id, org_id, :event_id, :event_type, :payload, "
            "'pending', 0, :now, :now, :now FROM webhooks WHERE org_id = :org_id "
            "AND enabled = :enabled AND (events LIKE :wildcard OR events LIKE :quoted)",
            prefix=fanout.delivery_id(record.id, ""),
            event_id=record.id,
            event_type=record.type,
            payload=payload,
            now=now,
            org_id=record.org_id,
            enabled=True,
            wildcard='%"*"%',
            quoted=f'%"{record.type}"%',
        )
        return
    rows = tx.all(
        "SELECT id, events FROM webhooks WHERE org_id = :org_id AND enabled = :enabled",
        org_id=record.org_id,
        enabled=True,
    )
    for row in rows:
        events = json.loads(row["events"])
        if "*" in events or record.type in events:
            tx.execute(
                "INSERT INTO webhook_deliveries (id, webhook_id, org_id, event_id, event_type, "
                "payload, status, attempts, next_attempt_at, created_at, updated_at) VALUES "
                "(:id, :webhook_id, :org_id, :event_id, :event_type, :payload, 'pending', 0, "
                ":now, :now, :now)",
                id=fanout.delivery_id(record.id, row["id"]),
                webhook_id=row["id"],
                org_id=record.org_id,
                event_id=record.id,
                event_type=record.type,
                payload=payload,
                now=now,
            )


LABELS = ("bare", "no webhook", "one webhook", "one webhook, previous design")
FAN_OUT_HEADER = (
    '| engine | events read | deliveries queued | "one webhook" events left without one '
    "| wall µs/delivery | CPU µs/delivery | of bare POST CPU |\n"
    "| --- | --- | --- | --- | --- | --- | --- |"
)


async def bench_emission(url: str, requests: int, rounds: int, concurrency: int) -> dict:
    db = open_database(url)
    app = create_app(settings_for(url), db=db)
    orgs = {label: make_org(db, label) for label in LABELS}
    for label in ("one webhook", "one webhook, previous design"):
        org_id = orgs[label][0]
        db.write_sync(
            lambda tx, org_id=org_id: actions.create_webhook(
                tx, org_id, WebhookCreate(url="http://127.0.0.1:9/unused", events=["*"])
            )
        )
    # The in-process worker's wake-up listener, with the worker loop itself not
    # running: only what a POST pays is timed, and the fan-out is timed apart.
    settings = settings_for(url)
    sender = new_http_client(settings)
    worker = DeliveryWorker(db, settings, sender)
    await worker.refresh_index()
    listener_seconds = {"total": 0.0, "calls": 0}

    def timed_listener(record):  # type: ignore[no-untyped-def]
        started = time.perf_counter()
        worker.on_event(record)
        listener_seconds["total"] += time.perf_counter() - started
        listener_seconds["calls"] += 1

    timings: dict[str, list[tuple[float, float]]] = {label: [] for label in LABELS}
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://b/api/v2") as client:
            conversations = {}
            for label, (_org_id, key) in orgs.items():
                response = await client.post(
                    "/conversations",
                    json={"customerId": "bench", "mailboxId": "mailbox_bench"},
                    headers={"Authorization": f"Bearer {key}"},
                )
                conversations[label] = (key, response.json()["id"])
            await post_messages(client, orgs["bare"][1], conversations["bare"][1], 50, concurrency)
            await fan_out_all(db)
            logged_before = db.read_sync(lambda tx: tx.value("SELECT COUNT(*) AS n FROM events"))
            calls_before = listener_seconds["calls"]
            order = list(conversations)
            for _ in range(rounds):
                # A new order each round, so drifting machine load favours no configuration.
                random.shuffle(order)
                for label in order:
                    key, conversation_id = conversations[label]
                    unsubscribe = bus.subscribe(timed_listener) if label != "bare" else None
                    if label == "one webhook, previous design":
                        emit_module.register_tx_hook(previous_design_hook)
                    try:
                        timings[label].append(
                            await post_messages(client, key, conversation_id, requests, concurrency)
                        )
                    finally:
                        if unsubscribe is not None:
                            unsubscribe()
                        if previous_design_hook in emit_module._tx_hooks:
                            emit_module._tx_hooks.remove(previous_design_hook)

    # What the rounds left to the worker: the fan-out of every event they
    # logged, which queues deliveries for the "one webhook" ones. Timed alone.
    unread = db.read_sync(lambda tx: tx.value("SELECT COUNT(*) AS n FROM events")) - logged_before
    # The listener runs in three of the four configurations.
    events_per_post = (listener_seconds["calls"] - calls_before) / (3 * rounds * requests)
    started, cpu_started = time.perf_counter(), time.process_time()
    queued = await fan_out_all(db)
    fan_out_wall = (time.perf_counter() - started) / max(1, queued) * 1e6
    fan_out_cpu = (time.process_time() - cpu_started) / max(1, queued) * 1e6
    # Every "one webhook" event must now have its delivery; a gap here is a bug.
    undelivered = db.read_sync(
        lambda tx: tx.value(
            "SELECT COUNT(*) AS n FROM events e WHERE e.org_id = :org AND NOT EXISTS "
            "(SELECT 1 FROM webhook_deliveries d WHERE d.event_id = e.id)",
            org=orgs["one webhook"][0],
        )
    )
    # Nothing listens on the webhooks' URL; keep their rows away from the delivery run.
    db.write_sync(
        lambda tx: tx.execute(
            "DELETE FROM webhook_deliveries WHERE webhook_id IN "
            "(SELECT id FROM webhooks WHERE url = 'http://127.0.0.1:9/unused')"
        )
    )
    await sender.aclose()
    await db.close()
    medians = {
        label: (statistics.median(v[0] for v in values), statistics.median(v[1] for v in values))
        for label, values in timings.items()
    }
    listener_us = listener_seconds["total"] / max(1, listener_seconds["calls"]) * 1e6
    return {
        "medians_us": medians,
        "listener_us": listener_us,
        "events_per_post": events_per_post,
        "fan_out": {
            "events": unread,
            "deliveries": queued,
            "wall_us": fan_out_wall,
            "cpu_us": fan_out_cpu,
            "undelivered": undelivered,
        },
    }


async def bench_delivery(url: str, events: int, receiver_port: int) -> float:
    db = open_database(url)
    org_id, _key = make_org(db, "delivery")
    db.write_sync(
        lambda tx: actions.create_webhook(
            tx, org_id, WebhookCreate(url=f"http://127.0.0.1:{receiver_port}/hook", events=["*"])
        )
    )

    def emit_batch(tx):  # type: ignore[no-untyped-def]
        for n in range(100):
            emit_module.emit(tx, org_id=org_id, type=records.MESSAGE_SENT, data={"n": n})

    for _ in range(events // 100):
        db.write_sync(emit_batch)
    settings = settings_for(url, webhook_concurrency=16)
    client = new_http_client(settings)
    worker = DeliveryWorker(db, settings, client)

    def delivered(tx):  # type: ignore[no-untyped-def]
        return tx.value(
            "SELECT COUNT(*) AS n FROM webhook_deliveries WHERE org_id = :org "
            "AND status = 'succeeded'",
            org=org_id,
        )

    started = time.perf_counter()
    task = asyncio.create_task(worker.run())
    while await db.read(delivered) < events:
        await asyncio.sleep(0.05)
    elapsed = time.perf_counter() - started
    worker.stop()
    await task
    await client.aclose()
    await db.close()
    return events / elapsed


def prepare(url: str | None, directory: Path) -> str:
    if url is None:
        url = f"sqlite:///{directory / 'bench.db'}"
    migrate.upgrade(url)
    return url


def postgres_database(base: str) -> tuple[str, object]:
    import psycopg

    name = f"campfire_bench_{os.getpid()}"
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')

    def drop() -> None:
        with psycopg.connect(base, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    return f"{base.rpartition('/')[0]}/{name}", drop


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=300, help="message POSTs per round")
    parser.add_argument("--rounds", type=int, default=5, help="rounds per configuration")
    parser.add_argument("--concurrency", type=int, default=16, help="POSTs in flight at once")
    parser.add_argument("--events", type=int, default=2000, help="events to deliver")
    parser.add_argument("--postgres", metavar="URL", help="also run on this PostgreSQL server")
    parser.add_argument(
        "--no-write", action="store_true", help="print without updating BENCHMARKS.md"
    )
    args = parser.parse_args()

    port = free_port()
    receiver = subprocess.Popen([sys.executable, "-c", RECEIVER, str(port)])
    rows: list[str] = []
    rates: list[str] = []
    fan_outs: list[str] = []
    summary: list[str] = []
    try:
        time.sleep(0.5)
        engines: list[tuple[str, str | None]] = [("SQLite", None)]
        if args.postgres:
            engines.append(("PostgreSQL", args.postgres))
        for engine, base in engines:
            with tempfile.TemporaryDirectory() as directory:
                drop = None
                target = None
                if base is not None:
                    target, drop = postgres_database(base)
                url = prepare(target, Path(directory))
                try:
                    emission = await bench_emission(
                        url, args.requests, args.rounds, args.concurrency
                    )
                    rate = await bench_delivery(url, args.events, port)
                finally:
                    if drop is not None:
                        drop()  # type: ignore[operator]
            medians = emission["medians_us"]
            bare = medians["bare"]
            for label, (wall, cpu) in medians.items():
                rows.append(
                    f"| {engine} | {label} | {wall:.0f} | {wall / bare[0]:.3f} | {cpu:.0f} | "
                    f"{cpu / bare[1]:.3f} |"
                )
            rows.append(
                f"| {engine} | wake-up listener alone | {emission['listener_us']:.1f} per event | "
                f"{emission['listener_us'] / bare[0]:.4f} of bare | | |"
            )
            per_post = emission["listener_us"] * emission["events_per_post"]
            summary.append(
                f"- {engine}: the webhook code a message POST runs (the listener, "
                f"{emission['events_per_post']:.2f} events per POST) takes {per_post:.1f} µs, "
                f"{per_post / bare[1]:.2%} of a bare POST's CPU time."
            )
            fan = emission["fan_out"]
            fan_outs.append(
                f"| {engine} | {fan['events']} | {fan['deliveries']} | {fan['undelivered']} | "
                f"{fan['wall_us']:.0f} | "
                f"{fan['cpu_us']:.0f} | {fan['cpu_us'] / bare[1]:.3f} |"
            )
            rates.append(f"| {engine} | {args.events} | {rate:.0f} |")
            summary.append(
                f"- {engine}: CPU per POST {medians['no webhook'][1] / bare[1] - 1:+.1%} "
                f"without a webhook, {medians['one webhook'][1] / bare[1] - 1:+.1%} with one "
                "matching webhook, and "
                f"{medians['one webhook, previous design'][1] / bare[1] - 1:+.1%} when the "
                "delivery row is inserted in the emitting transaction."
            )
    finally:
        receiver.terminate()
        receiver.wait(5)

    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    markdown = f"""## Webhooks

`python bench/webhooks.py{" --postgres URL" if args.postgres else ""}` on {machine()};
load average {load} (1, 5, 15 minutes) at the end of the run.
Message POSTs through the ASGI app in-process, {args.concurrency} in flight,
median of {args.rounds} rounds of {args.requests} per configuration, in a new
order each round. "bare" runs without the delivery worker's wake-up
listener; "no webhook" adds it for an organization without webhooks; "one
webhook" has a webhook that matches every message. The emitting
transaction writes only the event row, which the product writes anyway,
so the listener (an in-memory lookup after the commit) is all a POST pays.
"one webhook, previous design" inserts the delivery row inside the
emitting transaction instead, as the product did before the fan-out. The
worker loop is not running, since delivery is asynchronous.

| engine | configuration | wall µs/POST | ratio | CPU µs/POST | ratio |
| --- | --- | --- | --- | --- | --- |
{chr(10).join(rows)}

{chr(10).join(summary)}

On a machine shared with other work the wall and CPU times of rounds
seconds apart differ by several percent, far more than the listener costs.
So a POST ratio of a few percent either way is noise, and the figure to
read is the listener's own time, measured around each call.

The worker's fan-out then reads every event the rounds logged (all four
configurations) and queues a delivery for each "one webhook" message, in
batches of {fanout.BATCH_EVENTS} events per transaction, off the request path (time
of the worker's process per delivery queued, and as a share of one bare
POST's CPU):

{FAN_OUT_HEADER}
{chr(10).join(fan_outs)}

Delivery: one in-process worker (16 in flight) fans out and sends {args.events}
events emitted beforehand to a local receiver process on 127.0.0.1 that
answers 200 at once.

| engine | events | delivered per second |
| --- | --- | --- |
{chr(10).join(rates)}
"""
    print(markdown)
    if not args.no_write:
        write_section("webhooks", markdown)


if __name__ == "__main__":
    asyncio.run(main())
