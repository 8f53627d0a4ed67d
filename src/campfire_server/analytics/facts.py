"""Per-conversation analytics facts, derived by SQL from messages and events.

The metrics read two tables that this module keeps up to date:

* ``analytics_facts``: one row per conversation with its first resolution,
  first agent message, first handoff request and first responses;
* ``analytics_waits``: one row per answered customer wait.

Each facts row is stamped with the conversation's ``event_seq``, which every
message, status change and handoff request increments. Before a metric
reads a range of conversations, ``refresh`` rebuilds the rows of that range
whose stamp differs, so the figures always cover every committed change
while a request reads only conversation-sized rows, not every message.

The derivation merges a conversation's messages with its resolution and
handoff events into one ordered stream and finds the customer waits with
window functions:

* ``LAG`` marks a customer message as the start of a wait when the item
  before it is not a customer message;
* after dropping the other customer messages, ``LEAD`` pairs each wait
  start with the next item, which is either a reply (an answered wait) or
  a resolution (the wait ends unanswered).
"""

from __future__ import annotations

from typing import Any

from ..db.tx import Tx

# Stream item kinds. At equal timestamps they sort in this order, so a
# reply stored in the same millisecond as its question still follows it and
# a resolution follows the reply that came with it.
CUSTOMER, AI, AGENT, RESOLVED, AGENT_NOTE, HANDOFF = range(6)

# analytics_waits.series: which replies answer a wait.
REPLY_SERIES = 0  # an AI or agent reply
HUMAN_SERIES = 1  # an agent reply; AI replies neither answer nor end the wait

# Conversations rebuilt per write transaction. A larger chunk holds the
# single SQLite writer longer, which delays every other write.
REFRESH_CHUNK = 500

STREAM_SQL = f"""
stream AS (
    SELECT m.conversation_id AS cid, m.created_at AS t,
           CASE WHEN m.private THEN {AGENT_NOTE}
                WHEN m.author_type = 'customer' THEN {CUSTOMER}
                WHEN m.author_type = 'ai' THEN {AI}
                ELSE {AGENT} END AS kind
    FROM cohort k JOIN messages m ON m.conversation_id = k.id
    WHERE m.author_type IN ('customer', 'ai', 'agent')
      AND (m.author_type = 'agent' OR NOT m.private)
    UNION ALL
    SELECT e.conversation_id, e.created_at,
           CASE WHEN e.type = 'conversation.resolved' THEN {RESOLVED} ELSE {HANDOFF} END
    FROM cohort k JOIN events e ON e.conversation_id = k.id
    WHERE e.type IN ('conversation.resolved', 'handoff.requested')
)"""


def _waits_sql(name: str, kinds: tuple[int, ...], reply_kinds: tuple[int, ...]) -> str:
    """Build the CTEs ``{name}_waits(cid, ms, reply_kind, answered)``.

    ``kinds`` are the stream items that take part; ``reply_kinds`` the ones
    that answer a wait. ``answered`` numbers the answered waits of a
    conversation from 1.
    """
    kind_list = ", ".join(str(kind) for kind in kinds)
    reply_list = ", ".join(str(kind) for kind in reply_kinds)
    return f"""
{name}_items AS (
    SELECT cid, t, kind, LAG(kind) OVER (PARTITION BY cid ORDER BY t, kind) AS before
    FROM stream WHERE kind IN ({kind_list})
),
{name}_edges AS (
    SELECT cid, t, kind,
           LEAD(kind) OVER (PARTITION BY cid ORDER BY t, kind) AS next_kind,
           LEAD(t) OVER (PARTITION BY cid ORDER BY t, kind) AS next_t
    FROM {name}_items
    WHERE kind <> {CUSTOMER} OR before IS NULL OR before <> {CUSTOMER}
),
{name}_waits AS (
    SELECT cid, next_t - t AS ms, next_kind AS reply_kind,
           ROW_NUMBER() OVER (PARTITION BY cid ORDER BY t) AS answered
    FROM {name}_edges
    WHERE kind = {CUSTOMER} AND next_kind IN ({reply_list})
)"""


FIRSTS_SQL = f"""
firsts AS (
    SELECT cid,
           MIN(CASE WHEN kind = {RESOLVED} THEN t END) AS resolved_at,
           MIN(CASE WHEN kind IN ({AGENT}, {AGENT_NOTE}) THEN t END) AS agent_at,
           MIN(CASE WHEN kind = {HANDOFF} THEN t END) AS handoff_at
    FROM stream WHERE kind >= {AGENT} GROUP BY cid
)"""

DERIVED_CTES = ", ".join(
    [
        STREAM_SQL,
        FIRSTS_SQL,
        _waits_sql("reply", (CUSTOMER, AI, AGENT, RESOLVED), (AI, AGENT)),
        _waits_sql("human", (CUSTOMER, AGENT, RESOLVED), (AGENT,)),
    ]
)

INSERT_WAITS_SQL = f"""
INSERT INTO analytics_waits (conversation_id, org_id, mailbox_id, created_at, series, answered,
                             reply_kind, ms)
SELECT c.id, c.org_id, c.mailbox_id, c.created_at, w.series, w.answered, w.reply_kind, w.ms
FROM (SELECT cid, {REPLY_SERIES} AS series, answered, reply_kind, ms FROM reply_waits
      UNION ALL
      SELECT cid, {HUMAN_SERIES}, answered, reply_kind, ms FROM human_waits) w
JOIN conversations c ON c.id = w.cid"""

WAIT_SUMS = ("reply", "ai", "human")
_FACT_COLUMNS = (
    "resolved_at",
    "agent_at",
    "handoff_at",
    "first_response_ms",
    "first_reply_kind",
    "first_human_response_ms",
) + tuple(f"{prefix}_{kind}" for prefix in WAIT_SUMS for kind in ("waits", "ms", "squares"))


def _part(source: str, values: dict[str, str], where: str = "") -> str:
    """Build one branch of the merge: ``values`` by fact column, NULL for the others."""
    columns = ", ".join(values.get(column, "NULL") for column in _FACT_COLUMNS)
    return f"SELECT cid, {columns} FROM {source}{where}"


def _wait_sums(prefix: str, source: str, where: str = "") -> str:
    return _part(
        source,
        {
            f"{prefix}_waits": "COUNT(*)",
            f"{prefix}_ms": "SUM(ms)",
            f"{prefix}_squares": "SUM(CAST(ms AS DOUBLE PRECISION) * ms)",
        },
        where + " GROUP BY cid",
    )


# Every CTE is aggregated on its own and merged by conversation id, because
# joining one CTE to another leaves SQLite scanning it once per outer row.
# The typed NULLs of the first branch fix the column types on PostgreSQL.
_TYPED_NULLS = ", ".join(
    f"CAST(NULL AS {'DOUBLE PRECISION' if column.endswith('_squares') else 'BIGINT'}) AS {column}"
    for column in _FACT_COLUMNS
)
_MERGED = " UNION ALL ".join(
    [
        f"SELECT id AS cid, {_TYPED_NULLS} FROM cohort",
        _part(
            "firsts",
            {"resolved_at": "resolved_at", "agent_at": "agent_at", "handoff_at": "handoff_at"},
        ),
        _part(
            "reply_waits",
            {"first_response_ms": "ms", "first_reply_kind": "reply_kind"},
            " WHERE answered = 1",
        ),
        _part("human_waits", {"first_human_response_ms": "ms"}, " WHERE answered = 1"),
        _wait_sums("reply", "reply_waits"),
        _wait_sums("ai", "reply_waits", f" WHERE reply_kind = {AI}"),
        _wait_sums("human", "human_waits"),
    ]
)
_SUMMED = ", ".join(
    f"COALESCE(MAX({column}), 0) AS {column}"
    if column.endswith(("_waits", "_ms", "_squares")) and column[: column.index("_")] in WAIT_SUMS
    else f"MAX({column}) AS {column}"
    for column in _FACT_COLUMNS
)
UPSERT_FACTS_SQL = f"""
INSERT INTO analytics_facts (conversation_id, org_id, mailbox_id, created_at, event_seq,
                             rating, {", ".join(_FACT_COLUMNS)})
SELECT c.id, c.org_id, c.mailbox_id, c.created_at, c.event_seq, r.rating,
       {", ".join(f"g.{column}" for column in _FACT_COLUMNS)}
FROM (SELECT cid, {_SUMMED} FROM ({_MERGED}) parts GROUP BY cid) g
JOIN conversations c ON c.id = g.cid
LEFT JOIN satisfaction_ratings r ON r.conversation_id = c.id
WHERE true
ON CONFLICT (conversation_id) DO UPDATE SET
    org_id = excluded.org_id, mailbox_id = excluded.mailbox_id,
    created_at = excluded.created_at, event_seq = excluded.event_seq, rating = excluded.rating,
    {", ".join(f"{column} = excluded.{column}" for column in _FACT_COLUMNS)}"""


def conversation_filter(
    alias: str, mailbox_ids: tuple[str, ...] | None, params: dict[str, Any]
) -> str:
    """Return the WHERE clause of a cohort; add the mailbox parameters to ``params``.

    ``params`` must also get ``org_id``, ``low`` and ``high``; the cohort is
    the conversations created in ``[low, high)``.
    """
    where = (
        f"{alias}.org_id = :org_id AND {alias}.created_at >= :low AND {alias}.created_at < :high"
    )
    if mailbox_ids is not None:
        names = []
        for index, mailbox_id in enumerate(mailbox_ids):
            params[f"mailbox_{index}"] = mailbox_id
            names.append(f":mailbox_{index}")
        where += f" AND {alias}.mailbox_id IN ({', '.join(names)})"
    return where


_STALE_SQL = (
    "FROM conversations c LEFT JOIN analytics_facts f ON f.conversation_id = c.id "
    "WHERE {where} AND (f.conversation_id IS NULL OR f.event_seq <> c.event_seq)"
)


def count_stale(
    tx: Tx, *, org_id: str, mailbox_ids: tuple[str, ...] | None, low: int, high: int
) -> int:
    """Count the conversations of the range whose facts are missing or older than their events."""
    params: dict[str, Any] = {"org_id": org_id, "low": low, "high": high}
    where = conversation_filter("c", mailbox_ids, params)
    return int(tx.value("SELECT COUNT(*) AS n " + _STALE_SQL.format(where=where), **params))


def stale_conversations(
    tx: Tx,
    *,
    org_id: str,
    mailbox_ids: tuple[str, ...] | None,
    low: int,
    high: int,
    limit: int,
) -> list[str]:
    """Return the ids of up to ``limit`` conversations of the range with missing or old facts."""
    params: dict[str, Any] = {"org_id": org_id, "low": low, "high": high, "limit": limit}
    where = conversation_filter("c", mailbox_ids, params)
    rows = tx.all(
        "SELECT c.id " + _STALE_SQL.format(where=where) + " ORDER BY c.created_at, c.id "
        "LIMIT :limit",
        **params,
    )
    return [row["id"] for row in rows]


def rebuild(tx: Tx, conversation_ids: list[str]) -> None:
    """Derive the facts and waits of these conversations again from messages and events.

    The conversation rows are locked first on PostgreSQL, so no message can
    change a conversation between deriving its facts and stamping them, and
    two processes never rebuild the same conversation at once. SQLite's
    single writer gives the same guarantee.
    """
    if not conversation_ids:
        return
    params = {f"id_{index}": value for index, value in enumerate(conversation_ids)}
    id_list = ", ".join(f":{name}" for name in params)
    tx.all(
        f"SELECT id FROM conversations WHERE id IN ({id_list}) ORDER BY id{tx.for_update}",
        **params,
    )
    cohort = (
        "cohort (id) AS (VALUES "
        + ", ".join(f"(CAST(:{name} AS VARCHAR(64)))" for name in params)
        + ")"
    )
    tx.execute(f"DELETE FROM analytics_waits WHERE conversation_id IN ({id_list})", **params)
    tx.execute(f"WITH {cohort}, {DERIVED_CTES} {INSERT_WAITS_SQL}", **params)
    tx.execute(f"WITH {cohort}, {DERIVED_CTES} {UPSERT_FACTS_SQL}", **params)


def refresh_chunk(
    tx: Tx,
    *,
    org_id: str,
    mailbox_ids: tuple[str, ...] | None,
    low: int,
    high: int,
    limit: int = REFRESH_CHUNK,
) -> int:
    """Rebuild up to ``limit`` stale conversations of the range; return how many."""
    stale = stale_conversations(
        tx, org_id=org_id, mailbox_ids=mailbox_ids, low=low, high=high, limit=limit
    )
    rebuild(tx, stale)
    return len(stale)
