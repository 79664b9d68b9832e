"""The Japanese catalogue is complete: every string the code or a template shows has a translation."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
CATALOGUE = ROOT / "portal" / "translations" / "ja" / "LC_MESSAGES" / "messages.po"
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "lazy_gettext": None, "_l": None}
PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]")


def _source_messages() -> dict[str, str]:
    found: dict[str, str] = {}
    method_map = [("portal/**.py", "python"), ("templates/**.html", "jinja2")]
    for filename, _lineno, message, _comments, _context in extract_from_dir(
        str(ROOT), method_map=method_map, keywords=KEYWORDS
    ):
        ids = message if isinstance(message, tuple) else (message,)
        for msgid in ids:
            if msgid:
                found.setdefault(msgid, filename)
    return found


def _catalogue() -> dict[str, str]:
    with CATALOGUE.open("rb") as handle:
        catalogue = read_po(handle, locale="ja")
    entries = {}
    for message in catalogue:
        if not message.id or message.fuzzy:
            continue
        msgid = message.id if isinstance(message.id, str) else message.id[0]
        msgstr = message.string if isinstance(message.string, str) else message.string[0]
        entries[msgid] = msgstr
    return entries


def test_every_shown_string_has_a_japanese_translation() -> None:
    catalogue = _catalogue()
    missing = {
        msgid: where for msgid, where in _source_messages().items() if not catalogue.get(msgid, "").strip()
    }
    assert not missing, "untranslated (run `make extract-messages`, then translate):\n" + "\n".join(
        f"  {where}: {msgid!r}" for msgid, where in sorted(missing.items(), key=lambda item: item[1])
    )


def test_translations_keep_their_placeholders() -> None:
    for msgid, msgstr in _catalogue().items():
        assert sorted(PLACEHOLDER.findall(msgid)) == sorted(PLACEHOLDER.findall(msgstr)), msgid


def _visible_text(template: str) -> str:
    """What a template shows that is not produced by an expression: its literal text between tags."""
    text = re.sub(r"\{#.*?#\}", " ", template, flags=re.S)
    text = re.sub(r"\{%.*?%\}", " ", text, flags=re.S)
    text = re.sub(r"\{\{.*?\}\}", " ", text, flags=re.S)
    text = re.sub(r"<!--.*?-->", " ", text, flags=re.S)
    text = re.sub(r"<[^>]*>", " ", text, flags=re.S)
    return text


@pytest.mark.parametrize("template", sorted((ROOT / "templates").rglob("*.html")), ids=lambda path: path.name)
def test_templates_show_no_literal_untranslated_words(template: Path) -> None:
    leftover = re.findall(r"[A-Za-z]{2,}", _visible_text(template.read_text("utf-8")))
    assert not leftover, f"{template.relative_to(ROOT)} shows untranslated text: {leftover}"


def test_the_check_would_catch_an_untranslated_template_string() -> None:
    assert re.findall(r"[A-Za-z]{2,}", _visible_text("<p>{{ _('ok') }} Hello</p>")) == ["Hello"]
