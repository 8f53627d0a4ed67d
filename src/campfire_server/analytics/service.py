"""Metrics of one organization: parse the request, run the aggregate SQL, shape the result."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..auth.principal import Principal
from ..clock import to_iso
from ..db.tx import Tx
from ..errors import ValidationFailed
from ..organizations import service as organizations
from . import periods, queries, trends
from .definitions import COHORT_RULE, DEFAULT_METRICS, METRICS, RESOLUTION_RULE
from .periods import Window
from .stream import HUMAN_SERIES, REPLY_SERIES


@dataclass(frozen=True, slots=True)
class MetricsRequest:
    window: Window
    metrics: tuple[str, ...]
    mailbox_ids: tuple[str, ...] | None
    interval: str | None


def parse_metric_names(value: str | None) -> tuple[str, ...]:
    if value is None or not value.strip():
        return DEFAULT_METRICS
    names: list[str] = []
    for raw in value.split(","):
        name = raw.strip()
        if name not in METRICS:
            raise ValidationFailed(
                f"metric {name!r} is not supported",
                field="metrics",
                value=name,
                expected=f"a comma-separated list of {', '.join(METRICS)}",
            )
        if name not in names:
            names.append(name)
    return tuple(names)


def parse_request(
    *,
    period: str | None,
    date_from: str | None,
    date_to: str | None,
    timezone: str | None,
    mailbox_id: str | None,
    metrics: str | None,
    interval: str | None,
    now_ms: int,
) -> MetricsRequest:
    """Validate the query parameters; raise ``ValidationFailed`` naming the first bad one."""
    names = parse_metric_names(metrics)
    zone = periods.parse_zone(timezone)
    window = periods.resolve_window(
        period=period, date_from=date_from, date_to=date_to, zone=zone, now_ms=now_ms
    )
    if interval is not None:
        periods.buckets(window, interval)
    return MetricsRequest(window, names, (mailbox_id,) if mailbox_id else None, interval)


def scope_mailboxes(tx: Tx, principal: Principal, request: MetricsRequest) -> MetricsRequest:
    """Check the mailbox filter and narrow it to the mailboxes the credential may see."""
    allowed = principal.mailbox_ids
    if request.mailbox_ids is None:
        if not allowed:
            return request
        return MetricsRequest(request.window, request.metrics, tuple(allowed), request.interval)
    (mailbox_id,) = request.mailbox_ids
    organizations.find_mailbox_row(tx, principal, mailbox_id)
    return request


# Shaping -----------------------------------------------------------------------


def _seconds(milliseconds: Any) -> float | None:
    return None if milliseconds is None else round(float(milliseconds) / 1000.0, 3)


def _share(part: Any, whole: Any) -> float | None:
    return None if not whole else round(float(part or 0) / float(whole), 4)


Index = dict[tuple[int, Any], dict[str, Any]]

# Groups of the aggregate rows: the comparison period, the reported period,
# then the buckets of a series in order.
COMPARISON, CURRENT, FIRST_BUCKET = 0, 1, 2


def _index(rows: tuple[list[dict[str, Any]], list[dict[str, Any]]]) -> Index:
    """Key conversation rows by ``(group, "conversations")``, wait rows by group and series."""
    conversations, waits = rows
    index: Index = {(int(row["grp"]), "conversations"): row for row in conversations}
    index.update({(int(row["grp"]), int(row["series"])): row for row in waits})
    return index


def _duration_values(name: str, group: int, index: Index) -> tuple[dict[str, Any], trends.Sample]:
    series, subset = queries.WAIT_METRICS[name]
    row = index.get((group, series))
    n = 0 if row is None else int(row[f"n_{subset}"] or 0)
    if row is None or n == 0:
        return {"average": None, "p95": None, "sampleSize": 0}, trends.Sample(0, 0.0)
    total = float(row[f"total_{subset}"])
    sample = trends.Sample(n, total / 1000.0, float(row[f"squares_{subset}"]) / 1e6)
    values: dict[str, Any] = {"average": _seconds(total / n)}
    if f"p95_{subset}" in row:
        values["p95"] = _seconds(row[f"p95_{subset}"])
    values["sampleSize"] = n
    return values, sample


def _metric_values(
    name: str, group: int, index: Index
) -> tuple[dict[str, Any], trends.Sample, trends.Sample | None]:
    """Return the public values of one metric in one group and its samples for the trend test.

    The second sample, when not ``None``, is the secondary figure that has a
    trend of its own (``ai_resolution``).
    """
    counts = index.get((group, "conversations")) or {}
    conversations = int(counts.get("n") or 0)
    kind = METRICS[name].kind
    if kind == "duration":
        values, sample = _duration_values(name, group, index)
        return values, sample, None
    if name == "resolution_rate":
        resolved = int(counts.get("resolved") or 0)
        ai_resolved = int(counts.get("ai_resolved") or 0)
        values = {
            "ai_resolution": _share(ai_resolved, conversations),
            "total_resolution": _share(resolved, conversations),
            "resolved": resolved,
            "aiResolved": ai_resolved,
            "sampleSize": conversations,
        }
        return (
            values,
            trends.Sample(conversations, resolved),
            trends.Sample(conversations, ai_resolved),
        )
    if name == "handoff_rate":
        handoffs = int(counts.get("handoffs") or 0)
        values = {
            "rate": _share(handoffs, conversations),
            "handoffs": handoffs,
            "sampleSize": conversations,
        }
        return values, trends.Sample(conversations, handoffs), None
    if name == "satisfaction":
        rated = int(counts.get("rated") or 0)
        total = float(counts.get("rating_sum") or 0)
        squares = float(counts.get("rating_squares") or 0)
        values = {
            "average": None if rated == 0 else round(total / rated, 3),
            "total_responses": rated,
            "sampleSize": rated,
        }
        return values, trends.Sample(rated, total, squares), None
    values = {"total": conversations, "sampleSize": conversations}
    return values, trends.Sample(conversations, conversations), None


def _test(name: str, current: trends.Sample, previous: trends.Sample) -> trends.TestResult:
    kind = METRICS[name].kind
    if kind in ("duration", "rating"):
        return trends.welch_t_test(current, previous)
    if kind == "share":
        return trends.two_proportion_z_test(current, previous)
    return trends.count_binomial_test(current.n, previous.n)


def _p_value(result: trends.TestResult) -> float | None:
    return None if result.p_value is None else round(result.p_value, 4)


def comparison_window(window: Window) -> dict[str, str | None]:
    """Return the comparison window and the end of its measured part, as UTC times."""
    return {
        "from": to_iso(window.previous_start_ms),
        "to": to_iso(window.previous_end_ms),
        "measuredTo": to_iso(window.previous_measured_end_ms),
    }


def summarize(name: str, index: Index, window: Window) -> dict[str, Any]:
    """Shape one metric of a two-period query: values, trend, definition and comparison."""
    metric = METRICS[name]
    current, current_sample, current_extra = _metric_values(name, CURRENT, index)
    previous, previous_sample, previous_extra = _metric_values(name, COMPARISON, index)
    result = _test(name, current_sample, previous_sample)

    body: dict[str, Any] = {
        **current,
        "trend": trends.direction(result, higher_is_better=metric.higher_is_better),
    }
    if current_extra is not None and previous_extra is not None:
        extra = trends.two_proportion_z_test(current_extra, previous_extra)
        body["aiResolutionTrend"] = trends.direction(extra, higher_is_better=True)
    if metric.kind == "duration":
        body["unit"] = "seconds"
    body["definition"] = metric.definition
    body["comparison"] = {
        **comparison_window(window),
        **previous,
        "test": result.test,
        "pValue": _p_value(result),
    }
    return body


def series_point(name: str, group: int, index: Index) -> dict[str, Any]:
    values, _sample, _extra = _metric_values(name, group, index)
    return values


def _wait_rows(conversations: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Reshape the wait totals of conversation rows into rows per group and series."""
    rows = []
    for row in conversations:
        for series, subsets in (
            (REPLY_SERIES, {"every": "reply", "first": "first", "ai": "ai"}),
            (HUMAN_SERIES, {"every": "human"}),
        ):
            shaped: dict[str, Any] = {"grp": row["grp"], "series": series}
            for subset, prefix in subsets.items():
                for kind in ("n", "total", "squares"):
                    shaped[f"{kind}_{subset}"] = row[f"{kind}_{prefix}"] or 0
            rows.append(shaped)
    return rows


def _summed(rows: list[dict[str, Any]], group: int) -> dict[str, Any]:
    """Add up the totals of several groups, such as a period's buckets, into one group."""
    total: dict[str, Any] = {"grp": group}
    for key in rows[0]:
        if key == "grp":
            continue
        values = [row[key] for row in rows if row[key] is not None]
        total[key] = sum(values) if values else None
    return total


def period_rows(
    tx: Tx, org_id: str, request: MetricsRequest, buckets: list[periods.Bucket] | None
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Return the conversation and wait totals of both periods and of every bucket, with p95s.

    The comparison period is group ``COMPARISON`` and the reported one
    ``CURRENT``, and bucket ``i`` is group ``FIRST_BUCKET + i``. With buckets, the
    reported period's totals are the sum of its buckets', so each facts row
    is read once. Percentiles are picked for the reported period and every
    bucket, not for the comparison.
    """
    window = request.window
    scope = {"org_id": org_id, "mailbox_ids": request.mailbox_ids}
    ranges = [queries.Range(COMPARISON, window.previous_start_ms, window.previous_measured_end_ms)]
    current = queries.Range(CURRENT, window.start_ms, window.end_ms)
    if buckets is None:
        ranges.append(current)
    else:
        ranges += [
            queries.Range(FIRST_BUCKET + number, bucket.start_ms, bucket.end_ms)
            for number, bucket in enumerate(buckets)
        ]
    conversations = queries.conversation_totals(tx, ranges=ranges, **scope)
    bucket_totals = [row for row in conversations if int(row["grp"]) >= FIRST_BUCKET]
    if bucket_totals:
        conversations.append(_summed(bucket_totals, CURRENT))
    waits = _wait_rows(conversations)

    requested_waits = {
        queries.WAIT_METRICS[name] for name in request.metrics if name in queries.WAIT_METRICS
    }
    by_group = {item.group: item for item in ranges}
    percentiles = []
    for row in waits:
        group, row_series = int(row["grp"]), int(row["series"])
        for series, subset in sorted(requested_waits):
            if series != row_series:
                continue
            count = int(row[f"n_{subset}"] or 0)
            if group == CURRENT:
                row[f"p95_{subset}"] = queries.nearest_rank(
                    tx,
                    low=window.start_ms,
                    high=window.end_ms,
                    series=series,
                    subset=subset,
                    count=count,
                    **scope,
                )
            elif group >= FIRST_BUCKET and count > 0:
                percentiles.append(
                    queries.PercentileRequest(by_group[group], series, subset, count)
                )
    values = queries.range_percentiles(tx, requests=percentiles, **scope)
    for row in waits:
        group = int(row["grp"])
        if group < FIRST_BUCKET:
            continue
        for series, subset in requested_waits:
            if series == int(row["series"]):
                row[f"p95_{subset}"] = values.get((group, series, subset))
    return conversations, waits


def get_metrics(tx: Tx, org_id: str, request: MetricsRequest) -> dict[str, Any]:
    """Compute the metrics of the window, their trends and, with an interval, the series."""
    window = request.window
    if tx.dialect == "postgresql":
        # Each query reads at most one bucket's index range, so starting
        # parallel workers costs more than they save.
        tx.execute("SET LOCAL max_parallel_workers_per_gather = 0")
    buckets = None if request.interval is None else periods.buckets(window, request.interval)
    index = _index(period_rows(tx, org_id, request, buckets))
    mailbox_id = None
    if request.mailbox_ids is not None and len(request.mailbox_ids) == 1:
        mailbox_id = request.mailbox_ids[0]
    body: dict[str, Any] = {
        "period": window.label,
        "from": to_iso(window.start_ms),
        "to": to_iso(window.end_ms),
        "measuredTo": to_iso(window.measured_end_ms),
        "timezone": window.zone.key,
        "mailboxId": mailbox_id,
        "comparison": comparison_window(window),
        "rules": {"period": COHORT_RULE, "resolution": RESOLUTION_RULE},
        "metrics": {name: summarize(name, index, window) for name in request.metrics},
    }
    if buckets is not None:
        body["interval"] = request.interval
        body["series"] = [
            {
                "from": to_iso(bucket.start_ms),
                "to": to_iso(bucket.end_ms),
                "metrics": {
                    name: series_point(name, FIRST_BUCKET + number, index)
                    for name in request.metrics
                },
            }
            for number, bucket in enumerate(buckets)
        ]
    return body
