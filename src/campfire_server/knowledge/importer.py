"""Read articles for import from a folder of Markdown, HTML or text files, or a JSON Lines file.

Markdown files may start with front matter between two ``---`` lines, one
``key: value`` per line: ``title``, ``url``, ``tags`` (``[a, b]`` or
``a, b``), ``mailboxIds`` and ``externalId``. Without a title the first
heading or line is used. A file's externalId defaults to ``file:`` plus its
path inside the folder, so importing the same folder again updates in place.

A JSON Lines file holds one object per line with ``content`` (or ``text``),
and optionally ``title``, ``url``, ``tags``, ``mailboxIds`` and
``externalId`` (or ``id``). Any other field is ignored and listed once in
``SourceRows.ignored_fields``, so an export with extra keys (``domain``,
``doc_id``) imports. A row is skipped when one of its other fields looks
like a misspelling of a known field that the row lacks (``contnet``,
``externalID``), so that a misspelt ``externalID`` does not fall back to
matching by title. A row without a title gets one from its content:
the first sentence of its first line, or the whole line when that
sentence is a single word, cut to ``TITLE_MAX_LENGTH``. A period after an
abbreviation such as ``Mr.`` or an initial ends no sentence. Files may
start with a UTF-8 byte order mark.
``read_source_rows`` skips a row that stays invalid, such as one without
content or with an unsafe url, and reports it by line number. It skips a
folder's file that is empty, is not UTF-8 or is otherwise no valid article,
and reports it by its path inside the folder. It never follows a symbolic
link inside the folder, so a link cannot publish a file from outside the
folder as an article. Each linked folder, and each link whose name has a
supported suffix, is skipped and reported.
``read_source`` raises on the first skipped row or file instead.
"""

from __future__ import annotations

import difflib
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from .. import pydantic_errors
from ..errors import ValidationFailed
from ..sentences import first_sentence
from ..validation import find_bad_text
from .schemas import ArticleCreate
from .text import html_to_text

MARKDOWN_SUFFIXES = {".md", ".markdown"}
HTML_SUFFIXES = {".html", ".htm"}
TEXT_SUFFIXES = {".txt"}
SUPPORTED_SUFFIXES = MARKDOWN_SUFFIXES | HTML_SUFFIXES | TEXT_SUFFIXES

# The fields a JSON Lines row may have, with the alternative spellings that
# ``json_row_fields`` maps onto article fields.
JSON_LINE_FIELDS = (
    "content",
    "text",
    "title",
    "url",
    "tags",
    "mailboxIds",
    "mailbox_ids",
    "externalId",
    "external_id",
    "id",
)

# The maximum title length, as ArticleCreate enforces.
TITLE_MAX_LENGTH = 500
# A first sentence with fewer words than this is too short to name an article.
TITLE_MIN_WORDS = 2

_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+(.+?)\s*#*\s*$", re.MULTILINE)
_HTML_TITLE = re.compile(r"<title[^>]*>(.*?)</title>", re.IGNORECASE | re.DOTALL)
_HTML_H1 = re.compile(r"<h1[^>]*>(.*?)</h1>", re.IGNORECASE | re.DOTALL)
_FRONT_KEYS = {
    "title": "title",
    "url": "url",
    "tags": "tags",
    "mailboxids": "mailboxIds",
    "mailbox_ids": "mailboxIds",
    "externalid": "externalId",
    "external_id": "externalId",
}


@dataclass(frozen=True, slots=True)
class SkippedRow:
    """A JSON Lines row or a document file that was not imported, with the reason.

    A row has ``line`` set and ``file`` unset. A file has ``file``, its path
    inside the imported folder (or its name when imported alone), and no ``line``.
    """

    line: int | None
    reason: str
    file: str | None = None

    @property
    def label(self) -> str:
        """The row or file as messages name it: ``line 4`` or ``file 'faq/billing.md'``."""
        if self.file is not None:
            return f"file {self.file!r}"
        return f"line {self.line}"


class InvalidDocument(ValueError):
    """A document file that cannot become an article, with the reason in ``reason``."""

    def __init__(self, reason: str, field: str) -> None:
        super().__init__(reason)
        self.reason = reason
        self.field = field


@dataclass(frozen=True, slots=True)
class SourceRows:
    """Articles read for import, each with a label for messages, and the skipped rows.

    A label is ``line N`` for a JSON Lines row and the file name for a document.
    """

    articles: list[ArticleCreate]
    labels: list[str]
    skipped: list[SkippedRow]
    # Each ignored JSON Lines field, in order of first use, with the number of rows that have it.
    ignored_fields: dict[str, int] = field(default_factory=dict)
    # The JSON Lines line number of each article; empty for documents.
    lines: list[int] = field(default_factory=list)

    def skip(self, index: int, reason: str) -> SkippedRow:
        """Return a skipped row for ``articles[index]``, named by its line or file."""
        if self.lines:
            return SkippedRow(self.lines[index], reason)
        return SkippedRow(None, reason, file=self.labels[index])


def read_source(path: Path) -> list[ArticleCreate]:
    """Read every article under ``path``: a folder, a JSON Lines file or a single document.

    Raises ``ValidationFailed`` on the first invalid article, row or file.
    """
    rows = read_source_rows(path)
    if rows.skipped:
        first = rows.skipped[0]
        if first.file is not None:
            raise ValidationFailed(
                f"invalid article in {first.file}: {first.reason}",
                field="file",
                value=first.file,
            )
        raise ValidationFailed(
            f"invalid article in {path.name} line {first.line}: {first.reason}",
            field="line",
            value=first.line,
        )
    return rows.articles


def read_source_rows(path: Path) -> SourceRows:
    """Read every article under ``path``, skipping invalid JSON Lines rows and document files.

    Returns the articles and the skipped rows or files. Raises
    ``ValidationFailed`` when ``path`` is missing or of an unsupported type,
    and when a JSON Lines line is not UTF-8.
    """
    check_source(path)
    if path.is_dir():
        files, links = _folder_files(path)
        rows = _read_documents([(file, file.relative_to(path).as_posix()) for file in files])
        rows.skipped.extend(links)
        rows.skipped.sort(key=lambda row: row.file or "")
        return rows
    if path.suffix.lower() in (".jsonl", ".ndjson"):
        return read_json_lines(path)
    # A file named on its own is read even through a symbolic link, which
    # the caller chose; only links inside a folder are skipped.
    return _read_documents([(path.resolve(), path.name)])


def check_source(path: Path) -> None:
    """Raise ``ValidationFailed`` unless ``path`` is a folder or a file of a supported type."""
    if not path.exists():
        base = "" if path.is_absolute() else f" (read from {str(Path.cwd())!r})"
        raise ValidationFailed(
            f"cannot import {str(path)!r}{base}: no such file or folder; check the path",
            field="path",
            value=str(path),
        )
    if path.is_dir() or path.suffix.lower() in (".jsonl", ".ndjson", *SUPPORTED_SUFFIXES):
        return
    raise ValidationFailed(
        f"cannot import {str(path)!r}: expected a folder, a .jsonl file or a "
        ".md, .html or .txt file",
        field="path",
        value=str(path),
    )


def _read_documents(files: list[tuple[Path, str]]) -> SourceRows:
    """Read each ``(path, relative name)`` as an article, skipping and reporting invalid files."""
    articles: list[ArticleCreate] = []
    labels: list[str] = []
    skipped: list[SkippedRow] = []
    for path, name in files:
        try:
            article = parse_document(path, name)
        except InvalidDocument as error:
            skipped.append(SkippedRow(None, error.reason, file=name))
            continue
        articles.append(article)
        labels.append(name)
    return SourceRows(articles, labels, skipped)


def _read_text(path: Path) -> str:
    """Read ``path`` as UTF-8, raising ``InvalidDocument`` that names the byte.

    O_NOFOLLOW makes the open fail on a file that became a symbolic link
    after the folder was listed.
    """
    try:
        descriptor = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    except OSError as error:
        raise InvalidDocument(
            f"cannot be read: {error.strerror}; check the file and import it again",
            field="path",
        ) from None
    try:
        # utf-8-sig drops a leading byte order mark, which editors on Windows write.
        with open(descriptor, encoding="utf-8-sig") as handle:
            return handle.read()
    except UnicodeDecodeError as error:
        byte = error.object[error.start]
        raise InvalidDocument(
            f"not UTF-8 text: byte 0x{byte:02x} at byte offset {error.start}; "
            "save the file with UTF-8 encoding and import it again",
            field="path",
        ) from None


def _not_utf8(path: Path, error: UnicodeDecodeError, line: int) -> ValidationFailed:
    byte = error.object[error.start]
    return ValidationFailed(
        f"cannot import {str(path)!r}: it is not UTF-8 text (byte 0x{byte:02x} at line {line}); "
        "save the file with UTF-8 encoding and import it again",
        field="path",
        value=str(path),
    )


def read_folder(folder: Path) -> list[ArticleCreate]:
    files, _ = _folder_files(folder)
    return [read_document(p, p.relative_to(folder).as_posix()) for p in files]


_LINK_REASON = (
    "it is a symbolic link, and links are not followed so that no file from outside "
    "the folder is published; copy the {kind} into the folder to import it"
)


def _folder_files(folder: Path) -> tuple[list[Path], list[SkippedRow]]:
    """List the regular document files under ``folder`` without following symbolic links.

    Returns the files in path order and a skipped row for each symbolic link
    to a document or folder, and for each file that resolves outside ``folder``.
    """
    root = folder.resolve()
    files: list[Path] = []
    skipped: list[SkippedRow] = []
    for directory, folder_names, file_names in os.walk(folder, followlinks=False):
        base = Path(directory)
        for name in folder_names:
            linked = base / name
            if linked.is_symlink():
                relative = linked.relative_to(folder).as_posix()
                skipped.append(SkippedRow(None, _LINK_REASON.format(kind="folder"), relative))
        for name in file_names:
            path = base / name
            if path.suffix.lower() not in SUPPORTED_SUFFIXES:
                continue
            relative = path.relative_to(folder).as_posix()
            if path.is_symlink():
                skipped.append(SkippedRow(None, _LINK_REASON.format(kind="file"), relative))
            elif not path.resolve().is_relative_to(root):
                skipped.append(
                    SkippedRow(
                        None,
                        "it resolves to a path outside the folder; copy the file into the "
                        "folder to import it",
                        relative,
                    )
                )
            elif path.is_file():
                files.append(path)
    return sorted(files), skipped


def read_document(path: Path, relative_name: str) -> ArticleCreate:
    """Read one document file as an article, raising ``ValidationFailed`` when it is invalid."""
    try:
        return parse_document(path, relative_name)
    except InvalidDocument as error:
        raise ValidationFailed(
            f"invalid article in {relative_name}: {error.reason}",
            field=error.field,
            value=relative_name,
        ) from None


def parse_document(path: Path, relative_name: str) -> ArticleCreate:
    """Read one Markdown, HTML or text file as an article.

    Raises ``InvalidDocument`` for a file that is not UTF-8, has no text
    after its front matter or markup, or fails ``ArticleCreate`` validation.
    """
    raw = _read_text(path)
    suffix = path.suffix.lower()
    fields: dict[str, Any] = {}
    if suffix in MARKDOWN_SUFFIXES:
        fields, body = split_front_matter(raw)
        if "title" not in fields:
            heading = _HEADING.search(body)
            if heading:
                fields["title"] = heading.group(1)
    elif suffix in HTML_SUFFIXES:
        title = _HTML_TITLE.search(raw) or _HTML_H1.search(raw)
        if title:
            fields["title"] = html_to_text(title.group(1))
        body = html_to_text(raw)
    else:
        body = raw.strip()
    if not body.strip():
        raise InvalidDocument(
            "content is empty; give the file the article's text or remove it", field="content"
        )
    if "title" not in fields:
        first_line = next((line.strip() for line in body.splitlines() if line.strip()), "")
        fields["title"] = first_line[:200] or path.stem
    fields.setdefault("externalId", f"file:{relative_name}")
    # The content comes first because a title without front matter is derived from it.
    bad_text = bad_text_reason({"content": body, **fields})
    if bad_text is not None:
        raise InvalidDocument(bad_text, field="content")
    try:
        return ArticleCreate.model_validate({**fields, "content": body.strip()})
    except ValidationError as error:
        first = error.errors()[0]
        field = pydantic_errors.field_path(tuple(first["loc"]))
        raise InvalidDocument(_describe(error), field=field) from None


def split_front_matter(text: str) -> tuple[dict[str, Any], str]:
    """Split ``---`` front matter of ``key: value`` lines off a Markdown text."""
    lines = text.splitlines()
    if not lines or lines[0].strip() != "---":
        return {}, text
    try:
        end = next(i for i in range(1, len(lines)) if lines[i].strip() == "---")
    except StopIteration:
        return {}, text
    fields: dict[str, Any] = {}
    for line in lines[1:end]:
        if ":" not in line or line.lstrip().startswith("#"):
            continue
        key, value = line.split(":", 1)
        name = _FRONT_KEYS.get(key.strip().lower())
        if name is None:
            continue
        value = value.strip().strip("\"'")
        if name in ("tags", "mailboxIds"):
            items = value.strip("[]").split(",")
            fields[name] = [item.strip().strip("\"'") for item in items if item.strip()]
        elif value:
            fields[name] = value
    return fields, "\n".join(lines[end + 1 :])


def read_json_lines(path: Path) -> SourceRows:
    """Read a JSON Lines file, skipping and reporting rows that are not valid articles.

    A row that would match the same article as an earlier row skips too:
    one with the externalId of an earlier row, else its url, else, when both
    are missing, its title. A derived title that repeats an earlier one is
    first widened to the whole first line of the content. Raises
    ``ValidationFailed`` for a line that is not UTF-8, because then the
    whole file is most likely in another encoding.
    """
    articles: list[ArticleCreate] = []
    labels: list[str] = []
    skipped: list[SkippedRow] = []
    ignored_fields: dict[str, int] = {}
    lines: list[int] = []
    # Maps the key an article is matched by to the line that first used it.
    first_lines: dict[tuple[str, str], int] = {}
    with path.open("rb") as handle:
        for number, raw_line in enumerate(handle, start=1):
            try:
                # A byte order mark may open the file, so the first line drops it.
                line = raw_line.decode("utf-8-sig" if number == 1 else "utf-8")
            except UnicodeDecodeError as error:
                raise _not_utf8(path, error, line=number) from None
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as error:
                skipped.append(SkippedRow(number, f"it is not valid JSON: {error.msg}"))
                continue
            if not isinstance(row, dict):
                skipped.append(SkippedRow(number, "it is not a JSON object"))
                continue
            misspelt, ignored = split_unknown_fields(row)
            if misspelt:
                skipped.append(SkippedRow(number, unknown_fields_reason(misspelt)))
                continue
            bad_text = bad_text_reason({name: row[name] for name in row if name not in ignored})
            if bad_text is not None:
                skipped.append(SkippedRow(number, bad_text))
                continue
            for name in ignored:
                ignored_fields[name] = ignored_fields.get(name, 0) + 1
            content = row.get("content", row.get("text"))
            content_field = "content" if "content" in row else "text"
            if content is None and content_field in row:
                skipped.append(
                    SkippedRow(
                        number,
                        f"{content_field} must be a string (null given); "
                        "give the row the article's text",
                    )
                )
                continue
            if content is None:
                skipped.append(
                    SkippedRow(number, "content is missing; give the row a content (or text) field")
                )
                continue
            if isinstance(content, str) and not content.strip():
                skipped.append(
                    SkippedRow(number, "content is empty; give the row the article's text")
                )
                continue
            try:
                article = ArticleCreate.model_validate(json_row_fields(row))
                if _match_key(article) in first_lines and _title_derived(article, row):
                    wider = cut_title(_first_line(article.content))
                    article = article.model_copy(update={"title": wider})
            except ValidationError as error:
                # A title derived from invalid content is invalid too, but the
                # content is what the row has to fix.
                first_field = None if _has_title(row) else "content"
                reason = _describe(error, first_field=first_field, names=_row_names(row))
                skipped.append(SkippedRow(number, reason))
                continue
            key = _match_key(article)
            if key in first_lines:
                name, value = key
                skipped.append(
                    SkippedRow(
                        number,
                        f"it has the {name} {value!r} of line {first_lines[key]}, so it would "
                        f"replace that article; {_DISTINCT_KEY_HINTS[name]}",
                    )
                )
                continue
            articles.append(article)
            labels.append(f"line {number}")
            lines.append(number)
            for held_key in _held_keys(article):
                first_lines.setdefault(held_key, number)
    return SourceRows(articles, labels, skipped, ignored_fields, lines)


def closest_known_field(name: str) -> str | None:
    """Return the known JSON Lines field that ``name`` most likely misspells, or None.

    A field that differs only in case matches, else the closest by
    ``difflib`` with a similarity of at least 0.6 (``contnet``, ``urls``).
    """
    same_letters = [known for known in JSON_LINE_FIELDS if known.lower() == name.lower()]
    if same_letters:
        return same_letters[0]
    close = difflib.get_close_matches(name, JSON_LINE_FIELDS, n=1, cutoff=0.6)
    return close[0] if close else None


def split_unknown_fields(row: dict[str, Any]) -> tuple[list[str], list[str]]:
    """Split the unknown fields of a JSON Lines row into likely misspellings and ignored ones.

    A field is a likely misspelling when it resembles a known field that the
    row does not have. With that known field present, as with ``urls`` beside
    ``url``, it cannot be the row's only spelling of it, so it is ignored.
    """
    misspelt: list[str] = []
    ignored: list[str] = []
    for name in row:
        if name in JSON_LINE_FIELDS:
            continue
        known = closest_known_field(name)
        if known is not None and known not in row:
            misspelt.append(name)
        else:
            ignored.append(name)
    return misspelt, ignored


def bad_text_reason(fields: dict[str, Any]) -> str | None:
    """Describe the first field with text that no database can store, as the API rejects it.

    NUL (U+0000) is rejected because PostgreSQL text cannot contain it, and
    an unpaired surrogate because it is no UTF-8 text. Returns None when
    every string is valid.
    """
    found = find_bad_text(fields)
    if found is None:
        return None
    path, expected = found
    return f"{path} contains a character that cannot be stored; remove it so it is {expected}"


def unknown_fields_reason(names: list[str]) -> str:
    """Describe the unknown fields of a JSON Lines row, suggesting a known field for a typo."""
    parts = []
    for name in names:
        suggestion = closest_known_field(name)
        hint = f" (did you mean {suggestion}?)" if suggestion else ""
        parts.append(f"{name!r}{hint}")
    if len(parts) == 1:
        problem = f"field {parts[0]} is not an article field; remove or rename it"
    else:
        problem = f"fields {', '.join(parts)} are not article fields; remove or rename them"
    return (
        f"{problem}. A row may have content (or text), title, url, tags, mailboxIds "
        "and externalId (or id)"
    )


# How to make a row that repeats an earlier row's match key import as its own article.
_DISTINCT_KEY_HINTS = {
    "externalId": "give each row its own externalId",
    "url": "give each row its own url, or an externalId",
    "title": "give each row its own title, or an externalId or url",
}


def _match_key(article: ArticleCreate) -> tuple[str, str]:
    """Return the field and value that ``import_articles`` matches a stored article by."""
    if article.external_id is not None:
        return ("externalId", article.external_id)
    if article.url is not None:
        return ("url", article.url)
    return ("title", article.title)


def _held_keys(article: ArticleCreate) -> list[tuple[str, str]]:
    """Return the keys by which a later row of the same import would match ``article``.

    A row with a url and no externalId matches any article with that url,
    and a row with neither matches by title only an article with neither.
    """
    keys: list[tuple[str, str]] = []
    if article.external_id is not None:
        keys.append(("externalId", article.external_id))
    if article.url is not None:
        keys.append(("url", article.url))
    if not keys:
        keys.append(("title", article.title))
    return keys


def _title_derived(article: ArticleCreate, row: dict[str, Any]) -> bool:
    return article.external_id is None and article.url is None and not _has_title(row)


def _has_title(row: dict[str, Any]) -> bool:
    title = row.get("title")
    return isinstance(title, str) and bool(title.strip())


def _first_line(content: Any) -> str:
    if not isinstance(content, str):
        return ""
    return next((line.strip() for line in content.splitlines() if line.strip()), "")


def title_from_content(content: str) -> str:
    """Derive a title from an article's text: the first sentence of its first non-empty line.

    A first sentence of a single word, such as ``Hi.``, gives way to the whole line.

    The title is cut at a word boundary to ``TITLE_MAX_LENGTH`` characters.
    Returns an empty string for text without a visible line.
    """
    first_line = _first_line(content)
    title = first_sentence(first_line)
    if len(title.split()) < TITLE_MIN_WORDS:
        title = first_line
    return cut_title(title)


def cut_title(text: str) -> str:
    """Cut ``text`` at a word boundary to at most ``TITLE_MAX_LENGTH`` characters."""
    if len(text) <= TITLE_MAX_LENGTH:
        return text
    cut = text[:TITLE_MAX_LENGTH]
    return cut.rsplit(" ", 1)[0] if " " in cut else cut


def json_row_fields(row: dict[str, Any]) -> dict[str, Any]:
    """Map one JSON Lines row onto article fields, accepting ``text`` for content and ``id``.

    A missing or blank title is derived from the content.
    """
    external_id = row.get("externalId", row.get("external_id", row.get("id")))
    content = row.get("content", row.get("text")) or ""
    title = row.get("title")
    if title is None or (isinstance(title, str) and not title.strip()):
        title = title_from_content(content) if isinstance(content, str) else ""
    # The API's field names, so validation errors name fields as the API does.
    return {
        "title": title,
        "content": content,
        "url": row.get("url"),
        "tags": row.get("tags") or [],
        "mailboxIds": row.get("mailboxIds", row.get("mailbox_ids")) or [],
        "externalId": None if external_id is None else str(external_id),
    }


def _row_names(row: dict[str, Any]) -> dict[str, str]:
    """Map each API field name to the spelling that ``row`` used for it, such as ``text``."""
    spellings = {
        "content": ("content", "text"),
        "mailboxIds": ("mailboxIds", "mailbox_ids"),
        "externalId": ("externalId", "external_id", "id"),
    }
    names = {}
    for api_name, options in spellings.items():
        used = next((name for name in options if name in row), api_name)
        names[api_name] = used
    return names


def _describe(
    error: ValidationError,
    *,
    first_field: str | None = None,
    names: dict[str, str] | None = None,
) -> str:
    """Describe the first error of ``error``, or the first on ``first_field`` if it has one.

    ``names`` renames the top field of the error's location, so that the
    message names a field as the row spelled it.
    """
    errors = error.errors()
    first = next((item for item in errors if item["loc"][:1] == (first_field,)), errors[0])
    location = tuple(first["loc"])
    if names and location and location[0] in names:
        location = (names[location[0]], *location[1:])
    field = pydantic_errors.field_path(location)
    return pydantic_errors.describe_message(field, first)
