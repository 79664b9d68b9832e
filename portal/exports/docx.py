"""DOCX copies (python-docx) with an East Asian font set on every run.

The banner and the watermark line (reader, organisation, time, export id) are in the section's header and
footer, so a word processor prints them on every page; the export id is also in the core properties
(identifier, subject, keywords), where `portal exports verify` looks.
"""

from __future__ import annotations

import io

from docx import Document as new_docx
from docx.document import Document as DocxDocument
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt, RGBColor
from docx.text.paragraph import Paragraph
from docx.text.run import Run

from portal.enums import Level
from portal.exports.document import EXPORT_ID_TAG, ExportDocument, ExportPart, clean_text, paragraphs

DEFAULT_EAST_ASIAN_FONT = "IPAexGothic"
#: Grey-scale shading of the banner per level (hex fill); the words always say the level.
BANNER_SHADE = {
    Level.PUBLIC: "FFFFFF",
    Level.RESTRICTED: "EBEBEB",
    Level.CONFIDENTIAL: "BFBFBF",
    Level.CESI: "333333",
}
GREY = RGBColor(0x55, 0x55, 0x55)


def _set_run_fonts(run: Run, east_asian: str) -> None:
    """Name the font for Latin and East Asian text on the run itself (a theme font would override a
    style's choice)."""
    properties = run._element.get_or_add_rPr()
    fonts = properties.find(qn("w:rFonts"))
    if fonts is None:
        fonts = OxmlElement("w:rFonts")
        properties.insert(0, fonts)
    for attribute in ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme"):
        fonts.attrib.pop(qn(attribute), None)
    for attribute in ("w:ascii", "w:hAnsi", "w:eastAsia", "w:cs"):
        fonts.set(qn(attribute), east_asian)


def _default_font(docx: DocxDocument, east_asian: str) -> None:
    """The Normal style's font, for what the reader types into the copy."""
    normal = docx.styles["Normal"]
    normal.font.name = east_asian
    fonts = normal.element.get_or_add_rPr().find(qn("w:rFonts"))
    if fonts is not None:
        fonts.set(qn("w:eastAsia"), east_asian)


def _run(paragraph: Paragraph, text: str, east_asian: str, size: float | None = None, **style: object) -> Run:
    run = paragraph.add_run(clean_text(text))
    _set_run_fonts(run, east_asian)
    if size is not None:
        run.font.size = Pt(size)
    if style.get("bold"):
        run.bold = True
    colour = style.get("colour")
    if isinstance(colour, RGBColor):
        run.font.color.rgb = colour
    return run


def _shade(paragraph: Paragraph, fill: str) -> None:
    """A bordered, shaded paragraph (the banner, the withheld notice)."""
    properties = paragraph._p.get_or_add_pPr()
    borders = OxmlElement("w:pBdr")
    for edge in ("top", "left", "bottom", "right"):
        border = OxmlElement(f"w:{edge}")
        border.set(qn("w:val"), "single")
        border.set(qn("w:sz"), "6")
        border.set(qn("w:space"), "2")
        border.set(qn("w:color"), "000000")
        borders.append(border)
    properties.append(borders)
    shading = OxmlElement("w:shd")
    shading.set(qn("w:val"), "clear")
    shading.set(qn("w:color"), "auto")
    shading.set(qn("w:fill"), fill)
    properties.append(shading)


def _field(paragraph: Paragraph, instruction: str, east_asian: str, size: float) -> None:
    """A field (PAGE, NUMPAGES) the word processor fills in."""
    for kind, text in (("begin", None), (None, instruction), ("separate", None), (None, "1"), ("end", None)):
        run = _run(paragraph, "", east_asian, size)
        if kind is not None:
            character = OxmlElement("w:fldChar")
            character.set(qn("w:fldCharType"), kind)
            run._element.append(character)
        elif text == instruction:
            code = OxmlElement("w:instrText")
            code.set(qn("xml:space"), "preserve")
            code.text = f" {instruction} "
            run._element.append(code)
        else:
            run.text = text or ""


def _banner(paragraph: Paragraph, document: ExportDocument, east_asian: str) -> None:
    level = document.banner.level
    paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _shade(paragraph, BANNER_SHADE[level])
    white = RGBColor(0xFF, 0xFF, 0xFF) if level == Level.CESI else None
    _run(paragraph, document.banner_line(), east_asian, 10, bold=True, colour=white)


def _header_and_footer(docx: DocxDocument, document: ExportDocument, east_asian: str) -> None:
    section = docx.sections[0]
    header = section.header
    _banner(header.paragraphs[0], document, east_asian)
    watermark = header.add_paragraph()
    watermark.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _run(watermark, document.watermark_line(), east_asian, 7.5, colour=GREY)

    footer = section.footer
    line = footer.paragraphs[0]
    line.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _run(line, document.watermark_line(), east_asian, 7.5, colour=GREY)
    _banner(footer.add_paragraph(), document, east_asian)
    pages = footer.add_paragraph()
    pages.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    _field(pages, "PAGE", east_asian, 8)
    _run(pages, " / ", east_asian, 8)
    _field(pages, "NUMPAGES", east_asian, 8)


def _part(docx: DocxDocument, document: ExportDocument, part: ExportPart, east_asian: str) -> None:
    if part.withheld:
        notice = docx.add_paragraph()
        notice.alignment = WD_ALIGN_PARAGRAPH.CENTER
        _shade(notice, "F2F2F2")
        _run(notice, document.withheld_notice(), east_asian, 10)
        return
    mark = docx.add_paragraph()
    mark.paragraph_format.keep_with_next = True
    _run(mark, document.portion_mark(part), east_asian, 8.5, colour=GREY)
    if part.heading:
        heading = docx.add_heading(level=2)
        heading.paragraph_format.keep_with_next = True
        _run(heading, part.heading, east_asian)
    for text in paragraphs(part.body):
        _run(docx.add_paragraph(), text, east_asian, 10.5)


def _core_properties(docx: DocxDocument, document: ExportDocument) -> None:
    properties = docx.core_properties
    properties.title = clean_text(document.title)
    properties.author = f"{document.reader.name} ({document.reader.organisation})"
    properties.identifier = f"{EXPORT_ID_TAG}{document.export_id}"
    properties.subject = f"{EXPORT_ID_TAG}{document.export_id}"
    properties.keywords = f"{EXPORT_ID_TAG}{document.export_id}; {document.banner.words('en')}"
    properties.category = document.banner.words("en")
    properties.created = document.created_at
    properties.modified = document.created_at
    properties.last_modified_by = properties.author
    properties.language = document.locale
    properties.comments = "協議会ポータル (council portal)"
    properties.revision = 1


def render_docx(document: ExportDocument, east_asian_font: str = DEFAULT_EAST_ASIAN_FONT) -> bytes:
    """The copy as DOCX bytes; ``east_asian_font`` is settings.export_docx_font."""
    docx = new_docx()
    section = docx.sections[0]
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.left_margin = section.right_margin = Mm(20)
    section.top_margin = section.bottom_margin = Mm(25)
    _default_font(docx, east_asian_font)
    _core_properties(docx, document)
    _header_and_footer(docx, document, east_asian_font)

    _run(docx.add_heading(level=0), document.title, east_asian_font)
    if document.subtitle:
        _run(docx.add_paragraph(), document.subtitle, east_asian_font, 13)
    for line in (document.meeting_name, document.room_name, document.reader_line()):
        if line:
            _run(docx.add_paragraph(), line, east_asian_font, 9.5, colour=GREY)
    _run(docx.add_paragraph(), f"{EXPORT_ID_TAG}{document.export_id}", east_asian_font, 9.5, colour=GREY)
    for export_section in document.sections:
        _run(docx.add_heading(level=1), export_section.heading, east_asian_font)
        for part in export_section.parts:
            _part(docx, document, part, east_asian_font)

    output = io.BytesIO()
    docx.save(output)
    return output.getvalue()
