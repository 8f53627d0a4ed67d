import re

from campfire_server.assistant.providers.base import ContextPassage
from campfire_server.assistant.providers.extractive import ExtractiveProvider

PASSAGE = ContextPassage(
    "art_1",
    "Billing FAQ",
    "Billing FAQ\n\nHow do I upgrade my plan?\nOpen Settings > Billing and choose Upgrade. "
    "The new plan starts at once.\n\nHow do I downgrade my plan?\nPlan downgrades are done only "
    "by the support team, on request. There is no downgrade button in the app.",
)


async def generate(question, passage=PASSAGE):
    return await ExtractiveProvider().generate(question=question, history=[], passages=[passage])


async def test_quotes_only_passage_sentences():
    reply = await generate("how do I upgrade my plan")
    quoted = reply.content.split(": ", 1)[1].split("\n\n")[0]
    for sentence in re.split(r"(?<=\.)\s+", quoted):
        assert sentence in PASSAGE.text
    assert reply.cited_article_ids == ["art_1"]


async def test_skips_headings_and_questions():
    reply = await generate("how do I upgrade my plan")
    assert "How do I upgrade my plan?" not in reply.content
    assert "Billing FAQ\n" not in reply.content


async def test_staff_only_action_offers_request():
    reply = await generate("how do I downgrade")
    assert "done only by the support team" in reply.content
    assert "on request" in reply.content
    assert "pass your request on" in reply.content


async def test_plain_article_has_no_offer():
    passage = ContextPassage("art_2", "Passwords", "Choose Forgot password on the sign-in page.")
    reply = await generate("forgot password", passage)
    assert "pass your request on" not in reply.content
    assert "Forgot password" in reply.content


async def test_offer_only_when_quoted():
    reply = await generate("how do I upgrade my plan")
    assert "pass your request on" not in reply.content
