"""Knowledge base and AI answers through the SDK against a live server."""

from __future__ import annotations

import uuid

import pytest
from conftest import has_operation

from campfire import AIResponse, Article, ImportResult, NotFoundError, ValidationError


@pytest.fixture(autouse=True)
def _needs_knowledge(openapi):
    if not has_operation(openapi, "post", "/knowledge/articles"):
        pytest.skip("this server has no knowledge-base endpoints yet")


def test_article_create_update_delete(client):
    marker = uuid.uuid4().hex[:8]
    article = client.knowledge.create(
        title=f"Refund policy {marker}",
        content="Refunds are issued within 14 days of purchase to the original card.",
        url=f"https://example.com/refunds-{marker}",
        tags=["billing"],
        external_id=f"ext-{marker}",
    )
    assert isinstance(article, Article)
    assert article.external_id == f"ext-{marker}"
    assert article.tags == ["billing"]

    updated = client.knowledge.update(article.id, tags=["billing", "refunds"])
    assert updated.tags == ["billing", "refunds"]
    assert client.knowledge.get(article.id).title == f"Refund policy {marker}"
    assert article.id in {item.id for item in client.knowledge.list(tag="refunds")}

    assert client.knowledge.delete(article.id) is None
    with pytest.raises(NotFoundError):
        client.knowledge.get(article.id)


def test_import_is_idempotent(client):
    marker = uuid.uuid4().hex[:8]
    articles = [
        {
            "title": f"Shipping {marker}",
            "content": "We ship worldwide in 5 days.",
            "external_id": f"ship-{marker}",
        },
        {
            "title": f"Returns {marker}",
            "content": "Returns are free for 30 days.",
            "external_id": f"ret-{marker}",
        },
    ]
    first = client.knowledge.import_articles(articles)
    assert isinstance(first, ImportResult)
    assert first.created == 2
    again = client.knowledge.import_articles(articles)
    assert again.created == 0
    assert again.unchanged == 2
    assert sorted(again.article_ids) == sorted(first.article_ids)


def test_search_finds_article(client):
    marker = uuid.uuid4().hex[:8]
    article = client.knowledge.create(
        title=f"Invoice address {marker}",
        content=f"To change the invoice address zq{marker}, open Settings and then Billing.",
    )
    hits = client.knowledge.search(f"invoice address zq{marker}", limit=5)
    assert hits
    assert hits[0].id == article.id
    assert 0 <= hits[0].relevance <= 1


def test_generate_response(client, customer_id, openapi):
    if not has_operation(openapi, "post", "/ai/generate-response"):
        pytest.skip("this server has no AI endpoint yet")
    marker = uuid.uuid4().hex[:8]
    client.knowledge.create(
        title=f"Update billing information {marker}",
        content="To update your billing information, open Settings, choose Billing and "
        "edit the card details. Changes apply to the next invoice.",
    )
    conversation = client.conversations.create(customer_id=customer_id)
    answer = client.ai.generate_response(
        conversation_id=conversation.id,
        message_content="How do I update my billing information?",
        context={"customer_tier": "premium", "previous_interactions": 3},
    )
    assert isinstance(answer, AIResponse)
    assert answer.content
    assert 0 <= answer.confidence <= 1
    assert answer.model
    assert answer.response_time >= 0
    assert isinstance(answer.should_handoff, bool)
    for source in answer.sources:
        assert 0 <= source.relevance <= 1


def test_generate_response_validation(client, customer_id, openapi):
    if not has_operation(openapi, "post", "/ai/generate-response"):
        pytest.skip("this server has no AI endpoint yet")
    conversation = client.conversations.create(customer_id=customer_id)
    with pytest.raises(ValidationError) as caught:
        client.ai.generate_response(conversation_id=conversation.id, message_content="")
    assert caught.value.details.get("field") == "messageContent"
