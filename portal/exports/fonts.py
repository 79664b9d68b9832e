"""The Japanese font embedded in PDF exports: configured, or found on the system.

ReportLab embeds TrueType (``glyf``) outlines only; CFF fonts (``OTTO``, and collections of them such as
Noto Sans CJK's ``.ttc``) are skipped. fontconfig answers every query with *some* font (DejaVu Sans for an
unknown name), so a candidate must also hold the Japanese glyphs a copy needs.
"""

from __future__ import annotations

import shutil
import struct
import subprocess
import threading
from pathlib import Path

from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFError, TTFont

#: Families asked of fontconfig, in order (IPAex first: TrueType, free, packaged by Debian).
FONT_FAMILIES = ("IPAexGothic", "IPAGothic", "IPAPGothic", "TakaoGothic", "VL Gothic", "IPAexMincho")
#: Paths tried when fontconfig is missing or finds nothing suitable.
KNOWN_FONT_PATHS = (
    "/usr/share/fonts/opentype/ipaexfont-gothic/ipaexg.ttf",
    "/usr/share/fonts/truetype/ipaexfont-gothic/ipaexg.ttf",
    "/usr/share/fonts/truetype/fonts-japanese-gothic.ttf",
    "/usr/share/fonts/opentype/ipafont-gothic/ipag.ttf",
    "/usr/share/fonts/truetype/takao-gothic/TakaoGothic.ttf",
    "/usr/share/fonts/truetype/vlgothic/VL-Gothic-Regular.ttf",
    "/usr/share/fonts/ipa-gothic/ipag.ttf",
    "/Library/Fonts/ipaexg.ttf",
)
#: Every copy prints these (the level words and the withheld notice): a font without them is no use.
REQUIRED_CHARACTERS = "公開取扱注意秘重要経済安保情報閲覧権限外省略"

_TRUETYPE_TAGS = (b"\x00\x01\x00\x00", b"true")
#: Configured path ("" for the one found on the system) -> the registered font name.
_registered: dict[str, str] = {}
_lock = threading.Lock()


class ExportFontMissing(RuntimeError):
    """No Japanese TrueType font: the message says what was tried and how to configure one."""


def is_truetype(path: Path) -> bool:
    """TrueType outlines (or a collection whose first font has them), not CFF."""
    try:
        with path.open("rb") as handle:
            head = handle.read(16)
            if head[:4] == b"ttcf" and len(head) >= 16:
                (first_offset,) = struct.unpack(">I", head[12:16])
                handle.seek(first_offset)
                return handle.read(4) in _TRUETYPE_TAGS
            return head[:4] in _TRUETYPE_TAGS
    except OSError:
        return False


def _load(path: Path) -> TTFont | None:
    """The font, if ReportLab can embed it and it has the Japanese glyphs; else None."""
    if not path.is_file() or not is_truetype(path):
        return None
    try:
        font = TTFont(f"PortalExport-{path.stem}", str(path))
    except TTFError:
        return None
    glyphs = font.face.charToGlyph
    if any(ord(character) not in glyphs for character in REQUIRED_CHARACTERS):
        return None
    return font


def _fontconfig_candidates() -> list[Path]:
    fc_match = shutil.which("fc-match")
    if fc_match is None:
        return []
    found: list[Path] = []
    for family in FONT_FAMILIES:
        try:
            result = subprocess.run(  # noqa: S603  (a fixed program and our own family names)
                [fc_match, "-f", "%{file}", family], capture_output=True, text=True, timeout=10, check=False
            )
        except (OSError, subprocess.SubprocessError):
            continue
        if result.returncode == 0 and result.stdout.strip():
            found.append(Path(result.stdout.strip()))
    return found


def find_font(configured: str | Path | None = None) -> tuple[Path, TTFont]:
    """The configured font (which must be usable), or the first usable one found on the system."""
    if configured:
        path = Path(configured)
        font = _load(path)
        if font is None:
            raise ExportFontMissing(
                f"The export font {path} (exports.font_path / PORTAL_EXPORT_FONT) is not a TrueType font "
                "with Japanese glyphs (ReportLab cannot embed CFF fonts such as Noto Sans CJK)."
            )
        return path, font
    tried: list[str] = []
    for path in [*_fontconfig_candidates(), *map(Path, KNOWN_FONT_PATHS)]:
        if str(path) in tried:
            continue
        tried.append(str(path))
        font = _load(path)
        if font is not None:
            return path, font
    raise ExportFontMissing(
        "No Japanese TrueType font for PDF exports: install fonts-ipaexfont (apt-get install "
        "fonts-ipaexfont) or set PORTAL_EXPORT_FONT (exports.font_path) to a TrueType .ttf file. "
        f"Tried: {', '.join(tried) or 'nothing (no fontconfig)'}."
    )


def register_font(configured: str | Path | None = None) -> str:
    """Register the export font with ReportLab (once per configured path, discovery once); returns its
    name for styles."""
    key = str(configured or "")
    with _lock:
        if key not in _registered:
            _path, font = find_font(configured)
            if font.fontName not in pdfmetrics.getRegisteredFontNames():
                pdfmetrics.registerFont(font)
            _registered[key] = font.fontName
        return _registered[key]
