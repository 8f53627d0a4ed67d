from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from .._core import body, path, query
from .._models import AIResponse, Article, ImportResult, SearchHit
from .._pagination import Paginator
from ._base import Resource, camel_keys, ignore


class AI(Resource):
    """AI answers grounded in the knowledge base."""

    def generate_response(
        self,
        *,
        conversation_id: str,
        message_content: str,
        context: Mapping[str, Any] | None = None,
    ) -> AIResponse:
        """Generate an answer to ``message_content`` in the context of a conversation.

        ``context`` takes keys such as ``customer_tier``, ``previous_interactions``
        and ``knowledge_base_enabled`` (snake_case or camelCase).
        """
        return self._call(
            "POST",
            "/ai/generate-response",
            AIResponse.model_validate,
            json=body(
                conversation_id=conversation_id,
                message_content=message_content,
                context=camel_keys(context),
            ),
        )


class Knowledge(Resource):
    """Knowledge-base articles the AI answers from."""

    def create(
        self,
        *,
        title: str,
        content: str,
        url: str | None = None,
        tags: list[str] | None = None,
        mailbox_ids: list[str] | None = None,
        external_id: str | None = None,
    ) -> Article:
        """Add an article; ``content`` is Markdown or plain text."""
        return self._call(
            "POST",
            "/knowledge/articles",
            Article.model_validate,
            json=body(
                title=title,
                content=content,
                url=url,
                tags=tags,
                mailbox_ids=mailbox_ids,
                external_id=external_id,
            ),
        )

    def get(self, article_id: str) -> Article:
        return self._call("GET", path("/knowledge/articles/{}", article_id), Article.model_validate)

    def list(
        self,
        *,
        mailbox_id: str | None = None,
        tag: str | None = None,
        limit: int | None = None,
        cursor: str | None = None,
    ) -> Paginator[Article]:
        """Iterate articles, oldest first, filtered by ``mailbox_id`` and ``tag``."""
        return self._list(
            "/knowledge/articles",
            Article.model_validate,
            query(mailbox_id=mailbox_id, tag=tag, limit=limit, cursor=cursor),
        )

    def search(
        self, query_text: str, *, mailbox_id: str | None = None, limit: int | None = None
    ) -> list[SearchHit]:
        """Return the articles that best match ``query_text``, best first (``limit`` 1..50)."""
        return self._call(
            "GET",
            "/knowledge/search",
            lambda data: [SearchHit.model_validate(hit) for hit in data.get("data", [])],
            params={"q": query_text, **query(mailbox_id=mailbox_id, limit=limit)},
        )

    def update(
        self,
        article_id: str,
        *,
        title: str | None = None,
        content: str | None = None,
        url: str | None = None,
        tags: list[str] | None = None,
        mailbox_ids: list[str] | None = None,
        external_id: str | None = None,
    ) -> Article:
        return self._call(
            "PATCH",
            path("/knowledge/articles/{}", article_id),
            Article.model_validate,
            json=body(
                title=title,
                content=content,
                url=url,
                tags=tags,
                mailbox_ids=mailbox_ids,
                external_id=external_id,
            ),
        )

    def delete(self, article_id: str) -> None:
        return self._call("DELETE", path("/knowledge/articles/{}", article_id), ignore)

    def import_articles(self, articles: Iterable[Mapping[str, Any]]) -> ImportResult:
        """Create or update up to 1,000 articles at once, matched by ``external_id`` or ``url``."""
        items = [camel_keys(article) for article in articles]
        return self._call(
            "POST",
            "/knowledge/articles/import",
            ImportResult.model_validate,
            json={"articles": items},
        )
