"""The aggregate SQL behind every metric, shared by SQLite and PostgreSQL.

All figures come out of one statement per request. It reads the cohort of
conversations (created in the reported range), merges their messages with
their resolution and handoff events into one ordered stream, and finds the
customer waits with window functions:

* ``LAG`` marks a customer message as the start of a wait when the item
  before it is not a customer message;
* after dropping the other customer messages, ``LEAD`` pairs each wait
  start with the next item, which is either a reply (a sample) or a
  resolution (the wait ends unanswered).

The 95th percentile is the nearest-rank value: the ``ceil(0.95 * n)``-th
smallest sample, picked with ``ROW_NUMBER`` and ``COUNT`` over the
partition, so both engines return the same stored value.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..db.tx import Tx

# Stream item kinds. At equal timestamps they sort in this order, so a
# reply stored in the same millisecond as its question still follows it and
# a resolution follows the reply that came with it.
CUSTOMER, AI, AGENT, RESOLVED, AGENT_NOTE, HANDOFF = range(6)

WAIT_METRICS = ("response_time", "first_response_time", "ai_response_time")
HUMAN_METRICS = ("human_response_time",)
STREAM_METRICS = WAIT_METRICS + HUMAN_METRICS + ("resolution_rate", "handoff_rate")


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


def _conversation_filter(mailbox_ids: tuple[str, ...] | None, params: dict[str, Any]) -> str:
    """Return the WHERE clause of the cohort and add the mailbox parameters to ``params``."""
    where = "c.org_id = :org_id AND c.created_at >= :low AND c.created_at < :high"
    if mailbox_ids is not None:
        names = []
        for index, mailbox_id in enumerate(mailbox_ids):
            params[f"mailbox_{index}"] = mailbox_id
            names.append(f":mailbox_{index}")
        where += f" AND c.mailbox_id IN ({', '.join(names)})"
    return where


def _cohort_sql(grouping: TwoPeriods | Buckets, where: str) -> str:
    if isinstance(grouping, TwoPeriods):
        return (
            "cohort AS (SELECT c.id, CASE WHEN c.created_at < :split THEN 0 ELSE 1 END AS grp "
            f"FROM conversations c WHERE {where})"
        )
    # Bucket the conversations in one sort: merge the bucket starts into the
    # conversations by time, and a running count of starts seen so far is the
    # bucket number. A conversation created exactly at a start falls into
    # the bucket that begins there. The starts are integers from Python.
    values = ", ".join(f"({int(start)})" for start in grouping.starts)
    return (
        f"bounds (t) AS (VALUES {values}), "
        "marks AS (SELECT b.t, 1 AS is_start, NULL AS id FROM bounds b "
        f"UNION ALL SELECT c.created_at, 0, c.id FROM conversations c WHERE {where}), "
        "placed AS (SELECT id, is_start, SUM(is_start) OVER (ORDER BY t, is_start DESC "
        "ROWS UNBOUNDED PRECEDING) - 1 AS grp FROM marks), "
        "cohort AS (SELECT id, grp FROM placed WHERE is_start = 0)"
    )


STREAM_SQL = f"""
stream AS (
    SELECT m.conversation_id AS cid, k.grp, m.created_at AS t,
           CASE WHEN m.private THEN {AGENT_NOTE}
                WHEN m.author_type = 'customer' THEN {CUSTOMER}
                WHEN m.author_type = 'ai' THEN {AI}
                ELSE {AGENT} END AS kind
    FROM cohort k JOIN messages m ON m.conversation_id = k.id
    WHERE m.author_type IN ('customer', 'ai', 'agent')
      AND (m.author_type = 'agent' OR NOT m.private)
    UNION ALL
    SELECT e.conversation_id, k.grp, e.created_at,
           CASE WHEN e.type = 'conversation.resolved' THEN {RESOLVED} ELSE {HANDOFF} END
    FROM cohort k JOIN events e ON e.conversation_id = k.id
    WHERE e.type IN ('conversation.resolved', 'handoff.requested')
)"""


def _waits_sql(name: str, kinds: tuple[int, ...], reply_kinds: tuple[int, ...]) -> str:
    """Build the CTEs ``{name}_waits(cid, grp, ms, reply_kind, answered)``.

    ``kinds`` are the stream items that take part; ``reply_kinds`` the ones
    that answer a wait. ``answered`` numbers the answered waits of a
    conversation from 1.
    """
    kind_list = ", ".join(str(kind) for kind in kinds)
    reply_list = ", ".join(str(kind) for kind in reply_kinds)
    return f"""
{name}_items AS (
    SELECT cid, grp, t, kind, LAG(kind) OVER (PARTITION BY cid ORDER BY t, kind) AS before
    FROM stream WHERE kind IN ({kind_list})
),
{name}_edges AS (
    SELECT cid, grp, t, kind,
           LEAD(kind) OVER (PARTITION BY cid ORDER BY t, kind) AS next_kind,
           LEAD(t) OVER (PARTITION BY cid ORDER BY t, kind) AS next_t
    FROM {name}_items
    WHERE kind <> {CUSTOMER} OR before IS NULL OR before <> {CUSTOMER}
),
{name}_waits AS (
    SELECT cid, grp, next_t - t AS ms, next_kind AS reply_kind,
           ROW_NUMBER() OVER (PARTITION BY cid ORDER BY t) AS answered
    FROM {name}_edges
    WHERE kind = {CUSTOMER} AND next_kind IN ({reply_list})
)"""


FACTS_SQL = f"""
facts AS (
    SELECT cid,
           MIN(CASE WHEN kind = {RESOLVED} THEN t END) AS resolved_at,
           MIN(CASE WHEN kind IN ({AGENT}, {AGENT_NOTE}) THEN t END) AS agent_at,
           MIN(CASE WHEN kind = {HANDOFF} THEN t END) AS handoff_at
    FROM stream WHERE kind >= {AGENT} GROUP BY cid
)"""

# A first resolution is the AI's when no agent message and no handoff request
# came before it; one in the same millisecond counts as before.
AI_RESOLVED_SQL = (
    "f.resolved_at IS NOT NULL "
    "AND (f.agent_at IS NULL OR f.agent_at > f.resolved_at) "
    "AND (f.handoff_at IS NULL OR f.handoff_at > f.resolved_at)"
)

_NO_SAMPLE = "NULL AS total, NULL AS total_squares, NULL AS p95"
_NO_COUNTS = (
    "NULL AS resolved, NULL AS ai_resolved, NULL AS handoffs, NULL AS rated, "
    "NULL AS rating_sum, NULL AS rating_squares"
)


def metric_rows(
    tx: Tx,
    *,
    org_id: str,
    mailbox_ids: tuple[str, ...] | None,
    grouping: TwoPeriods | Buckets,
    metrics: set[str],
) -> list[dict[str, Any]]:
    """Aggregate the requested metrics per group in one statement.

    Returns one ``metric = 'conversations'`` row per non-empty group with
    the counts (``n`` conversations, ``resolved``, ``ai_resolved``,
    ``handoffs``, ``rated``, ``rating_sum``, ``rating_squares``), and one
    row per group and duration metric with ``n``, ``total`` and
    ``total_squares`` of the samples in milliseconds and their ``p95``.
    """
    if isinstance(grouping, TwoPeriods):
        params: dict[str, Any] = {"low": grouping.low, "split": grouping.split}
    else:
        params = {"low": grouping.starts[0]}
    params.update(org_id=org_id, high=grouping.high)
    ctes = [_cohort_sql(grouping, _conversation_filter(mailbox_ids, params))]
    needs_stream = bool(metrics & set(STREAM_METRICS))
    needs_waits = bool(metrics & set(WAIT_METRICS))
    needs_human = bool(metrics & set(HUMAN_METRICS))
    if needs_stream:
        ctes += [STREAM_SQL, FACTS_SQL]
    if needs_waits:
        ctes.append(_waits_sql("reply", (CUSTOMER, AI, AGENT, RESOLVED), (AI, AGENT)))
    if needs_human:
        ctes.append(_waits_sql("human", (CUSTOMER, AGENT, RESOLVED), (AGENT,)))

    counts_source = "cohort k"
    if needs_stream:
        counts_source += " LEFT JOIN facts f ON f.cid = k.id"
        counts = (
            f"COUNT(f.resolved_at) AS resolved, "
            f"SUM(CASE WHEN {AI_RESOLVED_SQL} THEN 1 ELSE 0 END) AS ai_resolved, "
            "COUNT(f.handoff_at) AS handoffs"
        )
    else:
        counts = "NULL AS resolved, NULL AS ai_resolved, NULL AS handoffs"
    selects = [
        f"SELECT k.grp, 'conversations' AS metric, COUNT(*) AS n, {_NO_SAMPLE}, {counts}, "
        "COUNT(r.rating) AS rated, SUM(r.rating) AS rating_sum, "
        "SUM(r.rating * r.rating) AS rating_squares "
        f"FROM {counts_source} "
        "LEFT JOIN satisfaction_ratings r ON r.conversation_id = k.id GROUP BY k.grp"
    ]

    samples = []
    if needs_waits:
        samples += [
            "SELECT grp, 'response_time' AS metric, ms FROM reply_waits",
            "SELECT grp, 'first_response_time', ms FROM reply_waits WHERE answered = 1",
            f"SELECT grp, 'ai_response_time', ms FROM reply_waits WHERE reply_kind = {AI}",
        ]
    if needs_human:
        samples.append("SELECT grp, 'human_response_time', ms FROM human_waits")
    if samples:
        ctes.append("samples AS (" + " UNION ALL ".join(samples) + ")")
        ctes.append(
            "ranked AS (SELECT grp, metric, ms, "
            "ROW_NUMBER() OVER (PARTITION BY grp, metric ORDER BY ms) AS position, "
            "COUNT(*) OVER (PARTITION BY grp, metric) AS size FROM samples)"
        )
        selects.append(
            "SELECT grp, metric, COUNT(*) AS n, SUM(ms) AS total, "
            "SUM(CAST(ms AS DOUBLE PRECISION) * ms) AS total_squares, "
            "MAX(CASE WHEN position = (95 * size + 99) / 100 THEN ms END) AS p95, "
            f"{_NO_COUNTS} FROM ranked GROUP BY grp, metric"
        )

    sql = "WITH " + ", ".join(ctes) + " " + " UNION ALL ".join(selects)
    return tx.all(sql, **params)


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
    """Return one row per conversation of ``[low, high)``, oldest first, after ``after``.

    The figures follow the metric definitions: ``first_response_ms`` and
    ``first_human_response_ms`` are the first answered waits, and
    ``resolved_at`` is the first resolution.
    """
    params: dict[str, Any] = {"org_id": org_id, "low": low, "high": high, "limit": limit}
    where = _conversation_filter(mailbox_ids, params)
    if after is not None:
        where += (
            " AND (c.created_at > :after_created_at "
            "OR (c.created_at = :after_created_at AND c.id > :after_id))"
        )
        params.update(after_created_at=after[0], after_id=after[1])
    cohort = (
        "cohort AS (SELECT c.id, 0 AS grp FROM conversations c "
        f"WHERE {where} ORDER BY c.created_at, c.id LIMIT :limit)"
    )
    ctes = [
        cohort,
        STREAM_SQL,
        FACTS_SQL,
        _waits_sql("reply", (CUSTOMER, AI, AGENT, RESOLVED), (AI, AGENT)),
        _waits_sql("human", (CUSTOMER, AGENT, RESOLVED), (AGENT,)),
    ]
    sql = (
        "WITH "
        + ", ".join(ctes)
        + " SELECT c.id, c.mailbox_id, c.status, c.created_at, c.message_count, "
        "w.ms AS first_response_ms, w.reply_kind AS first_reply_kind, "
        "h.ms AS first_human_response_ms, f.resolved_at, f.handoff_at, "
        f"CASE WHEN {AI_RESOLVED_SQL} THEN 1 ELSE 0 END AS ai_resolved, "
        "r.rating, r.comment "
        "FROM cohort k JOIN conversations c ON c.id = k.id "
        "LEFT JOIN facts f ON f.cid = k.id "
        "LEFT JOIN reply_waits w ON w.cid = k.id AND w.answered = 1 "
        "LEFT JOIN human_waits h ON h.cid = k.id AND h.answered = 1 "
        "LEFT JOIN satisfaction_ratings r ON r.conversation_id = k.id "
        "ORDER BY c.created_at, c.id"
    )
    return tx.all(sql, **params)
