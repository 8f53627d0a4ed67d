"""Agents: the people handoffs are routed to."""

from __future__ import annotations

from typing import Annotated

import anyio
from fastapi import APIRouter, Query, Request, Response

from ...auth.passwords import hash_password
from ...auth.permissions import allowed, require
from ...auth.principal import Principal
from ...auth.scope import require_unlimited
from ...db import lock_order
from ...db.tx import Tx
from ...pagination import page_request
from ...routing import actions, service
from ...routing.schemas import Agent, AgentCreate, AgentStatus, AgentUpdate
from ..deps import DbDep
from ..lean_route import LeanRoute
from ..locations import set_location
from ..query import PageCursor, PageLimit, PageNumber
from ..route_access import AgentReader, AgentStatusOrWriter, AgentWriter
from ..schemas import Page, errors

router = APIRouter(prefix="/agents", tags=["agents"], route_class=LeanRoute)


async def _hash_password(password: str | None) -> str | None:
    """Hash ``password`` in a worker thread, because Argon2 takes tens of milliseconds."""
    if password is None:
        return None
    return await anyio.to_thread.run_sync(hash_password, password)


def _is_own_status_change(principal: Principal, agent_id: str, body: AgentUpdate) -> bool:
    """Return whether the request only sets a status that the caller may set.

    An agent token may set its own agent's status. An agent-role API key,
    which speaks for no single agent, may set any agent's status unless it
    is limited to mailboxes.
    """
    if allowed(principal, "agents:write"):
        return False
    return principal.agent_id in (None, agent_id) and body.model_fields_set == {"status"}


@router.post(
    "",
    status_code=201,
    response_model=Agent,
    responses=errors(400, 403, 409, 413, 415),
    operation_id="agents-create",
    summary="Create an agent",
)
async def create_agent(
    body: AgentCreate, principal: AgentWriter, db: DbDep, response: Response
) -> Agent:
    require_unlimited(principal, "create agents")
    password_hash = await _hash_password(body.password)
    agent = await db.write(
        lambda tx: actions.create_agent(tx, principal.org_id, body, password_hash=password_hash),
        order_key=lock_order.routing(principal.org_id),
    )
    set_location(response, "agents", agent.id)
    return agent


@router.get(
    "",
    response_model=Page[Agent],
    responses=errors(400, 403),
    operation_id="agents-list",
    summary="List agents, oldest first",
)
async def list_agents(
    principal: AgentReader,
    db: DbDep,
    page: PageNumber = 1,
    limit: PageLimit = 50,
    cursor: PageCursor = None,
    status: AgentStatus | None = None,
    skill: Annotated[str | None, Query(min_length=1, max_length=64)] = None,
) -> dict:
    request = page_request(
        page, limit, cursor, list_key=f"{principal.org_id}:agents:{status}:{skill}"
    )
    items, meta = await db.read(
        lambda tx: service.list_agents(tx, principal.org_id, request, status=status, skill=skill)
    )
    return {"data": items, "pagination": meta}


@router.get(
    "/{agent_id}",
    response_model=Agent,
    responses=errors(403, 404),
    operation_id="agents-get",
    summary="Get an agent",
)
async def get_agent(agent_id: str, principal: AgentReader, db: DbDep) -> Agent:
    return await db.lookup(lambda tx: service.get_agent(tx, principal.org_id, agent_id))


@router.patch(
    "/{agent_id}",
    response_model=Agent,
    responses=errors(400, 403, 404, 413, 415),
    operation_id="agents-update",
    summary="Change an agent's status, capacity, skills, name, email or password",
    description="Admins may change every field. An agent token (claim `aid`) may change "
    "only its own agent's `status`.",
)
async def update_agent(
    agent_id: str, body: AgentUpdate, principal: AgentStatusOrWriter, db: DbDep
) -> Agent:
    if _is_own_status_change(principal, agent_id, body):
        require(principal, "agents:status")
        if principal.agent_id is None:
            # A key speaks for no agent, and an agent's status decides its
            # routing in every mailbox. An agent token may still set its own.
            require_unlimited(principal, "change an agent's status")
    else:
        require(principal, "agents:write")
        require_unlimited(principal, "change agents")
    password_hash = await _hash_password(body.password)
    return await db.write(
        lambda tx: actions.update_agent(
            tx, principal.org_id, agent_id, body, password_hash=password_hash
        ),
        order_key=lock_order.routing(principal.org_id),
    )


@router.delete(
    "/{agent_id}",
    status_code=204,
    responses=errors(403, 404),
    operation_id="agents-delete",
    summary="Delete an agent, returning its handoffs to the queue",
)
async def delete_agent(
    agent_id: str, principal: AgentWriter, db: DbDep, request: Request
) -> Response:
    require_unlimited(principal, "delete agents")
    state = request.app.state

    def work(tx: Tx) -> None:
        actions.delete_agent(tx, principal.org_id, agent_id)
        # Tokens of the deleted agent stop working at once in this process. The
        # revocation published through the realtime broker makes every process
        # drop its cached copy and close the sockets of tokens naming the agent.
        # A process the broker does not reach does both within 30 s, the cache's
        # lifetime and the period of the revocation check.
        tx.after_commit(state.key_cache.clear)
        realtime = getattr(state, "realtime", None)
        if realtime is not None:
            tx.after_commit(lambda: realtime.publish_agent_deleted(principal.org_id, agent_id))

    await db.write(work, order_key=lock_order.routing(principal.org_id))
    return Response(status_code=204)
