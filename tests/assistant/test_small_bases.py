"""The small knowledge bases that ``bench/small_bases.py`` cuts from a labelled set."""

import json
import sys
from pathlib import Path

from campfire_server.assistant.evaluation import load_articles, load_questions

sys.path.insert(0, str(Path(__file__).parents[2] / "bench"))
from small_bases import ARTICLES, cut_small_bases, origin  # noqa: E402

SET_NAMES = ("techqa", "wixqa", "mtrag")


def write_set(folder: Path, name: str) -> None:
    """Write a set of 80 articles, 40 answerable questions and 5 unanswerable ones."""
    folder.mkdir(parents=True)
    articles = [
        {"id": f"{name}{n}", "title": f"Article {n}", "text": f"Topic {n} explained."}
        for n in range(80)
    ]
    questions = [
        {
            "id": f"q{n}",
            "question": f"What is topic {n}?",
            "answerable": True,
            "expected_handoff": False,
            "gold_article_ids": [f"{name}{n}"],
        }
        for n in range(40)
    ]
    questions += [
        {
            "id": f"u{n}",
            "question": f"Unrelated question {n}?",
            "answerable": False,
            "expected_handoff": True,
            "gold_article_ids": [],
        }
        for n in range(5)
    ]
    for file_name, rows in (("articles.jsonl", articles), ("questions.jsonl", questions)):
        lines = "".join(json.dumps(row) + "\n" for row in rows)
        (folder / file_name).write_text(lines, encoding="utf-8")


def test_small_bases_relabel_left_out_gold(tmp_path):
    for name in SET_NAMES:
        write_set(tmp_path / "data" / name, name)

    folders = cut_small_bases(tmp_path / "data", tmp_path / "small", per_set=2)

    assert [folder.name for folder in folders] == [
        f"small-{name}-{n}" for name in SET_NAMES for n in range(2)
    ]
    for folder in folders:
        articles = load_articles(folder)
        questions = load_questions(folder)
        answered = [q for q in questions if not q.expected_handoff]
        handed_off = [q for q in questions if q.expected_handoff]
        article_ids = {article.external_id for article in articles}

        assert len(articles) == ARTICLES
        assert answered
        assert all(q.gold and q.gold <= article_ids for q in answered)
        assert all(not q.gold for q in handed_off)
        assert len({q.id for q in questions}) == len(questions)
        # Every original unanswerable question, and as many of the questions
        # whose gold article was left out as were kept, while there are enough.
        left_out = 40 - len(answered)
        assert len(handed_off) == 5 + min(len(answered), left_out)
        assert origin(folder.name) == folder.name.split("-")[1]


def test_small_bases_repeat_with_same_seed(tmp_path):
    for name in SET_NAMES:
        write_set(tmp_path / "data" / name, name)

    first = cut_small_bases(tmp_path / "data", tmp_path / "first", per_set=1)
    second = cut_small_bases(tmp_path / "data", tmp_path / "second", per_set=1)

    for one, other in zip(first, second, strict=True):
        for file_name in ("articles.jsonl", "questions.jsonl"):
            assert (one / file_name).read_text() == (other / file_name).read_text()


def test_origin_strips_small_prefix():
    assert origin("techqa") == "techqa"
    assert origin("small-mtrag-3") == "mtrag"
