"""CAMPFIRE_ENV=test: production rules, except that webhooks may reach loopback addresses."""

from __future__ import annotations

import httpx
import pytest

from campfire_server.app import create_app
from campfire_server.auth.keys import DEVELOPMENT_KEY
from campfire_server.config import Settings
from campfire_server.webhooks.guard import DestinationRejected, check_destination
from tests.conftest import test_settings as make_settings

LONG_SECRET = "a-long-random-test-secret-value-0123"


def test_test_env_requires_real_secret() -> None:
    settings = Settings(env="test", jwt_secret="change-me")

    assert settings.is_development is False
    with pytest.raises(ValueError, match="CAMPFIRE_JWT_SECRET is invalid"):
        settings.check_serving_secrets()


async def test_test_env_rejects_development_key(db) -> None:
    app = create_app(make_settings(db.url, env="test", jwt_secret=LONG_SECRET), db=db)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            response = await http.get(
                "/api/v2/conversations", headers={"Authorization": f"Bearer {DEVELOPMENT_KEY}"}
            )

    assert response.status_code == 401, response.text


@pytest.mark.parametrize(("env", "allowed"), [("test", True), ("production", False)])
async def test_webhook_loopback_by_env(db, env: str, allowed: bool) -> None:
    settings = make_settings(db.url, env=env, jwt_secret=LONG_SECRET, webhook_dns_lookups=False)

    if allowed:
        assert await check_destination("http://127.0.0.1:9/hook", settings) == ["127.0.0.1"]
    else:
        with pytest.raises(DestinationRejected):
            await check_destination("http://127.0.0.1:9/hook", settings)
    with pytest.raises(DestinationRejected):
        await check_destination("http://10.0.0.5/hook", settings)
