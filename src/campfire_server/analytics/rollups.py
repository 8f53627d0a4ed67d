"""Hourly totals of the facts, so a period reads one row per mailbox and hour.

``analytics_rollups`` holds, per organization, mailbox and hour of
conversation creation (``slot_start``, a UTC hour), the sums that the
metrics add up: conversation counts, resolutions, ratings and the count,
sum and sum of squares of each kind of wait. A range of conversations is
then the rollup rows of the hours it covers whole plus the facts rows of
the partial hours at its ends, which keeps every time zone and rolling
window exact.

Writes keep the rows current: ``live`` applies the difference between a
facts row's contributions before and after each change, and a rebuild
derives the rows of the hours it touched again from the facts.
"""

from __future__ import annotations

from typing import Any

from ..db.tx import Tx
from . import wait_bins

SLOT_MS = 3_600_000

# Every rollup column, in the names that ``queries.conversation_totals``
# returns.
COLUMNS = (
    "n",
    "resolved",
    "ai_resolved",
    "handoffs",
    "rated",
    "rating_sum",
    "rating_squares",
    *(
        f"{kind}_{prefix}"
        for prefix in ("reply", "ai", "human", "first")
        for kind in ("n", "total", "squares")
    ),
)


def ai_resolved_sql(alias: str) -> str:
    """Build the condition of an AI resolution on a facts row.

    The first resolution came after a public AI reply and before any agent
    message (private notes included) and any handoff request, in the order
    the items were stored, so items of the resolution's millisecond count by
    that order. Who set the status does not matter. The facts derivation
    and ``stream.advance`` store the outcome in ``ai_resolved``.
    """
    return f"({alias}.resolved_at IS NOT NULL AND {alias}.ai_resolved = 1)"


def _ai_resolved_by_time_sql(alias: str) -> str:
    """Build the condition by the times of the firsts alone, for a table without ``ai_resolved``.

    Revision 0003_analytics_live derives its rollups with it. An item in the
    same millisecond as the resolution counts as before it.
    """
    return (
        f"{alias}.resolved_at IS NOT NULL "
        f"AND {alias}.ai_at IS NOT NULL AND {alias}.ai_at <= {alias}.resolved_at "
        f"AND ({alias}.agent_at IS NULL OR {alias}.agent_at > {alias}.resolved_at) "
        f"AND ({alias}.handoff_at IS NULL OR {alias}.handoff_at > {alias}.resolved_at)"
    )


def is_ai_resolved(facts: dict[str, Any]) -> bool:
    """Evaluate ``ai_resolved_sql`` on a facts row in Python."""
    return facts["resolved_at"] is not None and facts["ai_resolved"] == 1


def contributions(facts: dict[str, Any]) -> dict[str, float]:
    """Return what one facts row adds to each rollup column."""
    rating = facts["rating"]
    first = facts["first_response_ms"]
    values: dict[str, float] = {
        "n": 1,
        "resolved": 0 if facts["resolved_at"] is None else 1,
        "ai_resolved": 1 if is_ai_resolved(facts) else 0,
        "handoffs": 0 if facts["handoff_at"] is None else 1,
        "rated": 0 if rating is None else 1,
        "rating_sum": 0 if rating is None else int(rating),
        "rating_squares": 0 if rating is None else int(rating) * int(rating),
        "n_first": 0 if first is None else 1,
        "total_first": 0 if first is None else int(first),
        "squares_first": 0.0 if first is None else float(first) * float(first),
    }
    for prefix in ("reply", "ai", "human"):
        values[f"n_{prefix}"] = int(facts[f"{prefix}_waits"])
        values[f"total_{prefix}"] = int(facts[f"{prefix}_ms"])
        values[f"squares_{prefix}"] = float(facts[f"{prefix}_squares"])
    return values


def _facts_totals_sql(ai_resolved: str) -> str:
    """Build the contributions summed over facts rows aliased ``x``, given the AI condition."""
    return ", ".join(
        [
            "COUNT(*) AS n",
            "COUNT(x.resolved_at) AS resolved",
            f"COALESCE(SUM(CASE WHEN {ai_resolved} THEN 1 ELSE 0 END), 0) AS ai_resolved",
            "COUNT(x.handoff_at) AS handoffs",
            "COUNT(x.rating) AS rated",
            "COALESCE(SUM(x.rating), 0) AS rating_sum",
            "COALESCE(SUM(x.rating * x.rating), 0) AS rating_squares",
            *(
                f"COALESCE(SUM(x.{prefix}_waits), 0) AS n_{prefix}, "
                f"COALESCE(SUM(x.{prefix}_ms), 0) AS total_{prefix}, "
                f"COALESCE(SUM(x.{prefix}_squares), 0.0) AS squares_{prefix}"
                for prefix in ("reply", "ai", "human")
            ),
            "COUNT(x.first_response_ms) AS n_first",
            "COALESCE(SUM(x.first_response_ms), 0) AS total_first",
            "COALESCE(SUM(CAST(x.first_response_ms AS DOUBLE PRECISION) "
            "* x.first_response_ms), 0.0) AS squares_first",
        ]
    )


# The same contributions summed over facts rows in SQL, aliased ``x``.
FACTS_TOTALS_SQL = _facts_totals_sql(ai_resolved_sql("x"))
ROLLUP_TOTALS_SQL = ", ".join(
    f"COALESCE(SUM(x.{column}), {'0.0' if column.startswith('squares_') else '0'}) AS {column}"
    for column in COLUMNS
)

_SLOT_SQL = f"(x.created_at - x.created_at % {SLOT_MS})"


def slot_of(created_at: int) -> int:
    return created_at - created_at % SLOT_MS


def delta_statement(
    facts: dict[str, Any], before: dict[str, float] | None, after: dict[str, float]
) -> tuple[str, dict[str, Any]] | None:
    """Build the upsert that adds ``after - before`` to the rollup row of the facts row's hour.

    ``before`` is ``None`` for a conversation that had no facts row yet.
    Returns ``None`` when nothing changes.

    NOTE: writes to conversations created in the same hour and mailbox all
    update one row, so on PostgreSQL writers in several processes queue on
    its row lock until they commit. Not measured with several processes.
    """
    delta = {
        column: after[column] - (0 if before is None else before[column]) for column in COLUMNS
    }
    if not any(delta.values()):
        return None
    names = ", ".join(COLUMNS)
    marks = ", ".join(f":{column}" for column in COLUMNS)
    sums = ", ".join(
        f"{column} = analytics_rollups.{column} + excluded.{column}" for column in COLUMNS
    )
    sql = (
        f"INSERT INTO analytics_rollups (org_id, slot_start, mailbox_id, {names}) "
        f"VALUES (:org_id, :slot_start, :mailbox_id, {marks}) "
        f"ON CONFLICT (org_id, slot_start, mailbox_id) DO UPDATE SET {sums}"
    )
    params = {
        "org_id": facts["org_id"],
        "slot_start": slot_of(int(facts["created_at"])),
        "mailbox_id": facts["mailbox_id"],
        **delta,
    }
    return sql, params


def apply_delta(
    tx: Tx, facts: dict[str, Any], before: dict[str, float] | None, after: dict[str, float]
) -> None:
    """Run ``delta_statement`` when there is a change."""
    statement = delta_statement(facts, before, after)
    if statement is not None:
        tx.execute(statement[0], **statement[1])


def _insert_from_facts_sql(where: str, totals: str = FACTS_TOTALS_SQL) -> str:
    return (
        f"INSERT INTO analytics_rollups (org_id, slot_start, mailbox_id, {', '.join(COLUMNS)}) "
        f"SELECT x.org_id, {_SLOT_SQL}, x.mailbox_id, {totals} "
        f"FROM analytics_facts x WHERE {where} "
        f"GROUP BY x.org_id, {_SLOT_SQL}, x.mailbox_id"
    )


def derive_all_statement(*, with_ai_resolved: bool = True) -> str:
    """Return the statement that derives every rollup row from an empty table.

    ``with_ai_resolved=False`` reads facts without their ``ai_resolved``
    column, as revision 0003_analytics_live has them.
    """
    if with_ai_resolved:
        return _insert_from_facts_sql("1 = 1")
    return _insert_from_facts_sql("1 = 1", _facts_totals_sql(_ai_resolved_by_time_sql("x")))


def rederive_slots(tx: Tx, conversations_sql: str, params: dict[str, Any]) -> None:
    """Derive again the rollup rows and wait counts of the hours that hold these conversations.

    ``conversations_sql`` selects conversation ids; their facts rows and
    waits must be current. Each hour is derived whole from its facts rows
    and wait rows.
    """
    slots = tx.all(
        f"SELECT DISTINCT x.org_id, {_SLOT_SQL} AS slot_start, x.mailbox_id "
        f"FROM analytics_facts x WHERE x.conversation_id IN ({conversations_sql})",
        **params,
    )
    for slot in slots:
        _rederive_hour(tx, slot["org_id"], slot["mailbox_id"], int(slot["slot_start"]))


def _rederive_hour(tx: Tx, org_id: str, mailbox_id: str, start: int) -> None:
    """Delete and derive again the rollup row and wait counts of one hour and mailbox.

    The bounds are inlined so that PostgreSQL plans each statement for its
    own hour and reads ``ix_analytics_facts_org_created``. A plan prepared
    for any hour, or a join with a list of hours, can hash the whole facts
    table when the statistics are stale, as they are during a bulk rebuild.
    The statements go out with ``Tx.send``, so PostgreSQL's pipelined
    writer sends them without a round trip each.
    """
    keys = {"org_id": org_id, "mailbox_id": mailbox_id}
    end = start + SLOT_MS
    hour = f"org_id = :org_id AND slot_start = {start} AND mailbox_id = :mailbox_id"

    tx.send(f"DELETE FROM analytics_rollups WHERE {hour}", **keys)
    tx.send(
        f"INSERT INTO analytics_rollups (org_id, slot_start, mailbox_id, {', '.join(COLUMNS)}) "
        f"SELECT x.org_id, {start}, x.mailbox_id, {FACTS_TOTALS_SQL} "
        "FROM analytics_facts x WHERE x.org_id = :org_id AND x.mailbox_id = :mailbox_id "
        f"AND x.created_at >= {start} AND x.created_at < {end} "
        "GROUP BY x.org_id, x.mailbox_id",
        **keys,
    )
    tx.send(f"DELETE FROM analytics_wait_bins WHERE {hour}", **keys)
    tx.send(
        f"{wait_bins.INSERT_SQL} {wait_bins.derive_hour_sql(':org_id', ':mailbox_id', start, end)}",
        **keys,
    )
