"""The OpenAPI document and the interactive docs."""

from __future__ import annotations


async def test_openapi_document(client):
    response = await client.get("/openapi.json")
    document = response.json()

    assert response.status_code == 200
    assert document["openapi"].startswith("3.1")
    operations = [
        operation
        for path in document["paths"].values()
        for method, operation in path.items()
        if method in ("get", "post", "patch", "put", "delete")
    ]
    assert operations
    for operation in operations:
        assert operation.get("operationId"), operation
        assert "500" in operation["responses"], operation["operationId"]
        assert "401" in operation["responses"], operation["operationId"]
    assert "ErrorEnvelope" in document["components"]["schemas"]
    create = document["paths"]["/api/v2/conversations"]["post"]
    schema_ref = create["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    schema = document["components"]["schemas"][schema_ref.rsplit("/", 1)[1]]
    assert schema["examples"][0]["customerId"] == "customer_123"


async def test_docs_page(client):
    response = await client.get("/docs")
    assert response.status_code == 200
    assert "swagger" in response.text.lower()


async def test_openapi_declares_bearer_schemes(client):
    document = (await client.get("/openapi.json")).json()

    schemes = document["components"]["securitySchemes"]
    assert set(schemes) == {"secretKey", "agentToken", "widgetToken", "publishableKey"}
    for name, scheme in schemes.items():
        assert scheme["type"] == "http", name
        assert scheme["scheme"] == "bearer", name
        assert scheme["description"], name


async def test_openapi_security_per_operation(client):
    document = (await client.get("/openapi.json")).json()
    security = {
        operation["operationId"]: [name for entry in operation["security"] for name in entry]
        for path in document["paths"].values()
        for method, operation in path.items()
        if method in ("get", "post", "patch", "put", "delete")
    }

    assert security["auth-login"] == []
    assert security["widget-session-create"] == ["publishableKey"]
    # Admin operations: an identity provider's admin JWT is an agentToken.
    assert security["keys-create"] == ["secretKey", "agentToken"]
    assert security["auth-tokens-create"] == ["secretKey", "agentToken"]
    assert security["conversations-update"] == ["secretKey", "agentToken"]
    assert security["messages-create"] == ["secretKey", "agentToken", "widgetToken"]
    assert security["handoffs-list"] == ["secretKey", "agentToken"]
    # An inbox user's token may not rate a conversation, whatever its role.
    assert security["satisfaction-rate"] == ["secretKey", "widgetToken"]
    for operation_id, schemes in security.items():
        if operation_id != "auth-login":
            assert schemes, operation_id


async def test_widget_token_matches_declared_security(client, tenant):
    """A customer token gets 403 exactly where widgetToken is not declared."""
    document = (await client.get("/openapi.json")).json()
    session = await client.post(
        "/keys",
        headers=tenant.headers,
        json={"name": "widget", "kind": "publishable", "mailboxIds": [tenant.mailbox_id]},
    )
    assert session.status_code == 201, session.text
    opened = await client.post(
        "/widget/session",
        headers={"Authorization": f"Bearer {session.json()['key']}"},
        json={"mailboxId": tenant.mailbox_id, "customerId": "cus_security"},
    )
    assert opened.status_code == 201, opened.text
    customer = {"Authorization": f"Bearer {opened.json()['token']}"}

    for path, item in document["paths"].items():
        for method, operation in item.items():
            schemes = [name for entry in operation["security"] for name in entry]
            # A request body and required query parameters are validated
            # before the role check, so only operations without them show its 403.
            required_query = [
                parameter
                for parameter in operation.get("parameters", [])
                if parameter["in"] == "query" and parameter.get("required")
            ]
            if (
                not schemes
                or "publishableKey" in schemes
                or "requestBody" in operation
                or required_query
            ):
                continue
            url = path.removeprefix("/api/v2").replace("{", "").replace("}", "")
            body = {} if method in ("post", "patch") else None
            response = await client.request(method.upper(), url, headers=customer, json=body)
            label = (method, path, response.status_code, response.text[:200])
            if "widgetToken" in schemes:
                assert response.status_code != 403, label
            else:
                assert response.status_code == 403, label


async def test_analytics_parameters_described(client):
    document = (await client.get("/openapi.json")).json()
    paths = document["paths"]

    for path in ("/api/v2/analytics/metrics", "/api/v2/analytics/conversations.csv"):
        parameters = {
            item["name"]: item["description"] for item in paths[path]["get"]["parameters"]
        }
        assert "inclusive" in parameters["from"], path
        assert "inclusive" in parameters["to"], path
        assert "366 days" in parameters["to"], path
        assert "ending at the request time" in parameters["period"], path
        assert "UTC by default" in parameters["timezone"], path
        assert "mailbox" in parameters["mailboxId"], path
    metrics = {
        item["name"]: item["description"]
        for item in paths["/api/v2/analytics/metrics"]["get"]["parameters"]
    }
    for name in ("response_time", "handoff_rate", "conversation_volume"):
        assert name in metrics["metrics"]
    assert "hour, day or week" in metrics["interval"]
    assert "2,500 buckets" in metrics["interval"]
