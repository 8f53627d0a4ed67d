"""List filters: a bad value names the query parameter as the client wrote it."""

from __future__ import annotations

import pytest

CASES = [
    ("/handoffs?status=bogus", "status", "bogus"),
    ("/handoffs?status=queued&status=bogus", "status", "bogus"),
    ("/conversations?status=bogus", "status", "bogus"),
    ("/conversations?priority=bogus", "priority", "bogus"),
    ("/conversations?createdAfter=yesterday", "createdAfter", "yesterday"),
    ("/conversations?limit=0", "limit", "0"),
    ("/agents?skill=", "skill", ""),
    ("/knowledge/articles?limit=101", "limit", "101"),
    ("/analytics/metrics?period=5y", "period", "5y"),
    ("/analytics/metrics?metrics=bogus", "metrics", "bogus"),
]


@pytest.mark.parametrize(("path", "field", "value"), CASES)
async def test_filter_error_names_parameter(client, tenant, path, field, value):
    response = await client.get(path, headers=tenant.headers)
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["code"] == "VALIDATION_ERROR"
    assert error["details"]["field"] == field
    assert error["details"]["value"] == value
    assert error["details"].get("expected")
    assert str(value) in error["message"]
