from campfire_server.knowledge.index import IndexedArticle, KnowledgeIndex
from campfire_server.knowledge.query import build_query

ARTICLES = [
    IndexedArticle(
        "art_a", "Resetting your password", "Choose Forgot password on the sign-in page.", None
    ),
    IndexedArticle(
        "art_b",
        "Billing FAQ",
        "Invoices are emailed monthly. Refunds take 5 days.",
        "/docs/billing-faq",
    ),
    IndexedArticle(
        "art_c", "Error SQL0805N after upgrade", "Rebind the package after upgrading to 11.5.", None
    ),
    IndexedArticle(
        "art_d", "Calendars", "Connect Google Calendar in settings.", None, ("mailbox_2",)
    ),
    IndexedArticle(
        "art_e", "Password policy", "Passwords need twelve characters and a digit.", None
    ),
]


def ids(hits):
    return [hit.article.id for hit in hits]


def test_search_ranks_matching_article_first():
    index = KnowledgeIndex(ARTICLES)
    assert ids(index.search(build_query("how can I reset my password?")))[0] == "art_a"


def test_search_matches_stemmed_forms():
    index = KnowledgeIndex(ARTICLES)
    assert ids(index.search(build_query("my refund")))[0] == "art_b"


def test_search_matches_error_codes():
    index = KnowledgeIndex(ARTICLES)
    assert ids(index.search(build_query("getting sql0805n")))[0] == "art_c"


def test_search_weights_titles():
    articles = [
        IndexedArticle("art_1", "Exporting data", "You can download a CSV file of bookings.", None),
        IndexedArticle(
            "art_2", "Bookings", "Exporting is possible for admins of the workspace.", None
        ),
    ]
    index = KnowledgeIndex(articles)
    assert ids(index.search(build_query("exporting")))[0] == "art_1"


def test_search_hides_other_mailboxes_articles():
    index = KnowledgeIndex(ARTICLES)
    query = build_query("connect google calendar")
    assert "art_d" in ids(index.search(query, mailbox_id="mailbox_2"))
    assert "art_d" not in ids(index.search(query, mailbox_id="mailbox_1"))
    assert "art_d" in ids(index.search(query))


def test_search_returns_nothing_without_shared_terms():
    index = KnowledgeIndex(ARTICLES)
    assert index.search(build_query("warehouse forklift")) == []


def test_follow_up_uses_previous_customer_turn():
    index = KnowledgeIndex(ARTICLES)
    history = [("customer", "I have a question about invoices"), ("ai", "Sure, go ahead.")]
    hits = index.search(build_query("and how long does that take?", history))
    assert ids(hits)[0] == "art_b"


def test_ties_ordered_by_id_without_external_ids():
    twins = [
        IndexedArticle("art_2", "Same", "identical text", None),
        IndexedArticle("art_1", "Same", "identical text", None),
    ]
    index = KnowledgeIndex(twins)
    assert ids(index.search(build_query("identical"))) == ["art_1", "art_2"]


def test_ties_ordered_by_external_id_not_input_order():
    twins = [
        IndexedArticle("art_1", "Same", "identical text", None, external_id="kb/b"),
        IndexedArticle("art_2", "Same", "identical text", None, external_id="kb/a"),
    ]
    for articles in (twins, twins[::-1]):
        index = KnowledgeIndex(articles)
        assert ids(index.search(build_query("identical"))) == ["art_2", "art_1"]


def test_ties_ordered_by_url_then_title():
    twins = [
        IndexedArticle("art_1", "Same B", "identical text", "/help/b"),
        IndexedArticle("art_2", "Same A", "identical text", "/help/b"),
        IndexedArticle("art_3", "Same C", "identical text", "/help/a"),
    ]
    index = KnowledgeIndex(twins)
    assert ids(index.search(build_query("identical text"))) == ["art_3", "art_2", "art_1"]


RELEVANCE_ARTICLES = [
    IndexedArticle("art_1", "Refunds", "How a refund reaches your card.", None),
    IndexedArticle("art_2", "Refunds and invoices", "Where invoices are kept.", None),
    IndexedArticle("art_3", "Payments", "A refund is possible within 14 days.", None),
    IndexedArticle(
        "art_4", "Cancelling", "A refund follows. The refund is sent once the refund is due.", None
    ),
    IndexedArticle("art_5", "Calendars", "Connect a calendar in settings.", None),
]


def test_relevance_separates_title_from_body_match():
    index = KnowledgeIndex(RELEVANCE_ARTICLES)
    scored = {
        hit.article.id: relevance
        for hit, relevance in index.search_by_relevance(build_query("refunds"))
    }

    # The title is exactly the query.
    assert scored["art_1"] == 1.0
    # "invoic" weighs about as much as "refund" in the title, so half the focus credit.
    assert 0.9 < scored["art_2"] < 1.0
    # Three occurrences in the text only: 0.9 - 0.2 / 3.
    assert scored["art_4"] == 0.833
    # One occurrence in the text only.
    assert scored["art_3"] == 0.7
    assert "art_5" not in scored


def test_search_by_relevance_orders_descending():
    index = KnowledgeIndex(RELEVANCE_ARTICLES)
    scored = index.search_by_relevance(build_query("refunds"))

    assert ids(hit for hit, _ in scored) == ["art_1", "art_2", "art_4", "art_3"]
    assert [hit.rank for hit, _ in scored] == [1, 2, 3, 4]
    relevances = [relevance for _, relevance in scored]
    assert relevances == sorted(relevances, reverse=True)
    assert len(set(relevances)) == len(relevances)


def test_search_by_relevance_same_order_whatever_limit():
    index = KnowledgeIndex(RELEVANCE_ARTICLES)
    query = build_query("refunds")
    full = ids(hit for hit, _ in index.search_by_relevance(query, limit=10))

    for limit in range(1, 5):
        assert ids(hit for hit, _ in index.search_by_relevance(query, limit=limit)) == full[:limit]


def test_relevance_of_partial_match_is_share_of_terms():
    index = KnowledgeIndex(RELEVANCE_ARTICLES)
    query = build_query("refunds warehouse")
    scored = dict(
        (hit.article.id, relevance) for hit, relevance in index.search_by_relevance(query)
    )

    # "warehouse" is in no article, so it weighs as the rarest term and earns nothing.
    assert 0 < scored["art_1"] < 0.5
