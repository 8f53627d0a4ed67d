"""The interface every answer provider implements."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol


@dataclass(frozen=True, slots=True)
class ContextPassage:
    """A retrieved passage handed to a provider, numbered from 1 in the prompt."""

    article_id: str
    title: str
    text: str


@dataclass(slots=True)
class ProviderReply:
    """A provider's reply: the text, the passages it cites, and the model that wrote it.

    ``declined`` is true when the provider found that the passages do not
    answer the question, and ``announces_handoff`` when its reply tells the
    customer a person is taking over. The engine hands off in both cases.
    """

    content: str
    cited_article_ids: list[str] = field(default_factory=list)
    model: str = ""
    declined: bool = False
    announces_handoff: bool = False


class ProviderError(Exception):
    """A provider failed (an HTTP error, a timeout, an unusable or ungrounded reply)."""


class AnswerProvider(Protocol):
    name: str

    async def generate(
        self,
        *,
        question: str,
        history: Sequence[tuple[str, str]],
        passages: Sequence[ContextPassage],
        instructions: str | None = None,
    ) -> ProviderReply: ...
