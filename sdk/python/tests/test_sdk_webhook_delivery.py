"""A real delivery from the server verifies with campfire.webhooks.verify over its raw bytes."""

from __future__ import annotations

import base64
import json
import queue
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from conftest import has_operation

import campfire
from campfire import WebhookVerificationError

SECRET = "whsec_" + base64.b64encode(b"sdk-delivery-test-secret-32bytes").decode()


class Receiver:
    """An HTTP receiver on 127.0.0.1 that keeps each delivery's raw body and headers."""

    def __init__(self) -> None:
        self.deliveries: queue.Queue[tuple[bytes, dict[str, str]]] = queue.Queue()
        received = self.deliveries

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                received.put((self.rfile.read(length), dict(self.headers.items())))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def wait_for(self, event_type: str, timeout: float = 30) -> tuple[bytes, dict[str, str]]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                raw, headers = self.deliveries.get(timeout=0.5)
            except queue.Empty:
                continue
            if json.loads(raw).get("type") == event_type:
                return raw, headers
        raise AssertionError(f"no {event_type} delivery within {timeout} s")

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def test_delivery_verifies_over_raw_bytes(client, customer_id, openapi):
    if not has_operation(openapi, "post", "/webhooks"):
        pytest.skip("this server has no webhook endpoints yet")
    receiver = Receiver()
    webhook = client.webhooks.create(url=receiver.url, events=["message.sent"], secret=SECRET)
    try:
        conversation = client.conversations.create(customer_id=customer_id)
        client.messages.create(
            conversation.id,
            content='Café ☕ — price/€12 "quoted" \\ back',
            metadata={"z": 1, "a": 2},
        )
        raw, headers = receiver.wait_for("message.sent")

        event = campfire.webhooks.verify(raw, headers, SECRET)
        assert event.type == "message.sent"
        assert event.id == headers.get("webhook-id") or event.id.startswith("evt_")
        assert campfire.webhooks.verify(raw.decode(), headers, SECRET).id == event.id
        with pytest.raises(TypeError, match="raw request body"):
            campfire.webhooks.verify(json.loads(raw), headers, SECRET)
        with pytest.raises(WebhookVerificationError):
            campfire.webhooks.verify(raw + b" ", headers, SECRET)
    finally:
        client.webhooks.delete(webhook.id)
        receiver.close()
