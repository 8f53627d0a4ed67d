"""The event table of docs/webhooks.md lists exactly the event types the code can emit."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from campfire_server.events import records
from campfire_server.events.emit import emit

DOCS = Path(__file__).parents[2] / "docs" / "webhooks.md"


def documented_types() -> list[str]:
    """Return the first column of the table under the "## Events" heading."""
    section = DOCS.read_text().split("\n## Events\n", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"^\| `([^`]+)` \|", section, flags=re.MULTILINE)


def test_docs_table_lists_catalog():
    documented = documented_types()
    assert len(documented) == len(set(documented)), documented
    assert set(documented) - {"*"} == set(records.CATALOG)
    assert "*" in documented


def test_catalog_holds_every_type_constant():
    constants = {
        name: value
        for name, value in vars(records).items()
        if name.isupper() and isinstance(value, str) and re.fullmatch(r"[a-z]+\.[a-z]+", value)
    }
    assert set(constants.values()) == set(records.CATALOG), constants


async def test_emit_rejects_unlisted_type(db, tenant):
    with pytest.raises(ValueError, match="'handoff.escalated' is not in records.CATALOG"):
        await db.write(lambda tx: emit(tx, org_id=tenant.org_id, type="handoff.escalated", data={}))

    stored = await db.read(
        lambda tx: tx.value(
            "SELECT COUNT(*) AS n FROM events WHERE org_id = :org_id AND type = :type",
            org_id=tenant.org_id,
            type="handoff.escalated",
        )
    )
    assert stored == 0
