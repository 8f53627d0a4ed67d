"""Knowledge-base writes. Each one raises the organization's knowledge version.

A raised version tells every process that its in-memory search index of that
organization is stale; the process that wrote also drops its copy after commit.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

from .. import clock, ids
from ..auth.principal import Principal
from ..auth.scope import manages
from ..db.tx import Tx
from ..errors import Conflict, PermissionDenied, ValidationFailed
from ..organizations import service as organizations
from . import service
from .schemas import ArticleCreate, ArticleUpdate, ImportResult

# Called with the organization id after a write commits; the index registry
# installs its invalidation here.
on_change: list[Callable[[str], None]] = []


def _changed(tx: Tx, org_id: str) -> None:
    tx.execute(
        "INSERT INTO kb_versions (org_id, version, updated_at) VALUES (:org_id, 1, :now) "
        "ON CONFLICT (org_id) DO UPDATE SET version = kb_versions.version + 1, "
        "updated_at = :now",
        org_id=org_id,
        now=clock.now_ms(),
    )
    for callback in on_change:
        tx.after_commit(lambda callback=callback: callback(org_id))


def _check_external_id_free(
    tx: Tx, org_id: str, external_id: str | None, article_id: str | None
) -> None:
    if external_id is None:
        return
    existing = service.find_article(tx, org_id, external_id=external_id)
    if existing is not None and existing["id"] != article_id:
        # NOTE: this names the article even when a mailbox-limited caller may not read it.
        raise Conflict(
            f"another article already has externalId {external_id!r}",
            details={"field": "externalId", "value": external_id, "articleId": existing["id"]},
        )


def _check_mailboxes(tx: Tx, org_id: str, mailbox_ids: Sequence[str], field: str) -> None:
    """Raise ``NotFound`` naming ``field[index]`` for the first mailbox ``org_id`` lacks."""
    organizations.require_mailboxes(tx, org_id, list(mailbox_ids), field)


def find_unknown_mailboxes(tx: Tx, org_id: str, items: Sequence[ArticleCreate]) -> dict[int, str]:
    """Map the index of each item that names a mailbox ``org_id`` lacks to that mailbox's id."""
    known = {
        row["id"]
        for row in tx.all("SELECT id FROM mailboxes WHERE org_id = :org_id", org_id=org_id)
    }
    unknown = {}
    for index, item in enumerate(items):
        missing = next((mailbox for mailbox in item.mailbox_ids if mailbox not in known), None)
        if missing is not None:
            unknown[index] = missing
    return unknown


def _insert(tx: Tx, org_id: str, data: ArticleCreate) -> dict[str, Any]:
    now = clock.now_ms()
    article_id = ids.new("article")
    tx.execute(
        "INSERT INTO kb_articles (org_id, id, title, content, url, tags, mailbox_ids, "
        "external_id, created_at, updated_at) VALUES (:org_id, :id, :title, :content, :url, "
        ":tags, :mailbox_ids, :external_id, :now, :now)",
        org_id=org_id,
        id=article_id,
        title=data.title,
        content=data.content,
        url=data.url,
        tags=json.dumps(data.tags),
        mailbox_ids=json.dumps(data.mailbox_ids),
        external_id=data.external_id,
        now=now,
    )
    return service.get_article(tx, org_id, article_id)


def create_article(tx: Tx, org_id: str, data: ArticleCreate) -> dict[str, Any]:
    """Store a new article; raises Conflict when its externalId is taken."""
    _check_mailboxes(tx, org_id, data.mailbox_ids, "mailboxIds")
    _check_external_id_free(tx, org_id, data.external_id, None)
    row = _insert(tx, org_id, data)
    _changed(tx, org_id)
    return row


def update_article(tx: Tx, org_id: str, article_id: str, data: ArticleUpdate) -> dict[str, Any]:
    """Change the fields present in ``data`` and keep the others.

    ``ArticleUpdate`` has already rejected a null title or content, so every
    field present here has a column to write.
    """
    service.get_article(tx, org_id, article_id)
    fields = data.model_dump(exclude_unset=True, by_alias=False)
    if not fields:
        raise ValidationFailed(
            "the request changes nothing; send at least one of title, content, url, tags, "
            "mailboxIds, externalId",
            field="body",
            value={},
            expected="an object with at least one field",
        )
    if fields.get("mailbox_ids"):
        _check_mailboxes(tx, org_id, fields["mailbox_ids"], "mailboxIds")
    if "external_id" in fields:
        _check_external_id_free(tx, org_id, fields["external_id"], article_id)
    columns = {
        name: json.dumps(value) if name in ("tags", "mailbox_ids") else value
        for name, value in fields.items()
    }
    if "tags" in columns and fields["tags"] is None:
        columns["tags"] = "[]"
    if "mailbox_ids" in columns and fields["mailbox_ids"] is None:
        columns["mailbox_ids"] = "[]"
    assignments = ", ".join(f"{name} = :{name}" for name in columns)
    tx.execute(
        f"UPDATE kb_articles SET {assignments}, updated_at = :updated_at "
        "WHERE org_id = :org_id AND id = :id",
        **columns,
        updated_at=clock.now_ms(),
        org_id=org_id,
        id=article_id,
    )
    _changed(tx, org_id)
    return service.get_article(tx, org_id, article_id)


def delete_article(tx: Tx, org_id: str, article_id: str) -> None:
    service.get_article(tx, org_id, article_id)
    tx.execute(
        "DELETE FROM kb_articles WHERE org_id = :org_id AND id = :id", org_id=org_id, id=article_id
    )
    _changed(tx, org_id)


def import_articles(
    tx: Tx,
    org_id: str,
    items: Sequence[ArticleCreate],
    *,
    scope: Principal | None = None,
    labels: Sequence[str] | None = None,
) -> ImportResult:
    """Create or update many articles at once, matching each by externalId, else by url.

    A row with neither is matched by its exact title, so importing the same
    file twice never duplicates an article. A row equal to its stored article
    is counted as unchanged and not written. With ``scope``, a row that
    matches an article outside that principal's mailboxes raises
    ``PermissionDenied`` and nothing is stored. Two rows that match the same
    article, such as two with one externalId, raise ``ValidationFailed``,
    because the later one would silently replace the earlier.

    Errors name a row by ``labels[index]``, such as ``line 3`` of a file,
    when given, and as ``articles[index]`` otherwise.
    """

    def label(index: int) -> str:
        return labels[index] if labels is not None else f"articles[{index}]"

    created = updated = unchanged = 0
    article_ids: list[str] = []
    matched: dict[str, int] = {}
    for index, item in enumerate(items):
        _check_mailboxes(tx, org_id, item.mailbox_ids, f"{label(index)}.mailboxIds")
        existing = service.find_article(tx, org_id, external_id=item.external_id, url=item.url)
        if existing is None and item.external_id is None and item.url is None:
            existing = tx.one(
                "SELECT id, title, content, url, tags, mailbox_ids, external_id FROM kb_articles "
                "WHERE org_id = :org_id AND title = :title AND external_id IS NULL "
                "AND url IS NULL ORDER BY created_at, id LIMIT 1",
                org_id=org_id,
                title=item.title,
            )
        if existing is None:
            row = _insert(tx, org_id, item)
            created += 1
            article_ids.append(row["id"])
            matched[row["id"]] = index
            continue
        if scope is not None and not manages(scope, json.loads(existing["mailbox_ids"])):
            raise PermissionDenied(
                f"{label(index)} matches an existing article that serves mailboxes beyond "
                f"this credential's {list(scope.mailbox_ids)}; import it with a credential "
                "that covers them all",
                details={"field": label(index)},
            )
        if existing["id"] in matched:
            _raise_duplicate_row(item, label(index), label(matched[existing["id"]]))
        matched[existing["id"]] = index
        article_ids.append(existing["id"])
        if _same(existing, item):
            unchanged += 1
            continue
        tx.execute(
            "UPDATE kb_articles SET title = :title, content = :content, url = :url, "
            "tags = :tags, mailbox_ids = :mailbox_ids, external_id = :external_id, "
            "updated_at = :now WHERE org_id = :org_id AND id = :id",
            title=item.title,
            content=item.content,
            url=item.url,
            tags=json.dumps(item.tags),
            mailbox_ids=json.dumps(item.mailbox_ids),
            external_id=item.external_id
            if item.external_id is not None
            else existing["external_id"],
            now=clock.now_ms(),
            org_id=org_id,
            id=existing["id"],
        )
        updated += 1
    if created or updated:
        _changed(tx, org_id)
    return ImportResult(
        created=created, updated=updated, unchanged=unchanged, article_ids=article_ids
    )


def _raise_duplicate_row(item: ArticleCreate, row: str, earlier: str) -> None:
    if item.external_id is not None:
        key, value = "externalId", item.external_id
    elif item.url is not None:
        key, value = "url", item.url
    else:
        key, value = "title", item.title
    raise ValidationFailed(
        f"{row} has the same {key} as {earlier}, so it would replace it; "
        "give each article its own externalId, or import the article once",
        field=f"{row}.{key}",
        value=value,
        expected=f"{'an' if key[0] in 'aeiou' else 'a'} {key} that no other article of this "
        "import has",
    )


def _same(row: dict[str, Any], item: ArticleCreate) -> bool:
    return (
        row["title"] == item.title
        and row["content"] == item.content
        and row["url"] == item.url
        and json.loads(row["tags"]) == item.tags
        and json.loads(row["mailbox_ids"]) == item.mailbox_ids
        and (item.external_id is None or row["external_id"] == item.external_id)
    )
