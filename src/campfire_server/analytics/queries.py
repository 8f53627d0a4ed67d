"""The aggregate SQL behind every metric, shared by SQLite and PostgreSQL.

The queries read the fact tables that ``facts.refresh_chunk`` rebuilds: one
row per conversation and one per wait that got a reply, each carrying its
conversation's creation time, which places it in a period.

The 95th percentile is the nearest-rank value, the ``ceil(0.95 * n)``-th
smallest sample, so both engines return the same stored value. A period's
is picked by ``nearest_rank`` from an index ordered by wait length; series
buckets rank their waits with running counts over a window instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..db.tx import Tx
from .facts import AI, HUMAN_SERIES, REPLY_SERIES, WAIT_SUMS, conversation_filter

# Which waits each duration metric takes: a series and, within it, a subset
# (every wait, the first answered wait of each conversation, or the waits
# that the AI answered).
WAIT_METRICS = {
    "response_time": (REPLY_SERIES, "every"),
    "first_response_time": (REPLY_SERIES, "first"),
    "ai_response_time": (REPLY_SERIES, "ai"),
    "human_response_time": (HUMAN_SERIES, "every"),
}
WAIT_SERIES = {name: series for name, (series, _subset) in WAIT_METRICS.items()}
SUBSETS = {"every": "1 = 1", "first": "answered = 1", "ai": f"reply_kind = {AI}"}

# One sort per group and series serves all three subsets: running counts of
# each subset along the ms order give every row its rank within the subset,
# and the partition totals give the nearest rank, ceil(0.95 * n).
RANKED_SQL = (
    "ranked AS (SELECT grp, series, ms, answered, reply_kind, "
    + ", ".join(
        f"SUM(CASE WHEN {condition} THEN 1 ELSE 0 END) OVER (PARTITION BY grp, series "
        f"ORDER BY ms ROWS UNBOUNDED PRECEDING) AS rank_{subset}, "
        f"SUM(CASE WHEN {condition} THEN 1 ELSE 0 END) OVER (PARTITION BY grp, series) "
        f"AS size_{subset}"
        for subset, condition in SUBSETS.items()
    )
    + " FROM waits)"
)

WAITS_SELECT_SQL = (
    "SELECT grp, series, "
    + ", ".join(
        f"SUM(CASE WHEN {condition} THEN 1 ELSE 0 END) AS n_{subset}, "
        f"SUM(CASE WHEN {condition} THEN ms ELSE 0 END) AS total_{subset}, "
        f"SUM(CASE WHEN {condition} THEN CAST(ms AS DOUBLE PRECISION) * ms ELSE 0 END) "
        f"AS squares_{subset}, "
        f"MIN(CASE WHEN {condition} AND rank_{subset} >= (95 * size_{subset} + 99) / 100 "
        f"THEN ms END) AS p95_{subset}"
        for subset, condition in SUBSETS.items()
    )
    + " FROM ranked GROUP BY grp, series"
)


# A first resolution is the AI's when no agent message and no handoff request
# came before it; one in the same millisecond counts as before.
def ai_resolved_sql(alias: str) -> str:
    return (
        f"{alias}.resolved_at IS NOT NULL "
        f"AND ({alias}.agent_at IS NULL OR {alias}.agent_at > {alias}.resolved_at) "
        f"AND ({alias}.handoff_at IS NULL OR {alias}.handoff_at > {alias}.resolved_at)"
    )


@dataclass(frozen=True, slots=True)
class TwoPeriods:
    """Group 0 is ``[low, split)``, the comparison period; group 1 is ``[split, high)``."""

    low: int
    split: int
    high: int


@dataclass(frozen=True, slots=True)
class Buckets:
    """Group ``i`` is ``[starts[i], starts[i + 1])``; the last one ends at ``high``."""

    starts: tuple[int, ...]
    high: int


def bucket_case(column: str, starts: tuple[int, ...], offset: int = 0) -> str:
    """Build a SQL expression for the bucket number of ``column``: a binary search.

    ``starts`` are the sorted bucket starts, computed in Python from the time
    zone. The nested CASE compares each row with about log2(len(starts))
    starts, so rows are bucketed where they are read, with no join and no
    sort. The starts are integers, so they are inlined.
    """
    if len(starts) == 1:
        return str(offset)
    middle = len(starts) // 2
    return (
        f"CASE WHEN {column} < {int(starts[middle])} "
        f"THEN {bucket_case(column, starts[:middle], offset)} "
        f"ELSE {bucket_case(column, starts[middle:], offset + middle)} END"
    )


def _grouped(
    name: str, table: str, columns: tuple[str, ...], where: str, grouping: TwoPeriods | Buckets
) -> str:
    """Build the CTE ``name(grp, *columns)`` over the rows of ``table`` matching ``where``."""
    selected = ", ".join(f"x.{column}" for column in columns)
    if isinstance(grouping, TwoPeriods):
        group = "CASE WHEN x.created_at < :split THEN 0 ELSE 1 END"
    else:
        group = bucket_case("x.created_at", grouping.starts)
    return f"{name} AS (SELECT {group} AS grp, {selected} FROM {table} x WHERE {where})"


COHORT_COLUMNS = (
    "conversation_id",
    "resolved_at",
    "agent_at",
    "handoff_at",
    "rating",
    "first_response_ms",
    *(f"{prefix}_{kind}" for prefix in WAIT_SUMS for kind in ("waits", "ms", "squares")),
)


def series_of(metrics: set[str]) -> list[int]:
    """Return the wait series that the requested duration metrics read."""
    return sorted({WAIT_SERIES[name] for name in WAIT_METRICS if name in metrics})


def _grouping_params(grouping: TwoPeriods | Buckets, org_id: str) -> dict[str, Any]:
    params: dict[str, Any] = {"org_id": org_id, "high": grouping.high}
    if isinstance(grouping, TwoPeriods):
        params.update(low=grouping.low, split=grouping.split)
    else:
        params["low"] = grouping.starts[0]
    return params


def conversation_totals(
    tx: Tx,
    *,
    org_id: str,
    mailbox_ids: tuple[str, ...] | None,
    grouping: TwoPeriods | Buckets,
) -> list[dict[str, Any]]:
    """Return the per-group totals of the conversations and of their answered waits.

    Each row has ``n`` conversations, ``resolved``, ``ai_resolved``,
    ``handoffs``, ``rated``, ``rating_sum``, ``rating_squares``, and the
    ``n_``, ``total_`` (ms) and ``squares_`` (ms^2) of every wait series and
    subset: ``reply`` (every AI or agent reply), ``first`` (first answered
    waits), ``ai`` and ``human``.
    """
    params = _grouping_params(grouping, org_id)
    cohort = _grouped(
        "cohort",
        "analytics_facts",
        COHORT_COLUMNS,
        conversation_filter("x", mailbox_ids, params),
        grouping,
    )
    sums = ", ".join(
        f"SUM(k.{prefix}_waits) AS n_{prefix}, SUM(k.{prefix}_ms) AS total_{prefix}, "
        f"SUM(k.{prefix}_squares) AS squares_{prefix}"
        for prefix in WAIT_SUMS
    )
    return tx.all(
        f"WITH {cohort} SELECT k.grp, COUNT(*) AS n, COUNT(k.resolved_at) AS resolved, "
        f"SUM(CASE WHEN {ai_resolved_sql('k')} THEN 1 ELSE 0 END) AS ai_resolved, "
        "COUNT(k.handoff_at) AS handoffs, COUNT(k.rating) AS rated, "
        "SUM(k.rating) AS rating_sum, SUM(k.rating * k.rating) AS rating_squares, "
        f"{sums}, COUNT(k.first_response_ms) AS n_first, "
        "SUM(k.first_response_ms) AS total_first, "
        "SUM(CAST(k.first_response_ms AS DOUBLE PRECISION) * k.first_response_ms) "
        "AS squares_first FROM cohort k GROUP BY k.grp",
        **params,
    )


def ranked_wait_totals(
    tx: Tx,
    *,
    org_id: str,
    mailbox_ids: tuple[str, ...] | None,
    grouping: Buckets,
    series: list[int],
) -> list[dict[str, Any]]:
    """Return per bucket and series the ``n_``, ``total_``, ``squares_`` and ``p95_`` of
    each subset (``every``, ``first``, ``ai``), in milliseconds, ranking with window
    functions."""
    params = _grouping_params(grouping, org_id)
    where = conversation_filter("x", mailbox_ids, params)
    waits = _grouped(
        "waits",
        "analytics_waits",
        ("series", "answered", "reply_kind", "ms"),
        where + f" AND x.series IN ({', '.join(str(value) for value in series)})",
        grouping,
    )
    return tx.all(f"WITH {waits}, {RANKED_SQL} {WAITS_SELECT_SQL}", **params)


def nearest_rank(
    tx: Tx,
    *,
    org_id: str,
    mailbox_ids: tuple[str, ...] | None,
    low: int,
    high: int,
    series: int,
    subset: str,
    count: int,
    percentile: int = 95,
) -> int | None:
    """Return the nearest-rank percentile, the ``ceil(p / 100 * count)``-th smallest wait.

    ``count`` is the number of waits that match, from ``conversation_totals``. The
    query walks ``ix_analytics_waits_org_series_ms`` from the longest wait
    down and skips the ``count - rank`` longer ones, so it reads about 5%
    of the matching waits plus the non-matching ones it passes.
    """
    if count <= 0:
        return None
    rank = (percentile * count + 99) // 100
    params: dict[str, Any] = {
        "org_id": org_id,
        "low": low,
        "high": high,
        "series": series,
        "skip": count - rank,
    }
    where = conversation_filter("x", mailbox_ids, params)
    # SQLite's planner, without statistics, prefers the created_at index and a
    # full sort; name the index that delivers the rows already in order.
    hint = " INDEXED BY ix_analytics_waits_org_series_ms" if tx.dialect == "sqlite" else ""
    value = tx.value(
        f"SELECT x.ms FROM analytics_waits x{hint} WHERE {where} AND x.series = :series "
        f"AND {SUBSETS[subset]} ORDER BY x.ms DESC LIMIT 1 OFFSET :skip",
        **params,
    )
    return None if value is None else int(value)


def conversation_rows(
    tx: Tx,
    *,
    org_id: str,
    mailbox_ids: tuple[str, ...] | None,
    low: int,
    high: int,
    after: tuple[int, str] | None,
    limit: int,
) -> list[dict[str, Any]]:
    """Return one row per conversation of ``[low, high)``, oldest first, after ``after``."""
    params: dict[str, Any] = {"org_id": org_id, "low": low, "high": high, "limit": limit}
    where = conversation_filter("f", mailbox_ids, params)
    if after is not None:
        where += (
            " AND (f.created_at > :after_created_at "
            "OR (f.created_at = :after_created_at AND f.conversation_id > :after_id))"
        )
        params.update(after_created_at=after[0], after_id=after[1])
    return tx.all(
        "SELECT f.conversation_id AS id, f.mailbox_id, c.status, f.created_at, c.message_count, "
        "f.first_response_ms, f.first_reply_kind, f.first_human_response_ms, f.resolved_at, "
        f"f.handoff_at, CASE WHEN {ai_resolved_sql('f')} "
        "THEN 1 ELSE 0 END AS ai_resolved, r.rating, r.comment "
        "FROM analytics_facts f JOIN conversations c ON c.id = f.conversation_id "
        "LEFT JOIN satisfaction_ratings r ON r.conversation_id = f.conversation_id "
        f"WHERE {where} ORDER BY f.created_at, f.conversation_id LIMIT :limit",
        **params,
    )
