"""Realtime fan-out and idle-socket memory, beside a bare websockets broadcast in the same run.

Three servers, each a separate process on 127.0.0.1, with the clients in
this process:

* bare: a websockets server that relays a trigger frame to every other
  socket with ``websockets.broadcast`` (uvloop, no compression);
* campfire in-process: ``campfire serve`` on SQLite;
* campfire through Redis: the same with ``CAMPFIRE_REDIS_URL`` set, so each
  event goes out to Redis and comes back before fan-out.

Each round sends one trigger and waits until every subscriber has it. The
latency of a delivery is its arrival time minus the moment the trigger was
sent. Deliveries per second are all deliveries over the time of all rounds.
On campfire the trigger is either a typing frame from one more socket (the
relay alone) or a message POST (HTTP, database commit, event log, fan-out).
Then ``--idle`` sockets are opened, authenticated and subscribed, and the
server's RSS growth is divided by their count.

Usage: ``python bench/realtime.py [--subscribers 1000] [--rounds 50] [--idle 5000]``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import websockets

sys.path.insert(0, str(Path(__file__).resolve().parent))
from ports import free_port  # noqa: E402
from report import machine, write_section  # noqa: E402
from wsclient import LightClient, connect  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
REDIS_URL = os.environ.get("CAMPFIRE_BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")
DEVELOPMENT_KEY = "test_sk_123456789"
# The development organization's agent, the author of the benchmark's agent messages.
DEVELOPMENT_AGENT_ID = "agent_123"
# About the size of a small message event frame.
BARE_PAYLOAD = json.dumps({"type": "message", "data": {"content": "x" * 150}})


def raise_fd_limit(wanted: int) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = min(hard, max(soft, wanted))
    if target > soft:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))


def rss_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(f"no VmRSS for process {pid}")


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


# The bare server, run as a child process of this script -------------------------------


def serve_bare(port: int) -> None:
    import uvloop

    async def main() -> None:
        sockets: set[Any] = set()

        async def handler(ws: Any) -> None:
            sockets.add(ws)
            try:
                async for message in ws:
                    websockets.broadcast(sockets - {ws}, message)
            finally:
                sockets.discard(ws)

        async with websockets.serve(
            handler, "127.0.0.1", port, compression=None, max_queue=None, ping_interval=None
        ):
            await asyncio.Future()

    uvloop.run(main())


# Servers ------------------------------------------------------------------------------


def wait_for_port(port: int, process: subprocess.Popen[bytes]) -> None:
    import socket

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("the server exited during start-up")
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise RuntimeError(f"nothing listens on port {port} after 60 s")


def start_bare() -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    process = subprocess.Popen([sys.executable, __file__, "--serve-bare", str(port)])
    wait_for_port(port, process)
    return process, port


def start_campfire(directory: Path, redis: bool) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    env = {
        **os.environ,
        "CAMPFIRE_ENV": "development",
        "CAMPFIRE_DATABASE_URL": f"sqlite:///{directory / f'bench-{port}.db'}",
        "CAMPFIRE_LOG_LEVEL": "WARNING",
        "CAMPFIRE_RATE_LIMIT_WEBSOCKET_CONNECTIONS": "100000",
        "CAMPFIRE_RATE_LIMIT_MESSAGES_PER_MINUTE": "100000",
        "CAMPFIRE_RATE_LIMIT_REQUESTS_PER_MINUTE": "1000000",
    }
    if redis:
        env["CAMPFIRE_REDIS_URL"] = REDIS_URL
    else:
        env.pop("CAMPFIRE_REDIS_URL", None)
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "campfire_server.cli",
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    wait_for_port(port, process)
    return process, port


def stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(5)


# Clients ------------------------------------------------------------------------------


class Round:
    """Arrival times of one trigger at every subscriber."""

    def __init__(self, expected: int) -> None:
        self.expected = expected
        self.sent_at = 0.0
        self.latencies: list[float] = []
        self.done = asyncio.Event()

    def arrived(self) -> None:
        self.latencies.append(time.perf_counter() - self.sent_at)
        if len(self.latencies) >= self.expected:
            self.done.set()


class Fanout:
    def __init__(self, expected: int) -> None:
        self.expected = expected
        self.current: Round | None = None

    def arrived(self) -> None:
        if self.current is not None:
            self.current.arrived()


async def open_many(
    count: int, opener: Callable[[], Awaitable[Any]], batch: int = 100
) -> list[Any]:
    sockets: list[Any] = []
    for start in range(0, count, batch):
        sockets += await asyncio.gather(*(opener() for _ in range(min(batch, count - start))))
    return sockets


def listen(clients: list[LightClient], fanout: Fanout, markers: tuple[bytes, ...]) -> None:
    """Count each text frame containing one of ``markers`` (any frame if none) as an arrival."""

    def on_text(payload: bytes) -> None:
        if not markers or any(marker in payload for marker in markers):
            fanout.arrived()

    for client in clients:
        client.on_text = on_text


async def run_rounds(
    fanout: Fanout, rounds: int, trigger: Callable[[int], Awaitable[None]]
) -> dict[str, float]:
    # One unmeasured round first, so lazy set-up on either side is not counted.
    warm_up = Round(fanout.expected)
    fanout.current = warm_up
    warm_up.sent_at = time.perf_counter()
    await trigger(rounds)
    await asyncio.wait_for(warm_up.done.wait(), 30)

    latencies: list[float] = []
    started = time.perf_counter()
    for index in range(rounds):
        current = Round(fanout.expected)
        fanout.current = current
        current.sent_at = time.perf_counter()
        await trigger(index)
        await asyncio.wait_for(current.done.wait(), 30)
        latencies += current.latencies
    elapsed = time.perf_counter() - started
    fanout.current = None
    return {
        "p50_ms": statistics.median(latencies) * 1000,
        "p99_ms": percentile(latencies, 0.99) * 1000,
        "deliveries_per_s": len(latencies) / elapsed,
    }


async def bench_bare(port: int, subscribers: int, rounds: int) -> dict[str, float]:
    fanout = Fanout(subscribers)
    sockets = await open_many(subscribers, lambda: connect(port))
    listen(sockets, fanout, ())
    sender = await connect(port)
    result = await run_rounds(fanout, rounds, lambda index: sender.send(BARE_PAYLOAD))
    await asyncio.gather(*(ws.close() for ws in [*sockets, sender]))
    return result


async def campfire_socket(port: int, channel: str) -> LightClient:
    ws = await connect(port, "/api/v2/realtime")
    await ws.send(json.dumps({"type": "auth", "token": DEVELOPMENT_KEY}))
    await ws.recv()
    await ws.send(json.dumps({"type": "subscribe", "channel": channel}))
    ack = json.loads(await ws.recv())
    if ack["type"] != "subscribed":
        raise RuntimeError(f"subscribe failed: {ack}")
    return ws


async def bench_campfire(port: int, subscribers: int, rounds: int) -> dict[str, dict[str, float]]:
    base = f"http://127.0.0.1:{port}/api/v2"
    headers = {"Authorization": f"Bearer {DEVELOPMENT_KEY}"}
    async with httpx.AsyncClient(base_url=base, headers=headers, timeout=30) as http:
        created = await http.post("/conversations", json={"customerId": "bench_customer"})
        created.raise_for_status()
        channel = f"conversation:{created.json()['id']}"

        fanout = Fanout(subscribers)
        sockets = await open_many(subscribers, lambda: campfire_socket(port, channel))
        typist = await campfire_socket(port, channel)
        listen(sockets, fanout, (b'"type":"typing"', b'"type":"message"'))

        async def send_typing(index: int) -> None:
            frame = {"type": "typing", "channel": channel, "data": {"isTyping": index % 2 == 0}}
            await typist.send(json.dumps(frame))

        post_times: list[float] = []

        async def post_message(index: int) -> None:
            started = time.perf_counter()
            response = await http.post(
                f"/conversations/{channel.partition(':')[2]}/messages",
                json={
                    "content": f"benchmark message {index} " + "x" * 100,
                    "authorType": "agent",
                    "authorId": DEVELOPMENT_AGENT_ID,
                },
            )
            response.raise_for_status()
            post_times.append(time.perf_counter() - started)

        # A socket may send 20 frames/s with a burst of 60, so typing rounds stay under 60.
        typing = await run_rounds(fanout, min(rounds, 50), send_typing)
        messages = await run_rounds(fanout, rounds, post_message)
        messages["post_p50_ms"] = statistics.median(post_times) * 1000
        await asyncio.gather(*(ws.close() for ws in [*sockets, typist]))
    return {"typing": typing, "message": messages}


async def bench_idle(port: int, count: int, pid: int, campfire: bool) -> dict[str, float]:
    await asyncio.sleep(1.0)
    before = rss_bytes(pid)
    if campfire:
        base = f"http://127.0.0.1:{port}/api/v2"
        async with httpx.AsyncClient(
            base_url=base, headers={"Authorization": f"Bearer {DEVELOPMENT_KEY}"}
        ) as http:
            created = await http.post("/conversations", json={"customerId": "bench_idle"})
            channel = f"conversation:{created.json()['id']}"
        sockets = await open_many(count, lambda: campfire_socket(port, channel))
    else:
        sockets = await open_many(count, lambda: connect(port))
    await asyncio.sleep(2.0)
    after = rss_bytes(pid)
    for start in range(0, len(sockets), 200):
        await asyncio.gather(*(ws.close() for ws in sockets[start : start + 200]))
    return {"rss_mib": after / 2**20, "per_socket_kib": (after - before) / count / 1024}


# Report -------------------------------------------------------------------------------


def row(name: str, figures: dict[str, float], bare: dict[str, float]) -> str:
    return (
        f"| {name} | {figures['p50_ms']:.1f} | {figures['p99_ms']:.1f} "
        f"({figures['p99_ms'] / bare['p99_ms']:.2f}x) | {figures['deliveries_per_s']:,.0f} "
        f"({figures['deliveries_per_s'] / bare['deliveries_per_s']:.2f}x) |"
    )


def report(args: argparse.Namespace, results: dict[str, Any]) -> str:
    bare = results["bare"]
    lines = [
        "## Realtime",
        "",
        f"`python bench/realtime.py --subscribers {args.subscribers} --rounds {args.rounds} "
        f"--idle {args.idle}` on {machine()}, load average {os.getloadavg()[0]:.1f} at the "
        "end of the run. Clients and servers share the machine; each "
        "server is one process (uvloop). Each round sends one trigger and waits until all "
        f"{args.subscribers} subscribers of one conversation channel have it; latency is "
        "arrival minus trigger time, and the ratios are to the bare websockets broadcast of "
        "the same run. The subscribers of every server are the same minimal client "
        "(`bench/wsclient.py`), because a full client library made the client process the "
        "bottleneck.",
        "",
        "| fan-out to one channel | p50 ms | p99 ms (vs bare) | deliveries/s (vs bare) |",
        "| --- | --- | --- | --- |",
        f"| bare websockets broadcast | {bare['p50_ms']:.1f} | {bare['p99_ms']:.1f} | "
        f"{bare['deliveries_per_s']:,.0f} |",
    ]
    for mode in ("in-process", "redis"):
        if mode not in results:
            continue
        figures = results[mode]
        lines.append(row(f"campfire {mode}, typing relay", figures["typing"], bare))
        lines.append(row(f"campfire {mode}, message POST to event", figures["message"], bare))
    lines += [
        "",
        "The message rows include the POST itself (HTTP, validation, SQLite commit, event "
        "log); its median round trip was "
        + ", ".join(
            f"{results[mode]['message']['post_p50_ms']:.1f} ms ({mode})"
            for mode in ("in-process", "redis")
            if mode in results
        )
        + ".",
    ]
    if "idle" in results:
        idle = results["idle"]
        lines += [
            "",
            f"| {args.idle} idle sockets in one process | server RSS MiB | KiB per socket |",
            "| --- | --- | --- |",
            f"| bare websockets | {idle['bare']['rss_mib']:.0f} | "
            f"{idle['bare']['per_socket_kib']:.1f} |",
            f"| campfire (authenticated, one subscription each) | "
            f"{idle['campfire']['rss_mib']:.0f} | {idle['campfire']['per_socket_kib']:.1f} |",
        ]
    return "\n".join(lines)


async def main(args: argparse.Namespace) -> dict[str, Any]:
    results: dict[str, Any] = {}
    process, port = start_bare()
    try:
        results["bare"] = await bench_bare(port, args.subscribers, args.rounds)
        if args.idle:
            results.setdefault("idle", {})["bare"] = await bench_idle(
                port, args.idle, process.pid, campfire=False
            )
    finally:
        stop(process)
    print("bare", results["bare"], flush=True)

    with tempfile.TemporaryDirectory() as directory:
        modes = [("in-process", False)] + ([] if args.no_redis else [("redis", True)])
        for mode, redis in modes:
            process, port = start_campfire(Path(directory), redis)
            try:
                results[mode] = await bench_campfire(port, args.subscribers, args.rounds)
                if args.idle and mode == "in-process":
                    results.setdefault("idle", {})["campfire"] = await bench_idle(
                        port, args.idle, process.pid, campfire=True
                    )
            finally:
                stop(process)
            print(mode, results[mode], flush=True)
    if "idle" in results:
        print("idle", results["idle"], flush=True)
    return results


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subscribers", type=int, default=1000, help="sockets on the channel")
    parser.add_argument("--rounds", type=int, default=50, help="triggers per measurement")
    parser.add_argument("--idle", type=int, default=5000, help="idle sockets; 0 skips the test")
    parser.add_argument("--no-redis", action="store_true", help="skip the Redis broker run")
    parser.add_argument("--no-write", action="store_true", help="print only; leave BENCHMARKS.md")
    parser.add_argument("--serve-bare", type=int, help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.serve_bare:
        raise_fd_limit(20_000)
        serve_bare(arguments.serve_bare)
        sys.exit(0)
    raise_fd_limit(2 * (arguments.subscribers + arguments.idle) + 1000)
    import uvloop

    figures = uvloop.run(main(arguments))
    text = report(arguments, figures)
    print(text)
    if not arguments.no_write:
        write_section("realtime", text)
