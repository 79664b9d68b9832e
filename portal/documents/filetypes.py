"""What an uploaded file really is, from its content, against an allow-list; and safe file names.

The browser's declared type and the file's extension are never trusted: a file is accepted only when its
bytes are one of the allowed kinds. Office documents are ZIP (OOXML, ODF) or OLE2 containers; a ZIP is
inspected by its directory only (nothing is decompressed, so a ZIP bomb costs nothing), and a document
carrying macros is refused. SVG and HTML are never accepted: a browser would run their scripts.
"""

from __future__ import annotations

import re
import unicodedata
import zipfile
from dataclasses import dataclass
from typing import IO

#: Bytes read from the head of a file to recognise it.
SNIFF_BYTES = 8192


@dataclass(frozen=True)
class FileKind:
    #: A stable code (stored, shown in lists): pdf, docx, xlsx, pptx, odt, ods, odp, doc, csv, txt, png, ...
    code: str
    mime: str
    extension: str


KINDS = {
    kind.code: kind
    for kind in (
        FileKind("pdf", "application/pdf", "pdf"),
        FileKind("docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document", "docx"),
        FileKind("xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xlsx"),
        FileKind("pptx", "application/vnd.openxmlformats-officedocument.presentationml.presentation", "pptx"),
        FileKind("odt", "application/vnd.oasis.opendocument.text", "odt"),
        FileKind("ods", "application/vnd.oasis.opendocument.spreadsheet", "ods"),
        FileKind("odp", "application/vnd.oasis.opendocument.presentation", "odp"),
        FileKind("ole", "application/x-ole-storage", "doc"),
        FileKind("csv", "text/csv", "csv"),
        FileKind("txt", "text/plain", "txt"),
        FileKind("png", "image/png", "png"),
        FileKind("jpeg", "image/jpeg", "jpg"),
        FileKind("gif", "image/gif", "gif"),
        FileKind("webp", "image/webp", "webp"),
    )
}

#: Legacy Office (Word 97–2003 .doc, .xls, .ppt) are OLE2 compound files; the extension names which.
OLE_EXTENSIONS = {
    "doc": "application/msword",
    "xls": "application/vnd.ms-excel",
    "ppt": "application/vnd.ms-powerpoint",
}
OOXML_PARTS = {"word/": "docx", "xl/": "xlsx", "ppt/": "pptx"}
ODF_TYPES = {
    b"application/vnd.oasis.opendocument.text": "odt",
    b"application/vnd.oasis.opendocument.spreadsheet": "ods",
    b"application/vnd.oasis.opendocument.presentation": "odp",
}


class UnsupportedFile(Exception):
    """The content is not one of the allowed kinds (the message code says why)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        #: not_allowed, macros, empty
        self.reason = reason


def detect(stream: IO[bytes], filename: str) -> FileKind:
    """The kind of the file in ``stream`` (seekable; left at its start), or :class:`UnsupportedFile`."""
    stream.seek(0)
    head = stream.read(SNIFF_BYTES)
    stream.seek(0)
    if not head:
        raise UnsupportedFile("empty")
    extension = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    if head.startswith(b"%PDF-"):
        return KINDS["pdf"]
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return KINDS["png"]
    if head.startswith(b"\xff\xd8\xff"):
        return KINDS["jpeg"]
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return KINDS["gif"]
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return KINDS["webp"]
    if head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        if extension not in OLE_EXTENSIONS:
            raise UnsupportedFile("not_allowed")
        return FileKind("ole", OLE_EXTENSIONS[extension], extension)
    if head.startswith(b"PK\x03\x04"):
        return _office_zip(stream)
    return _text(head, extension)


def _office_zip(stream: IO[bytes]) -> FileKind:
    try:
        with zipfile.ZipFile(stream) as archive:
            names = archive.namelist()
            if any(name.lower().endswith("vbaproject.bin") for name in names):
                raise UnsupportedFile("macros")
            if "mimetype" in names:
                info = archive.getinfo("mimetype")
                if info.file_size <= 100:
                    kind = ODF_TYPES.get(archive.read("mimetype").strip())
                    if kind:
                        return KINDS[kind]
            if "[Content_Types].xml" in names:
                for prefix, kind in OOXML_PARTS.items():
                    if any(name.startswith(prefix) for name in names):
                        return KINDS[kind]
    except zipfile.BadZipFile as error:
        raise UnsupportedFile("not_allowed") from error
    finally:
        stream.seek(0)
    raise UnsupportedFile("not_allowed")


_MARKUP = re.compile(rb"<\s*(?:!doctype|html|svg|script|\?xml|body|iframe)", re.IGNORECASE)


def _text(head: bytes, extension: str) -> FileKind:
    """Plain text or CSV: UTF-8 (with or without BOM) or Shift_JIS, no control bytes, and not a page in
    disguise (HTML, SVG or XML): those would be pages, not text, to a browser that sniffed them."""
    if b"\x00" in head:
        raise UnsupportedFile("not_allowed")
    sample = head
    text = None
    for encoding in ("utf-8", "cp932"):
        try:
            text = sample.decode(encoding)
            break
        except UnicodeDecodeError as error:
            # The sniffed head may cut a multi-byte character in two at its end.
            if encoding == "utf-8" and error.start >= len(sample) - 3 and len(sample) == SNIFF_BYTES:
                text = sample[: error.start].decode(encoding)
                break
    if text is None:
        raise UnsupportedFile("not_allowed")
    if any(unicodedata.category(ch) == "Cc" and ch not in "\t\r\n\f" for ch in text):
        raise UnsupportedFile("not_allowed")
    if _MARKUP.match(head.lstrip(b"\xef\xbb\xbf \t\r\n")):
        raise UnsupportedFile("not_allowed")
    return KINDS["csv"] if extension == "csv" else KINDS["txt"]


# --- names ------------------------------------------------------------------------------------------

_RESERVED = re.compile(r'[<>:"/\\|?*\x00-\x1f\x7f]')
MAX_NAME_CHARACTERS = 150


def safe_filename(name: str, kind: FileKind) -> str:
    """A file name safe to store, show and offer for download: no folders, no control or reserved
    characters, no leading dots, a bounded length, and an extension that matches the content."""
    name = unicodedata.normalize("NFKC", name or "")
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C")
    name = _RESERVED.sub("_", name).strip().lstrip(".").strip()
    stem, dot, extension = name.rpartition(".")
    if not dot:
        stem, extension = name, ""
    if extension.lower() != kind.extension and not (kind.code == "jpeg" and extension.lower() == "jpeg"):
        stem = name
        extension = kind.extension
    stem = stem[: MAX_NAME_CHARACTERS - len(extension) - 1].strip() or "attachment"
    return f"{stem}.{extension}"
