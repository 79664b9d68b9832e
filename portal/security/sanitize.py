"""Markdown to safe HTML: the only way text a user wrote becomes markup. No Flask here.

markdown-it-py renders CommonMark with raw HTML disabled (a ``<script>`` typed in a document stays text),
then nh3 — the maintained successor of the end-of-life bleach, backed by the Rust ``ammonia`` crate —
keeps only a narrow allow-list of tags, attributes and URL schemes, and gives every link
``rel="noopener noreferrer"``. Rendered HTML is never stored; it is made from the text on every view.
"""

from __future__ import annotations

import nh3
from markdown_it import MarkdownIt

ALLOWED_TAGS = frozenset(
    {
        "p", "br", "hr", "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "li", "strong", "em", "del", "s",
        "code", "pre", "blockquote", "a", "table", "thead", "tbody", "tr", "th", "td",
    }
)  # fmt: skip
ALLOWED_ATTRIBUTES: dict[str, set[str]] = {"a": {"href", "title"}, "ol": {"start"}}
ALLOWED_URL_SCHEMES = frozenset({"http", "https", "mailto"})
#: Removed with everything inside them (the rest of a disallowed tag keeps its text).
DROPPED_WITH_CONTENT = frozenset({"script", "style", "iframe", "object", "embed", "template", "noscript"})

_markdown = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False}).enable(
    ["table", "strikethrough"]
)


def sanitize_html(html: str) -> str:
    return nh3.clean(
        html,
        tags=set(ALLOWED_TAGS),
        clean_content_tags=set(DROPPED_WITH_CONTENT),
        attributes={tag: set(names) for tag, names in ALLOWED_ATTRIBUTES.items()},
        url_schemes=set(ALLOWED_URL_SCHEMES),
        link_rel="noopener noreferrer",
        strip_comments=True,
    )


def render_markdown(text: str) -> str:
    """Markdown source to HTML that is safe to insert into a page."""
    return sanitize_html(_markdown.render(text))
