"""Analytics: metrics with trends and time series, and the per-conversation CSV export."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import StreamingResponse

from ... import clock
from ...analytics import export, queries, service
from ..deps import DbDep
from ..lean_route import LeanRoute
from ..route_access import AnalyticsReader
from ..schemas import errors

router = APIRouter(prefix="/analytics", tags=["analytics"], route_class=LeanRoute)

EXPORT_CHUNK = 2_000

PeriodQuery = Annotated[
    str | None, Query(max_length=16, description="24h, 7d (default), 30d or 90d, ending now")
]
DateQuery = Annotated[
    str | None, Query(max_length=32, description="First or last local day, YYYY-MM-DD")
]
ZoneQuery = Annotated[
    str | None, Query(max_length=64, description="IANA time zone name; UTC by default")
]
MailboxQuery = Annotated[str | None, Query(alias="mailboxId", max_length=64)]


@router.get(
    "/metrics",
    responses=errors(400, 403, 404),
    operation_id="analytics-metrics",
    summary="Get metrics with definitions, sample sizes, trends and an optional series",
)
async def get_metrics(
    principal: AnalyticsReader,
    db: DbDep,
    period: PeriodQuery = None,
    date_from: Annotated[DateQuery, Query(alias="from")] = None,
    date_to: Annotated[DateQuery, Query(alias="to")] = None,
    timezone: ZoneQuery = None,
    mailbox_id: MailboxQuery = None,
    metrics: Annotated[
        str | None,
        Query(max_length=500, description="Comma-separated metric names"),
    ] = None,
    interval: Annotated[str | None, Query(max_length=16, description="hour, day or week")] = None,
) -> dict[str, Any]:
    request = service.parse_request(
        period=period,
        date_from=date_from,
        date_to=date_to,
        timezone=timezone,
        mailbox_id=mailbox_id,
        metrics=metrics,
        interval=interval,
        now_ms=clock.now_ms(),
    )

    def work(tx):  # type: ignore[no-untyped-def]
        scoped = service.scope_mailboxes(tx, principal, request)
        return service.get_metrics(tx, principal.org_id, scoped)

    return await db.read(work)


@router.get(
    "/conversations.csv",
    responses={
        200: {"content": {"text/csv": {}}, "description": "One row per conversation"},
        **errors(400, 403, 404),
    },
    operation_id="analytics-conversations-csv",
    summary="Export one CSV row per conversation of the period",
)
async def export_conversations(
    principal: AnalyticsReader,
    db: DbDep,
    period: PeriodQuery = None,
    date_from: Annotated[DateQuery, Query(alias="from")] = None,
    date_to: Annotated[DateQuery, Query(alias="to")] = None,
    timezone: ZoneQuery = None,
    mailbox_id: MailboxQuery = None,
) -> StreamingResponse:
    request = service.parse_request(
        period=period,
        date_from=date_from,
        date_to=date_to,
        timezone=timezone,
        mailbox_id=mailbox_id,
        metrics=None,
        interval=None,
        now_ms=clock.now_ms(),
    )
    request = await db.read(lambda tx: service.scope_mailboxes(tx, principal, request))
    window = request.window

    def chunk(after: tuple[int, str] | None):  # type: ignore[no-untyped-def]
        return lambda tx: queries.conversation_rows(
            tx,
            org_id=principal.org_id,
            mailbox_ids=request.mailbox_ids,
            low=window.start_ms,
            high=window.end_ms,
            after=after,
            limit=EXPORT_CHUNK,
        )

    async def body() -> AsyncIterator[str]:
        yield export.render([], header=True)
        after: tuple[int, str] | None = None
        while True:
            rows = await db.read(chunk(after))
            if not rows:
                return
            yield export.render((export.csv_row(row, window.zone) for row in rows), header=False)
            if len(rows) < EXPORT_CHUNK:
                return
            after = (int(rows[-1]["created_at"]), rows[-1]["id"])

    filename = f"conversations-{window.label}.csv"
    return StreamingResponse(
        body(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
