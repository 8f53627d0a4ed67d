"""The aggregate SQL behind every metric, shared by SQLite and PostgreSQL.

The queries read the fact tables that every write keeps current
(``live``): one row per conversation and one per wait that got a reply,
each carrying its conversation's creation time, which places it in a
period.

The 95th percentile is the nearest-rank value, the ``ceil(0.95 * n)``-th
smallest sample, so both engines return the same stored value. A period's
is picked by ``nearest_rank`` from an index ordered by wait length; each
series bucket's by ``range_percentiles``, which counts the bucket's waits
per wait-length bin and then reads the waits of one bin.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from ..db.tx import Tx
from . import wait_bins
from .facts import conversation_filter
from .rollups import FACTS_TOTALS_SQL, ROLLUP_TOTALS_SQL, SLOT_MS, ai_resolved_sql
from .stream import AI, HUMAN_SERIES, REPLY_SERIES

log = logging.getLogger(__name__)

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


def _split_hours(low: int, high: int) -> tuple[list[tuple[int, int]], tuple[int, int] | None]:
    """Split ``[low, high)`` into its partial hours at either end and the whole hours between."""
    first_whole = -(-low // SLOT_MS) * SLOT_MS
    last_whole = high // SLOT_MS * SLOT_MS
    if first_whole >= last_whole:
        return [(low, high)], None
    edges = [(start, end) for start, end in ((low, first_whole), (last_whole, high)) if start < end]
    return edges, (first_whole, last_whole)


@dataclass(frozen=True, slots=True)
class _Aggregate:
    """One aggregate query over a time range, with ``{low}`` and ``{high}`` in ``source``.

    ``source`` is the FROM and WHERE clauses (and any GROUP BY) that read
    the rows created in ``[low, high)``.
    """

    columns: str
    source: str


def _run_pieces(
    tx: Tx,
    pieces: list[tuple[int, int, int, _Aggregate]],
    params: dict[str, Any],
) -> list[dict[str, Any]]:
    """Run each ``(group, low, high, aggregate)`` piece and return its rows with ``grp``.

    SQLite runs one compound SELECT of every piece with its bounds inlined,
    because planning costs it next to nothing. PostgreSQL runs one statement
    per kind of aggregate, a lateral subquery over a VALUES list of the
    bounds, because planning hundreds of terms cost it more than reading
    the rows of an hourly series.
    """
    if tx.dialect != "postgresql":
        terms = [
            f"SELECT {int(group)} AS grp, {aggregate.columns} FROM "
            + aggregate.source.format(low=int(low), high=int(high))
            for group, low, high, aggregate in pieces
        ]
        return _union_all(tx, terms, params)

    rows: list[dict[str, Any]] = []
    for aggregate in dict.fromkeys(piece[3] for piece in pieces):
        bounds = ", ".join(
            f"({int(group)}, CAST({int(low)} AS BIGINT), CAST({int(high)} AS BIGINT))"
            for group, low, high, piece_aggregate in pieces
            if piece_aggregate == aggregate
        )
        source = aggregate.source.format(low="b.low", high="b.high")
        rows.extend(
            tx.all(
                f"SELECT b.grp, t.* FROM (VALUES {bounds}) AS b (grp, low, high) "
                f"CROSS JOIN LATERAL (SELECT {aggregate.columns} FROM {source}) t",
                **params,
            )
        )
    return rows


def _pieces(
    ranges: list[Range], whole_hours: _Aggregate, partial_hours: _Aggregate
) -> list[tuple[int, int, int, _Aggregate]]:
    """Pair each range's whole hours and partial hours with the aggregate that reads them."""
    pieces = []
    for item in ranges:
        edges, whole = _split_hours(int(item.low), int(item.high))
        pieces += [(int(item.group), start, end, partial_hours) for start, end in edges]
        if whole is not None:
            pieces.append((int(item.group), whole[0], whole[1], whole_hours))
    return pieces


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
    whole_hours = _Aggregate(
        ROLLUP_TOTALS_SQL,
        "analytics_rollups x WHERE x.org_id = :org_id AND x.slot_start >= {low} "
        f"AND x.slot_start < {{high}}{mailboxes}",
    )
    partial_hours = _Aggregate(
        FACTS_TOTALS_SQL,
        "analytics_facts x WHERE x.org_id = :org_id AND x.created_at >= {low} "
        f"AND x.created_at < {{high}}{mailboxes}",
    )

    totals: dict[int, dict[str, Any]] = {}
    for row in _run_pieces(tx, _pieces(ranges, whole_hours, partial_hours), params):
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

    Two steps, each a few statements for all requests together. First the
    wait counts per bin of each range (``bin_counts``) give the bin that
    contains the nearest rank and the rank within that bin. Then one
    subquery per request reads the waits of that bin in that range, a
    single range of ``ix_analytics_waits_org_series_bin``, and picks the
    value at that rank.
    The result equals the ``ceil(p / 100 * n)``-th smallest wait of the
    range, and only the waits of one bin are read and sorted.
    """
    if not requests:
        return {}
    ranges = {request.range.group: request.range for request in requests}
    counts = bin_counts(tx, org_id=org_id, mailbox_ids=mailbox_ids, ranges=list(ranges.values()))

    picks: list[_Pick] = []
    values: dict[tuple[int, int, str], int | None] = {}
    for request in requests:
        key = (request.range.group, request.series, request.subset)
        column = wait_bins.COUNT_COLUMNS[(request.series, request.subset)]
        per_bin = [bins.get(column, 0) for bins in counts.get(request.range.group, [])]
        if sum(per_bin) != request.count:
            log.warning(
                "analytics wait bins disagree with the wait totals; "
                "run `campfire analytics rebuild --all`",
                extra={
                    "org_id": org_id,
                    "column": column,
                    "binned": sum(per_bin),
                    "totals": request.count,
                },
            )
        pick = _locate(request, per_bin, percentile)
        if pick is None:
            values[key] = None
        else:
            picks.append(pick)

    if tx.dialect == "postgresql":
        picked = _pick_lateral(tx, org_id, mailbox_ids, picks)
    else:
        picked = _pick_each(tx, org_id, mailbox_ids, picks)
    for pick, ms in zip(picks, picked, strict=True):
        request = pick.request
        values[(request.range.group, request.series, request.subset)] = ms
    return values


@dataclass(frozen=True, slots=True)
class _Pick:
    """The wait to read for one request: the ``offset``-th of its bin, in ``descending`` order."""

    request: PercentileRequest
    bin: int
    offset: int
    descending: bool


def _locate(request: PercentileRequest, per_bin: list[int], percentile: int) -> _Pick | None:
    """Find the bin that contains the nearest rank, and the rank's offset within the bin."""
    total = sum(per_bin)
    if total == 0:
        return None
    rank = (percentile * total + 99) // 100
    before = 0
    for number, count in enumerate(per_bin):
        if before + count >= rank:
            ascending = rank - before - 1
            descending = count - (rank - before)
            # Either order reads the whole bin; the smaller offset sorts fewer rows.
            if ascending <= descending:
                return _Pick(request, number, ascending, False)
            return _Pick(request, number, descending, True)
        before += count
    raise AssertionError("the nearest rank lies within the total")


def _pick_each(
    tx: Tx, org_id: str, mailbox_ids: tuple[str, ...] | None, picks: list[_Pick]
) -> list[int | None]:
    """Read each pick with its own subquery, one range of the bin index each (SQLite)."""
    # SQLite's planner, without statistics, would rather walk the ms index
    # to skip the sort, which reads the whole series.
    hint = " INDEXED BY ix_analytics_waits_org_series_bin"
    params: dict[str, Any] = {"org_id": org_id}
    mailboxes = _mailbox_filter(mailbox_ids, params)
    terms = []
    for number, pick in enumerate(picks):
        request = pick.request
        terms.append(
            f"SELECT {number} AS pick, (SELECT x.ms FROM analytics_waits x{hint} "
            f"WHERE x.org_id = :org_id AND x.series = {int(request.series)} "
            f"AND x.bin = {int(pick.bin)} AND x.created_at >= {int(request.range.low)} "
            f"AND x.created_at < {int(request.range.high)}{mailboxes} "
            f"AND {SUBSETS[request.subset]} "
            f"ORDER BY x.ms {'DESC' if pick.descending else 'ASC'} "
            f"LIMIT 1 OFFSET {int(pick.offset)}) AS ms"
        )
    values: list[int | None] = [None] * len(picks)
    for row in _union_all(tx, terms, params):
        ms = row["ms"]
        values[int(row["pick"])] = None if ms is None else int(ms)
    return values


# The subsets as numbers, so one lateral query serves every pick on PostgreSQL.
_SUBSET_CODES = {"every": 0, "first": 1, "ai": 2}
_SUBSET_BY_CODE_SQL = (
    f"(b.subset = 0 OR (b.subset = 1 AND x.answered = 1) OR (b.subset = 2 AND x.reply_kind = {AI}))"
)


def _pick_lateral(
    tx: Tx, org_id: str, mailbox_ids: tuple[str, ...] | None, picks: list[_Pick]
) -> list[int | None]:
    """Read every pick in one statement, a lateral subquery per pick (PostgreSQL).

    One statement with one plan costs PostgreSQL less than planning a
    subquery per pick.
    """
    if not picks:
        return []
    params: dict[str, Any] = {"org_id": org_id}
    mailboxes = _mailbox_filter(mailbox_ids, params)
    rows_sql = ", ".join(
        f"({number}, {int(pick.request.series)}, {int(pick.bin)}, "
        f"CAST({int(pick.request.range.low)} AS BIGINT), "
        f"CAST({int(pick.request.range.high)} AS BIGINT), "
        f"{_SUBSET_CODES[pick.request.subset]}, {-1 if pick.descending else 1}, "
        f"{int(pick.offset)})"
        for number, pick in enumerate(picks)
    )
    rows = tx.all(
        f"SELECT b.pick, p.ms FROM (VALUES {rows_sql}) "
        "AS b (pick, series, bin, low, high, subset, direction, skip) "
        "LEFT JOIN LATERAL (SELECT x.ms FROM analytics_waits x "
        "WHERE x.org_id = :org_id AND x.series = b.series AND x.bin = b.bin "
        f"AND x.created_at >= b.low AND x.created_at < b.high{mailboxes} "
        f"AND {_SUBSET_BY_CODE_SQL} "
        "ORDER BY x.ms * b.direction LIMIT 1 OFFSET b.skip) p ON true",
        **params,
    )
    values: list[int | None] = [None] * len(picks)
    for row in rows:
        ms = row["ms"]
        values[int(row["pick"])] = None if ms is None else int(ms)
    return values


def bin_counts(
    tx: Tx,
    *,
    org_id: str,
    mailbox_ids: tuple[str, ...] | None,
    ranges: list[Range],
) -> dict[int, list[dict[str, int]]]:
    """Return the wait counts of each range per bin, keyed by group, as one dict per bin.

    A range adds the counts of ``analytics_wait_bins`` for the hours it
    covers whole, read through its primary key, to the counts of the wait
    rows of the partial hours at its ends. Those rows are found through
    their conversations' facts rows (``ix_analytics_facts_org_created``),
    then the waits' primary key.
    A wait's organization and creation time are its conversation's, so they
    are filtered on the facts row alone, as ``wait_bins.rederive_slot`` does.
    """
    params: dict[str, Any] = {"org_id": org_id}
    mailboxes = _mailbox_filter(mailbox_ids, params)
    sums = ", ".join(f"SUM(x.{column}) AS {column}" for column in wait_bins.COLUMNS)
    whole_hours = _Aggregate(
        f"x.bin, {sums}",
        "analytics_wait_bins x WHERE x.org_id = :org_id AND x.slot_start >= {low} "
        f"AND x.slot_start < {{high}}{mailboxes} GROUP BY x.bin",
    )
    partial_hours = _Aggregate(
        f"x.bin, {wait_bins.counts_from_waits_sql('x')}",
        "analytics_facts f JOIN analytics_waits x ON x.conversation_id = f.conversation_id "
        "WHERE f.org_id = :org_id AND f.created_at >= {low} AND f.created_at < {high}"
        f"{mailboxes} GROUP BY x.bin",
    )

    counts: dict[int, list[dict[str, int]]] = {}
    for row in _run_pieces(tx, _pieces(ranges, whole_hours, partial_hours), params):
        group = int(row["grp"])
        if group not in counts:
            counts[group] = [
                dict.fromkeys(wait_bins.COLUMNS, 0) for _bin in range(wait_bins.BIN_COUNT)
            ]
        per_bin = counts[group]
        for column in wait_bins.COLUMNS:
            per_bin[int(row["bin"])][column] += int(row[column] or 0)
    return counts


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
