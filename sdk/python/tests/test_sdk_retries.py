"""Retries: backoff, Retry-After, and POSTs that never create twice."""

from __future__ import annotations

import json

import pytest
from conftest import TEST_KEY
from faults import FaultProxy

from campfire import (
    APIConnectionError,
    AsyncCampfireClient,
    CampfireClient,
    RateLimitError,
    ServiceUnavailableError,
    ValidationError,
)
from campfire._core import (
    ClientCore,
    Operation,
    Request,
    Response,
    Send,
    Sleep,
    TransportFailure,
)


def make_core(max_retries: int = 3, fraction: float = 0.0) -> ClientCore:
    return ClientCore(
        api_key="k",
        base_url="http://127.0.0.1:9/api/v2",
        timeout=5,
        max_retries=max_retries,
        random_fraction=lambda: fraction,
    )


def envelope(status: int, code: str, headers: dict[str, str] | None = None) -> Response:
    content = json.dumps(
        {"error": {"code": code, "message": "m", "details": {}, "requestId": "req_1"}}
    ).encode()
    return Response(status, headers or {}, content)


def drive(core: ClientCore, request: Request, outcomes: list) -> tuple[list, object]:
    """Run one operation through the core, replying to each Send with the next outcome."""
    steps = core.execute(Operation(request, lambda data: data))
    seen: list = []
    sent = None
    try:
        while True:
            step = steps.send(sent)
            seen.append(step)
            sent = outcomes.pop(0) if isinstance(step, Send) else None
    except StopIteration as done:
        return seen, done.value


def test_backoff_doubles_with_jitter_bounds():
    low = make_core(max_retries=5, fraction=0.0)
    high = make_core(max_retries=5, fraction=0.999)
    failure = TransportFailure(OSError("reset"))
    assert [low.retry_delay(n, failure) for n in range(5)] == [0.25, 0.5, 1.0, 2.0, 4.0]
    assert high.retry_delay(0, failure) == pytest.approx(0.5, abs=0.001)
    assert high.retry_delay(6, failure) is None
    assert make_core(max_retries=10).retry_delay(9, failure) == 4.0  # capped at 8 s * 0.5


def test_retry_after_is_honoured():
    core = make_core()
    request = Request("GET", "/conversations")
    outcomes = [
        envelope(429, "RATE_LIMIT_EXCEEDED", {"retry-after": "2"}),
        envelope(503, "SERVICE_UNAVAILABLE"),
        Response(200, {}, b'{"ok": true}'),
    ]
    steps, result = drive(core, request, outcomes)
    sleeps = [step.seconds for step in steps if isinstance(step, Sleep)]
    assert sleeps == [2.0, 0.5]
    assert result == {"ok": True}


def test_long_retry_after_raises_at_once():
    core = make_core()
    with pytest.raises(RateLimitError) as caught:
        drive(
            core,
            Request("GET", "/x"),
            [envelope(429, "RATE_LIMIT_EXCEEDED", {"retry-after": "3600"})],
        )
    assert caught.value.retry_after == 3600
    assert caught.value.request_id == "req_1"


def test_client_errors_are_not_retried():
    core = make_core()
    with pytest.raises(ValidationError):
        drive(core, Request("POST", "/x", json={}), [envelope(400, "VALIDATION_ERROR")])


def test_idempotency_in_progress_is_retried():
    core = make_core()
    steps, _ = drive(
        core,
        Request("POST", "/x", json={}),
        [envelope(409, "IDEMPOTENCY_IN_PROGRESS", {"retry-after": "1"}), Response(201, {}, b"{}")],
    )
    assert [type(step) for step in steps] == [Send, Sleep, Send]


def test_post_reuses_one_idempotency_key():
    core = make_core()
    outcomes = [
        TransportFailure(OSError("reset")),
        envelope(500, "INTERNAL_ERROR"),
        Response(201, {}, b"{}"),
    ]
    steps, _ = drive(core, Request("POST", "/conversations", json={"a": 1}), outcomes)
    keys = {step.request.headers["Idempotency-Key"] for step in steps if isinstance(step, Send)}
    assert len(keys) == 1
    assert len([step for step in steps if isinstance(step, Send)]) == 3


def test_each_post_gets_its_own_key():
    core = make_core()
    first = core.prepare(Request("POST", "/x", json={}))
    second = core.prepare(Request("POST", "/x", json={}))
    assert first.headers["Idempotency-Key"] != second.headers["Idempotency-Key"]
    assert "Idempotency-Key" not in core.prepare(Request("GET", "/x")).headers


def test_retries_exhausted_raise_last_error():
    core = make_core(max_retries=2)
    with pytest.raises(ServiceUnavailableError):
        drive(core, Request("GET", "/x"), [envelope(503, "SERVICE_UNAVAILABLE")] * 3)


def test_lost_response_creates_once(dev_server, client, customer_id):
    with FaultProxy(f"http://127.0.0.1:{dev_server.port}") as proxy:
        proxy.plan = ["drop-after", (502, {}), "forward"]
        with CampfireClient(api_key=TEST_KEY, base_url=proxy.url + "/api/v2") as sdk:
            conversation = sdk.conversations.create(customer_id=customer_id, subject="once")

    assert len(proxy.requests) == 3
    keys = proxy.header_values("Idempotency-Key")
    assert keys[0] and len(set(keys)) == 1
    stored = list(client.conversations.list(customer_id=customer_id))
    assert [c.id for c in stored] == [conversation.id]


async def test_async_lost_response_creates_once(dev_server, client, customer_id):
    conversation = client.conversations.create(customer_id=customer_id)
    with FaultProxy(f"http://127.0.0.1:{dev_server.port}") as proxy:
        proxy.plan = ["drop-after", (503, {"Retry-After": "0"})]
        async with AsyncCampfireClient(api_key=TEST_KEY, base_url=proxy.url + "/api/v2") as sdk:
            message = await sdk.messages.create(conversation.id, content="only once")

    assert len(proxy.requests) == 3
    assert len(set(proxy.header_values("Idempotency-Key"))) == 1
    contents = [
        m.content for m in client.messages.list(conversation.id) if m.author_type == "customer"
    ]
    assert contents == ["only once"]
    assert message.content == "only once"


def test_connection_refused_raises_after_retries(customer_id):
    with FaultProxy("http://127.0.0.1:9") as proxy:
        proxy.plan = ["drop-before"] * 3
        with CampfireClient(api_key=TEST_KEY, base_url=proxy.url + "/api/v2", max_retries=2) as sdk:
            with pytest.raises(APIConnectionError):
                sdk.conversations.get("conv_1")
    assert len(proxy.requests) == 3


def test_retry_after_honoured_live(dev_server, customer_id):
    with FaultProxy(f"http://127.0.0.1:{dev_server.port}") as proxy:
        proxy.plan = [(429, {"Retry-After": "0"}), (503, {"Retry-After": "0"})]
        with CampfireClient(api_key=TEST_KEY, base_url=proxy.url + "/api/v2") as sdk:
            listing = sdk.conversations.list(customer_id=customer_id).first_page()
    assert listing.data == []
    assert len(proxy.requests) == 3


def test_max_retries_zero_raises_first_error(dev_server):
    with FaultProxy(f"http://127.0.0.1:{dev_server.port}") as proxy:
        proxy.plan = [(503, {"Retry-After": "0"})]
        with CampfireClient(api_key=TEST_KEY, base_url=proxy.url + "/api/v2", max_retries=0) as sdk:
            with pytest.raises(ServiceUnavailableError) as caught:
                sdk.conversations.get("conv_1")
    assert caught.value.request_id == "req_injected"
    assert len(proxy.requests) == 1


@pytest.mark.parametrize("method", ["PATCH", "PUT", "DELETE"])
def test_other_writes_reuse_one_idempotency_key(method):
    core = make_core()
    outcomes = [TransportFailure(OSError("reset")), Response(200, {}, b"{}")]
    steps, _ = drive(core, Request(method, "/agents/agent_1", json={"a": 1}), outcomes)
    sent = [step.request for step in steps if isinstance(step, Send)]

    assert len(sent) == 2
    assert sent[0].headers["Idempotency-Key"]
    assert sent[0].headers["Idempotency-Key"] == sent[1].headers["Idempotency-Key"]


def test_caller_idempotency_key_kept_on_patch():
    core = make_core()
    prepared = core.prepare(
        Request("PATCH", "/agents/agent_1", json={}, headers={"idempotency-key": "mine"})
    )

    assert prepared.headers["idempotency-key"] == "mine"
    assert "Idempotency-Key" not in prepared.headers


def test_lost_patch_response_applies_once(dev_server, client, customer_id):
    conversation = client.conversations.create(customer_id=customer_id, subject="before")
    with FaultProxy(f"http://127.0.0.1:{dev_server.port}") as proxy:
        proxy.plan = ["drop-after", "forward"]
        with CampfireClient(api_key=TEST_KEY, base_url=proxy.url + "/api/v2") as sdk:
            updated = sdk.conversations.update(conversation.id, subject="after")

    assert len(proxy.requests) == 2
    keys = proxy.header_values("Idempotency-Key")
    assert keys[0]
    assert len(set(keys)) == 1
    assert updated.subject == "after"
    assert client.conversations.get(conversation.id).subject == "after"
