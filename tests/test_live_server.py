"""The test suite's server starter, which chooses another port when its choice was taken."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from campfire_server.db import migrate
from tests.conftest import _PortTaken, _start_server_on, port_was_taken

# The bind error that uvicorn logs as JSON when another process took the port
# after the command's own check.
UVICORN_BIND_ERROR = (
    '{"time": "2026-12-06T17:52:02", "level": "error", "logger": "uvicorn.error", '
    '"message": "[Errno 98] error while attempting to bind on address (\'127.0.0.1\', '
    '38660): address already in use"}'
)


def test_taken_port_is_told_apart(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'campfire.db'}"
    migrate.upgrade(url)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]

        with pytest.raises(_PortTaken):
            _start_server_on(url, tmp_path, None, port)


def test_uvicorn_bind_error_counts_as_taken() -> None:
    assert port_was_taken(UVICORN_BIND_ERROR)


def test_other_startup_error_is_not_taken() -> None:
    assert not port_was_taken('{"level": "error", "message": "database is locked"}')
