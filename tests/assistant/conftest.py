from pathlib import Path

import pytest

from campfire_server.assistant.engine import AnswerEngine
from campfire_server.knowledge import actions, importer
from campfire_server.knowledge.registry import IndexRegistry
from tests.conftest import make_tenant

DEMO_KNOWLEDGE = Path(__file__).parents[2] / "src/campfire_server/demo/knowledge"


@pytest.fixture
async def demo_org(db):
    """An organization whose knowledge base is the demo articles."""
    tenant = await make_tenant(db, "Demo org")
    items = importer.read_source(DEMO_KNOWLEDGE)
    await db.write(lambda tx: actions.import_articles(tx, tenant.org_id, items))
    return tenant


@pytest.fixture
async def registry(db):
    registry = IndexRegistry(db, semantic=False)
    yield registry
    registry.close()


@pytest.fixture
def engine(registry):
    return AnswerEngine(registry)


@pytest.fixture
async def kb_tenant(client, tenant):
    """A tenant whose knowledge base is the demo articles, imported over HTTP."""
    rows = [
        item.model_dump(mode="json", by_alias=True, exclude_none=True)
        for item in importer.read_source(DEMO_KNOWLEDGE)
    ]
    response = await client.post(
        "/knowledge/articles/import", json={"articles": rows}, headers=tenant.headers
    )
    assert response.status_code == 200, response.text
    return tenant
