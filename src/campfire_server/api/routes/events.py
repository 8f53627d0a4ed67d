"""The event log for polling clients: the frames a realtime subscription would have delivered."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request

from ...errors import ValidationFailed
from ...realtime import service
from ...realtime.events import Channel
from ...realtime.protocol import Since, parse_since
from ..deps import DbDep
from ..lean_route import LeanRoute
from ..query import QueryInt
from ..route_access import EventReader
from ..schemas import errors

router = APIRouter(tags=["events"], route_class=LeanRoute)


@router.get(
    "/events",
    responses=errors(400, 403, 404),
    operation_id="events-list",
    summary="List a channel's events after a sequence or cursor",
    description=(
        "Returns the frames that a realtime subscription to `channel` would deliver, oldest "
        "first. `since` is a conversation's event `sequence` on `conversation:{id}` channels "
        "and an event `cursor` on `mailbox:{id}` and `agent:{id}` channels (or an ISO 8601 "
        "time on any channel). Pass `pagination.nextCursor` as `since` on the next poll. A "
        "sequence or cursor beyond the end of the channel's log is rejected with a 400."
    ),
)
async def list_events(
    request: Request,
    principal: EventReader,
    db: DbDep,
    channel: Annotated[
        str, Query(max_length=80, description="conversation:{id}, mailbox:{id} or agent:{id}")
    ],
    since: Annotated[str | None, Query(max_length=40)] = None,
    cursor: Annotated[str | None, Query(max_length=40, description="Same as since")] = None,
    limit: Annotated[QueryInt, Query(ge=1, le=1000)] = 100,
) -> dict[str, Any]:
    parsed = Channel.parse(channel)
    start = _start(since, cursor)

    # On PostgreSQL, a mailbox or agent list stops at the settled log
    # position, so that no event committed later can take a lower cursor.
    realtime = getattr(request.app.state, "realtime", None)
    horizon = realtime.log_horizon() if realtime is not None else None

    def work(tx):  # type: ignore[no-untyped-def]
        access = service.authorize(tx, principal, parsed).settled_at(horizon)
        return access, service.replay(tx, principal, access, start, limit, horizon)

    access, page = await db.read(work)
    frames, has_more = page.frames, page.has_more
    data = [frame.to_frame(parsed.name, customer=principal.is_customer) for frame in frames]
    # The last examined event may be one this principal is not sent, so a
    # page that contains none of its events still moves the next poll forward.
    if page.next_since is not None:
        resume = page.next_since
    elif start.value is not None:
        resume = start.value
    else:
        resume = access.current
    return {
        "data": data,
        "pagination": {"limit": limit, "hasMore": has_more, "nextCursor": str(resume)},
    }


def _start(since: str | None, cursor: str | None) -> Since:
    """Return where the list starts, from ``since`` or its alias ``cursor`` (never both)."""
    parsed_since = parse_since(since)
    parsed_cursor = parse_since(cursor, "cursor")
    if parsed_since is not None and parsed_cursor is not None:
        raise ValidationFailed(
            "since and cursor are the same parameter, and both were sent; send only one of them",
            field="cursor",
            value=cursor,
            expected="since or cursor, not both",
        )
    return parsed_since or parsed_cursor or Since(value=0)
