"""Markdown copies: the banner at the top and the bottom, the watermark line, the parts.

The parts' text is plain text and is escaped, so a copy opened in a Markdown viewer shows the words
typed, never markup (no links, no HTML) made from them.
"""

from __future__ import annotations

import re

from portal.exports.document import EXPORT_ID_TAG, ExportDocument, ExportPart, clean_text, paragraphs

#: Characters that make inline markup or HTML anywhere on a line.
_INLINE = re.compile(r"([\\`*_\[\]<>|~!&])")
#: What makes a block at the start of a line: a heading, quote, list item or rule; an ordered list item.
_LINE_START = re.compile(r"^(\s*)([#>+=-])")
_ORDERED_ITEM = re.compile(r"^(\s*\d+)([.)])")


def escape_markdown(text: str) -> str:
    escaped = _INLINE.sub(r"\\\1", clean_text(text))
    lines = (_ORDERED_ITEM.sub(r"\1\\\2", _LINE_START.sub(r"\1\\\2", line)) for line in escaped.split("\n"))
    return "\n".join(lines)


def _lines_of(text: str) -> str:
    """A paragraph's own line breaks kept as hard breaks."""
    return "  \n".join(escape_markdown(text).split("\n"))


def _part(document: ExportDocument, part: ExportPart) -> list[str]:
    if part.withheld:
        return [f"> **{escape_markdown(document.withheld_notice())}**", ""]
    lines = [f"*{escape_markdown(document.portion_mark(part))}*", ""]
    if part.heading:
        lines += [f"### {escape_markdown(part.heading)}", ""]
    for text in paragraphs(part.body):
        lines += [_lines_of(text), ""]
    return lines


def render_markdown(document: ExportDocument) -> bytes:
    """The copy as UTF-8 Markdown bytes."""
    # Code spans: shown literally by any viewer, and as typed by a plain-text reader.
    banner = f"`【{document.banner_line().replace('`', '')}】`"
    watermark = f"`{document.watermark_line().replace('`', '')}`"
    lines = [banner, "", watermark, "", f"# {escape_markdown(document.title)}", ""]
    if document.subtitle:
        lines += [f"**{escape_markdown(document.subtitle)}**", ""]
    for line in (document.meeting_name, document.room_name):
        if line:
            lines += [escape_markdown(line) + "  ", ""]
    for section in document.sections:
        lines += [f"## {escape_markdown(section.heading)}", ""]
        for part in section.parts:
            lines += _part(document, part)
    lines += ["---", "", watermark, "", banner, "", f"<!-- {EXPORT_ID_TAG}{document.export_id} -->", ""]
    return "\n".join(lines).encode("utf-8")
