"""The hub's fan-out, ordering and replay hand-over, with in-memory senders instead of sockets."""

from __future__ import annotations

import asyncio
import json

from campfire_server.auth.principal import Principal
from campfire_server.events.records import EventRecord
from campfire_server.realtime.events import frame_for
from campfire_server.realtime.hub import MAX_GAP_READS, REORDER_HOLD_SECONDS, Connection, Hub
from campfire_server.realtime.runtime import envelope_for

ORG = "org_hub"
ADMIN = Principal(org_id=ORG, role="admin", kind="secret", subject="key_1")
CUSTOMER = Principal(
    org_id=ORG, role="customer", kind="token", subject="c1", customer_id="customer_1"
)


def message_record(sequence: int, *, private: bool = False, org: str = ORG) -> EventRecord:
    return EventRecord(
        position=100 + sequence,
        id=f"evt_{sequence}",
        org_id=org,
        type="message.sent",
        data={
            "message": {
                "id": f"msg_{sequence}",
                "content": f"m{sequence}",
                "createdAt": "2024-01-15T10:30:00.000Z",
                "private": private,
            }
        },
        created_at=1705314600000 + sequence,
        conversation_id="conv_1",
        mailbox_id="mb_1",
        sequence=sequence,
    )


class Recorder:
    def __init__(self) -> None:
        self.frames: list[dict] = []

    async def __call__(self, text: str) -> None:
        self.frames.append(json.loads(text))


def attach(hub: Hub, principal: Principal, name: str, queue_frames: int = 100):  # type: ignore[no-untyped-def]
    recorder = Recorder()
    dropped: list[int] = []
    connection = Connection(
        name,
        principal,
        recorder,
        queue_frames=queue_frames,
        on_drop=lambda conn, code, reason: dropped.append(code),
    )
    hub.add(connection)
    return connection, recorder, dropped


async def settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


async def test_fan_out_respects_org_and_privacy() -> None:
    hub = Hub()
    admin, admin_frames, _ = attach(hub, ADMIN, "ws_admin")
    customer, customer_frames, _ = attach(hub, CUSTOMER, "ws_customer")
    stranger_principal = Principal(org_id="org_other", role="admin", kind="secret", subject="k")
    stranger, stranger_frames, _ = attach(hub, stranger_principal, "ws_stranger")
    for connection in (admin, customer, stranger):
        hub.subscribe(connection, "conversation:conv_1").go_live(0)

    hub.deliver(envelope_for(message_record(1)))
    hub.deliver(envelope_for(message_record(2, private=True)))
    await settle()
    assert [f["data"]["content"] for f in admin_frames.frames] == ["m1", "m2"]
    assert [f["data"]["content"] for f in customer_frames.frames] == ["m1"]
    assert stranger_frames.frames == []
    assert hub.deliveries == 3


async def test_out_of_order_events_reordered() -> None:
    hub = Hub()
    connection, recorder, _ = attach(hub, ADMIN, "ws_1")
    hub.subscribe(connection, "conversation:conv_1").go_live(0)
    hub.prime(ORG, "conv_1", 1)

    for sequence in (3, 2, 5, 4):
        hub.deliver(envelope_for(message_record(sequence)))
    await settle()
    assert [f["sequence"] for f in recorder.frames] == [2, 3, 4, 5]


async def test_events_without_subscribers_keep_order() -> None:
    hub = Hub()
    hub.deliver(envelope_for(message_record(1)))
    hub.deliver(envelope_for(message_record(2)))
    assert hub.deliveries == 0

    connection, recorder, _ = attach(hub, ADMIN, "ws_1")
    hub.subscribe(connection, "conversation:conv_1").go_live(0)
    for sequence in (4, 3):
        hub.deliver(envelope_for(message_record(sequence)))
    await settle()
    # Sequence 3 follows the two events delivered while no socket subscribed,
    # so 4 is held for it rather than sent first.
    assert [f["sequence"] for f in recorder.frames] == [3, 4]


async def test_gap_released_after_hold() -> None:
    hub = Hub()
    connection, recorder, _ = attach(hub, ADMIN, "ws_1")
    hub.subscribe(connection, "conversation:conv_1").go_live(0)
    hub.prime(ORG, "conv_1", 1)

    hub.deliver(envelope_for(message_record(4)))
    await settle()
    assert recorder.frames == []
    await asyncio.sleep(REORDER_HOLD_SECONDS + 0.1)
    assert [f["sequence"] for f in recorder.frames] == [4]
    # Without a log reader the gap was skipped. The socket moved past it, so a
    # late copy is dropped, and the client replays the jump with since.
    hub.deliver(envelope_for(message_record(2)))
    await settle()
    assert [f["sequence"] for f in recorder.frames] == [4]


async def test_gap_read_from_log() -> None:
    hub = Hub()
    requests: list[tuple[str, str]] = []
    hub.gap_reader = lambda org_id, conversation_id: requests.append((org_id, conversation_id))
    connection, recorder, _ = attach(hub, ADMIN, "ws_1")
    hub.subscribe(connection, "conversation:conv_1").go_live(1)
    hub.prime(ORG, "conv_1", 1)

    hub.deliver(envelope_for(message_record(4)))
    await asyncio.sleep(REORDER_HOLD_SECONDS + 0.1)
    assert recorder.frames == []
    assert requests == [(ORG, "conv_1")]
    assert hub.next_sequence(ORG, "conv_1") == 2

    for sequence in (2, 3, 4):
        hub.fill(message_record(sequence))
    hub.fill_done("conv_1")
    # The envelopes that Redis did deliver late are copies.
    hub.deliver(envelope_for(message_record(2)))
    hub.deliver(envelope_for(message_record(3)))
    await settle()
    assert [f["sequence"] for f in recorder.frames] == [2, 3, 4]
    assert hub.next_sequence(ORG, "conv_1") == 5


async def test_gap_skipped_after_reads() -> None:
    hub = Hub()
    requests: list[str] = []
    hub.gap_reader = lambda org_id, conversation_id: requests.append(conversation_id)
    connection, recorder, _ = attach(hub, ADMIN, "ws_1")
    hub.subscribe(connection, "conversation:conv_1").go_live(1)
    hub.prime(ORG, "conv_1", 1)

    hub.deliver(envelope_for(message_record(4)))
    # The log no longer contains 2 and 3 (pruned), so each read finds nothing.
    for _ in range(MAX_GAP_READS):
        await asyncio.sleep(REORDER_HOLD_SECONDS + 0.1)
        hub.fill_done("conv_1")
    await settle()
    assert len(requests) == MAX_GAP_READS
    assert [f["sequence"] for f in recorder.frames] == [4]


async def test_fresh_stream_fills_from_socket_floor() -> None:
    hub = Hub()
    requests: list[str] = []
    hub.gap_reader = lambda org_id, conversation_id: requests.append(conversation_id)
    connection, recorder, _ = attach(hub, ADMIN, "ws_1")
    # No reorder state (evicted, say) while the socket has been sent up to 5.
    hub.subscribe(connection, "conversation:conv_1").go_live(5)

    hub.deliver(envelope_for(message_record(8)))
    await asyncio.sleep(REORDER_HOLD_SECONDS + 0.1)
    assert requests == ["conv_1"]
    assert hub.next_sequence(ORG, "conv_1") == 6
    for sequence in (6, 7):
        hub.fill(message_record(sequence))
    await settle()
    assert [f["sequence"] for f in recorder.frames] == [6, 7, 8]


async def test_replay_handover_drops_duplicates() -> None:
    hub = Hub()
    connection, recorder, _ = attach(hub, ADMIN, "ws_1")
    subscription = hub.subscribe(connection, "conversation:conv_1")
    hub.prime(ORG, "conv_1", 1)
    # Events 2 and 3 arrive live while the replay (which also contains 2) is read.
    hub.deliver(envelope_for(message_record(2)))
    hub.deliver(envelope_for(message_record(3)))
    await settle()
    assert recorder.frames == []

    replayed = [frame_for(message_record(2))]
    connection.enqueue_replay([frame.render("conversation:conv_1") for frame in replayed])
    subscription.go_live(2)
    await settle()
    assert [f["sequence"] for f in recorder.frames] == [2, 3]


async def test_late_copy_at_or_below_floor_dropped() -> None:
    hub = Hub()
    connection, recorder, _ = attach(hub, ADMIN, "ws_1")
    subscription = hub.subscribe(connection, "conversation:conv_1")
    hub.prime(ORG, "conv_1", 1)
    # The subscribed reply counted sequences 2 and 3, whose live copies reach
    # the hub only after the subscription went live (as through Redis).
    subscription.go_live(3)
    for sequence in (2, 3, 4):
        hub.deliver(envelope_for(message_record(sequence)))
    await settle()
    assert [f["sequence"] for f in recorder.frames] == [4]


async def test_full_send_queue_drops_socket() -> None:
    hub = Hub()
    blocked = asyncio.Event()

    async def never_sends(text: str) -> None:
        await blocked.wait()

    dropped: list[int] = []
    slow = Connection(
        "ws_slow",
        ADMIN,
        never_sends,
        queue_frames=3,
        on_drop=lambda conn, code, reason: dropped.append(code),
    )
    hub.add(slow)
    fast, recorder, _ = attach(hub, ADMIN, "ws_fast")
    for connection in (slow, fast):
        hub.subscribe(connection, "conversation:conv_1").go_live(0)
    hub.prime(ORG, "conv_1", 0)

    for sequence in range(1, 7):
        hub.deliver(envelope_for(message_record(sequence)))
        await settle()
    assert dropped == [1013]
    assert slow.closed
    assert [f["sequence"] for f in recorder.frames] == [1, 2, 3, 4, 5, 6]


async def test_replay_not_counted_against_bound() -> None:
    blocked = asyncio.Event()
    sent: list[str] = []

    async def held_back(text: str) -> None:
        await blocked.wait()
        sent.append(text)

    dropped: list[int] = []
    connection = Connection(
        "ws_replaying",
        ADMIN,
        held_back,
        queue_frames=3,
        on_drop=lambda conn, code, reason: dropped.append(code),
    )
    connection.enqueue_replay([json.dumps({"n": n}) for n in range(10)])
    await settle()

    # One frame is with the writer; nine replayed and two live ones wait.
    connection.enqueue(json.dumps({"n": "live 1"}))
    connection.enqueue(json.dumps({"n": "live 2"}))
    assert dropped == []

    # The third live frame fills the bound of three, and a fourth drops the socket.
    connection.enqueue(json.dumps({"n": "live 3"}))
    assert dropped == []
    connection.enqueue(json.dumps({"n": "live 4"}))
    assert dropped == [1013]

    blocked.set()
    await settle()


async def test_typing_not_echoed() -> None:
    hub = Hub()
    first, first_frames, _ = attach(hub, ADMIN, "ws_a")
    second, second_frames, _ = attach(hub, ADMIN, "ws_b")
    for connection in (first, second):
        hub.subscribe(connection, "conversation:conv_1").go_live(0)
    hub.deliver(
        {
            "kind": "typing",
            "org": ORG,
            "channel": "conversation:conv_1",
            "authorId": "agent_a",
            "authorType": "agent",
            "isTyping": True,
            "origin": "ws_a",
            "ts": 1705314600000,
        }
    )
    await settle()
    assert first_frames.frames == []
    assert second_frames.frames[0]["data"]["authorId"] == "agent_a"


async def test_heartbeat_and_idle_sweep() -> None:
    hub = Hub(heartbeat_seconds=10, idle_timeout_seconds=30)
    connection, recorder, dropped = attach(hub, ADMIN, "ws_1")
    start = connection.last_received
    hub.sweep(start + 5)
    await settle()
    assert recorder.frames == []
    hub.sweep(start + 12.5)  # past the heartbeat with its +20 % jitter
    await settle()
    assert [f["type"] for f in recorder.frames] == ["ping"]
    hub.sweep(start + 31)
    assert dropped == [4408]


async def test_unknown_envelope_ignored() -> None:
    hub = Hub()
    hub.deliver({"kind": "weather"})
    hub.deliver({"kind": "event", "record": {"broken": True}})
    assert hub.deliveries == 0


async def test_direct_write_keeps_order() -> None:
    written: list[str] = []
    writable = {"now": True}
    gate = asyncio.Event()

    def write_now(text: str) -> bool:
        if not writable["now"]:
            return False
        written.append(text)
        return True

    async def queued_send(text: str) -> None:
        await gate.wait()
        written.append(text)

    connection = Connection(
        "ws_direct",
        ADMIN,
        queued_send,
        queue_frames=10,
        on_drop=lambda conn, code, reason: None,
        write_now=write_now,
    )
    connection.enqueue("a")
    writable["now"] = False
    connection.enqueue("b")
    await settle()
    # The writer has taken "b", so "c" must queue behind it although the socket is writable.
    writable["now"] = True
    connection.enqueue("c")
    gate.set()
    await settle()
    assert written == ["a", "b", "c"]


async def test_ai_typing_indicator_always_ends() -> None:
    from campfire_server.realtime.runtime import RealtimeService
    from tests.conftest import test_settings

    service = RealtimeService(test_settings("sqlite:///unused.db"), db=None)  # type: ignore[arg-type]
    await service.broker.start(service.hub.deliver)
    observer, recorder, _ = attach(service.hub, ADMIN, "ws_observer")
    service.hub.subscribe(observer, "conversation:conv_1").go_live(0)

    try:
        async with service.typing_indicator(ORG, "conv_1"):
            await settle()
            raise RuntimeError("the answer failed")
    except RuntimeError:
        pass
    await settle()
    assert [(f["data"]["authorId"], f["data"]["isTyping"]) for f in recorder.frames] == [
        ("ai", True),
        ("ai", False),
    ]
    assert all(f["data"]["authorType"] == "ai" for f in recorder.frames)
    await service.broker.stop()
