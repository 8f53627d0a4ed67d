"""The answer engine: retrieval, confidence, a provider chain and the handoff policy.

``AnswerEngine.answer`` never raises because a model failed. A provider
error, a timeout or an ungrounded reply moves on to the next provider, and
when none is left the customer gets an acknowledgement and a handoff.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from ..knowledge.index import ArticleHit, RetrieverMode
from ..knowledge.query import CUSTOMER_AUTHORS, build_query
from ..knowledge.registry import IndexRegistry
from ..knowledge.semantic import SEMANTIC_MISSING
from ..knowledge.urls import source_url
from . import handoff
from .acknowledgements import acknowledgement
from .confidence import confidence_model, index_confidence_model
from .evidence import FEATURE_NAMES, NO_EVIDENCE, Evidence, measure
from .handoff import HandoffReason
from .language import SUPPORTED_LANGUAGES, detect_language
from .providers.base import AnswerProvider, ContextPassage, ProviderError, ProviderReply
from .providers.extractive import ExtractiveProvider
from .sensitive import SensitiveTopic
from .small_talk import (
    SmallTalk,
    SmallTalkMatch,
    is_nudge,
    is_small_talk,
    match_small_talk,
    reply_language,
    small_talk_reply,
)
from .unmatched_terms import UNMATCHED_MAX_CONFIDENCE, unmatched_name, unmatched_rare_word

log = logging.getLogger(__name__)

CANDIDATES = 10
# Passages handed to a provider: the best passage of each of the top articles.
CONTEXT_ARTICLES = 3
# The relevance from which an article weighed before a handoff is listed in its
# sources: for example every query term once in the text (0.7), or 5 of 7
# equally weighted terms.
RELEVANT = 0.5
# Below this share of the question's weighted terms in the best article, the
# question counts as out of scope and is handed off whatever the confidence.
OUT_OF_SCOPE_COVERAGE = 0.2
# The confidence ceiling of a handoff that lists no article of relevance
# RELEVANT or more. It is a fixed value, not the best relevance, because
# relevance and confidence are different scales: capping at the best
# relevance lowered the handoff AUROC of the techqa regression slice from
# 0.829 to 0.816.
UNSUPPORTED_MAX_CONFIDENCE = 0.49
POLICY_MODEL = "handoff-policy"
# The ``model`` of a reply to a greeting, thanks, an acknowledgement or a farewell.
SMALL_TALK_MODEL = "small-talk"


@dataclass(frozen=True, slots=True)
class Source:
    """A knowledge-base article behind an answer, with a relevance in 0..1."""

    article_id: str
    title: str
    url: str
    relevance: float
    external_id: str | None = None


@dataclass(slots=True)
class Answer:
    """What the engine replies to one customer message.

    ``candidates`` is the retrieval ranking (up to ten articles) whether or
    not the engine answered; it feeds evaluation and agent-side context.
    ``sources`` lists the articles that ``confidence`` rests on: those the
    reply cites (or was given, when it cites none), or on a handoff the
    relevant articles it weighed. A handoff with no such article reports a
    confidence below ``RELEVANT``, so a high confidence comes without
    sources only in a reply to small talk, which states no fact and has
    confidence 1. An answer's confidence may exceed every source's relevance,
    because confidence is the calibrated probability that the cited article
    is right, while relevance only measures shared words.
    """

    content: str
    confidence: float
    sources: list[Source]
    should_handoff: bool
    handoff_reason: str | None
    model: str
    response_time: float
    candidates: list[Source] = field(default_factory=list)
    evidence: dict[str, float] | None = None
    # billing_dispute or account_security when a sensitive topic caused the handoff.
    handoff_topic: str | None = None


class AnswerEngine:
    """Answers customer messages from an organization's knowledge base."""

    def __init__(
        self,
        registry: IndexRegistry,
        *,
        providers: Sequence[AnswerProvider] | None = None,
        retriever: RetrieverMode | None = None,
        provider_timeout_s: float = 30.0,
    ) -> None:
        self.registry = registry
        self.providers: list[AnswerProvider] = list(providers or [ExtractiveProvider()])
        if retriever is None:
            retriever = "fused" if registry.semantic else "lexical"
        if retriever != "lexical" and not registry.semantic:
            raise ValueError(
                f"retriever {retriever!r} cannot run because {SEMANTIC_MISSING}, "
                "or use the lexical retriever"
            )
        self.retriever: RetrieverMode = retriever
        self.provider_timeout_s = provider_timeout_s
        self.confidence = confidence_model(retriever)

    async def answer(
        self,
        *,
        org_id: str,
        mailbox_id: str | None,
        question: str,
        history: Sequence[tuple[str, str]] = (),
        knowledge_base_enabled: bool = True,
        threshold: float = handoff.DEFAULT_THRESHOLD,
        instructions: str | None = None,
        locale: object = None,
    ) -> Answer:
        """Answer ``question``, given earlier ``(author_type, content)`` turns, oldest first.

        ``instructions`` is the mailbox's tone guidance for model providers; it
        never changes the grounding rules or the handoff policy. ``locale`` is
        the customer's language tag, which picks the language of a reply when
        the messages do not (``detect_language``). An unexpected
        error in retrieval or a provider becomes a ``provider_failure`` handoff,
        so the customer gets a person instead of an error.
        """
        started = time.perf_counter()
        try:
            return await self._answer(
                org_id=org_id,
                mailbox_id=mailbox_id,
                question=question,
                history=history,
                knowledge_base_enabled=knowledge_base_enabled,
                threshold=threshold,
                instructions=instructions,
                locale=locale,
                started=started,
            )
        except Exception:
            log.exception(
                "response generation failed, handed off", extra={"organization_id": org_id}
            )
            language = detect_language(question, [], locale)
            return self._handoff(HandoffReason.PROVIDER_FAILURE, language, 0.0, started)

    async def _answer(
        self,
        *,
        org_id: str,
        mailbox_id: str | None,
        question: str,
        history: Sequence[tuple[str, str]],
        knowledge_base_enabled: bool,
        threshold: float,
        instructions: str | None,
        locale: object,
        started: float,
    ) -> Answer:
        def language() -> str:
            earlier = [text for author, text in reversed(history) if author in CUSTOMER_AUTHORS]
            return detect_language(question, earlier, locale)

        decision = handoff.before_answer(history, question)
        if decision.should_handoff:
            return self._handoff(decision.reason, language(), 0.0, started, topic=decision.topic)
        nudged = handoff.nudged_question(history, question)
        if nudged is not None:
            # "?" or "hello?" asks the earlier question again, so it is answered
            # again with the turns that came before it.
            question = history[nudged][1]
            history = history[:nudged]
            small_talk = None
        else:
            small_talk = match_small_talk(question)
        if small_talk is None and nudged is None and is_nudge(question):
            # A bare "?" with no question before it: invite the question.
            small_talk = SmallTalkMatch(SmallTalk.GREETING, frozenset(SUPPORTED_LANGUAGES))
        if small_talk is not None:
            # Nothing to look up: the reply states no fact, so it is certain and cites nothing.
            earlier = [text for author, text in reversed(history) if author in CUSTOMER_AUTHORS]
            return Answer(
                content=small_talk_reply(
                    small_talk.kind,
                    reply_language(small_talk, earlier, message=question, locale=locale),
                ),
                confidence=1.0,
                sources=[],
                should_handoff=False,
                handoff_reason=None,
                model=SMALL_TALK_MODEL,
                response_time=time.perf_counter() - started,
            )
        if not knowledge_base_enabled:
            return self._handoff(HandoffReason.LOW_CONFIDENCE, language(), 0.0, started)

        index = await self.registry.get(org_id)
        # The search reads the question with the last earlier customer turn that was
        # a question, so after "hi" or "thanks" it uses the turn before.
        earlier_turns = [
            (author, text)
            for author, text in history
            if author not in CUSTOMER_AUTHORS or not is_small_talk(text)
        ]
        query = build_query(question, earlier_turns)
        hits = index.search(query, mode=self.retriever, mailbox_id=mailbox_id, limit=CANDIDATES)
        evidence = measure(index, query, hits, question) if hits else NO_EVIDENCE
        scorer = index_confidence_model(
            self.retriever, keeps_passage_pieces=index.passage_pieces is not None
        )
        confidence = scorer.score(evidence) if hits else 0.0
        if hits:
            # A short question about a product or code that no article names.
            unmatched = unmatched_name(
                question, query.current_terms, index.lexical.idf, hits[0].passage.text
            )
            if unmatched is None:
                # A short question with a word no article uses, much rarer in English
                # than the words it matches.
                unmatched = unmatched_rare_word(question, query.current_terms, index.lexical.idf)
            if unmatched is not None and confidence > UNMATCHED_MAX_CONFIDENCE:
                log.info(
                    "confidence capped, question names a term the knowledge base lacks",
                    extra={"organization_id": org_id, "term": unmatched},
                )
                confidence = UNMATCHED_MAX_CONFIDENCE
        candidates = [self._source(hit, index.relevance(query, hit)) for hit in hits]

        in_scope = bool(hits) and evidence.coverage >= OUT_OF_SCOPE_COVERAGE
        decision = handoff.after_scoring(confidence, threshold, in_scope=in_scope)
        if decision.should_handoff:
            result = self._handoff(decision.reason, language(), confidence, started, candidates)
            result.evidence = describe(evidence)
            return result

        passages = [
            ContextPassage(hit.article.id, hit.article.title, hit.passage.text)
            for hit in hits[:CONTEXT_ARTICLES]
        ]
        reply, provider = await self._generate(question, history, passages, instructions)
        if reply is None:
            return self._handoff(
                HandoffReason.PROVIDER_FAILURE, language(), confidence, started, candidates
            )
        if reply.announces_handoff:
            result = self._handoff(
                HandoffReason.LOW_CONFIDENCE, language(), confidence, started, candidates
            )
            result.model = provider.name if not reply.model else f"{provider.name}/{reply.model}"
            return result
        if reply.declined:
            return self._handoff(
                HandoffReason.LOW_CONFIDENCE,
                language(),
                min(confidence, 0.3),
                started,
                candidates,
            )

        by_id = {source.article_id: source for source in candidates}
        sources = [
            by_id[article_id] for article_id in reply.cited_article_ids if article_id in by_id
        ]
        if not sources:
            # A reply that cites nothing still rests on the passages it was given.
            sources = candidates[:CONTEXT_ARTICLES]
        model = (
            provider.name
            if reply.model in ("", provider.name)
            else f"{provider.name}/{reply.model}"
        )
        content = reply.content
        if handoff.promises_person(content):
            # A reply that tells the customer a person is coming must come with a handoff.
            return Answer(
                content=content,
                confidence=confidence,
                sources=sources,
                should_handoff=True,
                handoff_reason=HandoffReason.LOW_CONFIDENCE.value,
                model=model,
                response_time=time.perf_counter() - started,
                candidates=candidates,
                evidence=describe(evidence),
            )
        return Answer(
            content=content,
            confidence=confidence,
            sources=sources,
            should_handoff=False,
            handoff_reason=None,
            model=model,
            response_time=time.perf_counter() - started,
            candidates=candidates,
            evidence=describe(evidence),
        )

    async def _generate(
        self,
        question: str,
        history: Sequence[tuple[str, str]],
        passages: list[ContextPassage],
        instructions: str | None,
    ) -> tuple[ProviderReply | None, AnswerProvider | None]:
        for provider in self.providers:
            try:
                reply = await asyncio.wait_for(
                    provider.generate(
                        question=question,
                        history=history,
                        passages=passages,
                        instructions=instructions,
                    ),
                    timeout=self.provider_timeout_s,
                )
            except TimeoutError:
                log.warning("answer provider timed out", extra={"provider": provider.name})
                continue
            except ProviderError as error:
                log.warning(
                    "answer provider failed", extra={"provider": provider.name, "error": str(error)}
                )
                continue
            except Exception:
                log.exception(
                    "answer provider raised an unexpected error", extra={"provider": provider.name}
                )
                continue
            return reply, provider
        return None, None

    def _source(self, hit: ArticleHit, relevance: float) -> Source:
        return Source(
            article_id=hit.article.id,
            title=hit.article.title,
            url=source_url(hit.article.id, hit.article.url),
            relevance=relevance,
            external_id=hit.article.external_id,
        )

    def _handoff(
        self,
        reason: HandoffReason | None,
        language: str,
        confidence: float,
        started: float,
        candidates: list[Source] | None = None,
        *,
        topic: SensitiveTopic | None = None,
    ) -> Answer:
        reason = reason or HandoffReason.LOW_CONFIDENCE
        weighed = (candidates or [])[:CONTEXT_ARTICLES]
        sources = [source for source in weighed if source.relevance >= RELEVANT]
        if not sources:
            # With no relevant article to show, the reported confidence stays below
            # RELEVANT, so a high confidence never comes without its sources.
            confidence = min(confidence, UNSUPPORTED_MAX_CONFIDENCE)
        return Answer(
            content=acknowledgement(reason, language, topic),
            confidence=round(confidence, 3),
            sources=sources,
            should_handoff=True,
            handoff_reason=reason.value,
            model=POLICY_MODEL,
            response_time=time.perf_counter() - started,
            candidates=candidates or [],
            handoff_topic=topic.value if topic is not None else None,
        )


def describe(evidence: Evidence) -> dict[str, float]:
    """Return the evidence as a plain dict, for logs and message metadata."""
    return {
        name: round(value, 3) for name, value in zip(FEATURE_NAMES, evidence.vector(), strict=True)
    }
