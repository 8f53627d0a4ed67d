import re

import pytest

from campfire_server.assistant.providers.base import ContextPassage
from campfire_server.assistant.providers.extractive import (
    STAFF_OFFER,
    ExtractiveProvider,
    split_sentences,
)
from campfire_server.knowledge import importer
from campfire_server.knowledge.text import markdown_to_text
from tests.assistant.conftest import DEMO_KNOWLEDGE

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


def demo_passage(title):
    item = next(item for item in importer.read_source(DEMO_KNOWLEDGE) if item.title == title)
    return ContextPassage("art_demo", item.title, markdown_to_text(item.content))


def reply_claims(content, title):
    """Return the reply's text apart from the quote's lead-in and the staff offer."""
    quoted = content.removeprefix(f'From our article "{title}": ')
    return quoted.replace(STAFF_OFFER, "").strip()


async def test_contact_support_advice_has_no_offer():
    reply = await generate(
        "Can I sync my Outlook calendar?", demo_passage("Calendar sync problems")
    )
    assert "contact support with the booking id" in reply.content
    assert STAFF_OFFER not in reply.content
    assert "on request" not in reply.content
    assert "no steps to take" not in reply.content


async def test_offer_claims_nothing_beyond_quote():
    reply = await generate("how do I downgrade")
    assert STAFF_OFFER in reply.content
    assert "no steps to take" not in reply.content


@pytest.mark.parametrize(
    "question",
    [
        "Can I sync my Outlook calendar?",
        "How do I downgrade my plan?",
        "Can the support team add my VAT number to an old invoice?",
        "I lost my phone, how do I turn off two-factor authentication?",
        "What are your support hours?",
    ],
)
async def test_demo_replies_only_quote_article(question):
    for item in importer.read_source(DEMO_KNOWLEDGE):
        passage = demo_passage(item.title)
        reply = await generate(question, passage)
        # Every sentence of the reply is a sentence of the passage, so none is left over.
        left_over = reply_claims(reply.content, item.title)
        for sentence in sorted(split_sentences(passage.text), key=len, reverse=True):
            left_over = left_over.replace(sentence, "")
        assert not left_over.strip(), (item.title, left_over)


TWO_FACTOR = ContextPassage(
    "art_3",
    "Turning on two-factor authentication",
    "Turning on two-factor authentication\n\nOpen Profile > Security and choose Enable "
    "two-factor authentication. Scan the QR code with an authenticator app and enter the "
    "six-digit code. Save the recovery codes somewhere safe. If you lose both your phone and "
    "the recovery codes, only the support team can turn two-factor authentication off, after "
    "checking your identity.",
)


async def test_turn_on_abbreviation_quotes_steps():
    reply = await generate("How do I turn on 2FA?", TWO_FACTOR)

    assert "choose Enable two-factor authentication" in reply.content
    assert "lose both your phone" not in reply.content


async def test_turn_off_quotes_who_disables():
    reply = await generate("How do I turn off two-factor authentication?", TWO_FACTOR)

    assert "only the support team can turn two-factor authentication off" in reply.content
    assert "choose Enable" not in reply.content


async def test_matching_heading_beats_shared_word():
    passage = ContextPassage(
        "art_4",
        "Billing FAQ",
        "Billing FAQ\n\nHow do I upgrade my plan?\nOpen Settings > Billing and choose Upgrade. "
        "You pay the difference for the rest of the period.\n\nWhich payment methods do you "
        "accept?\nVisa, Mastercard and SEPA direct debit.",
    )

    reply = await generate("What can I pay with?", passage)

    assert "Visa, Mastercard and SEPA direct debit." in reply.content
    assert "pay the difference" not in reply.content
