"""AI answers: ``POST /ai/generate-response``."""

from __future__ import annotations

from fastapi import APIRouter, Request

from ...assistant import actions
from ...assistant.schemas import GenerateRequest, GenerateResponse, SourcePublic
from ...monitoring import metrics
from ..deps import DbDep
from ..lean_route import LeanRoute
from ..route_access import AnswerGenerator
from ..schemas import errors

router = APIRouter(prefix="/ai", tags=["ai"], route_class=LeanRoute)


@router.post(
    "/generate-response",
    response_model=GenerateResponse,
    responses=errors(400, 403, 404, 409, 413, 415),
    operation_id="ai-generate-response",
    summary="Answer a customer message from the knowledge base",
)
async def generate_response(
    body: GenerateRequest, request: Request, principal: AnswerGenerator, db: DbDep
) -> GenerateResponse:
    """Answer without posting anything; 409 CONVERSATION_IN_HANDOFF while a person has it."""
    engine = request.app.state.answer_engine
    answer = await actions.generate_response(db, engine, principal, body)
    metrics.ai_answer_seconds.observe(answer.response_time)
    metrics.ai_answers.labels(handoff="true" if answer.should_handoff else "false").inc()
    return GenerateResponse(
        content=answer.content,
        confidence=round(answer.confidence, 3),
        sources=[
            SourcePublic(title=s.title, url=s.url, relevance=s.relevance) for s in answer.sources
        ],
        should_handoff=answer.should_handoff,
        handoff_reason=answer.handoff_reason,
        response_time=round(answer.response_time, 4),
        model=answer.model,
    )
