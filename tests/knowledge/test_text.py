from campfire_server.knowledge.chunking import MIN_SECTIONS, split_passages
from campfire_server.knowledge.text import (
    html_to_text,
    markdown_to_text,
    specific_terms,
    tokens,
)


def test_tokens_stem_and_drop_stop_words():
    assert tokens("How do I cancel the subscriptions?") == ["cancel", "subscript"]


def test_tokens_stem_inflections_alike():
    assert tokens("connecting")[0] == tokens("connected")[0] == tokens("connects")[0]


def test_tokens_keep_codes_whole_and_split():
    terms = tokens("Upgrade to 8.5.5.2 fails with SQL0805N")
    assert "8.5.5.2" in terms
    assert "8" in terms
    assert "5" in terms
    assert "sql0805n" in terms


def test_specific_terms_find_codes_and_versions():
    found = specific_terms("Error CWWKS1234E after moving to 9.0.1 on port 8080")
    assert "cwwks1234e" in found
    assert "9.0.1" in found
    assert "8080" in found
    assert "error" not in found


def test_html_to_text_drops_tags_and_scripts():
    text = html_to_text("<h1>Title</h1><script>alert(1)</script><p>One &amp; two</p>")
    assert "alert" not in text
    assert "One & two" in text
    assert text.startswith("Title")


def test_markdown_to_text_keeps_link_labels():
    text = markdown_to_text("## Plans\nSee [the pricing page](https://example.test/p) **now**.")
    assert "the pricing page" in text
    assert "https://" not in text
    assert "**" not in text


def test_short_text_is_one_passage():
    passages = split_passages("art_1", "word " * 250)
    assert len(passages) == 1
    assert len(passages[0].text.split()) == 250


def test_long_text_overlaps_windows():
    text = " ".join(f"w{i}" for i in range(1000))
    passages = split_passages("art_1", text, size=200, overlap=50)
    assert len(passages) > 1
    first, second = passages[0].text.split(), passages[1].text.split()
    assert len(first) == 200
    assert first[-50:] == second[:50]
    assert passages[-1].text.split()[-1] == "w999"
    assert [p.ordinal for p in passages] == list(range(len(passages)))


def test_short_tail_merges_into_last_window():
    text = " ".join(f"w{i}" for i in range(420))
    passages = split_passages("art_1", text, size=200, overlap=50)
    assert all(len(p.text.split()) >= 100 for p in passages)


def test_empty_text_still_yields_passage():
    assert len(split_passages("art_1", "")) == 1


def faq_text(sections):
    parts = ["Billing FAQ", "Answers about prices and plans."]
    for index in range(sections):
        parts.append(f"Question number {index}?\nAnswer number {index} is short.")
    return "\n\n".join(parts)


def test_faq_is_cut_at_question_headings():
    passages = split_passages("art_1", faq_text(MIN_SECTIONS))
    assert len(passages) == MIN_SECTIONS + 1
    assert passages[0].text == "Billing FAQ\n\nAnswers about prices and plans."
    assert passages[1].text == "Question number 0?\nAnswer number 0 is short."
    assert [p.ordinal for p in passages] == list(range(len(passages)))


def test_few_question_headings_keep_one_passage():
    passages = split_passages("art_1", faq_text(MIN_SECTIONS - 1))
    assert len(passages) == 1


def test_long_section_is_windowed():
    long_answer = " ".join(f"w{i}" for i in range(600))
    text = faq_text(MIN_SECTIONS) + f"\n\nLast question?\n{long_answer}"
    passages = split_passages("art_1", text, size=200, overlap=50)
    assert len(passages) > MIN_SECTIONS + 2
    assert passages[-1].text.split()[-1] == "w599"
    assert [p.ordinal for p in passages] == list(range(len(passages)))
