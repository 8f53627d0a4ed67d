"""A WebSocket fuzz pass: random, oversized, binary and invalid JSON frames.

The server must answer bad frames with error frames or a close, stay up,
keep serving other clients, and not grow its memory without bound.
"""

from __future__ import annotations

import asyncio
import json
import os
import random

import httpx
import websockets

HEAVY = os.environ.get("CAMPFIRE_HEAVY_TESTS") == "1"
ROUNDS = 400 if HEAVY else 60
DEV_TOKEN = "test_sk_123456789"


def rss_kib(pid: int) -> int:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError("VmRSS not found")


def random_frame(rng: random.Random) -> str | bytes:
    kind = rng.randrange(9)
    if kind == 0:
        return bytes(rng.randrange(256) for _ in range(rng.randrange(1, 2048)))
    if kind == 1:
        return "x" * rng.choice([70_000, 200_000, 1_000_000])
    if kind == 2:
        return "{" * rng.randrange(1, 5000)
    if kind == 3:
        return json.dumps({"type": rng.choice(["subscribe", "typing", "auth", "nope", 7, None])})
    if kind == 4:
        return json.dumps(
            {"type": "subscribe", "channel": "conversation:" + "A" * rng.randrange(500)}
        )
    if kind == 5:
        return json.dumps(
            {"type": "typing", "channel": "conversation:conv_x", "data": {"isTyping": "yes"}}
        )
    if kind == 6:
        return json.dumps([1, 2, 3])
    if kind == 7:
        return b"\xed\xa0\x80 invalid UTF-8 as a binary frame"
    return "".join(chr(rng.randrange(32, 0x2FFF)) for _ in range(rng.randrange(1, 300)))


async def fuzz_connection(url: str, rng: random.Random, authenticate: bool) -> None:
    try:
        async with websockets.connect(url, max_size=None, open_timeout=10) as socket:
            if authenticate:
                await socket.send(json.dumps({"type": "auth", "token": DEV_TOKEN}))
            for _ in range(rng.randrange(1, 6)):
                frame = random_frame(rng)
                try:
                    await socket.send(frame)
                except (UnicodeEncodeError, websockets.ConnectionClosed):
                    break
            try:
                while True:
                    await asyncio.wait_for(socket.recv(), 0.3)
            except (TimeoutError, websockets.ConnectionClosed):
                pass
    except (OSError, websockets.InvalidHandshake, websockets.ConnectionClosed):
        pass


async def test_server_survives_fuzzed_frames(live_server):
    url = live_server.api.replace("http://", "ws://") + "/realtime"
    pid = live_server.process.pid
    rng = random.Random(20241204)

    await asyncio.gather(*(fuzz_connection(url, rng, rng.random() < 0.7) for _ in range(10)))
    warmed = rss_kib(pid)
    for _ in range(0, ROUNDS, 10):
        await asyncio.gather(*(fuzz_connection(url, rng, rng.random() < 0.7) for _ in range(10)))
    grown = rss_kib(pid) - warmed

    assert live_server.process.poll() is None, "the server died"
    async with httpx.AsyncClient(timeout=10) as http:
        health = await http.get(f"{live_server.base_url}/healthz")
        assert health.status_code == 200
    async with websockets.connect(url) as socket:
        await socket.send(json.dumps({"type": "auth", "token": DEV_TOKEN}))
        reply = json.loads(await asyncio.wait_for(socket.recv(), 10))
        assert reply["type"] == "authenticated"
    assert grown < 150 * 1024, f"RSS grew by {grown} KiB over {ROUNDS} fuzzed connections"
