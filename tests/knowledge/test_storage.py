import json
from pathlib import Path

import pytest
from pydantic import ValidationError

from campfire_server.errors import Conflict, NotFound, ValidationFailed
from campfire_server.knowledge import actions, importer, service
from campfire_server.knowledge.query import build_query
from campfire_server.knowledge.registry import IndexRegistry
from campfire_server.knowledge.schemas import ArticleCreate, ArticleUpdate
from tests.conftest import make_tenant


@pytest.fixture
async def org(db):
    return (await make_tenant(db, "Knowledge org")).org_id


async def test_create_update_delete_article(db, org):
    created = await db.write(
        lambda tx: actions.create_article(
            tx, org, ArticleCreate(title="Plans", content="Three plans.", tags=["billing"])
        )
    )
    assert created["id"].startswith("art_")

    updated = await db.write(
        lambda tx: actions.update_article(tx, org, created["id"], ArticleUpdate(title="Our plans"))
    )
    assert updated["title"] == "Our plans"
    assert updated["content"] == "Three plans."
    assert json.loads(updated["tags"]) == ["billing"]

    await db.write(lambda tx: actions.delete_article(tx, org, created["id"]))
    with pytest.raises(NotFound):
        await db.read(lambda tx: service.get_article(tx, org, created["id"]))


async def test_duplicate_external_id_conflicts(db, org):
    item = ArticleCreate(title="A", content="a", external_id="ext-1")
    await db.write(lambda tx: actions.create_article(tx, org, item))
    with pytest.raises(Conflict):
        await db.write(lambda tx: actions.create_article(tx, org, item))


async def test_import_is_idempotent(db, org):
    items = [
        ArticleCreate(title="One", content="first", external_id="x/1"),
        ArticleCreate(title="Two", content="second", url="https://help.example.test/two"),
        ArticleCreate(title="Three", content="third"),
    ]
    first = await db.write(lambda tx: actions.import_articles(tx, org, items))
    assert (first.created, first.updated, first.unchanged) == (3, 0, 0)

    again = await db.write(lambda tx: actions.import_articles(tx, org, items))
    assert (again.created, again.updated, again.unchanged) == (0, 0, 3)
    assert again.article_ids == first.article_ids

    changed = [ArticleCreate(title="Two", content="new text", url="https://help.example.test/two")]
    third = await db.write(lambda tx: actions.import_articles(tx, org, changed))
    assert (third.created, third.updated) == (0, 1)
    rows, meta = await db.read(lambda tx: service.list_articles(tx, org))
    assert meta["total"] == 3
    assert len(rows) == 3


async def test_version_grows_with_each_write(db, org):
    before = await db.read(lambda tx: service.index_version(tx, org))
    await db.write(
        lambda tx: actions.create_article(tx, org, ArticleCreate(title="V", content="v"))
    )
    after = await db.read(lambda tx: service.index_version(tx, org))
    assert after == before + 1


async def test_registry_sees_new_articles(db, org):
    registry = IndexRegistry(db, semantic=False)
    try:
        index = await registry.get(org)
        assert index.search(build_query("kayak rental")) == []

        await db.write(
            lambda tx: actions.create_article(
                tx, org, ArticleCreate(title="Kayak rental", content="Kayaks cost $20 an hour.")
            )
        )
        index = await registry.get(org)
        hits = index.search(build_query("kayak rental"))
        assert [hit.article.title for hit in hits] == ["Kayak rental"]
    finally:
        registry.close()


async def test_other_process_write_is_noticed(db, org):
    """A registry whose invalidation hook never ran still rebuilds from the version row."""
    registry = IndexRegistry(db, semantic=False)
    registry.close()  # detach the hook, as if the write came from another process
    await registry.get(org)
    await db.write(
        lambda tx: actions.create_article(
            tx, org, ArticleCreate(title="Canoe storage", content="Canoes stay in shed B.")
        )
    )
    index = await registry.get(org)
    assert [hit.article.title for hit in index.search(build_query("canoe"))] == ["Canoe storage"]


def test_read_folder_with_front_matter(tmp_path: Path):
    (tmp_path / "faq.md").write_text(
        "---\ntitle: Billing FAQ\nurl: /docs/billing-faq\n"
        "tags: [billing, plans]\n---\n\nBody text.\n"
    )
    (tmp_path / "page.html").write_text("<html><title>Setup</title><p>Install it.</p></html>")
    (tmp_path / "notes.txt").write_text("Opening hours\nWe open at nine.")
    (tmp_path / "ignored.csv").write_text("a,b")
    items = {item.title: item for item in importer.read_source(tmp_path)}
    assert set(items) == {"Billing FAQ", "Setup", "Opening hours"}
    assert items["Billing FAQ"].url == "/docs/billing-faq"
    assert items["Billing FAQ"].tags == ["billing", "plans"]
    assert items["Billing FAQ"].external_id == "file:faq.md"
    assert "Install it." in items["Setup"].content


def test_read_json_lines(tmp_path: Path):
    path = tmp_path / "kb.jsonl"
    path.write_text(
        json.dumps({"id": 7, "title": "T", "text": "body", "url": "https://x.test/t"}) + "\n\n"
    )
    [item] = importer.read_source(path)
    assert item.external_id == "7"
    assert item.content == "body"


def test_rejects_javascript_url_in_import(tmp_path: Path):
    path = tmp_path / "kb.jsonl"
    path.write_text(json.dumps({"title": "T", "content": "c", "url": "javascript:alert(1)"}))
    with pytest.raises(Exception, match="url"):
        importer.read_source(path)


def test_demo_knowledge_base_reads():
    folder = Path(__file__).parents[2] / "src/campfire_server/demo/knowledge"
    items = importer.read_source(folder)
    assert len(items) >= 20
    # No demo article has a url of its own, so each source links to the
    # article's help-centre page on the server, /kb/{articleId}.
    assert [item.title for item in items if item.url is not None] == []


@pytest.mark.parametrize(
    ("content", "title"),
    [
        ("\n\n  Time series library \n\nA time series is data.", "Time series library"),
        ("Exports run nightly. They take an hour.", "Exports run nightly."),
        ("word " * 200, ("word " * 100).strip()),
        ("x" * 600, "x" * importer.TITLE_MAX_LENGTH),
        ("Mr. Smith can help with refunds. Ask him.", "Mr. Smith can help with refunds."),
        ("See e.g. the setup guide. Then log in.", "See e.g. the setup guide."),
        ("J. R. Tolkien wrote it. Read it.", "J. R. Tolkien wrote it."),
        ("Hi. Welcome to the help centre.", "Hi. Welcome to the help centre."),
    ],
)
def test_title_derived_from_content(content, title):
    assert importer.title_from_content(content) == title
    assert len(importer.title_from_content(content)) <= importer.TITLE_MAX_LENGTH


def test_strict_read_rejects_row_without_content(tmp_path: Path):
    path = tmp_path / "kb.jsonl"
    path.write_text(json.dumps({"title": "T", "text": ""}) + "\n")
    with pytest.raises(Exception, match="line 1"):
        importer.read_source(path)


def test_read_json_lines_with_byte_order_mark(tmp_path: Path):
    path = tmp_path / "kb.jsonl"
    rows = [{"title": "First", "content": "One."}, {"title": "Second", "content": "Two."}]
    text = "".join(json.dumps(row) + "\n" for row in rows)
    path.write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))

    rows = importer.read_source_rows(path)

    assert rows.skipped == []
    assert [article.title for article in rows.articles] == ["First", "Second"]


def test_read_folder_with_byte_order_mark(tmp_path: Path):
    (tmp_path / "faq.md").write_bytes(b"\xef\xbb\xbf---\ntitle: Billing FAQ\n---\n\nBody.\n")
    (tmp_path / "page.html").write_bytes(b"\xef\xbb\xbf<title>Setup</title><p>Go.</p>")
    (tmp_path / "notes.txt").write_bytes(b"\xef\xbb\xbfOpening hours\nNine.")

    titles = sorted(item.title for item in importer.read_source(tmp_path))

    assert titles == ["Billing FAQ", "Opening hours", "Setup"]


def test_read_json_lines_reports_missing_content(tmp_path: Path):
    path = tmp_path / "kb.jsonl"
    path.write_text(json.dumps({"title": "No content"}) + "\n")

    rows = importer.read_source_rows(path)

    assert rows.articles == []
    assert [row.line for row in rows.skipped] == [1]
    assert rows.skipped[0].reason.startswith("content is missing")


def test_read_json_lines_skips_duplicate_rows(tmp_path: Path):
    path = tmp_path / "kb.jsonl"
    rows = [
        {"content": "Same first sentence. A"},
        {"content": "Same first sentence. B"},
        {"content": "Same first sentence. B"},
        {"title": "Refunds", "content": "Refunds take five days."},
        {"title": "Refunds", "content": "Refunds take a week."},
        {"id": "a1", "title": "One", "content": "One."},
        {"id": "a1", "title": "Two", "content": "Two."},
        {"title": "Page", "content": "Page.", "url": "https://help.example.com/p"},
        {"title": "Other", "content": "Other.", "url": "https://help.example.com/p"},
    ]
    path.write_text("{not json\n" + "".join(json.dumps(row) + "\n" for row in rows))

    result = importer.read_source_rows(path)

    titles = [article.title for article in result.articles]
    assert titles == [
        "Same first sentence.",
        "Same first sentence. B",
        "Refunds",
        "One",
        "Page",
    ]
    assert result.labels == ["line 2", "line 3", "line 5", "line 7", "line 9"]
    assert [row.line for row in result.skipped] == [1, 4, 6, 8, 10]
    assert "the title 'Same first sentence. B' of line 3" in result.skipped[1].reason
    assert "the title 'Refunds' of line 5" in result.skipped[2].reason
    assert "the externalId 'a1' of line 7" in result.skipped[3].reason
    assert "of line 9" in result.skipped[4].reason


@pytest.mark.parametrize(
    ("row", "expected"),
    [
        ({"content": ""}, "content is empty"),
        ({"text": "   "}, "content is empty"),
        ({"content": "\u200b"}, "content has no visible character"),
        ({"content": 5}, "content must be a string"),
    ],
)
def test_read_json_lines_reports_bad_content(tmp_path: Path, row, expected):
    path = tmp_path / "kb.jsonl"
    path.write_text(json.dumps(row) + "\n")

    rows = importer.read_source_rows(path)

    assert rows.articles == []
    assert [skipped.line for skipped in rows.skipped] == [1]
    assert rows.skipped[0].reason.startswith(expected), rows.skipped[0].reason


def test_read_json_lines_title_matches_keyless_rows(tmp_path: Path):
    # A row without externalId and url matches by title only an article
    # without both, as import_articles matches stored articles.
    path = tmp_path / "kb.jsonl"
    rows = [
        {"title": "T3", "content": "Shipping is free.", "url": "https://e.example/s"},
        {"title": "T3", "content": "other"},
        {"title": "T3", "content": "again"},
    ]
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))

    result = importer.read_source_rows(path)

    assert [article.content for article in result.articles] == ["Shipping is free.", "other"]
    assert [skipped.line for skipped in result.skipped] == [3]
    assert "the title 'T3' of line 2" in result.skipped[0].reason


def test_read_json_lines_duplicate_hints(tmp_path: Path):
    path = tmp_path / "kb.jsonl"
    rows = [
        {"id": "a1", "content": "One two."},
        {"id": "a1", "content": "Three four."},
        {"url": "https://e.example/p", "content": "Five six."},
        {"url": "https://e.example/p", "content": "Seven eight."},
        {"title": "Same", "content": "Nine ten."},
        {"title": "Same", "content": "Eleven twelve."},
    ]
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))

    reasons = [skipped.reason for skipped in importer.read_source_rows(path).skipped]

    assert len(reasons) == 3
    assert reasons[0].endswith("give each row its own externalId")
    assert reasons[1].endswith("give each row its own url, or an externalId")
    assert reasons[2].endswith("give each row its own title, or an externalId or url")


def test_read_json_lines_reports_null_content(tmp_path: Path):
    path = tmp_path / "kb.jsonl"
    path.write_text(json.dumps({"title": "T", "content": None}) + "\n")

    rows = importer.read_source_rows(path)

    assert rows.articles == []
    assert [skipped.line for skipped in rows.skipped] == [1]
    assert rows.skipped[0].reason.startswith("content must be a string (null given)")


@pytest.mark.parametrize(
    ("name", "data", "expected"),
    [
        ("empty.md", b"", "content is empty"),
        ("bom.txt", b"\xef\xbb\xbf", "content is empty"),
        ("blank.html", b"<html><body> </body></html>", "content is empty"),
        ("front.md", b"---\ntitle: Only a title\n---\n\n", "content is empty"),
        ("sub/latin1.md", "# Caf\xe9\n\nOpen daily.\n".encode("latin-1"), "not UTF-8 text: "),
    ],
)
def test_read_folder_skips_bad_file(tmp_path: Path, name, data, expected):
    (tmp_path / "good.md").write_text("# Refunds\n\nRefunds take five days.\n")
    (tmp_path / "sub").mkdir()
    (tmp_path / name).write_bytes(data)

    rows = importer.read_source_rows(tmp_path)

    assert [article.title for article in rows.articles] == ["Refunds"]
    assert rows.labels == ["good.md"]
    assert [skipped.file for skipped in rows.skipped] == [name]
    assert [skipped.line for skipped in rows.skipped] == [None]
    assert rows.skipped[0].reason.startswith(expected), rows.skipped[0].reason


def test_read_folder_names_non_utf8_byte(tmp_path: Path):
    (tmp_path / "latin1.txt").write_bytes("Caf\xe9".encode("latin-1"))

    [skipped] = importer.read_source_rows(tmp_path).skipped

    assert "byte 0xe9 at byte offset 3" in skipped.reason
    assert "save the file with UTF-8 encoding" in skipped.reason


def test_strict_read_names_bad_file(tmp_path: Path):
    (tmp_path / "empty.md").write_text("")

    with pytest.raises(Exception, match="empty.md: content is empty"):
        importer.read_source(tmp_path)


def test_read_folder_skips_symbolic_links(tmp_path: Path):
    outside = tmp_path / "outside"
    (outside / "deep").mkdir(parents=True)
    (outside / "passwd.txt").write_text("root:x:0:0\n")
    (outside / "deep" / "notes.md").write_text("# Notes\n\nPrivate.\n")
    folder = tmp_path / "kb"
    (folder / "sub").mkdir(parents=True)
    (folder / "faq.md").write_text("# FAQ\n\nAnswers.\n")
    (folder / "sub" / "guide.txt").write_text("Guide\nSteps.\n")
    (folder / "link.txt").symlink_to(outside / "passwd.txt")
    (folder / "sub" / "inner.md").symlink_to(folder / "faq.md")
    (folder / "sub" / "linked").symlink_to(outside, target_is_directory=True)
    (folder / "image.png").symlink_to(outside / "passwd.txt")

    rows = importer.read_source_rows(folder)

    assert sorted(rows.labels) == ["faq.md", "sub/guide.txt"]
    assert [row.file for row in rows.skipped] == ["link.txt", "sub/inner.md", "sub/linked"]
    for row in rows.skipped:
        assert "symbolic link" in row.reason
    assert all("root:x" not in article.content for article in rows.articles)
    with pytest.raises(ValidationFailed, match="link.txt"):
        importer.read_source(folder)


def test_read_single_linked_file(tmp_path: Path):
    target = tmp_path / "real.md"
    target.write_text("# Real\n\nBody.\n")
    link = tmp_path / "link.md"
    link.symlink_to(target)

    [article] = importer.read_source(link)

    assert article.title == "Real"
    assert article.external_id == "file:link.md"


@pytest.mark.parametrize(
    ("row", "expected"),
    [
        ({"title": "T", "contnet": "c"}, "field 'contnet' (did you mean content?) is not"),
        (
            {"title": "T", "content": "c", "externalID": "kb-1"},
            "'externalID' (did you mean externalId?)",
        ),
        (
            {"content": "c", "Title": "T", "urls": "https://x.test"},
            "fields 'Title' (did you mean title?), 'urls' (did you mean url?) are not",
        ),
    ],
)
def test_read_json_lines_rejects_unknown_fields(tmp_path: Path, row, expected):
    path = tmp_path / "kb.jsonl"
    valid = {"title": "Kept", "content": "Kept row.", "id": 1}
    path.write_text(json.dumps(valid) + "\n" + json.dumps(row) + "\n")

    rows = importer.read_source_rows(path)

    assert [article.title for article in rows.articles] == ["Kept"]
    [skipped] = rows.skipped
    assert skipped.line == 2
    assert expected in skipped.reason
    assert "remove or rename" in skipped.reason
    assert rows.ignored_fields == {}


def test_read_json_lines_ignores_extra_fields(tmp_path: Path):
    path = tmp_path / "kb.jsonl"
    rows = [
        {"id": "d1-0", "doc_id": "d1", "domain": "cloud", "title": None, "text": "Time series."},
        {"id": "d2-0", "doc_id": "d2", "domain": "cloud", "title": "Exports", "text": "Nightly."},
        {"id": "d3-0", "title": "Links", "url": "https://x.test/a", "urls": [], "text": "Kept."},
    ]
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))

    result = importer.read_source_rows(path)

    assert result.skipped == []
    assert [article.external_id for article in result.articles] == ["d1-0", "d2-0", "d3-0"]
    assert result.articles[1].content == "Nightly."
    assert result.ignored_fields == {"doc_id": 2, "domain": 2, "urls": 1}


@pytest.mark.parametrize(
    ("row", "expected"),
    [
        ({"title": "Nul", "content": "h\u0000x"}, "content contains a character that cannot"),
        ({"title": "Nul", "text": "h\u0000x"}, "text contains a character that cannot"),
        ({"title": "N\u0000", "content": "fine"}, "title contains a character that cannot"),
        ({"title": "Tag", "content": "x", "tags": ["a\u0000"]}, "tags[0] contains"),
        ({"title": "Id", "content": "x", "externalId": "k\u0000"}, "externalId contains"),
        ({"title": "Half", "content": "a\ud800b"}, "content contains a character that cannot"),
        ({"title": "Long", "content": "x", "externalId": "k" * 256}, "externalId has 256 char"),
        ({"title": "Long", "content": "x", "external_id": "k" * 256}, "external_id has 256"),
        ({"title": "Blank", "content": "x", "id": " "}, "id has no visible character"),
        ({"title": "Box", "content": "x", "mailboxIds": ["a b"]}, 'mailboxIds[0] "a b"'),
        ({"title": "Box", "content": "x", "mailbox_ids": ["a b"]}, 'mailbox_ids[0] "a b"'),
    ],
)
def test_read_json_lines_rejects_what_api_rejects(tmp_path: Path, row, expected):
    path = tmp_path / "kb.jsonl"
    good = {"title": "ok", "content": "fine"}
    # ensure_ascii keeps a lone surrogate as a \u escape, as a client would send it.
    path.write_text(json.dumps(row) + "\n" + json.dumps(good) + "\n")

    rows = importer.read_source_rows(path)

    assert [article.title for article in rows.articles] == ["ok"]
    assert [skipped.line for skipped in rows.skipped] == [1]
    assert rows.skipped[0].reason.startswith(expected), rows.skipped[0].reason


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"hello \x00 world\n", "content contains a character that cannot be stored"),
        (b"---\ntitle: T\x00\n---\nbody\n", "title contains a character that cannot be stored"),
        (b"---\nexternalId: " + b"k" * 256 + b"\n---\nbody\n", "externalId has 256 characters"),
        (b"---\nmailbox_ids: [a b]\n---\nbody\n", 'mailboxIds[0] "a b" is invalid'),
    ],
)
def test_read_folder_rejects_what_api_rejects(tmp_path: Path, data, expected):
    (tmp_path / "good.md").write_text("# Refunds\n\nRefunds take five days.\n")
    (tmp_path / "bad.md").write_bytes(data)

    rows = importer.read_source_rows(tmp_path)

    assert rows.labels == ["good.md"]
    assert [skipped.file for skipped in rows.skipped] == ["bad.md"]
    assert rows.skipped[0].reason.startswith(expected), rows.skipped[0].reason


def test_describe_lone_surrogate_names_field_and_fix() -> None:
    # The importer checks text before validation, but any row that reaches
    # ArticleCreate with a lone surrogate must still get a reason of its own.
    with pytest.raises(ValidationError) as caught:
        ArticleCreate.model_validate({"title": "Half", "content": "a\ud800b"})

    reason = importer._describe(caught.value, names={"content": "text"})

    assert reason == (
        "text contains a character that cannot be stored; remove it and send "
        "valid Unicode text without unpaired surrogates"
    )
    assert "Input should" not in reason
