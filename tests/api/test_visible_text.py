"""One rule for "at least one visible character", and URL checks at every metadata depth."""

from __future__ import annotations

import pytest

from campfire_server.validation import has_visible_character
from tests.auth.conftest import bearer, create_key
from tests.helpers import create_conversation, send_message

# Text that draws nothing: each is rejected wherever a field needs a visible character.
INVISIBLE = {
    "spaces": "   ",
    "zero-width spaces": "\u200b\u200b",
    "byte order mark": "\ufeff",
    "lone combining marks": "\u0301\u0301",
    "joiners": "\u200d\u200c\u2060",
    "soft hyphen": "\u00ad",
    "tag characters": "\U000e0041\U000e0042",
    "hangul filler": "\u3164",
    "braille blank": "\u2800",
    "line separator and tab": "\u2028\t",
    "mixed": " \u200b\ufeff\u0301\u3164 ",
    "delete": "\x7f",
    "space then delete": " \x7f",
}
# Text that draws something, although some of its characters are invisible.
VISIBLE = {
    "emoji": "\U0001f600",
    "family emoji with joiners": "\U0001f468\u200d\U0001f469\u200d\U0001f467",
    "flag": "\U0001f1eb\U0001f1f7",
    "devanagari with vowel sign": "\u0915\u093f",
    "accent on a base": "e\u0301",
    "cjk": "\u65e5\u672c",
    "dot between spaces": " . ",
    "first printable ascii": "!",
    "last printable ascii": "~",
    "space before a letter": " a",
}

invisible_cases = pytest.mark.parametrize("text", list(INVISIBLE.values()), ids=list(INVISIBLE))
visible_cases = pytest.mark.parametrize("text", list(VISIBLE.values()), ids=list(VISIBLE))


def assert_rejected(response, field: str) -> None:
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["code"] == "VALIDATION_ERROR"
    assert error["details"]["field"] == field


@invisible_cases
def test_invisible_text_has_no_visible_character(text) -> None:
    assert not has_visible_character(text)


@visible_cases
def test_visible_text_has_visible_character(text) -> None:
    assert has_visible_character(text)


async def count_rows(db, sql: str, **params) -> int:
    return int(await db.read(lambda tx: tx.value(sql, **params)))


@invisible_cases
async def test_message_content_rejected(client, db, tenant, text) -> None:
    conversation = await create_conversation(client, tenant)
    before = await count_rows(
        db, "SELECT COUNT(*) FROM messages WHERE conversation_id = :id", id=conversation["id"]
    )

    response = await send_message(client, tenant, conversation["id"], text)

    assert_rejected(response, "content")
    assert "visible" in response.json()["error"]["message"] or not text.strip()
    after = await count_rows(
        db, "SELECT COUNT(*) FROM messages WHERE conversation_id = :id", id=conversation["id"]
    )
    assert after == before


@visible_cases
async def test_message_content_accepted(client, tenant, text) -> None:
    conversation = await create_conversation(client, tenant)

    response = await send_message(client, tenant, conversation["id"], text)

    assert response.status_code == 201, response.text
    assert response.json()["content"] == text


@invisible_cases
async def test_ai_message_content_rejected(client, tenant, text) -> None:
    conversation = await create_conversation(client, tenant)
    response = await client.post(
        "/ai/generate-response",
        json={"conversationId": conversation["id"], "messageContent": text},
        headers=tenant.headers,
    )
    assert_rejected(response, "messageContent")


@pytest.mark.parametrize(
    ("field", "key"),
    [("customerId", "customerId"), ("subject", "subject"), ("mailboxId", "mailboxId")],
)
@invisible_cases
async def test_conversation_create_rejected(client, db, tenant, field, key, text) -> None:
    before = await count_rows(
        db, "SELECT COUNT(*) FROM conversations WHERE org_id = :org", org=tenant.org_id
    )
    body = {"customerId": "customer_visible", "mailboxId": tenant.mailbox_id, key: text}

    response = await client.post("/conversations", json=body, headers=tenant.headers)

    assert_rejected(response, field)
    after = await count_rows(
        db, "SELECT COUNT(*) FROM conversations WHERE org_id = :org", org=tenant.org_id
    )
    assert after == before


@invisible_cases
async def test_conversation_patch_rejected(client, tenant, text) -> None:
    conversation = await create_conversation(client, tenant, subject="Kept subject")

    response = await client.patch(
        f"/conversations/{conversation['id']}", json={"subject": text}, headers=tenant.headers
    )

    assert_rejected(response, "subject")
    stored = await client.get(f"/conversations/{conversation['id']}", headers=tenant.headers)
    assert stored.json()["subject"] == "Kept subject"


@invisible_cases
async def test_names_rejected(client, tenant, text) -> None:
    agent = await client.post("/agents", json={"name": text}, headers=tenant.headers)
    assert_rejected(agent, "name")

    mailbox = await client.post("/mailboxes", json={"name": text}, headers=tenant.headers)
    assert_rejected(mailbox, "name")

    renamed = await client.patch(
        f"/mailboxes/{tenant.mailbox_id}", json={"name": text}, headers=tenant.headers
    )
    assert_rejected(renamed, "name")

    key = await client.post("/keys", json={"name": text}, headers=tenant.headers)
    assert_rejected(key, "name")

    skills = await client.post(
        "/agents", json={"name": "Skilled", "skills": [text]}, headers=tenant.headers
    )
    assert_rejected(skills, "skills[0]")


@invisible_cases
async def test_token_ids_rejected(client, tenant, text) -> None:
    for field, value in (("agentId", text), ("subject", text)):
        response = await client.post(
            "/auth/tokens", json={"role": "viewer", field: value}, headers=tenant.headers
        )
        assert_rejected(response, field)


@invisible_cases
async def test_widget_customer_id_rejected(client, db, tenant, text) -> None:
    origin = "https://shop.example"
    key = await create_key(
        db,
        tenant.org_id,
        kind="publishable",
        role="customer",
        mailbox_ids=[tenant.mailbox_id],
        allowed_origins=[origin],
    )

    response = await client.post(
        "/widget/session",
        json={"mailboxId": tenant.mailbox_id, "customerId": text},
        headers=bearer(key, Origin=origin),
    )

    assert_rejected(response, "customerId")


@invisible_cases
async def test_article_fields_rejected(client, tenant, text) -> None:
    valid = {"title": "Refunds", "content": "Refunds take five days.", "externalId": "kb-1"}
    for field in ("title", "content", "externalId"):
        response = await client.post(
            "/knowledge/articles", json={**valid, field: text}, headers=tenant.headers
        )
        assert response.status_code == 400, (field, response.text)
        assert response.json()["error"]["details"]["field"] == field

    tagged = await client.post(
        "/knowledge/articles", json={**valid, "tags": ["ok", text]}, headers=tenant.headers
    )
    assert tagged.status_code == 400, tagged.text


async def test_invisible_rating_comment_is_none(client, tenant) -> None:
    conversation = await create_conversation(client, tenant)

    response = await client.post(
        f"/conversations/{conversation['id']}/satisfaction",
        json={"rating": 4, "comment": "\u200b\ufeff"},
        headers=tenant.headers,
    )

    assert response.status_code in (200, 201), response.text
    assert response.json()["comment"] is None


# Metadata URLs -------------------------------------------------------------------

BAD_NESTED_URLS = [
    ({"page": {"url": "javascript:alert(1)"}}, "metadata.page.url"),
    ({"page": {"referrer": " https://example.com"}}, "metadata.page.referrer"),
    ({"a": {"b": {"c": {"homepageUrl": "data:text/html,x"}}}}, "metadata.a.b.c.homepageUrl"),
    (
        {"pages": [{"url": "https://ok.example"}, {"url": "java\tscript:x"}]},
        "metadata.pages[1].url",
    ),
    ({"link": ["https://ok.example", "vbscript:x"]}, "metadata.link[1]"),
    ({"items": [[{"website": "//no-scheme.example"}]]}, "metadata.items[0][0].website"),
    ({"url": {"href": "javascript:alert(1)"}}, "metadata.url.href"),
    ({"avatarUrl": {"src": "javascript:alert(1)"}}, "metadata.avatarUrl.src"),
    ({"url": [{"x": "javascript:alert(1)"}]}, "metadata.url[0].x"),
    ({"href": "javascript:x"}, "metadata.href"),
    ({"button": {"imageHref": "javascript:x"}}, "metadata.button.imageHref"),
    ({"srcset": "data:text/html,x"}, "metadata.srcset"),
    ({"callback_uri": "javascript:x"}, "metadata.callback_uri"),
    ({"helpLinks": ["https://ok.example", "javascript:x"]}, "metadata.helpLinks[1]"),
    ({"Avatar-URL": "vbscript:x"}, "metadata.Avatar-URL"),
]
GOOD_NESTED = {
    "page": {"url": "https://example.com/pricing", "title": "javascript: the good parts"},
    "pages": [{"referrer": "http://example.com"}, {"url": "/kb/art_1"}],
    "note": "javascript:alert(1) is only text here",
    "link": ["https://a.example", "https://b.example"],
    "count": {"url": 3},
    # "src" often names where a customer came from, so it is no link key.
    "src": "mobile_app",
}


@pytest.mark.parametrize(("metadata", "field"), BAD_NESTED_URLS)
async def test_nested_metadata_url_rejected(client, db, tenant, metadata, field) -> None:
    before = await count_rows(
        db, "SELECT COUNT(*) FROM conversations WHERE org_id = :org", org=tenant.org_id
    )
    created = await client.post(
        "/conversations",
        json={"customerId": "c", "mailboxId": tenant.mailbox_id, "metadata": metadata},
        headers=tenant.headers,
    )
    assert_rejected(created, field)
    after = await count_rows(
        db, "SELECT COUNT(*) FROM conversations WHERE org_id = :org", org=tenant.org_id
    )
    assert after == before

    conversation = await create_conversation(client, tenant)
    message = await send_message(client, tenant, conversation["id"], "hi", metadata=metadata)
    assert_rejected(message, field)
    patched = await client.patch(
        f"/conversations/{conversation['id']}", json={"metadata": metadata}, headers=tenant.headers
    )
    assert_rejected(patched, field)
    handoff = await client.post(
        f"/conversations/{conversation['id']}/handoff",
        json={"reason": "test", "context": metadata},
        headers=tenant.headers,
    )
    assert_rejected(handoff, field.replace("metadata", "context", 1))


async def test_nested_metadata_url_accepted(client, tenant) -> None:
    conversation = await create_conversation(client, tenant, metadata=GOOD_NESTED)
    assert conversation["metadata"] == GOOD_NESTED

    message = await send_message(client, tenant, conversation["id"], "hi", metadata=GOOD_NESTED)
    assert message.status_code == 201, message.text
    assert message.json()["metadata"] == GOOD_NESTED


async def test_invisible_search_query_is_400(client, tenant):
    response = await client.get(
        "/knowledge/search", params={"q": "\u200b\u200b"}, headers=tenant.headers
    )

    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["code"] == "VALIDATION_ERROR"
    assert error["details"]["field"] == "q"


async def test_invisible_optional_text_is_stored_as_none(client, tenant):
    mailbox = await client.post(
        "/mailboxes",
        json={"name": "Invisible instructions", "settings": {"aiInstructions": "\u200b"}},
        headers=tenant.headers,
    )

    assert mailbox.status_code == 201, mailbox.text
    assert mailbox.json()["settings"]["aiInstructions"] is None


@invisible_cases
async def test_handoff_reason_rejected(client, db, tenant, text) -> None:
    conversation = await create_conversation(client, tenant)
    response = await client.post(
        f"/conversations/{conversation['id']}/handoff",
        json={"reason": text},
        headers=tenant.headers,
    )
    stored = await count_rows(
        db, "SELECT COUNT(*) AS n FROM handoffs WHERE conversation_id = :id", id=conversation["id"]
    )

    assert_rejected(response, "reason")
    assert stored == 0


@pytest.mark.parametrize("text", ["", " ", "\u200b", "\ufeff\u3164"])
async def test_message_author_id_rejected(client, db, tenant, text) -> None:
    conversation = await create_conversation(client, tenant)
    response = await send_message(
        client, tenant, conversation["id"], "hello", author_type="agent", authorId=text
    )
    stored = await count_rows(
        db, "SELECT COUNT(*) AS n FROM messages WHERE conversation_id = :id", id=conversation["id"]
    )

    assert_rejected(response, "authorId")
    assert stored == 0


@pytest.mark.parametrize("text", ["", " ", "\u200b"])
async def test_article_mailbox_id_rejected(client, tenant, text) -> None:
    created = await client.post(
        "/knowledge/articles",
        json={"title": "T", "content": "c", "mailboxIds": [text]},
        headers=tenant.headers,
    )
    imported = await client.post(
        "/knowledge/articles/import",
        json={"articles": [{"title": "T", "content": "c", "mailboxIds": [text]}]},
        headers=tenant.headers,
    )

    assert_rejected(created, "mailboxIds[0]")
    assert_rejected(imported, "articles[0].mailboxIds[0]")


async def test_agent_with_password_keeps_email(client, tenant) -> None:
    created = await client.post(
        "/agents",
        json={
            "id": "agent_signs_in",
            "name": "Sam",
            "email": "sam@example.test",
            "password": "a long enough secret",
        },
        headers=tenant.headers,
    )
    cleared = await client.patch(
        "/agents/agent_signs_in", json={"email": None}, headers=tenant.headers
    )
    without_email = await client.post(
        "/agents",
        json={"id": "agent_no_email", "name": "Kim", "password": "a long enough secret"},
        headers=tenant.headers,
    )
    plain = await client.post(
        "/agents", json={"id": "agent_plain", "name": "Lee"}, headers=tenant.headers
    )
    password_only = await client.patch(
        "/agents/agent_plain", json={"password": "a long enough secret"}, headers=tenant.headers
    )
    agent = await client.get("/agents/agent_signs_in", headers=tenant.headers)

    assert created.status_code == 201, created.text
    assert_rejected(cleared, "email")
    assert agent.json()["email"] == "sam@example.test"
    assert_rejected(without_email, "email")
    assert plain.status_code == 201, plain.text
    assert_rejected(password_only, "email")
