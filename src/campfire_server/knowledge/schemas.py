"""Request and response models of the knowledge-base API."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator
from pydantic.alias_generators import to_camel

from ..validation import TrimmedId, VisibleText, has_visible_character, reject_null
from .urls import link_problem

# The pattern of mailbox ids, which ``MailboxCreate`` enforces.
MailboxId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{1,64}$"), TrimmedId]
ExternalId = Annotated[VisibleText, TrimmedId]

MAX_CONTENT_CHARS = 200_000
MAX_TAGS = 50


class _Model(BaseModel):
    # Strict like ``ApiModel``: a JSON value must already have the field's type.
    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        extra="forbid",
        str_strip_whitespace=True,
        serialize_by_alias=True,
        strict=True,
    )


def _check_url(value: str | None) -> str | None:
    if value is None or value == "":
        return None
    problem = link_problem(value)
    if problem is not None:
        raise ValueError(
            f"{problem}; send an absolute http or https URL or a path starting with a single /"
        )
    return value


def _check_tags(values: list[str]) -> list[str]:
    cleaned = []
    for tag in values:
        tag = tag.strip()
        if not has_visible_character(tag) or len(tag) > 64:
            raise ValueError("each tag must be 1 to 64 characters with a visible character")
        if tag not in cleaned:
            cleaned.append(tag)
    return cleaned


# Sent by integrators to create an article, and one row of a bulk import.
class ArticleCreate(_Model):
    title: VisibleText = Field(min_length=1, max_length=500)
    content: VisibleText = Field(min_length=1, max_length=MAX_CONTENT_CHARS)
    url: str | None = Field(default=None, max_length=2048)
    tags: list[str] = Field(default_factory=list, max_length=MAX_TAGS)
    mailbox_ids: list[MailboxId] = Field(default_factory=list, max_length=100)
    external_id: ExternalId | None = Field(default=None, min_length=1, max_length=255)

    model_config = {
        "json_schema_extra": {
            "examples": [
                {
                    "title": "Refund policy",
                    "content": "Refunds are paid within 5 business days.",
                    "url": "https://help.example.com/refunds",
                    "tags": ["billing"],
                    "externalId": "kb-42",
                }
            ]
        }
    }

    _url = field_validator("url")(classmethod(lambda cls, v: _check_url(v)))
    _tags = field_validator("tags")(classmethod(lambda cls, v: _check_tags(v)))


# Sent to PATCH an article: only the fields present change.
class ArticleUpdate(_Model):
    title: VisibleText | None = Field(default=None, min_length=1, max_length=500)
    content: VisibleText | None = Field(default=None, min_length=1, max_length=MAX_CONTENT_CHARS)
    url: str | None = Field(default=None, max_length=2048)
    tags: list[str] | None = Field(default=None, max_length=MAX_TAGS)
    mailbox_ids: list[MailboxId] | None = Field(default=None, max_length=100)
    external_id: ExternalId | None = Field(default=None, min_length=1, max_length=255)

    model_config = {
        "json_schema_extra": {
            "examples": [{"title": "Refund policy", "tags": ["billing", "refunds"]}]
        }
    }

    _url = field_validator("url")(classmethod(lambda cls, v: _check_url(v)))
    _tags = field_validator("tags")(
        classmethod(lambda cls, v: None if v is None else _check_tags(v))
    )
    # An article always has a title and content. Null tags or mailboxIds clear them.
    _not_null = field_validator("title", "content")(staticmethod(reject_null))


# Returned for every article read or written.
class ArticlePublic(_Model):
    id: str
    title: str
    content: str
    url: str | None
    tags: list[str]
    mailbox_ids: list[str]
    external_id: str | None
    created_at: str
    updated_at: str


# Sent to the bulk import endpoint.
class ArticleImport(_Model):
    articles: list[ArticleCreate] = Field(min_length=1, max_length=1000)

    model_config = {
        "json_schema_extra": {
            "examples": [
                {
                    "articles": [
                        {
                            "title": "Refund policy",
                            "content": "Refunds are paid within 5 business days.",
                            "externalId": "kb-42",
                        }
                    ]
                }
            ]
        }
    }


# Returned by a bulk import: how many rows were created, changed or already current.
class ImportResult(_Model):
    created: int
    updated: int
    unchanged: int
    article_ids: list[str]


# One search hit as the API and the CLI show it.
class SearchHit(_Model):
    id: str
    title: str
    url: str
    relevance: float = Field(
        ge=0,
        le=1,
        description="The idf-weighted mean credit of the query's terms: 0.9 to 1 for a term "
        "in the title (1 when the title is exactly the query), 0.7 to 0.9 for a term only in "
        "the text (more for more occurrences), 0 when missing. With semantic search the "
        "passage's cosine similarity counts when higher. Results come highest first; the "
        "same value as in the AI's sources, not scaled to the top hit",
    )
    snippet: str
