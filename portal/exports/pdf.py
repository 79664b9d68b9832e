"""PDF copies (ReportLab platypus), with the Japanese font embedded.

Every page carries the copy's banner at the top and the bottom, a light diagonal watermark with the
reader, organisation, time and export id, and a footer line with the same (extractable as text). The
export id is also in the document's metadata (subject and keywords), where `portal exports verify` looks.
"""

from __future__ import annotations

import io
from functools import partial
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Flowable, KeepTogether, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from portal.enums import Level
from portal.exports.document import EXPORT_ID_TAG, ExportDocument, ExportPart, clean_text, paragraphs
from portal.exports.fonts import register_font

PAGE_WIDTH, PAGE_HEIGHT = A4
MARGIN = 18 * mm
BANNER_HEIGHT = 8 * mm
#: Grey-scale backgrounds per level (text always says the level; colour is never the only signal).
BANNER_FILL = {
    Level.PUBLIC: colors.white,
    Level.RESTRICTED: colors.Color(0.92, 0.92, 0.92),
    Level.CONFIDENTIAL: colors.Color(0.75, 0.75, 0.75),
    Level.CESI: colors.Color(0.2, 0.2, 0.2),
}
#: Drawn over the text, translucent so the text stays legible beneath it.
WATERMARK_GREY = colors.Color(0.45, 0.45, 0.45)
WATERMARK_ALPHA = 0.3


class _Styles:
    def __init__(self, font: str) -> None:
        base = ParagraphStyle("body", fontName=font, fontSize=10.5, leading=16, wordWrap="CJK")
        self.body = base
        self.title = ParagraphStyle("title", base, fontSize=18, leading=24, spaceAfter=4 * mm)
        self.subtitle = ParagraphStyle("subtitle", base, fontSize=12, leading=17, spaceAfter=2 * mm)
        self.meta = ParagraphStyle(
            "meta", base, fontSize=9.5, leading=14, textColor=colors.Color(0.25, 0.25, 0.25)
        )
        self.section = ParagraphStyle(
            "section", base, fontSize=14, leading=20, spaceBefore=6 * mm, spaceAfter=2 * mm
        )
        self.part = ParagraphStyle(
            "part", base, fontSize=11.5, leading=17, spaceBefore=3 * mm, spaceAfter=1 * mm
        )
        self.mark = ParagraphStyle(
            "mark", base, fontSize=8.5, leading=12, textColor=colors.Color(0.3, 0.3, 0.3)
        )
        self.notice = ParagraphStyle("notice", base, fontSize=10, leading=15, alignment=TA_CENTER)
        self.paragraph = ParagraphStyle("paragraph", base, spaceAfter=2 * mm)


def _text(value: str) -> str:
    """Plain text into ReportLab's paragraph markup: escaped, line breaks kept."""
    return escape(clean_text(value)).replace("\n", "<br/>")


class _MarkedCanvas(Canvas):
    """Holds each page until the end, then adds 'page N / total' and, last of all, the diagonal watermark.

    The watermark is drawn after everything else on the page: text extractors (pdftotext -nodiag) that
    drop rotated text would otherwise also drop the first word drawn after it.
    """

    def __init__(self, *args: Any, export_document: ExportDocument, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.portal_font: str = kwargs.get("initialFontName") or "Helvetica"
        self.export_document = export_document
        self._pages: list[dict[str, Any]] = []

    def showPage(self) -> None:
        self._pages.append(dict(self.__dict__))
        self._startPage()

    def save(self) -> None:
        total = len(self._pages)
        for state in self._pages:
            self.__dict__.update(state)
            self.setFont(self.portal_font, 8)
            self.setFillColor(colors.black)
            self.drawRightString(PAGE_WIDTH - MARGIN, MARGIN - 12.5 * mm, f"{self.getPageNumber()} / {total}")
            _draw_watermark(self, self.export_document, self.portal_font)
            super().showPage()
        super().save()


def _withheld_box(notice: str, styles: _Styles) -> Flowable:
    table = Table([[Paragraph(_text(notice), styles.notice)]], colWidths=[PAGE_WIDTH - 2 * MARGIN])
    table.setStyle(
        TableStyle(
            [
                ("FONTNAME", (0, 0), (-1, -1), styles.notice.fontName),
                ("BOX", (0, 0), (-1, -1), 0.6, colors.Color(0.4, 0.4, 0.4)),
                ("BACKGROUND", (0, 0), (-1, -1), colors.Color(0.95, 0.95, 0.95)),
                ("TOPPADDING", (0, 0), (-1, -1), 3 * mm),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 3 * mm),
            ]
        )
    )
    return table


def _part_flowables(document: ExportDocument, part: ExportPart, styles: _Styles) -> list[Flowable]:
    if part.withheld:
        return [Spacer(1, 2 * mm), _withheld_box(document.withheld_notice(), styles), Spacer(1, 2 * mm)]
    head: list[Flowable] = [Paragraph(_text(document.portion_mark(part)), styles.mark)]
    if part.heading:
        head.append(Paragraph(_text(part.heading), styles.part))
    body = [Paragraph(_text(text), styles.paragraph) for text in paragraphs(part.body)]
    # The portion's marking and heading stay with its first paragraph.
    return [KeepTogether(head + body[:1]), *body[1:]]


def _story(document: ExportDocument, styles: _Styles) -> list[Flowable]:
    story: list[Flowable] = [Paragraph(_text(document.title), styles.title)]
    if document.subtitle:
        story.append(Paragraph(_text(document.subtitle), styles.subtitle))
    for line in (document.meeting_name, document.room_name):
        if line:
            story.append(Paragraph(_text(line), styles.meta))
    story.append(Paragraph(_text(document.reader_line()), styles.meta))
    story.append(Paragraph(_text(f"{EXPORT_ID_TAG}{document.export_id}"), styles.meta))
    for section in document.sections:
        story.append(Paragraph(_text(section.heading), styles.section))
        for part in section.parts:
            story.extend(_part_flowables(document, part, styles))
    return story


def _fitting_size(text: str, font: str, size: float, width: float) -> float:
    """The font size at which one line of text fits the width (long names shrink it, never wrap it)."""
    return min(size, size * width / max(stringWidth(text, font, size), 1.0))


def _draw_banner(canvas: Canvas, document: ExportDocument, font: str, bottom: float) -> None:
    level = document.banner.level
    canvas.setFillColor(BANNER_FILL[level])
    canvas.setStrokeColor(colors.black)
    canvas.setLineWidth(0.8)
    canvas.rect(MARGIN, bottom, PAGE_WIDTH - 2 * MARGIN, BANNER_HEIGHT, stroke=1, fill=1)
    canvas.setFillColor(colors.white if level == Level.CESI else colors.black)
    line = document.banner_line()
    canvas.setFont(font, _fitting_size(line, font, 10, PAGE_WIDTH - 2 * MARGIN - 4 * mm))
    canvas.drawCentredString(PAGE_WIDTH / 2, bottom + 2.7 * mm, line)


def _draw_watermark(canvas: Canvas, document: ExportDocument, font: str) -> None:
    reader = document.reader
    lines = [f"{reader.name} · {reader.organisation}", document.local_time(), f"{document.export_id}"]
    canvas.saveState()
    canvas.setFillColor(WATERMARK_GREY, alpha=WATERMARK_ALPHA)
    canvas.translate(PAGE_WIDTH / 2, PAGE_HEIGHT / 2)
    canvas.rotate(40)
    canvas.setFont(font, 20)
    for index, line in enumerate(lines):
        canvas.drawCentredString(0, (1 - index) * 26, line)
    canvas.restoreState()


def _decorate(document: ExportDocument, font: str) -> Any:
    def on_page(canvas: Canvas, _template: Any) -> None:
        _draw_banner(canvas, document, font, PAGE_HEIGHT - MARGIN + 2 * mm)
        _draw_banner(canvas, document, font, MARGIN - 2 * mm)
        canvas.setFillColor(colors.black)
        line = document.watermark_line()
        canvas.setFont(font, _fitting_size(line, font, 8, PAGE_WIDTH - 2 * MARGIN))
        canvas.drawString(MARGIN, MARGIN - 9 * mm, line)

    return on_page


def render_pdf(document: ExportDocument, font_path: str | Path | None = None) -> bytes:
    """The copy as PDF bytes. ``font_path``: the configured export font (settings.export_font_path), or
    None to find one on the system; raises ``ExportFontMissing`` when there is none."""
    font = register_font(font_path)
    styles = _Styles(font)
    output = io.BytesIO()
    template = SimpleDocTemplate(
        output,
        pagesize=A4,
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=MARGIN + BANNER_HEIGHT + 4 * mm,
        bottomMargin=MARGIN + BANNER_HEIGHT + 2 * mm,
        title=document.title,
        author=f"{document.reader.name} ({document.reader.organisation})",
        subject=f"{EXPORT_ID_TAG}{document.export_id}",
        keywords=[f"{EXPORT_ID_TAG}{document.export_id}", document.banner.words("en")],
        creator="協議会ポータル (council portal)",
        lang=document.locale,
        # Every page's text starts in the export font: no unembedded standard font is referenced.
        initialFontName=font,
    )
    decorate = _decorate(document, font)
    template.build(
        _story(document, styles),
        onFirstPage=decorate,
        onLaterPages=decorate,
        canvasmaker=partial(_MarkedCanvas, export_document=document),
    )
    return output.getvalue()
