"""Confidence on a knowledge base of a few dozen articles.

Among N articles, the only one that shares a word with the question lies
sqrt(N - 1) standard deviations above the rest, however weak the match:
5.1 with 27 articles, above the 4.3 that a known match reaches among the
27 demo articles. The lexical model, fitted on knowledge bases of hundreds
of articles, reads that as a clear match, so it answers questions no
article covers from an article that shares one word with them. This
knowledge base is built here, apart from the demo articles, and each
question is checked against the default (lexical) retriever.

The cap of ``unmatched_terms.unmatched_rare_word`` hands off an uncovered
question whose missing word is much rarer in general English than the word
it matches. NOTE: uncovered questions whose missing word is about as common
("cash" beside "pay") are still answered, so their test is marked as an
expected failure. Size-aware evidence refitted on small knowledge bases cut
from the labelled sets did not fix them without handing off the covered
ones (BENCHMARKS.md, "Small knowledge bases"). The mark is strict, so a fix
shows up as an unexpected pass.
"""

import pytest

from campfire_server.knowledge import actions
from campfire_server.knowledge.schemas import ArticleCreate
from tests.conftest import make_tenant

# A coworking desk-booking service, one short article per topic, as a new
# customer's first knowledge base might look.
ARTICLES = {
    "Booking a desk": "Open the Desks tab, pick a floor and a date, then choose a free desk "
    "on the map and press Book. A booking holds the desk from 8:00 to 18:00 local time.",
    "Booking a meeting room": "Meeting rooms are booked by the half hour from the Rooms tab. "
    "Each room lists its seats, screen and whiteboard, and a booking can repeat weekly.",
    "Cancelling a booking": "Cancel a desk or room booking from My bookings up to one hour "
    "before it starts. Later cancellations count as a no-show.",
    "No-shows and check-in": "Check in on the tablet beside the desk or in the app within 30 "
    "minutes of the start. A booking without check-in is released and counts as a no-show; "
    "three no-shows in a month pause booking for a week.",
    "Plans and prices": "The Flex plan costs 15 euros per member per month and the Fixed plan "
    "40 euros, which adds a desk of your own. Prices exclude VAT.",
    "Paying your invoice": "Invoices are paid by card or by SEPA direct debit. Add a payment "
    "method under Billing; the card is charged on the first day of each month.",
    "Downloading invoices": "Every invoice is a PDF under Billing > Invoices. Admins can add a "
    "purchase order number and a billing email that receives a copy.",
    "Changing your plan": "Admins change plans under Billing > Plan. An upgrade applies at "
    "once and is prorated; a downgrade applies from the next month.",
    "Inviting colleagues": "Admins invite colleagues from People > Invite by email address. "
    "An invitation link is valid for seven days.",
    "Roles and permissions": "An admin manages billing, people and floors, a manager approves "
    "room bookings for a team, and a member books desks and rooms.",
    "Single sign-on": "Sign in with Okta, Microsoft Entra ID or Google Workspace through SAML "
    "single sign-on, available on the Fixed plan. Users are created on their first sign-in.",
    "Resetting your password": "Choose Forgot password on the sign-in page and follow the "
    "emailed link within an hour to set a new password of at least 12 characters.",
    "Two-step verification": "Turn on two-step verification under Profile > Security with an "
    "authenticator app. Admins can require it for everyone.",
    "Calendar sync": "Connect Google Calendar or Outlook under Profile > Calendars, and your "
    "bookings appear as events that update when a booking changes.",
    "Slack app": "Install the Slack app from Settings > Integrations to get check-in reminders "
    "and book a desk with the /desk command.",
    "Visitor passes": "Register a visitor under Visitors with their name and arrival time. "
    "They receive a QR code by email that opens the front door on that day.",
    "Building access": "Members open the front door and the lifts with the QR code in the app. "
    "The building is open from 7:00 to 21:00 on weekdays.",
    "Lockers": "Lockers on each floor can be reserved by the day from the Desks tab. A locker "
    "opens with the same QR code as the door.",
    "Floor plans": "Admins upload a floor plan as a PNG or SVG under Floors and place desks "
    "and rooms on it by dragging.",
    "Desk equipment": "Every desk has a height-adjustable frame, a 27-inch monitor with a USB-C "
    "cable and a power socket. Desks marked quiet are in a no-call zone.",
    "Wi-Fi": "Connect to the network named Quayside-Members with your account email and "
    "password. Guests use Quayside-Guest with the code printed on their pass.",
    "Printing": "Send documents to the printer on each floor from the print page of the "
    "member portal, then release the job with your QR code at the printer.",
    "Usage reports": "Admins see desk and room occupancy per day and per team under Reports, "
    "and can export them as CSV.",
    "Mobile app": "The iOS and Android app books desks, checks you in and shows your QR code. "
    "Notifications remind you to check in.",
    "Time zones": "Each floor uses the time zone of its building, and booking times are shown "
    "in that zone, not in the time zone of your device.",
    "Deleting your account": "Members ask an admin to remove them. An admin deletes the "
    "company account under Settings > Company, which erases its bookings after 30 days.",
    "Data export": "Admins export bookings, people and invoices as CSV under Settings > Export.",
    "Privacy and GDPR": "Booking data is stored in Frankfurt, Germany. A signed data "
    "processing agreement is available to admins under Settings > Legal.",
    "Help desk hours": "The help desk answers chat messages from 8:00 to 18:00 CET on "
    "weekdays. Messages outside those hours are answered the next working day.",
    "Parking": "The garage under the building has 20 spaces, booked by the day from the "
    "Parking tab on the Fixed plan. Electric chargers are at spaces 1 to 4.",
}

# Each question shares a word or two with one article that does not answer it.
UNCOVERED = [
    "Can I pay with bitcoin?",
    "Does the mobile app work offline?",
    "Is the coffee free?",
    "Is there a gym in the building?",
]
# Uncovered questions whose missing word is about as common in English as the
# word they match ("cash" beside "pay", "phone" beside "number").
UNCOVERED_COMMON_WORDS = [
    "Can I pay in cash?",
    "What is your phone number?",
]
# Short questions that name what one article covers, with that article's title.
COVERED = {
    "Do you support Okta?": "Single sign-on",
    "Do you support Slack?": "Slack app",
    "Do you support Outlook?": "Calendar sync",
    "Can I reserve a locker?": "Lockers",
    "Is there parking?": "Parking",
}


@pytest.fixture
async def small_base(db):
    tenant = await make_tenant(db, "Small knowledge base")
    articles = [ArticleCreate(title=title, content=text) for title, text in ARTICLES.items()]
    await db.write(lambda tx: actions.import_articles(tx, tenant.org_id, articles))
    return tenant


async def ask(engine, tenant, question):
    return await engine.answer(org_id=tenant.org_id, mailbox_id=None, question=question)


@pytest.mark.parametrize("question", UNCOVERED)
async def test_uncovered_question_hands_off(engine, small_base, question):
    answer = await ask(engine, small_base, question)

    assert answer.should_handoff, (question, answer.confidence, answer.sources[:1])


@pytest.mark.xfail(
    strict=True, reason="a missing word as common as the matched one is left to the model"
)
@pytest.mark.parametrize("question", UNCOVERED_COMMON_WORDS)
async def test_uncovered_common_word_question_hands_off(engine, small_base, question):
    answer = await ask(engine, small_base, question)

    assert answer.should_handoff, (question, answer.confidence, answer.sources[:1])


@pytest.mark.parametrize(("question", "title"), COVERED.items())
async def test_covered_short_question_answers(engine, small_base, question, title):
    answer = await ask(engine, small_base, question)

    assert not answer.should_handoff, (question, answer.confidence)
    assert answer.sources[0].title == title
