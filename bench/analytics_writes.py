"""CPU cost that keeping the analytics facts current adds to each message write.

Runs ``conversations.actions.send_message`` in process, one write
transaction per message, with the analytics ``events.emit`` hook removed
(the baseline) and registered, in alternating rounds of the same run. Each
round writes conversations of a customer message, an AI reply, a second
customer message and an agent reply, so it covers a wait opening, waits
answered by the AI and by an agent, and a message into an open wait. A
frozen clock moves one second per message, as a conversation's messages
are seconds apart: two messages in one millisecond that sort the other way
make the hook derive the conversation again, which a tight loop would do
on most messages. CPU
time is this process's (which includes SQLite) plus, on PostgreSQL, the
CPU time of the database's backends. Usage:
``python bench/analytics_writes.py [--rounds N] [--conversations N] [--engines ...]``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))
from messages import POSTGRES_ADMIN_URL, cpu_seconds  # noqa: E402
from report import machine, write_section  # noqa: E402

from campfire_server import clock  # noqa: E402
from campfire_server.analytics import live  # noqa: E402
from campfire_server.auth.principal import Principal  # noqa: E402
from campfire_server.conversations import actions  # noqa: E402
from campfire_server.conversations.schemas import ConversationCreate, MessageCreate  # noqa: E402
from campfire_server.db import migrate  # noqa: E402
from campfire_server.db.database import Database, open_database  # noqa: E402
from campfire_server.events import emit  # noqa: E402
from campfire_server.organizations import actions as organizations  # noqa: E402
from campfire_server.organizations.schemas import MailboxCreate  # noqa: E402
from campfire_server.routing import actions as routing  # noqa: E402
from campfire_server.routing.schemas import AgentCreate  # noqa: E402

ORG = "org_writes"
AUTHORS = ("customer", "ai", "customer", "agent")
# The agent that writes the agent messages, because a secret key's agent messages need one.
AGENT_ID = "agent_bench"


def backend_pids(database_url: str) -> list[int]:
    if not database_url.startswith("postgresql"):
        return []
    import psycopg

    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s",
            (database_url.rpartition("/")[2],),
        ).fetchall()
    return [row[0] for row in rows]


def round_cpu_ms(database: Database, principal: Principal, conversations: int, url: str) -> float:
    """Write one round and return the CPU milliseconds per message."""
    pids = backend_pids(url)
    frozen = clock.FrozenClock()
    previous = clock.set_clock(frozen)
    started = time.process_time() + cpu_seconds(pids)
    for _ in range(conversations):
        conversation = database.write_sync(
            lambda tx: actions.create_conversation(
                tx, principal, ConversationCreate(customer_id="customer_bench", mailbox_id="bench")
            )
        )
        for author in AUTHORS:
            frozen.advance(1)
            author_id = AGENT_ID if author == "agent" else None
            request = MessageCreate(
                content=f"{author} message", author_type=author, author_id=author_id
            )
            database.write_sync(
                lambda tx, request=request, conversation_id=conversation.id: actions.send_message(
                    tx, principal, conversation_id, request
                )
            )
    spent = time.process_time() + cpu_seconds(pids) - started
    clock.set_clock(previous)
    return spent * 1000 / (conversations * len(AUTHORS))


def measure(url: str, rounds: int, conversations: int) -> dict[str, float]:
    migrate.upgrade(url)
    database = open_database(url, pool_size=2)
    principal = Principal(org_id=ORG, role="admin", kind="secret", subject="bench")
    try:
        database.write_sync(
            lambda tx: organizations.create_organization(tx, name="Writes", org_id=ORG)
        )
        database.write_sync(
            lambda tx: organizations.create_mailbox(
                tx, ORG, MailboxCreate(id="bench", name="Bench")
            )
        )
        database.write_sync(
            lambda tx: routing.create_agent(tx, ORG, AgentCreate(id=AGENT_ID, name="Bench Agent"))
        )
        hooked = live.on_event in emit._tx_hooks
        without, with_hook = [], []
        round_cpu_ms(database, principal, conversations, url)  # warm up
        for _ in range(rounds):
            if hooked:
                emit._tx_hooks.remove(live.on_event)
            without.append(round_cpu_ms(database, principal, conversations, url))
            emit.register_tx_hook(live.on_event)
            with_hook.append(round_cpu_ms(database, principal, conversations, url))
            hooked = True
        return {"without": statistics.median(without), "with": statistics.median(with_hook)}
    finally:
        asyncio.run(database.close())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5, help="rounds with and without the hook")
    parser.add_argument(
        "--conversations", type=int, default=200, help="conversations written per round"
    )
    parser.add_argument("--engines", default="sqlite,postgresql")
    parser.add_argument("--no-report", action="store_true", help="print, leave BENCHMARKS.md")
    args = parser.parse_args()

    results = {}
    workdir = tempfile.mkdtemp(prefix="campfire-bench-writes-")
    for engine in args.engines.split(","):
        if engine == "sqlite":
            results[engine] = measure(
                f"sqlite:///{workdir}/writes.db", args.rounds, args.conversations
            )
            continue
        import psycopg

        name = f"campfire_bench_{secrets.token_hex(4)}"
        with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        try:
            url = f"{POSTGRES_ADMIN_URL.rpartition('/')[0]}/{name}"
            results[engine] = measure(url, args.rounds, args.conversations)
        finally:
            with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    report = render(results, args)
    print(report)
    if not args.no_report:
        write_section("analytics-writes", report)


def render(results: dict[str, dict[str, float]], args: argparse.Namespace) -> str:
    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    lines = [
        "## Analytics cost on message writes",
        "",
        f"`python bench/analytics_writes.py` on {machine()}: `send_message` in process, one "
        f"write transaction per message, {args.conversations} conversations of four messages "
        "(customer, AI reply, customer, agent reply) per round, medians of "
        f"{args.rounds} rounds without and with the analytics hook, alternating. CPU time is "
        "the benchmark process's plus, on PostgreSQL, the database backends'. The baseline "
        "runs no other emit hook either (the server also queues webhook deliveries), so the "
        "added share is larger than on a served request. Load average "
        f"{load} (1, 5, 15 minutes) at the end of the run, on 2 CPUs.",
        "",
        "| engine | CPU ms per message, without hook | with hook | added |",
        "| --- | ---: | ---: | ---: |",
    ]
    for engine, figures in results.items():
        added = figures["with"] / figures["without"] - 1
        lines.append(
            f"| {engine} | {figures['without']:.3f} | {figures['with']:.3f} | {added:+.1%} |"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    main()
