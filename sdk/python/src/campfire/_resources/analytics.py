from __future__ import annotations

from collections.abc import Sequence

from .._core import query
from .._models import Metrics
from ._base import Resource


class Analytics(Resource):
    """Support metrics: response times, resolution rates, satisfaction."""

    def metrics(
        self,
        *,
        period: str | None = None,
        metrics: Sequence[str] | None = None,
        from_: str | None = None,
        to: str | None = None,
        timezone: str | None = None,
        mailbox_id: str | None = None,
        interval: str | None = None,
    ) -> Metrics:
        """Fetch metrics for a ``period`` (``24h``, ``7d``, ``30d``, ``90d``) or a ``from_``/``to``
        range of ISO 8601 timestamps, such as ``metrics=["response_time", "satisfaction"]``."""
        params = query(
            period=period,
            metrics=metrics,
            to=to,
            timezone=timezone,
            mailbox_id=mailbox_id,
            interval=interval,
        )
        if from_ is not None:
            params["from"] = from_
        return self._call("GET", "/analytics/metrics", Metrics.model_validate, params=params)

    def export_conversations(
        self,
        *,
        period: str | None = None,
        from_: str | None = None,
        to: str | None = None,
        timezone: str | None = None,
        mailbox_id: str | None = None,
    ) -> str:
        """Return one CSV row per conversation (first response, resolution, handoff, rating)."""
        params = query(period=period, to=to, timezone=timezone, mailbox_id=mailbox_id)
        if from_ is not None:
            params["from"] = from_
        return self._call(
            "GET", "/analytics/conversations.csv", str, params=params, expects_json=False
        )
