"""Identifiers sort by creation time within one process, even inside one millisecond."""

from __future__ import annotations

import threading

from campfire_server import clock, ids


def test_ids_in_one_millisecond_sort_by_creation():
    previous = clock.set_clock(clock.FrozenClock(1_700_000_000_000))
    try:
        created = [ids.new("article") for _ in range(1_000)]
    finally:
        clock.set_clock(previous)

    assert created == sorted(created)
    assert len(set(created)) == len(created)
    assert {identifier[4:13] for identifier in created} == {ids._encode(1_700_000_000_000, 9)}


def test_ids_keep_their_shape():
    identifier = ids.new("conversation")

    assert identifier.startswith("conv_")
    assert len(identifier) == len("conv_") + 31
    assert set(identifier[5:]) <= set(ids._ALPHABET)


def test_ids_from_two_threads_sort_by_creation():
    previous = clock.set_clock(clock.FrozenClock(1_700_000_000_000))
    created: list[str] = []
    lock = threading.Lock()

    def create() -> None:
        for _ in range(500):
            with lock:
                created.append(ids.new("message"))

    try:
        threads = [threading.Thread(target=create) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        clock.set_clock(previous)

    assert created == sorted(created)
    assert len(set(created)) == 1_000


def _random_part(identifier: str) -> int:
    number = 0
    for character in identifier.split("_", 1)[1][9:]:
        number = number * 62 + ids._ALPHABET.index(character)
    return number


def test_same_millisecond_random_step():
    previous = clock.set_clock(clock.FrozenClock(1_700_000_000_000))
    try:
        first, second = ids.new("article"), ids.new("article")
    finally:
        clock.set_clock(previous)

    step = _random_part(second) - _random_part(first)
    assert step > 1
    assert step <= 1 << ids._STEP_BITS


def test_random_range_exhausted_borrows_next_millisecond():
    previous = clock.set_clock(clock.FrozenClock(1_700_000_000_000))
    try:
        first = ids.new("article")
        ids._last.random = ids._RANDOM_LIMIT - 1
        second = ids.new("article")
    finally:
        clock.set_clock(previous)

    assert second > first
    assert second[4:13] == ids._encode(1_700_000_000_001, 9)


def test_same_millisecond_steps_carry_96_bits():
    previous = clock.set_clock(clock.FrozenClock(1_700_000_000_000))
    try:
        created = [ids.new("message") for _ in range(200)]
    finally:
        clock.set_clock(previous)

    steps = [_random_part(b) - _random_part(a) for a, b in zip(created, created[1:], strict=False)]
    # A uniform 96-bit step is at most 2**64 with probability 2**-32.
    assert min(steps) > 1 << 64
    assert max(steps) <= 1 << 96
    assert max(steps) > 1 << 94


def test_first_id_of_millisecond_has_128_random_bits():
    parts = []
    for millisecond in range(64):
        previous = clock.set_clock(clock.FrozenClock(1_700_000_000_000 + millisecond))
        try:
            parts.append(_random_part(ids.new("article")))
        finally:
            clock.set_clock(previous)

    assert max(parts) > 1 << 120
    assert max(parts) < 1 << 128


def test_earlier_short_ids_sort_before_new_ones():
    old_id = "conv_" + ids._encode(1_700_000_000_000, 9) + "z" * 17
    previous = clock.set_clock(clock.FrozenClock(1_700_000_000_001))
    try:
        new_id = ids.new("conversation")
    finally:
        clock.set_clock(previous)

    assert len(old_id) == len("conv_") + 26
    assert old_id < new_id
    assert sorted([new_id, old_id]) == [old_id, new_id]


def test_delivery_ids_fit_their_column():
    from campfire_server.webhooks.fanout import DELIVERY_ID_MAX_CHARS, delivery_id

    event_id = ids.new("event")
    first_webhook, second_webhook = ids.new("webhook"), ids.new("webhook")
    old_event = "evt_" + "0" * 26
    old_webhook = "wh_" + "1" * 26

    first = delivery_id(event_id, first_webhook)
    second = delivery_id(event_id, second_webhook)

    assert len(first) == DELIVERY_ID_MAX_CHARS
    assert first != second
    assert first == delivery_id(event_id, first_webhook)
    assert first.startswith("dlv_" + event_id.removeprefix("evt_") + "_")
    assert delivery_id(old_event, old_webhook) == "dlv_" + "0" * 26 + "_" + "1" * 26
