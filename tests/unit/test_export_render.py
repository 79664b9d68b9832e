"""The export engine renders one set of minutes for two readers: each copy holds exactly what its reader
may read, the notice in place of the rest, its own banner on every page (top and bottom) and the reader's
watermark on every page. Text is taken out as a reader's tools would: pdftotext, pdftoppm, python-docx."""

from __future__ import annotations

import io
import re
import subprocess
import zipfile
from pathlib import Path

import docx
import pytest
from markdown_it import MarkdownIt
from PIL import Image

from portal.config import load_settings
from portal.enums import GOV_ONLY_CODE, Level, ReleaseMarking
from portal.exports.document import (
    WITHHELD_NOTICE_EN,
    WITHHELD_NOTICE_JA,
    ExportDocument,
    ExportPart,
    banner_of,
)
from portal.exports.docx import render_docx
from portal.exports.fonts import ExportFontMissing, find_font, is_truetype
from portal.exports.markdown import render_markdown
from portal.exports.pdf import render_pdf
from portal.exports.service import ExportFormat, render
from tests.exports_support import KOBAYASHI, TANAKA, all_specs, body_of, build_copy, may_read

NOTO_CJK = Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc")


def squeeze(text: str) -> str:
    return re.sub(r"\s+", "", text)


def pdf_pages(path: Path) -> list[str]:
    """Each page's text, in layout order, without the diagonal watermark (``-nodiag``)."""
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True).stdout
    pages = int(re.search(r"^Pages:\s+(\d+)", info, re.MULTILINE).group(1))  # type: ignore[union-attr]
    return [
        subprocess.run(
            ["pdftotext", "-layout", "-nodiag", "-f", str(number), "-l", str(number), str(path), "-"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        for number in range(1, pages + 1)
    ]


@pytest.fixture(scope="module")
def copies(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[ExportDocument, Path, bytes, bytes]]:
    directory = tmp_path_factory.mktemp("exports")
    made = {}
    for key, reader in (("tanaka", TANAKA), ("kobayashi", KOBAYASHI)):
        document = build_copy(reader)
        pdf = directory / f"{key}.pdf"
        pdf.write_bytes(render_pdf(document))
        made[key] = (document, pdf, render_docx(document), render_markdown(document))
    return made


def test_the_banner_counts_only_included_parts() -> None:
    tanaka, kobayashi = build_copy(TANAKA).banner, build_copy(KOBAYASHI).banner

    assert tanaka.level == Level.CESI
    assert tanaka.caveat_codes == ("GOV_ONLY", "MINERALS-SUPPLY")
    assert tanaka.release == ReleaseMarking.RED
    assert tanaka.words("ja") == "重要経済安保情報 | 政府限り | MINERALS-SUPPLY | TLP:RED"
    # The withheld CONFIDENTIAL, CESI and RED parts leave no trace on the smaller copy's banner.
    assert kobayashi.level == Level.RESTRICTED
    assert kobayashi.caveat_codes == ()
    assert kobayashi.release == ReleaseMarking.AMBER
    assert kobayashi.words("ja") == "取扱注意 | TLP:AMBER"
    assert kobayashi.words("en") == "RESTRICTED (取扱注意) | TLP:AMBER"


def test_the_banner_of_nothing_but_the_title() -> None:
    banner = banner_of([ExportPart.withheld_part()], title_level=Level.RESTRICTED)

    assert (banner.level, banner.caveat_codes, banner.release) == (Level.RESTRICTED, (), ReleaseMarking.GREEN)
    public = ExportPart("h", "b", Level.PUBLIC, release=ReleaseMarking.CLEAR)
    secret = ExportPart("h", "b", Level.CONFIDENTIAL, frozenset({GOV_ONLY_CODE}), ReleaseMarking.AMBER_STRICT)
    assert banner_of([public, secret]).release == ReleaseMarking.AMBER_STRICT
    assert banner_of([public]).level == Level.PUBLIC


def test_a_withheld_part_cannot_carry_content() -> None:
    with pytest.raises(ValueError, match="withheld"):
        ExportPart("見出し", "本文", Level.CONFIDENTIAL, withheld=True)


@pytest.mark.parametrize("key", ["tanaka", "kobayashi"])
def test_pdf_holds_what_the_reader_may_read_and_marks_every_page(
    copies: dict[str, tuple[ExportDocument, Path, bytes, bytes]], key: str
) -> None:
    document, pdf, _docx, _markdown = copies[key]
    reader = TANAKA if key == "tanaka" else KOBAYASHI
    pages = pdf_pages(pdf)
    banner = document.banner_line()

    assert len(pages) >= 3
    inside: list[str] = []
    for number, page in enumerate(pages, start=1):
        lines = [line.strip() for line in page.splitlines() if line.strip()]
        inside.extend(lines[1:-3])
        assert lines[0] == banner, f"page {number} top"
        # At the bottom: the banner, then the watermark line, then "page / pages".
        assert lines[-3] == banner, f"page {number} bottom"
        assert lines[-2] == document.watermark_line(), f"page {number} watermark"
        assert reader.name in lines[-2] and reader.organisation in lines[-2]
        assert str(document.export_id) in lines[-2]
        assert squeeze(lines[-1]) == f"{number}/{len(pages)}"

    # The body, without the marks of each page, holds each included part's whole text and nothing else.
    body = squeeze("".join(inside))
    withheld = 0
    for spec in all_specs():
        if may_read(reader, spec):
            assert squeeze(body_of(spec)) in body, spec.marker
            assert squeeze(spec.heading) in body
        else:
            withheld += 1
            assert spec.marker not in body
    assert body.count(WITHHELD_NOTICE_JA) == withheld
    assert withheld == (0 if key == "tanaka" else 3)


def test_the_two_pdfs_differ_exactly_by_the_withheld_parts(
    copies: dict[str, tuple[ExportDocument, Path, bytes, bytes]],
) -> None:
    tanaka = squeeze("".join(pdf_pages(copies["tanaka"][1])))
    kobayashi = squeeze("".join(pdf_pages(copies["kobayashi"][1])))

    for spec in all_specs():
        assert (spec.marker in tanaka, spec.marker in kobayashi) == (True, may_read(KOBAYASHI, spec))
    assert "重要経済安保情報|政府限り|MINERALS-SUPPLY|TLP:RED" in tanaka
    assert "重要経済安保情報" not in kobayashi.replace("重要経済安保情報に係る報告", "")
    assert "取扱注意|TLP:AMBER" in kobayashi


def test_pdf_embeds_the_japanese_font_and_renders_page_one(
    copies: dict[str, tuple[ExportDocument, Path, bytes, bytes]], tmp_path: Path
) -> None:
    _document, pdf, _docx, _markdown = copies["kobayashi"]
    fonts = subprocess.run(["pdffonts", str(pdf)], capture_output=True, text=True, check=True).stdout
    rows = [line.split() for line in fonts.splitlines()[2:] if line.strip()]

    assert rows, fonts
    assert any("IPAex" in row[0] for row in rows)
    # Every font in the file is embedded (emb = yes): nothing depends on the reader's machine.
    for row in rows:
        embedded = row[-5]
        assert embedded == "yes", fonts

    subprocess.run(
        ["pdftoppm", "-r", "60", "-png", "-f", "1", "-l", "1", str(pdf), str(tmp_path / "page")], check=True
    )
    (image_path,) = tmp_path.glob("page*.png")
    image = Image.open(image_path).convert("L")
    histogram = image.histogram()
    dark = sum(histogram[:128])
    assert image.size[0] > 400
    assert dark > image.size[0] * image.size[1] * 0.01  # text, not a blank page


def test_pdf_metadata_carries_the_export_id(
    copies: dict[str, tuple[ExportDocument, Path, bytes, bytes]],
) -> None:
    document, pdf, _docx, _markdown = copies["tanaka"]
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout

    assert re.search(rf"^Subject:\s+export-id:{document.export_id}$", info, re.MULTILINE)
    assert f"export-id:{document.export_id}" in re.search(r"^Keywords:.*$", info, re.MULTILINE).group(0)  # type: ignore[union-attr]


def docx_texts(content: bytes) -> tuple[list[str], list[str], list[str], docx.document.Document]:
    opened = docx.Document(io.BytesIO(content))
    body = [paragraph.text for paragraph in opened.paragraphs]
    headers = [p.text for section in opened.sections for p in section.header.paragraphs]
    footers = [p.text for section in opened.sections for p in section.footer.paragraphs]
    return body, headers, footers, opened


@pytest.mark.parametrize("key", ["tanaka", "kobayashi"])
def test_docx_holds_what_the_reader_may_read_with_banner_and_watermark_on_every_page(
    copies: dict[str, tuple[ExportDocument, Path, bytes, bytes]], key: str
) -> None:
    document, _pdf, content, _markdown = copies[key]
    reader = TANAKA if key == "tanaka" else KOBAYASHI
    body, headers, footers, opened = docx_texts(content)
    banner = document.banner_line()

    # One section, whose header and footer every page repeats (no different first or even pages).
    assert len(opened.sections) == 1
    section = opened.sections[0]
    assert not section.different_first_page_header_footer
    assert not opened.settings.odd_and_even_pages_header_footer
    assert headers[0] == banner
    assert banner in footers
    for lines in (headers, footers):
        watermark = [line for line in lines if str(document.export_id) in line]
        assert watermark == [document.watermark_line()]
        assert reader.name in watermark[0] and reader.organisation in watermark[0]

    text = squeeze("".join(body))
    withheld = 0
    for spec in all_specs():
        if may_read(reader, spec):
            assert squeeze(body_of(spec)) in text, spec.marker
        else:
            withheld += 1
            assert spec.marker not in text
    assert [line for line in body if WITHHELD_NOTICE_JA in line] == [WITHHELD_NOTICE_JA] * withheld
    assert opened.core_properties.identifier == f"export-id:{document.export_id}"
    assert f"export-id:{document.export_id}" in opened.core_properties.keywords


def test_docx_sets_the_east_asian_font_on_every_run(
    copies: dict[str, tuple[ExportDocument, Path, bytes, bytes]],
) -> None:
    _document, _pdf, content, _markdown = copies["kobayashi"]
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        for name in ("word/document.xml", "word/header1.xml", "word/footer1.xml"):
            xml = archive.read(name).decode()
            runs = re.findall(r"<w:r>.*?</w:r>", xml, re.DOTALL)
            assert runs, name
            assert all('w:eastAsia="IPAexGothic"' in run for run in runs), name

    other = render_docx(build_copy(KOBAYASHI), east_asian_font="Yu Gothic")
    with zipfile.ZipFile(io.BytesIO(other)) as archive:
        assert 'w:eastAsia="Yu Gothic"' in archive.read("word/document.xml").decode()


@pytest.mark.parametrize("key", ["tanaka", "kobayashi"])
def test_markdown_copy(copies: dict[str, tuple[ExportDocument, Path, bytes, bytes]], key: str) -> None:
    document, _pdf, _docx, content = copies[key]
    reader = TANAKA if key == "tanaka" else KOBAYASHI
    lines = [line for line in content.decode("utf-8").splitlines() if line.strip()]

    assert lines[0] == f"`【{document.banner_line()}】`"
    assert lines[1] == f"`{document.watermark_line()}`"
    assert lines[-2] == lines[0]
    assert lines[-3] == lines[1]
    assert lines[-1] == f"<!-- export-id:{document.export_id} -->"
    text = content.decode("utf-8")
    withheld = [spec for spec in all_specs() if not may_read(reader, spec)]
    assert text.count(WITHHELD_NOTICE_JA) == len(withheld)
    for spec in all_specs():
        assert (spec.marker in text) == may_read(reader, spec)


def test_markdown_shows_markup_typed_in_a_part_as_text() -> None:
    document = build_copy(KOBAYASHI)
    hostile = ExportPart(
        "<script>alert(1)</script>",
        "# 見出し\n[link](javascript:alert(1)) <img src=x onerror=alert(1)>",
        Level.PUBLIC,
    )
    document.sections[0].parts.append(hostile)

    text = render_markdown(document).decode()
    # A viewer that passes raw HTML through (CommonMark with html on) still shows only text.
    html = MarkdownIt("commonmark", {"html": True}).render(text)

    assert "<script" not in html and "<img" not in html and "<a " not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<p># 見出し<br />" in html
    assert "[link](javascript:alert(1))" in html
    assert "<h2>2. ガリウム・ゲルマニウム輸出管理への対応</h2>" in html


def test_english_copy_carries_both_notices() -> None:
    document = build_copy(KOBAYASHI, locale="en")

    text = render_markdown(document).decode()

    assert f"{WITHHELD_NOTICE_JA} / {WITHHELD_NOTICE_EN}" in text
    assert "RESTRICTED (取扱注意) | TLP:AMBER" in text
    assert "Made for 小林 聡 (東都大学 先端政策研究センター)" in text


def test_the_watermark_time_is_japan_time() -> None:
    document = build_copy(TANAKA)  # 03:30 UTC

    assert "2026-12-09 12:30 JST" in document.watermark_line()


def test_font_discovery_skips_cff_and_refuses_a_bad_configuration(tmp_path: Path) -> None:
    path, _font = find_font()
    assert is_truetype(path)
    if NOTO_CJK.exists():
        assert not is_truetype(NOTO_CJK)
        with pytest.raises(ExportFontMissing, match="CFF"):
            find_font(NOTO_CJK)
    not_a_font = tmp_path / "font.ttf"
    not_a_font.write_bytes(b"\x00\x01\x00\x00 nothing")
    with pytest.raises(ExportFontMissing, match="PORTAL_EXPORT_FONT"):
        render_pdf(build_copy(TANAKA), font_path=not_a_font)
    with pytest.raises(ExportFontMissing):
        find_font(tmp_path / "missing.ttf")


def test_the_fonts_are_configurable(tmp_path: Path) -> None:
    defaults = load_settings(environ={})
    assert (defaults.export_font_path, defaults.export_docx_font) == ("", "IPAexGothic")
    not_a_font = tmp_path / "font.ttf"
    not_a_font.write_bytes(b"not a font")
    settings = load_settings(
        environ={"PORTAL_EXPORT_FONT": str(not_a_font), "PORTAL_EXPORT_DOCX_FONT": "Yu Gothic"}
    )
    assert (settings.export_font_path, settings.export_docx_font) == (str(not_a_font), "Yu Gothic")
    document = build_copy(KOBAYASHI)

    with pytest.raises(ExportFontMissing, match=str(not_a_font)):
        render(document, ExportFormat.PDF, settings)
    assert b'w:eastAsia="Yu Gothic"' in zipfile.ZipFile(
        io.BytesIO(render(document, ExportFormat.DOCX, settings))
    ).read("word/document.xml")
    assert render(document, ExportFormat.PDF, defaults).startswith(b"%PDF")


def test_markup_and_control_characters_typed_in_a_part_come_out_as_text_in_pdf_and_docx(
    tmp_path: Path,
) -> None:
    document = build_copy(KOBAYASHI)
    typed = ExportPart("<b>見出し</b> & \x07", "本文 <i>斜体</i> &amp; \x00\x1b 髙﨑\n次の行", Level.PUBLIC)
    document.sections[0].parts.append(typed)
    pdf = tmp_path / "typed.pdf"
    pdf.write_bytes(render_pdf(document))

    text = squeeze("".join(pdf_pages(pdf)))
    body, _headers, _footers, _opened = docx_texts(render_docx(document))

    assert "<b>見出し</b>&" in text
    assert "本文<i>斜体</i>&amp;髙﨑次の行" in text
    assert "<b>見出し</b> & " in body
    assert "本文 <i>斜体</i> &amp;  髙﨑\n次の行" in body
