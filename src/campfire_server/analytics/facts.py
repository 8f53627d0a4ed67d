"""Per-conversation analytics facts, derived by SQL from messages and events.

The metrics read two tables:

* ``analytics_facts``: one row per conversation with its first resolution,
  first AI and agent messages, first handoff request, first responses, the
  sums of its waits and the state of its open waits;
* ``analytics_waits``: one row per answered customer wait.

Writes keep both current in their own transaction (``live``). This module
derives the same rows from a conversation's whole history instead, for a
conversation whose new item arrived out of order, for rows imported without
their facts, and for the migration that fills the tables.

The derivation merges a conversation's messages with its resolution and
handoff events into one stream, ordered by time and then by ``store_order``: twice
a message's ``seq``, and for an event one more than twice the number of
messages stored before it. It finds the customer waits with window
functions:

* ``LAG`` marks a customer message as the start of a wait when the item
  before it is not a customer message;
* after dropping the other customer messages, ``LEAD`` pairs each wait
  start with the next item, which is either a reply (an answered wait), a
  resolution (the wait ends unanswered) or nothing (the wait is open).
"""

from __future__ import annotations

import logging
from typing import Any

from ..db.tx import Tx
from . import rollups, wait_bins
from .stream import (
    AGENT,
    AGENT_NOTE,
    AI,
    CUSTOMER,
    HANDOFF,
    HUMAN_SERIES,
    POSITION_FACTOR,
    REPLY_SERIES,
    RESOLVED,
    STATE_COLUMNS,
)

log = logging.getLogger(__name__)

# Conversations derived per statement when filling the tables in bulk. A
# larger chunk keeps the single SQLite writer busy longer, which delays
# every other write.
BULK_CHUNK = 2_000

# The messages of the stream with ``seq``, and without it for revision
# 0003_analytics_live, which may run before messages have the column. Then
# they are numbered in the order that revision 0005_message_seq gives them.
_MESSAGES_WITH_SEQ = "cohort k JOIN messages m ON m.conversation_id = k.id"
_MESSAGES_NUMBERED = (
    "(SELECT n.conversation_id, n.created_at, n.author_type, n.private, "
    "ROW_NUMBER() OVER (PARTITION BY n.conversation_id ORDER BY n.created_at, n.id) AS seq "
    "FROM cohort k JOIN messages n ON n.conversation_id = k.id) m"
)


def _stream_sql(messages: str) -> str:
    """Build the CTE ``stream (cid, t, store_order, kind)`` over the messages of ``messages``."""
    return f"""
stream AS (
    SELECT m.conversation_id AS cid, m.created_at AS t, 2 * m.seq AS store_order,
           CASE WHEN m.private THEN {AGENT_NOTE}
                WHEN m.author_type = 'customer' THEN {CUSTOMER}
                WHEN m.author_type = 'ai' THEN {AI}
                ELSE {AGENT} END AS kind
    FROM {messages}
    WHERE m.author_type IN ('customer', 'ai', 'agent')
      AND (m.author_type = 'agent' OR NOT m.private)
    UNION ALL
    SELECT e.conversation_id, e.created_at,
           2 * (SELECT COUNT(*) FROM events s WHERE s.conversation_id = e.conversation_id
                AND s.sequence < e.sequence AND s.type = 'message.sent') + 1,
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
    SELECT cid, t, store_order, kind,
           LAG(kind) OVER (PARTITION BY cid ORDER BY t, store_order, kind) AS before
    FROM stream WHERE kind IN ({kind_list})
),
{name}_edges AS (
    SELECT cid, t, store_order, kind,
           LEAD(kind) OVER (PARTITION BY cid ORDER BY t, store_order, kind) AS next_kind,
           LEAD(t) OVER (PARTITION BY cid ORDER BY t, store_order, kind) AS next_t
    FROM {name}_items
    WHERE kind <> {CUSTOMER} OR before IS NULL OR before <> {CUSTOMER}
),
{name}_waits AS (
    SELECT cid, next_t - t AS ms, next_kind AS reply_kind,
           ROW_NUMBER() OVER (PARTITION BY cid ORDER BY t, store_order) AS answered
    FROM {name}_edges
    WHERE kind = {CUSTOMER} AND next_kind IN ({reply_list})
)"""


FIRSTS_SQL = f"""
firsts AS (
    SELECT cid,
           MIN(CASE WHEN kind = {RESOLVED} THEN t END) AS resolved_at,
           MIN(CASE WHEN kind = {AI} THEN t END) AS ai_at,
           MIN(CASE WHEN kind IN ({AGENT}, {AGENT_NOTE}) THEN t END) AS agent_at,
           MIN(CASE WHEN kind = {HANDOFF} THEN t END) AS handoff_at,
           MAX(CASE WHEN kind <= {RESOLVED} THEN t * {POSITION_FACTOR} + kind END)
               AS stream_position
    FROM stream GROUP BY cid
)"""


# Whether the first resolution came after a public AI reply and before any
# agent message (private notes included) and handoff request, in stream
# order, so an item of the resolution's millisecond counts by when it was
# stored. Each item's window counts the items ordered before it.
_BEFORE_ITEM = (
    "OVER (PARTITION BY cid ORDER BY t, store_order, kind "
    "ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING)"
)
AI_RESOLUTIONS_SQL = f"""
ai_resolutions AS (
    SELECT cid, MAX(CASE WHEN ais_before > 0 AND humans_before = 0 THEN 1 ELSE 0 END)
               AS ai_resolved
    FROM (
        SELECT cid, kind,
               COALESCE(SUM(CASE WHEN kind = {AI} THEN 1 ELSE 0 END) {_BEFORE_ITEM}, 0)
                   AS ais_before,
               COALESCE(SUM(CASE WHEN kind IN ({AGENT}, {AGENT_NOTE}, {HANDOFF}) THEN 1 ELSE 0 END)
                   {_BEFORE_ITEM}, 0) AS humans_before,
               COALESCE(SUM(CASE WHEN kind = {RESOLVED} THEN 1 ELSE 0 END) {_BEFORE_ITEM}, 0)
                   AS resolutions_before
        FROM stream
    ) counted
    WHERE kind = {RESOLVED} AND resolutions_before = 0
    GROUP BY cid
)"""


def _derived_ctes(messages: str) -> str:
    return ", ".join(
        [
            _stream_sql(messages),
            FIRSTS_SQL,
            AI_RESOLUTIONS_SQL,
            _waits_sql("reply", (CUSTOMER, AI, AGENT, RESOLVED), (AI, AGENT)),
            _waits_sql("human", (CUSTOMER, AGENT, RESOLVED), (AGENT,)),
        ]
    )


DERIVED_CTES = _derived_ctes(_MESSAGES_WITH_SEQ)

_WAITS_SOURCE_SQL = f"""
FROM (SELECT cid, {REPLY_SERIES} AS series, answered, reply_kind, ms FROM reply_waits
      UNION ALL
      SELECT cid, {HUMAN_SERIES}, answered, reply_kind, ms FROM human_waits) w
JOIN conversations c ON c.id = w.cid"""
INSERT_WAITS_SQL = f"""
INSERT INTO analytics_waits (conversation_id, org_id, mailbox_id, created_at, series, answered,
                             reply_kind, ms, bin)
SELECT c.id, c.org_id, c.mailbox_id, c.created_at, w.series, w.answered, w.reply_kind, w.ms,
       {wait_bins.bin_sql("w.ms")}
{_WAITS_SOURCE_SQL}"""
# The insert of revision 0003_analytics_live, whose analytics_waits has no bin column.
INSERT_WAITS_WITHOUT_BIN_SQL = f"""
INSERT INTO analytics_waits (conversation_id, org_id, mailbox_id, created_at, series, answered,
                             reply_kind, ms)
SELECT c.id, c.org_id, c.mailbox_id, c.created_at, w.series, w.answered, w.reply_kind, w.ms
{_WAITS_SOURCE_SQL}"""

WAIT_SUMS = ("reply", "ai", "human")
_FACT_COLUMNS = STATE_COLUMNS
# The columns of revision 0003_analytics_live, before ai_resolved was added.
_FACT_COLUMNS_WITHOUT_AI_RESOLVED = tuple(
    column for column in STATE_COLUMNS if column != "ai_resolved"
)
_ZERO_COLUMNS = tuple(f"{prefix}_{kind}" for prefix in WAIT_SUMS for kind in ("waits", "ms"))


def _part(columns: tuple[str, ...], source: str, values: dict[str, str], where: str = "") -> str:
    """Build one branch of the merge: ``values`` by fact column, NULL for the others."""
    listed = ", ".join(values.get(column, "NULL") for column in columns)
    return f"SELECT cid, {listed} FROM {source}{where}"


def _wait_sums(columns: tuple[str, ...], prefix: str, source: str, where: str = "") -> str:
    return _part(
        columns,
        source,
        {
            f"{prefix}_waits": "COUNT(*)",
            f"{prefix}_ms": "SUM(ms)",
            f"{prefix}_squares": "SUM(CAST(ms AS DOUBLE PRECISION) * ms)",
        },
        where + " GROUP BY cid",
    )


def _open_wait(columns: tuple[str, ...], prefix: str) -> str:
    """Build the branch that finds the start of a series' open wait: a start with no next item."""
    return _part(
        columns,
        f"{prefix}_edges",
        {f"{prefix}_wait_from": "t"},
        f" WHERE kind = {CUSTOMER} AND next_kind IS NULL",
    )


def _column_type(column: str) -> str:
    return "DOUBLE PRECISION" if column.endswith("_squares") else "BIGINT"


def _summed(column: str) -> str:
    if column.endswith("_squares"):
        return f"COALESCE(MAX({column}), 0.0) AS {column}"
    if column in _ZERO_COLUMNS:
        return f"COALESCE(MAX({column}), 0) AS {column}"
    return f"MAX({column}) AS {column}"


def _merged_sql(columns: tuple[str, ...]) -> str:
    """Build the union of every CTE's fact columns, one or more rows per conversation.

    Every CTE is aggregated on its own and merged by conversation id, because
    joining one CTE to another leaves SQLite scanning it once per outer row.
    The typed NULLs of the first branch fix the column types on PostgreSQL.
    """
    typed_nulls = ", ".join(
        f"CAST(NULL AS {_column_type(column)}) AS {column}" for column in columns
    )
    firsts = ("resolved_at", "ai_at", "agent_at", "handoff_at", "stream_position")
    parts = [
        f"SELECT id AS cid, {typed_nulls} FROM cohort",
        _part(columns, "firsts", {column: column for column in firsts}),
        _part(
            columns,
            "reply_waits",
            {"first_response_ms": "ms", "first_reply_kind": "reply_kind"},
            " WHERE answered = 1",
        ),
        _part(columns, "human_waits", {"first_human_response_ms": "ms"}, " WHERE answered = 1"),
        _wait_sums(columns, "reply", "reply_waits"),
        _wait_sums(columns, "ai", "reply_waits", f" WHERE reply_kind = {AI}"),
        _wait_sums(columns, "human", "human_waits"),
        _open_wait(columns, "reply"),
        _open_wait(columns, "human"),
    ]
    if "ai_resolved" in columns:
        parts.append(_part(columns, "ai_resolutions", {"ai_resolved": "ai_resolved"}))
    return " UNION ALL ".join(parts)


def _upsert_facts_sql(columns: tuple[str, ...]) -> str:
    return f"""
INSERT INTO analytics_facts (conversation_id, org_id, mailbox_id, created_at, rating,
                             {", ".join(columns)})
SELECT c.id, c.org_id, c.mailbox_id, c.created_at, r.rating,
       {", ".join(f"g.{column}" for column in columns)}
FROM (SELECT cid, {", ".join(_summed(column) for column in columns)}
      FROM ({_merged_sql(columns)}) parts GROUP BY cid) g
JOIN conversations c ON c.id = g.cid
LEFT JOIN satisfaction_ratings r ON r.conversation_id = c.id
WHERE true
ON CONFLICT (conversation_id) DO UPDATE SET
    org_id = excluded.org_id, mailbox_id = excluded.mailbox_id,
    created_at = excluded.created_at, rating = excluded.rating,
    {", ".join(f"{column} = excluded.{column}" for column in columns)}"""


UPSERT_FACTS_SQL = _upsert_facts_sql(_FACT_COLUMNS)


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


def _derive(tx: Tx, cohort: str, params: dict[str, Any]) -> None:
    """Write the waits and facts of the conversations that the CTE ``cohort (id)`` lists.

    The caller deletes their old waits first and derives their rollups after.
    """
    tx.execute(f"WITH {cohort}, {DERIVED_CTES} {INSERT_WAITS_SQL}", **params)
    tx.execute(f"WITH {cohort}, {DERIVED_CTES} {UPSERT_FACTS_SQL}", **params)


def rebuild(tx: Tx, conversation_ids: list[str]) -> None:
    """Derive the facts and waits of these conversations again from messages and events.

    The conversation rows are locked first on PostgreSQL, so no message can
    change a conversation between deriving its facts and writing them.
    SQLite's single writer gives the same guarantee.

    NOTE: resolutions and handoff requests are read from ``events``, so a
    rebuild after old events were pruned loses them; the live facts that
    writes keep are not affected.
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
    _derive(tx, cohort, params)
    rollups.rederive_slots(tx, id_list, params)


def rebuild_after(
    tx: Tx, *, after_id: str, limit: int, only_missing: bool
) -> tuple[str | None, int]:
    """Rebuild up to ``limit`` conversations with ids above ``after_id``, in id order.

    With ``only_missing`` only conversations without a facts row are
    rebuilt. Returns the last id examined (``None`` when none is left) and
    the number of conversations rebuilt.
    """
    last = tx.value(
        "SELECT MAX(id) AS id FROM (SELECT id FROM conversations WHERE id > :after_id "
        "ORDER BY id LIMIT :limit) chunk",
        after_id=after_id,
        limit=limit,
    )
    if last is None:
        return None, 0

    params = {"after_id": after_id, "last_id": last}
    missing = (
        " AND NOT EXISTS (SELECT 1 FROM analytics_facts f WHERE f.conversation_id = c.id)"
        if only_missing
        else ""
    )
    cohort = (
        "cohort (id) AS (SELECT c.id FROM conversations c "
        f"WHERE c.id > :after_id AND c.id <= :last_id{missing})"
    )
    tx.execute(
        f"WITH {cohort} DELETE FROM analytics_waits "
        "WHERE conversation_id IN (SELECT id FROM cohort)",
        **params,
    )
    # Counted first: sqlite3 reports no row count for a statement that starts with WITH.
    count = int(tx.value(f"WITH {cohort} SELECT COUNT(*) AS n FROM cohort", **params))
    tx.execute(f"WITH {cohort}, {DERIVED_CTES} {INSERT_WAITS_SQL}", **params)
    tx.execute(f"WITH {cohort}, {DERIVED_CTES} {UPSERT_FACTS_SQL}", **params)
    if count:
        rollups.rederive_slots(
            tx, "SELECT id FROM conversations WHERE id > :after_id AND id <= :last_id", params
        )
    return str(last), count


def count_missing(tx: Tx) -> int:
    """Count the conversations that have no facts row, such as rows imported directly."""
    return int(
        tx.value(
            "SELECT COUNT(*) AS n FROM conversations c WHERE NOT EXISTS "
            "(SELECT 1 FROM analytics_facts f WHERE f.conversation_id = c.id)"
        )
    )


def derive_all_statements(
    *, with_bin: bool = True, with_seq: bool = True, with_ai_resolved: bool = True
) -> list[str]:
    """Return the statements that derive the waits and facts of every conversation.

    They take no parameters and expect both tables empty, as after the
    migration that creates them. ``with_bin=False`` leaves out the waits'
    ``bin`` column, which revision 0003_analytics_live does not have yet,
    ``with_seq=False`` numbers the messages without their ``seq`` column,
    and ``with_ai_resolved=False`` leaves out the facts' ``ai_resolved``
    column, which revision 0006_analytics_ai_resolved adds.
    """
    cohort = "cohort (id) AS (SELECT id FROM conversations)"
    insert_waits = INSERT_WAITS_SQL if with_bin else INSERT_WAITS_WITHOUT_BIN_SQL
    derived = DERIVED_CTES if with_seq else _derived_ctes(_MESSAGES_NUMBERED)
    columns = _FACT_COLUMNS if with_ai_resolved else _FACT_COLUMNS_WITHOUT_AI_RESOLVED
    upsert_facts = _upsert_facts_sql(columns)
    return [
        f"WITH {cohort}, {derived} {insert_waits}",
        f"WITH {cohort}, {derived} {upsert_facts}",
    ]


def fill_ai_resolved_statement() -> str:
    """Return the statement that sets ``ai_resolved`` on every facts row from the history."""
    cohort = "cohort (id) AS (SELECT id FROM conversations)"
    return (
        f"WITH {cohort}, {_stream_sql(_MESSAGES_WITH_SEQ)}, {AI_RESOLUTIONS_SQL} "
        "UPDATE analytics_facts SET ai_resolved = COALESCE((SELECT a.ai_resolved "
        "FROM ai_resolutions a WHERE a.cid = analytics_facts.conversation_id), 0)"
    )
