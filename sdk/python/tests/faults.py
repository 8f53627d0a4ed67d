"""A fault-injecting HTTP proxy on 127.0.0.1 in front of the development server."""

from __future__ import annotations

import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx


class FaultProxy:
    """Forward requests to ``upstream``, applying the next planned fault to each.

    Each ``plan`` entry is one of: ``"forward"``; ``"drop-before"`` (close the
    connection without forwarding); ``"drop-after"`` (forward, then close
    without answering, so the server acted but the client never hears of it);
    or a ``(status, headers)`` pair answered without forwarding.
    """

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream.rstrip("/")
        self.plan: list[object] = []
        self.requests: list[tuple[str, str, dict[str, str]]] = []
        self._lock = threading.Lock()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                headers = {k: v for k, v in self.headers.items() if k.lower() != "host"}
                with proxy._lock:
                    proxy.requests.append((self.command, self.path, dict(self.headers.items())))
                    fault = proxy.plan.pop(0) if proxy.plan else "forward"
                if fault == "drop-before":
                    self._drop()
                    return
                if isinstance(fault, tuple):
                    status, extra = fault
                    payload = (
                        b'{"error":{"code":"INJECTED","message":"injected fault",'
                        b'"details":{},"requestId":"req_injected"}}'
                    )
                    self.send_response(status)
                    for name, value in extra.items():
                        self.send_header(name, value)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                    return
                upstream = httpx.request(
                    self.command, proxy.upstream + self.path, headers=headers, content=body
                )
                if fault == "drop-after":
                    self._drop()
                    return
                self.send_response(upstream.status_code)
                for name, value in upstream.headers.items():
                    if name.lower() not in ("content-length", "transfer-encoding", "connection"):
                        self.send_header(name, value)
                self.send_header("Content-Length", str(len(upstream.content)))
                self.end_headers()
                self.wfile.write(upstream.content)

            def _drop(self) -> None:
                self.close_connection = True
                try:
                    self.connection.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

            do_GET = do_POST = do_PATCH = do_DELETE = _handle

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def __enter__(self) -> FaultProxy:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    def header_values(self, name: str) -> list[str | None]:
        lowered = name.lower()
        return [
            next((v for k, v in headers.items() if k.lower() == lowered), None)
            for _, _, headers in self.requests
        ]
