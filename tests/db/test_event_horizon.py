"""The settled horizon of the event log: probes on real PostgreSQL and their bookkeeping."""

from __future__ import annotations

import psycopg
import pytest
from psycopg.rows import dict_row

from campfire_server.db import migrate
from campfire_server.db.tx import Tx
from campfire_server.events import horizon
from campfire_server.events.horizon import Horizon, Probe
from tests.conftest import create_postgres_database, drop_postgres_database


def test_horizon_settles_probe_without_holders() -> None:
    tracker = Horizon()

    assert tracker.observe(Probe(10, frozenset())) == 10
    assert tracker.waiting is False


def test_horizon_waits_for_every_holder() -> None:
    tracker = Horizon()

    assert tracker.observe(Probe(10, frozenset({"3/1", "4/1"}))) is None
    assert tracker.observe(Probe(12, frozenset({"4/1", "5/1"}))) is None
    assert tracker.waiting is True
    # 3/1 and 4/1 ended, 5/1 still runs: 10 is settled, 12 is not.
    assert tracker.observe(Probe(15, frozenset({"5/1"}))) == 10
    assert tracker.observe(Probe(15, frozenset())) == 15
    assert tracker.waiting is False


def test_horizon_never_moves_back() -> None:
    tracker = Horizon()

    tracker.observe(Probe(20, frozenset()))

    assert tracker.observe(Probe(20, frozenset({"3/1"}))) == 20


def test_horizon_merges_pending_probes_past_limit() -> None:
    tracker = Horizon()
    for number in range(horizon.MAX_PENDING_PROBES + 10):
        tracker.observe(Probe(number + 1, frozenset({"3/1", f"9/{number}"})))

    last = horizon.MAX_PENDING_PROBES + 10
    # Every probe so far waited for 3/1, so none settles while it runs.
    assert tracker.observe(Probe(last, frozenset({"3/1"}))) is None
    assert tracker.observe(Probe(last, frozenset({"8/1"}))) == last


@pytest.fixture
def postgres_url(postgres_available: bool):  # type: ignore[no-untyped-def]
    if not postgres_available:
        pytest.skip("PostgreSQL is not reachable")
    url = create_postgres_database()
    migrate.upgrade(url)
    yield url
    drop_postgres_database(url)


def insert_event(connection: psycopg.Connection, event_id: str) -> int:
    row = connection.execute(
        "INSERT INTO events (id, org_id, type, data, created_at) "
        "VALUES (%s, 'org_1', 'message.sent', '{}', 0) RETURNING position",
        (event_id,),
    ).fetchone()
    assert row is not None
    return int(row[0])


def test_probe_names_transaction_holding_position(postgres_url: str) -> None:
    with (
        psycopg.connect(postgres_url, autocommit=True, row_factory=dict_row) as reader,
        psycopg.connect(postgres_url) as early,
        psycopg.connect(postgres_url) as late,
    ):
        tx = Tx(reader.cursor(), "postgresql")
        sequence = horizon.position_sequence(tx)
        tracker = Horizon()
        assert tracker.observe(horizon.probe(tx, sequence)) == 0

        # The early transaction draws the lower position but commits last.
        low = insert_event(early, "evt_early")
        high = insert_event(late, "evt_late")
        late.commit()
        while_running = horizon.probe(tx, sequence)
        settled_while_running = tracker.observe(while_running)
        early.commit()
        settled_after = tracker.observe(horizon.probe(tx, sequence))

    assert low < high
    assert while_running.last_position == high
    assert len(while_running.holders) == 1
    assert settled_while_running == 0
    assert settled_after == high


def test_read_range_returns_settled_events_in_order(postgres_url: str) -> None:
    with psycopg.connect(postgres_url, autocommit=True) as connection:
        positions = [insert_event(connection, f"evt_{number}") for number in range(3)]
        connection.execute(
            "INSERT INTO events (id, org_id, type, data, created_at) "
            "VALUES ('evt_rating', 'org_1', 'satisfaction.rated', '{}', 0)"
        )
        tx = Tx(connection.cursor(row_factory=dict_row), "postgresql")
        records = horizon.read_range(tx, 0, positions[-1], 10)
        limited = horizon.read_range(tx, 0, positions[-1], 2)

    assert [record.position for record in records] == positions
    assert [record.id for record in records] == ["evt_0", "evt_1", "evt_2"]
    assert [record.position for record in limited] == positions[:2]
