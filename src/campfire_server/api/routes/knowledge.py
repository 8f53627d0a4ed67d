"""Knowledge-base articles: CRUD, bulk import and search."""

from __future__ import annotations

import json
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from ...auth.permissions import narrow_mailboxes
from ...auth.principal import Principal
from ...auth.scope import is_limited, require_managed, sees_mailbox
from ...db.tx import Tx
from ...errors import NotFound
from ...knowledge import actions, service
from ...knowledge.query import build_query
from ...knowledge.schemas import (
    ArticleCreate,
    ArticleImport,
    ArticlePublic,
    ArticleUpdate,
    ImportResult,
    SearchHit,
)
from ...knowledge.urls import source_url
from ...pagination import page_request
from ...validation import Visible
from ..deps import DbDep
from ..lean_route import LeanRoute
from ..locations import set_location
from ..query import PageCursor, PageLimit, PageNumber, QueryInt
from ..route_access import KnowledgeReader, KnowledgeWriter
from ..schemas import errors

router = APIRouter(prefix="/knowledge", tags=["knowledge"], route_class=LeanRoute)


def _narrowed(principal: Principal, article: ArticleCreate) -> ArticleCreate:
    """Give a mailbox-limited credential's new article its mailboxes, as its new keys get."""
    if not is_limited(principal):
        return article
    mailbox_ids = narrow_mailboxes(principal, article.mailbox_ids)
    return article.model_copy(update={"mailbox_ids": mailbox_ids})


def _check_mailbox_filter(principal: Principal, mailbox_id: str | None) -> None:
    if mailbox_id is not None and not sees_mailbox(principal, mailbox_id):
        raise NotFound.for_id("mailbox", mailbox_id, field="mailboxId")


def _managed_article(tx: Tx, principal: Principal, article_id: str) -> dict:
    row = service.find_article_row(tx, principal, article_id)
    require_managed(principal, json.loads(row["mailbox_ids"]), "article")
    return row


@router.post(
    "/articles",
    status_code=201,
    response_model=ArticlePublic,
    responses=errors(400, 403, 404, 409, 413, 415),
    operation_id="knowledge-articles-create",
    summary="Create an article",
)
async def create_article(
    body: ArticleCreate, principal: KnowledgeWriter, db: DbDep, response: Response
) -> ArticlePublic:
    article = _narrowed(principal, body)
    row = await db.write(lambda tx: actions.create_article(tx, principal.org_id, article))
    article = service.to_public(row)
    set_location(response, "knowledge", "articles", article.id)
    return article


@router.post(
    "/articles/import",
    response_model=ImportResult,
    responses=errors(400, 403, 404, 413, 415),
    operation_id="knowledge-articles-import",
    summary="Create or update many articles, matched by externalId or url",
)
async def import_articles(
    body: ArticleImport, principal: KnowledgeWriter, db: DbDep
) -> ImportResult:
    items = [_narrowed(principal, item) for item in body.articles]
    return await db.write(
        lambda tx: actions.import_articles(tx, principal.org_id, items, scope=principal)
    )


@router.get(
    "/articles",
    responses=errors(400, 403),
    operation_id="knowledge-articles-list",
    summary="List articles, oldest first",
)
async def list_articles(
    principal: KnowledgeReader,
    db: DbDep,
    page: PageNumber = 1,
    limit: PageLimit = 50,
    cursor: PageCursor = None,
    tag: Annotated[str | None, Query(max_length=64)] = None,
    mailbox_id: Annotated[str | None, Query(alias="mailboxId", max_length=64)] = None,
) -> dict:
    _check_mailbox_filter(principal, mailbox_id)
    filters = (tag, mailbox_id)
    request = page_request(page, limit, cursor, list_key=f"{principal.org_id}:articles:{filters!r}")
    rows, meta = await db.read(
        lambda tx: service.list_articles(
            tx,
            principal.org_id,
            request=request,
            tag=tag,
            mailbox_id=mailbox_id,
            scope=principal,
        )
    )
    return {
        "data": [service.to_public(row).model_dump(mode="json") for row in rows],
        "pagination": meta,
    }


@router.get(
    "/search",
    response_model=dict[str, list[SearchHit]],
    responses=errors(400, 403),
    operation_id="knowledge-search",
    summary="Search the knowledge base",
)
async def search_articles(
    request: Request,
    principal: KnowledgeReader,
    q: Annotated[str, Query(min_length=1, max_length=2000), Visible],
    mailbox_id: Annotated[str | None, Query(alias="mailboxId", max_length=64)] = None,
    limit: Annotated[QueryInt, Query(ge=1, le=50)] = 10,
) -> dict:
    _check_mailbox_filter(principal, mailbox_id)
    engine = request.app.state.answer_engine
    index = await engine.registry.get(principal.org_id)
    query = build_query(q)
    hits = index.search_by_relevance(
        query,
        mode=engine.retriever,
        mailbox_id=mailbox_id,
        scope=principal.mailbox_ids,
        limit=limit,
    )
    return {
        "data": [
            SearchHit(
                id=hit.article.id,
                title=hit.article.title,
                url=source_url(hit.article.id, hit.article.url),
                relevance=relevance,
                snippet=hit.passage.text[:300],
            )
            for hit, relevance in hits
        ]
    }


@router.get(
    "/articles/{article_id}",
    response_model=ArticlePublic,
    responses=errors(403, 404),
    operation_id="knowledge-articles-get",
    summary="Get an article",
)
async def get_article(article_id: str, principal: KnowledgeReader, db: DbDep) -> ArticlePublic:
    row = await db.lookup(lambda tx: service.find_article_row(tx, principal, article_id))
    return service.to_public(row)


@router.patch(
    "/articles/{article_id}",
    response_model=ArticlePublic,
    responses=errors(400, 403, 404, 409, 413, 415),
    operation_id="knowledge-articles-update",
    summary="Change an article",
)
async def update_article(
    article_id: str, body: ArticleUpdate, principal: KnowledgeWriter, db: DbDep
) -> ArticlePublic:
    if is_limited(principal) and "mailbox_ids" in body.model_fields_set:
        mailbox_ids = narrow_mailboxes(principal, body.mailbox_ids or [])
        body = body.model_copy(update={"mailbox_ids": mailbox_ids})

    def work(tx: Tx) -> dict:
        _managed_article(tx, principal, article_id)
        return actions.update_article(tx, principal.org_id, article_id, body)

    row = await db.write(work)
    return service.to_public(row)


@router.delete(
    "/articles/{article_id}",
    status_code=204,
    responses=errors(403, 404),
    operation_id="knowledge-articles-delete",
    summary="Delete an article",
)
async def delete_article(article_id: str, principal: KnowledgeWriter, db: DbDep) -> Response:

    def work(tx: Tx) -> None:
        _managed_article(tx, principal, article_id)
        actions.delete_article(tx, principal.org_id, article_id)

    await db.write(work)
    return Response(status_code=204)
