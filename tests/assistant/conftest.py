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
