"""Analytics: metrics with trends and time series, and the per-conversation CSV export."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import StreamingResponse

from ... import clock
from ...analytics import export, queries, service
from ...analytics.definitions import DEFAULT_METRICS, METRICS
from ...analytics.periods import MAX_BUCKETS, MAX_RANGE_DAYS
from ..deps import DbDep
from ..lean_route import LeanRoute
from ..route_access import AnalyticsReader
from ..schemas import errors

router = APIRouter(prefix="/analytics", tags=["analytics"], route_class=LeanRoute)

EXPORT_CHUNK = 2_000

PeriodQuery = Annotated[
    str | None,
    Query(
        max_length=16,
        description="24h, 7d (default), 30d or 90d: that many hours or days ending at the "
        "request time. Not together with from and to",
    ),
]
FromQuery = Annotated[
    str | None,
    Query(
        alias="from",
        max_length=32,
        description="First local day of the range, YYYY-MM-DD in timezone, inclusive; "
        "send it with to",
    ),
]
ToQuery = Annotated[
    str | None,
    Query(
        alias="to",
        max_length=32,
        description="Last local day of the range, YYYY-MM-DD in timezone, inclusive; not "
        f"before from, and at most {MAX_RANGE_DAYS} days counting both",
    ),
]
ZoneQuery = Annotated[
    str | None,
    Query(
        max_length=64,
        description="IANA time zone name, such as America/Chicago, for local days and "
        "buckets; UTC by default",
    ),
]
MailboxQuery = Annotated[
    str | None,
    Query(
        alias="mailboxId",
        max_length=64,
        description="Only conversations of this mailbox; one outside a key's mailboxes is a 404",
    ),
]
MetricsQuery = Annotated[
    str | None,
    Query(
        max_length=500,
        description=f"Comma-separated metric names, of {', '.join(METRICS)}; "
        f"{', '.join(DEFAULT_METRICS)} by default",
    ),
]
IntervalQuery = Annotated[
    str | None,
    Query(
        max_length=16,
        description="hour, day or week (ISO, from Monday): adds a series of local buckets; "
        f"hour allows at most {MAX_BUCKETS:,} buckets",
    ),
]


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
    date_from: FromQuery = None,
    date_to: ToQuery = None,
    timezone: ZoneQuery = None,
    mailbox_id: MailboxQuery = None,
    metrics: MetricsQuery = None,
    interval: IntervalQuery = None,
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
    date_from: FromQuery = None,
    date_to: ToQuery = None,
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
