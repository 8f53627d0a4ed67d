"""An app factory with small rate limits, so tests reach them in a few requests."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

import httpx

from campfire_server.app import create_app
from tests.conftest import test_settings as make_settings


@contextlib.asynccontextmanager
async def limited_client(
    db: Any, client_address: str = "127.0.0.1", **overrides: Any
) -> AsyncIterator[httpx.AsyncClient]:
    """Yield a client of a fresh app (fresh in-memory counters) with ``overrides``."""
    app = create_app(make_settings(db.url, **overrides), db=db)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, client=(client_address, 40000))
        async with httpx.AsyncClient(
            transport=transport, base_url="http://testserver/api/v2"
        ) as client:
            client.app = app  # type: ignore[attr-defined]
            yield client


class OwnRedis:
    """A private redis-server on a free port, so a test can stop it without touching others."""

    def __init__(self, port: int | None = None) -> None:
        import shutil
        import socket
        import subprocess
        import time

        import pytest

        binary = shutil.which("redis-server")
        if binary is None:
            pytest.skip("redis-server is not installed")
        if port is None:
            with socket.socket() as sock:
                sock.bind(("127.0.0.1", 0))
                port = sock.getsockname()[1]
        self.port = port
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process = subprocess.Popen(
            [
                binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError("redis-server did not start within 10 s")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)
