"""Uploads are recognised by their content against an allow-list, and their names are made safe."""

from __future__ import annotations

import io
import zipfile

import pytest

from portal.documents.filetypes import KINDS, UnsupportedFile, detect, safe_filename


def office_zip(parts: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in parts.items():
            archive.writestr(name, content)
    return buffer.getvalue()


DOCX = office_zip({"[Content_Types].xml": b"<Types/>", "word/document.xml": b"<w:document/>"})
XLSX = office_zip({"[Content_Types].xml": b"<Types/>", "xl/workbook.xml": b"<workbook/>"})
ODT = office_zip({"mimetype": b"application/vnd.oasis.opendocument.text", "content.xml": b"<x/>"})
DOCM = office_zip(
    {"[Content_Types].xml": b"<Types/>", "word/document.xml": b"<d/>", "word/vbaProject.bin": b"\x00" * 10}
)
PDF = b"%PDF-1.7\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 64


@pytest.mark.parametrize(
    ("content", "name", "code"),
    [
        (PDF, "report.pdf", "pdf"),
        (PDF, "report.txt", "pdf"),  # the content decides, not the extension
        (DOCX, "memo.docx", "docx"),
        (XLSX, "data.xlsx", "xlsx"),
        (ODT, "memo.odt", "odt"),
        (PNG, "chart.png", "png"),
        (b"\xff\xd8\xff\xe0" + b"\x00" * 16, "photo.jpg", "jpeg"),
        (b"GIF89a" + b"\x00" * 16, "a.gif", "gif"),
        (OLE, "old.doc", "ole"),
        ("品目,国,シェア\nガリウム,中国,98\n".encode(), "shares.csv", "csv"),
        ("品目,国,シェア\n".encode("cp932"), "sjis.csv", "csv"),
        ("議事メモ\n<script> と書いても本文は文字のまま\n".encode(), "memo.txt", "txt"),
    ],
)
def test_allowed_kinds_are_recognised_by_content(content: bytes, name: str, code: str) -> None:
    assert detect(io.BytesIO(content), name).code == code


@pytest.mark.parametrize(
    ("content", "name", "reason"),
    [
        (b"", "empty.pdf", "empty"),
        (b"<!DOCTYPE html><html><script>alert(1)</script>", "report.pdf", "not_allowed"),
        (b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>', "chart.png", "not_allowed"),
        (b'<?xml version="1.0"?><svg/>', "chart.svg", "not_allowed"),
        (b"MZ\x90\x00\x03\x00\x00\x00\x04\x00", "setup.pdf", "not_allowed"),
        (b"\x7fELF\x02\x01\x01\x00", "tool.txt", "not_allowed"),
        (DOCM, "macro.docx", "macros"),
        (office_zip({"evil.exe": b"MZ"}), "archive.docx", "not_allowed"),
        (OLE, "old.exe", "not_allowed"),
        (b"text\x00with\x00nul", "a.txt", "not_allowed"),
    ],
)
def test_other_content_is_refused(content: bytes, name: str, reason: str) -> None:
    with pytest.raises(UnsupportedFile) as refused:
        detect(io.BytesIO(content), name)
    assert refused.value.reason == reason


def test_detection_leaves_the_stream_at_its_start() -> None:
    stream = io.BytesIO(DOCX)
    detect(stream, "memo.docx")
    assert stream.tell() == 0


@pytest.mark.parametrize(
    ("given", "code", "expected"),
    [
        ("../../etc/passwd.txt", "txt", "passwd.txt"),
        ("C:\\Users\\tanaka\\議事録.pdf", "pdf", "議事録.pdf"),
        ("..hidden.csv", "csv", "hidden.csv"),
        ('a<b>c:"d|e?f*.pdf', "pdf", "a_b_c__d_e_f_.pdf"),
        ("line\nbreak\r\u202e.pdf", "pdf", "linebreak.pdf"),
        ("ＡＢＣ資料.pdf", "pdf", "ABC資料.pdf"),
        ("report.exe", "pdf", "report.exe.pdf"),
        ("", "png", "attachment.png"),
        ("photo.JPEG", "jpeg", "photo.JPEG"),
    ],
)
def test_file_names_are_made_safe(given: str, code: str, expected: str) -> None:
    assert safe_filename(given, KINDS[code]) == expected


def test_long_names_are_cut_and_keep_their_extension() -> None:
    name = safe_filename("資" * 400 + ".pdf", KINDS["pdf"])
    assert len(name) <= 150 and name.endswith(".pdf")
