"""The public help-centre page of one article: its Markdown rendered as escaped HTML.

Only a small Markdown subset is rendered: headings, paragraphs, bullet and
numbered lists, quotes, fenced code, inline code, bold text and links. Every
piece of article text is HTML-escaped, raw HTML in an article shows as text,
and a link is kept only when ``safe_link`` accepts its URL.
"""

from __future__ import annotations

import re
from html import escape

from .urls import safe_link

_HEADING = re.compile(r"^(#{1,6})[ \t]+(.+?)[ \t#]*$")
_BULLET = re.compile(r"^[ \t]*[*+\-][ \t]+(.*)$")
_NUMBERED = re.compile(r"^[ \t]*\d+[.)][ \t]+(.*)$")
_QUOTE = re.compile(r"^[ \t]*>[ \t]?(.*)$")
_FENCE = re.compile(r"^[ \t]*(```|~~~)")
# A link destination as CommonMark reads it: in angle brackets, or without spaces
# and with parentheses only in balanced pairs (two levels deep here), such as
# ``javascript:alert(1)``. An optional "title" may follow it.
_DESTINATION = r"<[^<>\n]*>|(?:[^()\s]|\((?:[^()\s]|\([^()\s]*\))*\))+"
_INLINE = re.compile(
    r"`([^`]+)`"
    rf"|\[([^\]]+)\]\([ \t]*({_DESTINATION})(?:[ \t]+\"[^\"]*\")?[ \t]*\)"
    r"|\*\*([^*]+)\*\*"
)

STYLE = """
body{font:16px/1.6 system-ui,sans-serif;color:#1f2328;margin:0;background:#f6f8fa}
main{max-width:46rem;margin:2rem auto;padding:2rem;background:#fff;border-radius:8px}
h1{font-size:1.8rem;line-height:1.25;margin-top:0}
pre{background:#f6f8fa;padding:1rem;overflow-x:auto}
blockquote{border-left:4px solid #d0d7de;margin-left:0;padding-left:1rem;color:#57606a}
footer{color:#57606a;font-size:.875rem;margin-top:2rem}
"""

# The page runs no script and loads nothing, so the policy allows only its own style block.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' https: data:; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)


def render_inline(text: str) -> str:
    """Return one line of Markdown as escaped HTML with code, links and bold text."""
    parts = []
    position = 0
    for match in _INLINE.finditer(text):
        parts.append(escape(text[position : match.start()]))
        code, label, url, strong = match.groups()
        if code is not None:
            parts.append(f"<code>{escape(code)}</code>")
        elif label is not None:
            if url.startswith("<"):
                url = url[1:-1]
            href = safe_link(url) if url else None
            if href is None:
                parts.append(escape(label))
            else:
                parts.append(
                    f'<a href="{escape(href)}" rel="nofollow noopener">{escape(label)}</a>'
                )
        else:
            parts.append(f"<strong>{escape(strong)}</strong>")
        position = match.end()
    parts.append(escape(text[position:]))
    return "".join(parts)


def render_markdown(markdown: str) -> str:
    """Return the article body as HTML blocks; see the module docstring for the subset."""
    blocks: list[str] = []
    paragraph: list[str] = []
    items: list[str] = []
    list_tag = ""
    code: list[str] | None = None

    def flush() -> None:
        nonlocal list_tag
        if paragraph:
            blocks.append("<p>" + " ".join(render_inline(line) for line in paragraph) + "</p>")
            paragraph.clear()
        if items:
            rendered = "".join(f"<li>{render_inline(item)}</li>" for item in items)
            blocks.append(f"<{list_tag}>{rendered}</{list_tag}>")
            items.clear()
            list_tag = ""

    for line in markdown.replace("\r\n", "\n").split("\n"):
        if code is not None:
            if _FENCE.match(line):
                blocks.append("<pre><code>" + escape("\n".join(code)) + "</code></pre>")
                code = None
            else:
                code.append(line)
            continue
        if _FENCE.match(line):
            flush()
            code = []
            continue
        if not line.strip():
            flush()
            continue
        heading = _HEADING.match(line)
        if heading:
            flush()
            # The page title is the h1, so article headings start at h2.
            level = min(6, len(heading.group(1)) + 1)
            blocks.append(f"<h{level}>{render_inline(heading.group(2))}</h{level}>")
            continue
        for pattern, tag in ((_BULLET, "ul"), (_NUMBERED, "ol")):
            item = pattern.match(line)
            if item:
                if paragraph or (list_tag and list_tag != tag):
                    flush()
                list_tag = tag
                items.append(item.group(1))
                break
        else:
            quote = _QUOTE.match(line)
            if quote:
                flush()
                blocks.append(f"<blockquote><p>{render_inline(quote.group(1))}</p></blockquote>")
            elif items:
                # A line right after a list item continues that item.
                items[-1] += " " + line.strip()
            else:
                paragraph.append(line.strip())
    if code is not None:
        blocks.append("<pre><code>" + escape("\n".join(code)) + "</code></pre>")
    flush()
    return "\n".join(blocks)


def page(title: str, body_html: str, footer: str = "") -> str:
    """Return a whole HTML document; ``title`` is escaped here, ``body_html`` must be already."""
    footer_html = f"<footer>{escape(footer)}</footer>" if footer else ""
    return (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title><style>{STYLE}</style></head>"
        f"<body><main><article><h1>{escape(title)}</h1>\n{body_html}</article>"
        f"{footer_html}</main></body></html>\n"
    )


def article_page(title: str, content: str, updated: str) -> str:
    return page(
        title, render_markdown(_without_leading_title(title, content)), f"Updated {updated}"
    )


def not_found_page(article_id: str) -> str:
    return page(
        "Article not found",
        f"<p>No help-centre article has the id <code>{escape(article_id)}</code>. "
        "It may have been deleted, or the link may be mistyped.</p>",
    )


def rate_limited_page(retry_after: int) -> str:
    return page(
        "Too many requests",
        "<p>This address opened too many help-centre pages in the last minute. "
        f"Try again in {retry_after} seconds.</p>",
    )


def _without_leading_title(title: str, content: str) -> str:
    """Drop a first ``# Title`` heading that repeats the page title."""
    first, _, rest = content.lstrip().partition("\n")
    heading = _HEADING.match(first)
    if heading and len(heading.group(1)) == 1 and heading.group(2).strip() == title.strip():
        return rest
    return content
