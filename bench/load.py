"""Load scenario: simulated widget customers chatting with AI auto-reply on.

Each customer opens a conversation and a WebSocket subscription, then sends
a question every ``--interval`` seconds for ``--duration`` seconds. The
reply latency is the time from sending the message to the AI's reply (or
its handoff acknowledgement) arriving on the socket. Runs on one process
with SQLite and on two processes sharing PostgreSQL and Redis, beside a
baseline: the same message POSTs against a bare FastAPI endpoint that
validates and echoes them.

Usage: ``python bench/load.py [--customers 1000] [--duration 120] [--interval 10]``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import websockets

sys.path.insert(0, str(Path(__file__).resolve().parent))
from messages import drop_database, prepare_database, start  # noqa: E402
from ports import free_port  # noqa: E402
from report import machine, write_section  # noqa: E402

DEV = {"Authorization": "Bearer test_sk_123456789"}
QUESTIONS = [
    "How do I connect my Google calendar?",
    "How can I cancel my subscription?",
    "Where do I download my invoices?",
    "Can I change the time zone of my booking page?",
    "My payment failed, what should I do?",
    "How do reminders work?",
    "Do you integrate with Zoom?",
    "How do I export my data?",
]
REPLY_TIMEOUT = 30.0


def percentile(values: list[float], share: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


async def customer(
    index: int, api: str, ws_url: str, args: argparse.Namespace, stats: dict
) -> None:
    async with httpx.AsyncClient(base_url=api, headers=DEV, timeout=REPLY_TIMEOUT) as http:
        try:
            created = await http.post(
                "/conversations",
                json={"customerId": f"load_customer_{index}", "mailboxId": "mailbox_456"},
            )
            conversation_id = created.json()["id"]
        except Exception:
            stats["errors"] += 1
            return
        try:
            socket = await websockets.connect(ws_url, open_timeout=REPLY_TIMEOUT, max_queue=None)
        except Exception:
            stats["errors"] += 1
            return
        async with socket:
            await socket.send(json.dumps({"type": "auth", "token": DEV["Authorization"][7:]}))
            await socket.send(
                json.dumps({"type": "subscribe", "channel": f"conversation:{conversation_id}"})
            )
            sent_at: list[float] = []

            async def read() -> None:
                async for raw in socket:
                    frame = json.loads(raw)
                    if frame.get("type") != "message":
                        continue
                    data = frame.get("data", {})
                    if data.get("authorType") in ("ai", "system") and sent_at:
                        started = sent_at.pop(0)
                        stats["latencies"].append(time.perf_counter() - started)

            reader = asyncio.create_task(read())
            await asyncio.sleep(random.uniform(0, args.interval))
            deadline = time.monotonic() + args.duration
            while time.monotonic() < deadline:
                started = time.perf_counter()
                try:
                    response = await http.post(
                        f"/conversations/{conversation_id}/messages",
                        json={"content": random.choice(QUESTIONS), "authorType": "customer"},
                    )
                    stats["posts"] += 1
                    if response.status_code != 201:
                        stats["errors"] += 1
                    else:
                        sent_at.append(started)
                        stats["post_latencies"].append(time.perf_counter() - started)
                except Exception:
                    stats["errors"] += 1
                await asyncio.sleep(args.interval)
            await asyncio.sleep(min(REPLY_TIMEOUT, 10))
            stats["missing_replies"] += len(sent_at)
            reader.cancel()


async def drive(apis: list[str], args: argparse.Namespace) -> dict:
    stats = {"latencies": [], "post_latencies": [], "errors": 0, "posts": 0, "missing_replies": 0}
    tasks = []
    for index in range(args.customers):
        api = apis[index % len(apis)]
        ws_url = api.replace("http://", "ws://") + "/realtime"
        tasks.append(customer(index, api, ws_url, args, stats))
    started = time.monotonic()
    await asyncio.gather(*tasks)
    stats["elapsed"] = time.monotonic() - started
    return stats


async def drive_baseline(api: str, args: argparse.Namespace) -> dict:
    stats = {"post_latencies": [], "errors": 0, "posts": 0}
    limits = httpx.Limits(max_connections=args.customers)

    async with httpx.AsyncClient(base_url=api, timeout=REPLY_TIMEOUT, limits=limits) as http:

        async def one(index: int) -> None:
            await asyncio.sleep(random.uniform(0, args.interval))
            deadline = time.monotonic() + args.duration
            while time.monotonic() < deadline:
                started = time.perf_counter()
                try:
                    response = await http.post(
                        "/conversations/conv_x/messages",
                        json={"content": random.choice(QUESTIONS), "authorType": "customer"},
                    )
                    stats["posts"] += 1
                    if response.status_code != 201:
                        stats["errors"] += 1
                    stats["post_latencies"].append(time.perf_counter() - started)
                except Exception:
                    stats["errors"] += 1
                await asyncio.sleep(args.interval)

        await asyncio.gather(*(one(index) for index in range(args.customers)))
    return stats


def serve(url: str, port: int, extra: dict[str, str]) -> subprocess.Popen[bytes]:
    env = {
        "CAMPFIRE_ENV": "development",
        "CAMPFIRE_DATABASE_URL": url,
        "CAMPFIRE_LOG_LEVEL": "WARNING",
        "CAMPFIRE_RATE_LIMIT_REQUESTS_PER_MINUTE": "1000000",
        "CAMPFIRE_RATE_LIMIT_WEBSOCKET_CONNECTIONS": "100000",
        **extra,
    }
    subprocess.run(
        [sys.executable, "-m", "campfire_server.cli", "migrate", "--database-url", url],
        check=True,
        capture_output=True,
        env={**os.environ, **env},
    )
    return start(
        ["--factory", "campfire_server.app:create_app", "--port", str(port)],
        env,
        f"http://127.0.0.1:{port}/api/v2/openapi.json",
    )


def summarise(name: str, stats: dict, args: argparse.Namespace) -> str:
    replies = stats.get("latencies", [])
    posts = stats["posts"]
    failures = stats["errors"] + stats.get("missing_replies", 0)
    error_rate = failures / posts if posts else float("nan")
    reply_p50 = percentile(replies, 0.5) * 1000 if replies else float("nan")
    reply_p99 = percentile(replies, 0.99) * 1000 if replies else float("nan")
    post = stats["post_latencies"]
    return (
        f"| {name} | {posts} | {percentile(post, 0.5) * 1000:.0f} | "
        f"{percentile(post, 0.99) * 1000:.0f} | {reply_p50:.0f} | {reply_p99:.0f} | "
        f"{error_rate:.2%} |"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--customers", type=int, default=1000, help="simulated customers")
    parser.add_argument("--duration", type=float, default=120, help="seconds of sending")
    parser.add_argument("--interval", type=float, default=10, help="seconds between messages")
    parser.add_argument(
        "--redis-url", default=os.environ.get("CAMPFIRE_TEST_REDIS_URL", "redis://127.0.0.1:6379/7")
    )
    parser.add_argument(
        "--no-write", action="store_true", help="print without updating BENCHMARKS.md"
    )
    args = parser.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 65536), hard))

    rows = []
    baseline = start(
        ["bench.baseline_app:app", "--port", "3811"],
        {"PYTHONPATH": str(Path(__file__).resolve().parent.parent)},
        "http://127.0.0.1:3811/api/v2/conversations/x",
    )
    try:
        rows.append(
            summarise(
                "bare FastAPI echo (baseline)",
                asyncio.run(drive_baseline("http://127.0.0.1:3811/api/v2", args)),
                args,
            )
        )
    finally:
        baseline.terminate()

    workdir = Path(tempfile.mkdtemp(prefix="campfire-load-"))
    sqlite_url = prepare_database("sqlite", workdir)
    server = serve(sqlite_url, free_port(), {})
    try:
        stats = asyncio.run(drive(["http://127.0.0.1:3812/api/v2"], args))
        rows.append(summarise("Campfire, 1 process, SQLite", stats, args))
    finally:
        server.terminate()
        server.wait(10)

    pg_url = prepare_database("postgresql", workdir)
    redis_env = {"CAMPFIRE_REDIS_URL": args.redis_url}
    servers = [serve(pg_url, free_port(), redis_env), serve(pg_url, free_port(), redis_env)]
    try:
        stats = asyncio.run(
            drive(["http://127.0.0.1:3813/api/v2", "http://127.0.0.1:3814/api/v2"], args)
        )
        rows.append(summarise("Campfire, 2 processes, PostgreSQL + Redis", stats, args))
    finally:
        for process in servers:
            process.terminate()
            process.wait(10)
        drop_database(pg_url)

    markdown = "\n".join(
        [
            "## Load scenario (`bench/load.py`)",
            "",
            f"Machine: {machine()}; the load generator runs on the same machine. "
            f"{args.customers} simulated widget customers, each sending a question every "
            f"{args.interval:.0f} s for {args.duration:.0f} s, with AI auto-reply on over the demo "
            "knowledge base. Reply latency runs from sending the message to the AI reply (or its "
            "handoff acknowledgement) arriving on the customer's WebSocket; the error rate counts "
            "failed POSTs and replies that never arrived.",
            "",
            "| setup | messages | POST p50 ms | POST p99 ms | reply p50 ms | reply p99 ms "
            "| error rate |",
            "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
            *rows,
        ]
    )
    print(markdown)
    if not args.no_write:
        write_section("load", markdown)
    return 0


if __name__ == "__main__":
    sys.exit(main())
