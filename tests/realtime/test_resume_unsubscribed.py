"""Events committed while no socket subscribes reach a later subscribe with ``since``, in order."""

from __future__ import annotations

from typing import Any

from tests.realtime.conftest import (
    connect,
    frames_until_quiet,
    open_conversation,
    post_message,
    subscribe,
    token_for,
)


def _messages(frames: list[dict[str, Any]]) -> list[str]:
    return [frame["data"]["content"] for frame in frames if frame.get("type") == "message"]


async def test_resume_after_unsubscribed_events(server, org, http):
    conversation_id = await open_conversation(http, org, "customer_resume")
    channel = f"conversation:{conversation_id}"
    for number in range(3):
        await post_message(http, org, conversation_id, f"m{number}", "customer")

    ws = await connect(server, token_for(org, "admin"))
    reply = await subscribe(ws, channel, since=0)
    replayed = await frames_until_quiet(ws)
    for number in range(3, 6):
        await post_message(http, org, conversation_id, f"m{number}", "customer")
    live = await frames_until_quiet(ws)
    positions = [frame["cursor"] for frame in replayed + live if frame.get("type") == "message"]
    await ws.close()

    for number in range(6, 9):
        await post_message(http, org, conversation_id, f"m{number}", "customer")
    again = await connect(server, token_for(org, "admin"))
    await subscribe(again, channel, since=positions[-1])
    resumed = await frames_until_quiet(again)
    await again.close()

    assert reply["type"] == "subscribed", reply
    assert _messages(replayed) == ["m0", "m1", "m2"]
    assert _messages(live) == ["m3", "m4", "m5"]
    assert positions == sorted(positions)
    assert _messages(resumed) == ["m6", "m7", "m8"]
