"""Counts of answered waits per hour and wait-length bin, to find a percentile's bin quickly.

Every wait row carries ``bin``, a log-spaced class of its length, and
``analytics_wait_bins`` counts the waits per organization, UTC hour of
conversation creation (``slot_start``), mailbox and bin, for each set of
waits that a duration metric reads. A bucket's percentile then sums the
counts of its hours to learn which bin holds the nearest rank and how many
shorter waits come before it, and reads only the waits of that bin in the
bucket's range to pick the exact value (``queries.range_percentiles``).

Writes add one to the counts of each wait they store, in the same
transaction (``live``), and a rebuild derives an hour's counts again from
its wait rows.
"""

from __future__ import annotations

from bisect import bisect_right
from typing import Any

from .stream import AI, HUMAN_SERIES, REPLY_SERIES, Wait

# Upper edges in ms, exclusive, each 2 ** 0.5 times the one before. Bin 0
# contains the waits under 1 s and bin k those from EDGES[k - 1] up to
# EDGES[k]. The last bin contains every wait from EDGES[-1] (about 48.5
# days) on. The narrower a bin, the fewer waits a percentile reads once its
# bin is found.
EDGES = tuple(round(1000 * 2 ** (step / 2)) for step in range(45))
BIN_COUNT = len(EDGES) + 1

# The count column of each set of waits that a duration metric reads, by
# (series, subset) as in ``queries.WAIT_METRICS``.
COUNT_COLUMNS = {
    (REPLY_SERIES, "every"): "n_reply",
    (REPLY_SERIES, "first"): "n_first",
    (REPLY_SERIES, "ai"): "n_ai",
    (HUMAN_SERIES, "every"): "n_human",
}
COLUMNS = tuple(COUNT_COLUMNS.values())


def wait_bin(ms: int) -> int:
    """Return the bin of a wait of ``ms`` milliseconds; ``bin_sql`` computes the same."""
    return bisect_right(EDGES, ms)


def bin_sql(expression: str) -> str:
    """Build the SQL expression of ``wait_bin`` for a wait length in ms."""
    branches = " ".join(
        f"WHEN {expression} < {edge} THEN {number}" for number, edge in enumerate(EDGES)
    )
    return f"CASE {branches} ELSE {len(EDGES)} END"


def counts_of(wait: Wait) -> dict[str, int]:
    """Return what one wait adds to each count column."""
    if wait.series == HUMAN_SERIES:
        return {"n_reply": 0, "n_first": 0, "n_ai": 0, "n_human": 1}
    return {
        "n_reply": 1,
        "n_first": 1 if wait.answered == 1 else 0,
        "n_ai": 1 if wait.reply_kind == AI else 0,
        "n_human": 0,
    }


def counts_from_waits_sql(alias: str) -> str:
    """Build the count columns summed over wait rows in SQL."""
    return ", ".join(
        [
            f"SUM(CASE WHEN {alias}.series = {REPLY_SERIES} THEN 1 ELSE 0 END) AS n_reply",
            f"SUM(CASE WHEN {alias}.series = {REPLY_SERIES} AND {alias}.answered = 1 "
            "THEN 1 ELSE 0 END) AS n_first",
            f"SUM(CASE WHEN {alias}.series = {REPLY_SERIES} AND {alias}.reply_kind = {AI} "
            "THEN 1 ELSE 0 END) AS n_ai",
            f"SUM(CASE WHEN {alias}.series = {HUMAN_SERIES} THEN 1 ELSE 0 END) AS n_human",
        ]
    )


INSERT_SQL = (
    f"INSERT INTO analytics_wait_bins (org_id, slot_start, mailbox_id, bin, {', '.join(COLUMNS)})"
)
_UPSERT_SQL = (
    f"{INSERT_SQL} VALUES (:org_id, :slot_start, :mailbox_id, :bin, "
    f"{', '.join(f':{column}' for column in COLUMNS)}) "
    "ON CONFLICT (org_id, slot_start, mailbox_id, bin) DO UPDATE SET "
    + ", ".join(f"{name} = analytics_wait_bins.{name} + excluded.{name}" for name in COLUMNS)
)


def add_statements(
    facts: dict[str, Any], waits: list[Wait], slot_start: int
) -> list[tuple[str, dict[str, Any]]]:
    """Build the upserts that count new waits of one conversation, one per bin they fall in.

    NOTE: like the rollup upsert, writes to conversations of the same hour
    and mailbox whose waits fall in the same bin update one row, so on
    PostgreSQL writers in several processes queue on its row lock until
    they commit. Not measured with several processes.
    """
    by_bin: dict[int, dict[str, int]] = {}
    for wait in waits:
        counts = by_bin.setdefault(wait_bin(wait.ms), dict.fromkeys(COLUMNS, 0))
        for column, value in counts_of(wait).items():
            counts[column] += value

    keys = {"org_id": facts["org_id"], "slot_start": slot_start, "mailbox_id": facts["mailbox_id"]}
    return [(_UPSERT_SQL, {**keys, "bin": number, **counts}) for number, counts in by_bin.items()]


def derive_all_statement(slot_ms: int) -> str:
    """Return the statement that counts every wait row into an empty ``analytics_wait_bins``."""
    slot = f"(w.created_at - w.created_at % {slot_ms})"
    return (
        f"{INSERT_SQL} SELECT w.org_id, {slot}, w.mailbox_id, w.bin, {counts_from_waits_sql('w')} "
        f"FROM analytics_waits w GROUP BY w.org_id, {slot}, w.mailbox_id, w.bin"
    )


def derive_hour_sql(org: str, mailbox: str, start: int, end: int) -> str:
    """Build the SELECT of one hour's and mailbox's rows of ``analytics_wait_bins``.

    ``org`` and ``mailbox`` are SQL expressions such as parameter names.
    The waits are found through their conversations' facts rows, which
    ``ix_analytics_facts_org_created`` selects by creation time, and the
    waits' primary key. A wait row's organization and creation time are its
    conversation's, so they are filtered on the facts row alone: a filter on
    the wait row would let PostgreSQL scan the bin index instead.
    """
    return (
        f"SELECT w.org_id, {int(start)}, w.mailbox_id, w.bin, {counts_from_waits_sql('w')} "
        "FROM analytics_facts f JOIN analytics_waits w ON w.conversation_id = f.conversation_id "
        f"WHERE f.org_id = {org} AND f.created_at >= {int(start)} "
        f"AND f.created_at < {int(end)} AND w.mailbox_id = {mailbox} "
        "GROUP BY w.org_id, w.mailbox_id, w.bin"
    )
