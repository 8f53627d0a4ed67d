"""New-topic markers: the query drops the marker and the earlier turns."""

from __future__ import annotations

import pytest

from campfire_server.knowledge.query import build_query, split_topic_change

QUESTION = "how do I change my billing email?"
MARKED = [
    f"new question: {QUESTION}",
    f"New question - {QUESTION}",
    f"Different question, {QUESTION}",
    f"another thing: {QUESTION}",
    f"Unrelated: {QUESTION}",
    f"unrelated {QUESTION}",
    f"Thanks! One more thing: {QUESTION}",
    f"ok, I have a new question. {QUESTION}",
    f"On another note, {QUESTION}",
    f"Changing the subject \u2014 {QUESTION}",
    f"Something else: {QUESTION}",
    f"hi, separate issue: {QUESTION}",
]
UNMARKED = [
    QUESTION,
    "new questions keep coming about my billing email",
    "another thing broke after the update, my billing email is gone",
    "is there a different topic page for billing?",
    "the other question you answered was about billing",
]


@pytest.mark.parametrize("text", MARKED)
def test_marker_is_removed(text) -> None:
    rest, new_topic = split_topic_change(text)
    assert new_topic is True
    assert rest == QUESTION


@pytest.mark.parametrize("text", UNMARKED)
def test_plain_question_has_no_marker(text) -> None:
    rest, new_topic = split_topic_change(text)
    assert new_topic is False
    assert rest == text


def test_marker_alone_is_kept() -> None:
    assert split_topic_change("new question") == ("new question", False)
    assert split_topic_change("Another thing?") == ("Another thing?", False)


def test_new_topic_query_ignores_history() -> None:
    history = [("customer", "My calendar sync with Google stopped working")]
    marked = build_query(f"new question: {QUESTION}", history)
    plain = build_query(QUESTION)
    follow_up = build_query(QUESTION, history)

    assert marked.terms == plain.terms
    assert marked.text == QUESTION
    assert "calendar" not in marked.terms
    assert "question" not in marked.terms
    assert "calendar" in follow_up.terms
