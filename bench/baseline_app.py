"""The bare baseline: FastAPI validating the message body and echoing it, storing nothing."""

from __future__ import annotations

from fastapi import FastAPI

from campfire_server.conversations.schemas import MessageCreate

app = FastAPI()


@app.post("/api/v2/conversations/{conversation_id}/messages", status_code=201)
async def echo_message(conversation_id: str, body: MessageCreate) -> MessageCreate:
    return body


@app.get("/api/v2/conversations/{conversation_id}")
async def echo_conversation(conversation_id: str) -> dict[str, str]:
    return {"id": conversation_id}
