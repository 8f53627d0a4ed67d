"""The aggregate SQL behind every metric, shared by SQLite and PostgreSQL.

The queries read the fact tables that every write keeps current
(``live``): one row per conversation and one per wait that got a reply,
each carrying its conversation's creation time, which places it in a
period.

The 95th percentile is the nearest-rank value, the ``ceil(0.95 * n)``-th
smallest sample, so both engines return the same stored value. A period's
is picked by ``nearest_rank`` from an index ordered by wait length; each
series bucket's by a top-N query over the bucket's range of waits.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..db.tx import Tx
from .facts import conversation_filter
from .rollups import FACTS_TOTALS_SQL, ROLLUP_TOTALS_SQL, SLOT_MS, ai_resolved_sql
from .stream import AI, HUMAN_SERIES, REPLY_SERIES

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
SUBSETS = {"every": "1 = 1", "first": "x.answered = 1", "ai": f"x.reply_kind = {AI}"}


def agent_involved_sql(alias: str) -> str:
    """Build the condition that an agent message or handoff request preceded the resolution."""
    return f"({alias}.agent_at <= {alias}.resolved_at OR {alias}.handoff_at <= {alias}.resolved_at)"


@dataclass(frozen=True, slots=True)
class Range:
    """Group ``group`` covers the conversations created in ``[low, high)``."""

    group: int
    low: int
    high: int


# Ranges per statement: SQLite allows at most 500 terms in one compound SELECT.
TERMS_PER_STATEMENT = 200


def _mailbox_filter(mailbox_ids: tuple[str, ...] | None, params: dict[str, Any]) -> str:
    if mailbox_ids is None:
        return ""
    names = []
    for index, mailbox_id in enumerate(mailbox_ids):
        params[f"mailbox_{index}"] = mailbox_id
        names.append(f":mailbox_{index}")
    return f" AND x.mailbox_id IN ({', '.join(names)})"


def _union_all(tx: Tx, terms: list[str], params: dict[str, Any]) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for first in range(0, len(terms), TERMS_PER_STATEMENT):
        rows.extend(
            tx.all(" UNION ALL ".join(terms[first : first + TERMS_PER_STATEMENT]), **params)
        )
    return rows


def _range_terms(item: Range, mailboxes: str) -> list[str]:
    """Build the aggregates of one range: rollup rows of its whole hours, facts rows of the rest."""
    group, low, high = int(item.group), int(item.low), int(item.high)
    first_whole = -(-low // SLOT_MS) * SLOT_MS
    last_whole = high // SLOT_MS * SLOT_MS
    if first_whole >= last_whole:
        edges = [(low, high)]
        whole = None
    else:
        edges = [
            (start, end) for start, end in ((low, first_whole), (last_whole, high)) if start < end
        ]
        whole = (first_whole, last_whole)

    terms = [
        f"SELECT {group} AS grp, {FACTS_TOTALS_SQL} FROM analytics_facts x "
        f"WHERE x.org_id = :org_id AND x.created_at >= {start} AND x.created_at < {end}{mailboxes}"
        for start, end in edges
    ]
    if whole is not None:
        terms.append(
            f"SELECT {group} AS grp, {ROLLUP_TOTALS_SQL} FROM analytics_rollups x "
            f"WHERE x.org_id = :org_id AND x.slot_start >= {whole[0]} "
            f"AND x.slot_start < {whole[1]}{mailboxes}"
        )
    return terms


def conversation_totals(
    tx: Tx,
    *,
    org_id: str,
    mailbox_ids: tuple[str, ...] | None,
    ranges: list[Range],
) -> list[dict[str, Any]]:
    """Return the totals of each range's conversations and of their answered waits.

    Each row has ``grp``, ``n`` conversations, ``resolved``, ``ai_resolved``,
    ``handoffs``, ``rated``, ``rating_sum``, ``rating_squares``, and the
    ``n_``, ``total_`` (ms) and ``squares_`` (ms^2) of every wait series and
    subset: ``reply`` (every AI or agent reply), ``first`` (first answered
    waits), ``ai`` and ``human``. A range adds the rows of
    ``analytics_rollups`` for the hours it covers whole to the facts rows of
    the partial hours at its ends, each read through its primary key or
    ``ix_analytics_facts_org_created``. Ranges without conversations are
    left out. The bounds are integers from Python, so they are inlined.
    """
    params: dict[str, Any] = {"org_id": org_id}
    mailboxes = _mailbox_filter(mailbox_ids, params)
    terms = [term for item in ranges for term in _range_terms(item, mailboxes)]

    totals: dict[int, dict[str, Any]] = {}
    for row in _union_all(tx, terms, params):
        group = int(row["grp"])
        if group not in totals:
            totals[group] = dict(row)
            continue
        for key, value in row.items():
            if key != "grp":
                totals[group][key] += value
    return [row for _group, row in sorted(totals.items()) if row["n"]]


@dataclass(frozen=True, slots=True)
class PercentileRequest:
    """The nearest-rank percentile of one range's waits of one series and subset."""

    range: Range
    series: int
    subset: str
    count: int


def range_percentiles(
    tx: Tx,
    *,
    org_id: str,
    mailbox_ids: tuple[str, ...] | None,
    requests: list[PercentileRequest],
    percentile: int = 95,
) -> dict[tuple[int, int, str], int | None]:
    """Return the percentile of each request in ms, keyed by ``(group, series, subset)``.

    On SQLite each request is a top-N subquery over one range of
    ``ix_analytics_waits_org_series_created``: it reads the range's waits of
    one series, keeps the longest ``count - rank + 1`` and returns the
    shortest of those, so no query sorts more than one bucket. ``count`` is
    the number of matching waits, from ``conversation_totals``. PostgreSQL
    runs one ``percentile_disc`` per range and subset instead, in a single
    scan, because a statement per bucket cost it more than the sorts.
    """
    if not requests:
        return {}
    if tx.dialect == "postgresql":
        return _grouped_percentiles(tx, org_id, mailbox_ids, requests, percentile)

    # SQLite's planner, without statistics, would rather walk the ms index
    # to skip the sort, which reads the whole series for one bucket.
    hint = " INDEXED BY ix_analytics_waits_org_series_created"
    params: dict[str, Any] = {"org_id": org_id}
    mailboxes = _mailbox_filter(mailbox_ids, params)
    terms = []
    for number, request in enumerate(requests):
        rank = (percentile * request.count + 99) // 100
        terms.append(
            f"SELECT {number} AS request, (SELECT x.ms FROM analytics_waits x{hint} "
            f"WHERE x.org_id = :org_id AND x.series = {int(request.series)} "
            f"AND x.created_at >= {int(request.range.low)} "
            f"AND x.created_at < {int(request.range.high)}{mailboxes} "
            f"AND {SUBSETS[request.subset]} "
            f"ORDER BY x.ms DESC LIMIT 1 OFFSET {int(request.count) - rank}) AS ms"
        )

    values: dict[tuple[int, int, str], int | None] = {}
    for row in _union_all(tx, terms, params):
        request = requests[int(row["request"])]
        ms = row["ms"]
        values[(request.range.group, request.series, request.subset)] = (
            None if ms is None else int(ms)
        )
    return values


def _grouped_percentiles(
    tx: Tx,
    org_id: str,
    mailbox_ids: tuple[str, ...] | None,
    requests: list[PercentileRequest],
    percentile: int,
) -> dict[tuple[int, int, str], int | None]:
    """Pick the percentiles with PostgreSQL's ``percentile_disc``, one group per range.

    ``percentile_disc(p)`` returns the first value whose cumulative share
    reaches ``p``, the ``ceil(p * n)``-th smallest: the nearest rank.
    """
    params: dict[str, Any] = {"org_id": org_id}
    mailboxes = _mailbox_filter(mailbox_ids, params)
    ranges = {request.range.group: request.range for request in requests}
    subsets = sorted({(request.series, request.subset) for request in requests})
    values_sql = ", ".join(
        f"({int(item.group)}, CAST({int(item.low)} AS BIGINT), CAST({int(item.high)} AS BIGINT))"
        for item in ranges.values()
    )
    columns = ", ".join(
        f"percentile_disc({percentile / 100}) WITHIN GROUP (ORDER BY x.ms) "
        f"FILTER (WHERE x.series = {int(series)} AND {SUBSETS[subset]}) AS p_{number}"
        for number, (series, subset) in enumerate(subsets)
    )
    series_list = ", ".join(sorted({str(int(series)) for series, _subset in subsets}))
    # A lateral aggregate per range needs no sort by range before grouping.
    names = ", ".join(f"p.p_{number}" for number in range(len(subsets)))
    rows = tx.all(
        f"SELECT b.grp, {names} FROM (VALUES {values_sql}) AS b (grp, low, high) "
        f"CROSS JOIN LATERAL (SELECT {columns} FROM analytics_waits x "
        f"WHERE x.org_id = :org_id AND x.series IN ({series_list}) "
        f"AND x.created_at >= b.low AND x.created_at < b.high{mailboxes}) p",
        **params,
    )
    requested = {(request.range.group, request.series, request.subset) for request in requests}
    values: dict[tuple[int, int, str], int | None] = {}
    for row in rows:
        for number, (series, subset) in enumerate(subsets):
            key = (int(row["grp"]), series, subset)
            if key in requested:
                ms = row[f"p_{number}"]
                values[key] = None if ms is None else int(ms)
    return values


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
    params: dict[str, Any] = {"org_id": org_id}
    mailboxes = _mailbox_filter(mailbox_ids, params)
    # SQLite's planner, without statistics, prefers the created_at index and a
    # full sort; name the index that delivers the rows already in order. The
    # integers are inlined because a generic plan prepared for other bounds
    # (psycopg prepares a statement after its fifth run) can sort every wait.
    hint = " INDEXED BY ix_analytics_waits_org_series_ms" if tx.dialect == "sqlite" else ""
    value = tx.value(
        f"SELECT x.ms FROM analytics_waits x{hint} WHERE x.org_id = :org_id "
        f"AND x.series = {int(series)} AND x.created_at >= {int(low)} "
        f"AND x.created_at < {int(high)}{mailboxes} AND {SUBSETS[subset]} "
        f"ORDER BY x.ms DESC LIMIT 1 OFFSET {int(count) - rank}",
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
        f"f.handoff_at, CASE WHEN {ai_resolved_sql('f')} THEN 1 ELSE 0 END AS ai_resolved, "
        f"CASE WHEN {agent_involved_sql('f')} THEN 1 ELSE 0 END AS agent_involved, "
        "r.rating, r.comment "
        "FROM analytics_facts f JOIN conversations c ON c.id = f.conversation_id "
        "LEFT JOIN satisfaction_ratings r ON r.conversation_id = f.conversation_id "
        f"WHERE {where} ORDER BY f.created_at, f.conversation_id LIMIT :limit",
        **params,
    )
