"""Knowledge-base queries: articles, the index version, and rows for the search index."""

from __future__ import annotations

import json
from typing import Any

from ..auth.principal import Principal
from ..auth.scope import reads_shared
from ..clock import to_iso
from ..db.tx import Tx
from ..errors import NotFound
from ..pagination import PageRequest, pagination
from .index import IndexedArticle
from .schemas import ArticlePublic
from .text import markdown_to_text

ARTICLE_COLUMNS = "id, title, content, url, tags, mailbox_ids, external_id, created_at, updated_at"


def to_public(row: dict[str, Any]) -> ArticlePublic:
    return ArticlePublic(
        id=row["id"],
        title=row["title"],
        content=row["content"],
        url=row["url"],
        tags=json.loads(row["tags"]),
        mailbox_ids=json.loads(row["mailbox_ids"]),
        external_id=row["external_id"],
        created_at=to_iso(row["created_at"]),
        updated_at=to_iso(row["updated_at"]),
    )


def get_article(tx: Tx, org_id: str, article_id: str) -> dict[str, Any]:
    row = tx.one(
        f"SELECT {ARTICLE_COLUMNS} FROM kb_articles WHERE org_id = :org_id AND id = :id",
        org_id=org_id,
        id=article_id,
    )
    if row is None:
        raise NotFound.for_id("article", article_id, field="articleId")
    return row


def find_article_row(tx: Tx, principal: Principal, article_id: str) -> dict[str, Any]:
    """Return the article as ``principal`` may read it; one outside its mailboxes is not found."""
    row = get_article(tx, principal.org_id, article_id)
    if not reads_shared(principal, json.loads(row["mailbox_ids"])):
        raise NotFound.for_id("article", article_id, field="articleId")
    return row


def find_article(
    tx: Tx, org_id: str, *, external_id: str | None = None, url: str | None = None
) -> dict[str, Any] | None:
    """Return the article that an import row with this ``external_id`` or ``url`` replaces."""
    if external_id is not None:
        return tx.one(
            f"SELECT {ARTICLE_COLUMNS} FROM kb_articles "
            "WHERE org_id = :org_id AND external_id = :external_id",
            org_id=org_id,
            external_id=external_id,
        )
    if url is not None:
        return tx.one(
            f"SELECT {ARTICLE_COLUMNS} FROM kb_articles WHERE org_id = :org_id AND url = :url "
            "ORDER BY created_at, id LIMIT 1",
            org_id=org_id,
            url=url,
        )
    return None


def list_articles(
    tx: Tx,
    org_id: str,
    *,
    request: PageRequest | None = None,
    tag: str | None = None,
    mailbox_id: str | None = None,
    scope: Principal | None = None,
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Return one page of articles, oldest first, and its ``pagination`` object.

    ``request`` is the page or cursor to return, the first 50 articles when
    left out. With ``scope``, only the articles that principal may read are
    listed.

    Filters on tags and mailboxes run in Python over the JSON columns, so the
    SQL stays the same on both engines.

    NOTE: the filters and the cursor run over every article of the
    organization, so each page reads them all.
    """
    request = request or PageRequest()
    rows = tx.all(
        f"SELECT {ARTICLE_COLUMNS} FROM kb_articles WHERE org_id = :org_id ORDER BY created_at, id",
        org_id=org_id,
    )
    if tag is not None:
        rows = [row for row in rows if tag in json.loads(row["tags"])]
    if mailbox_id is not None:
        rows = [
            row
            for row in rows
            if not json.loads(row["mailbox_ids"]) or mailbox_id in json.loads(row["mailbox_ids"])
        ]
    if scope is not None:
        rows = [row for row in rows if reads_shared(scope, json.loads(row["mailbox_ids"]))]
    total = len(rows)
    if request.cursor is not None:
        after = request.cursor
        rows = [row for row in rows if (row["created_at"], row["id"]) > after]
    start = request.offset
    # ``pagination`` sets hasMore from the one row read past the page.
    return pagination(request, rows[start : start + request.limit + 1], total)


def index_version(tx: Tx, org_id: str) -> int:
    """Return the organization's knowledge version; it grows with every article write."""
    value = tx.value("SELECT version FROM kb_versions WHERE org_id = :org_id", org_id=org_id)
    return int(value or 0)


def index_rows(tx: Tx, org_id: str) -> tuple[int, list[IndexedArticle]]:
    """Return the knowledge version and every article of ``org_id`` in id order."""
    version = index_version(tx, org_id)
    rows = tx.all(
        "SELECT id, title, content, url, mailbox_ids, external_id FROM kb_articles "
        "WHERE org_id = :org_id ORDER BY id",
        org_id=org_id,
    )
    articles = [
        IndexedArticle(
            id=row["id"],
            title=row["title"],
            text=markdown_to_text(row["content"]),
            url=row["url"],
            mailbox_ids=tuple(json.loads(row["mailbox_ids"])),
            external_id=row["external_id"],
        )
        for row in rows
    ]
    return version, articles
