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
