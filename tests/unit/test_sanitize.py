"""Markdown rendering and the HTML allow-list: an XSS corpus that must all come out inert."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest

from portal.security.sanitize import (
    ALLOWED_ATTRIBUTES,
    ALLOWED_TAGS,
    ALLOWED_URL_SCHEMES,
    render_markdown,
    sanitize_html,
)

#: Payloads typed into a document body (Markdown source). Each must render inert.
XSS_CORPUS = [
    "<script>alert(1)</script>",
    "<SCRIPT SRC=https://evil.example/x.js></SCRIPT>",
    "<img src=x onerror=alert(1)>",
    '<img src="javascript:alert(1)">',
    "<svg onload=alert(1)>",
    "<svg><script>alert(1)</script></svg>",
    '<iframe src="javascript:alert(1)"></iframe>',
    '<iframe srcdoc="<script>alert(1)</script>"></iframe>',
    '<object data="javascript:alert(1)"></object>',
    '<embed src="javascript:alert(1)">',
    "<body onload=alert(1)>",
    '<div style="background:url(javascript:alert(1))">x</div>',
    '<a href="javascript:alert(1)">click</a>',
    '<a href="JaVaScRiPt:alert(1)">click</a>',
    '<a href="&#106;avascript:alert(1)">click</a>',
    '<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">x</a>',
    '<form action="javascript:alert(1)"><button>go</button></form>',
    "<input onfocus=alert(1) autofocus>",
    "<details open ontoggle=alert(1)>",
    "<marquee onstart=alert(1)>x</marquee>",
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    '<noscript><p title="</noscript><img src=x onerror=alert(1)>">',
    "<style>@import 'https://evil.example/x.css';</style>",
    "<link rel=stylesheet href=https://evil.example/x.css>",
    '<meta http-equiv="refresh" content="0;url=javascript:alert(1)">',
    '<base href="https://evil.example/">',
    "<template><script>alert(1)</script></template>",
    "<!--<script>alert(1)</script>-->",
    '<p onclick="alert(1)">text</p>',
    '<a href="https://ok.example" onclick="alert(1)">x</a>',
    "[click](javascript:alert(1))",
    "[click](JAVASCRIPT:alert(1))",
    "[click](javascript&#58;alert(1))",
    "[click](  javascript:alert(1))",
    "[click](vbscript:msgbox(1))",
    "[click](data:text/html,<script>alert(1)</script>)",
    "[click](file:///etc/passwd)",
    "![img](javascript:alert(1))",
    "![img](https://evil.example/track.png)",
    '[a](https://ok.example "title\\" onmouseover=\\"alert(1)")',
    "<https://ok.example/?q=<script>alert(1)</script>>",
    "<javascript:alert(1)>",
    "`<script>alert(1)</script>`",
    "```html\n<script>alert(1)</script>\n```",
    "    <script>alert(1)</script>",
    "> <script>alert(1)</script>",
    "- <img src=x onerror=alert(1)>",
    "| a | b |\n|---|---|\n| <script>alert(1)</script> | <img src=x onerror=alert(1)> |",
    "**<script>alert(1)</script>**",
    "[<img src=x onerror=alert(1)>](https://ok.example)",
    "&lt;script&gt;alert(1)&lt;/script&gt;",
    "<scr<script>ipt>alert(1)</scr</script>ipt>",
    '"><script>alert(1)</script>',
    "'><img src=x onerror=alert(1)>",
    '<a href="https://ok.example" target="_blank">x</a>',
    "<video><source onerror=alert(1)></video>",
    "<audio src=x onerror=alert(1)>",
    "<isindex action=javascript:alert(1) type=image>",
    "<x onmouseover=alert(1)>hover</x>",
    "%3Cscript%3Ealert(1)%3C/script%3E",
]


class _Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, list[tuple[str, str | None]]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, attrs))


def assert_inert(html: str) -> None:
    collector = _Collector()
    collector.feed(html)
    for tag, attributes in collector.elements:
        assert tag in ALLOWED_TAGS, f"tag <{tag}> survived: {html!r}"
        for name, value in attributes:
            if tag == "a" and name == "rel":
                assert value == "noopener noreferrer"
                continue
            assert name in ALLOWED_ATTRIBUTES.get(tag, set()), (
                f"attribute {name} on <{tag}> survived: {html!r}"
            )
            if name == "href":
                scheme = re.match(r"\s*([a-zA-Z][a-zA-Z0-9+.-]*):", value or "")
                assert scheme is None or scheme.group(1).lower() in ALLOWED_URL_SCHEMES, html
        if tag == "a":
            assert ("rel", "noopener noreferrer") in attributes, html
    # Whatever else the text says, no element outside the allow-list exists to run it.
    assert "<script" not in html.lower()


def test_the_corpus_is_large_enough() -> None:
    assert len(XSS_CORPUS) >= 50
    assert len(set(XSS_CORPUS)) == len(XSS_CORPUS)


@pytest.mark.parametrize("payload", XSS_CORPUS)
def test_every_payload_renders_inert(payload: str) -> None:
    assert_inert(render_markdown(payload))


@pytest.mark.parametrize("payload", XSS_CORPUS)
def test_the_sanitiser_alone_also_neutralises_raw_html(payload: str) -> None:
    """Defence in depth: even HTML that bypassed Markdown would be cleaned."""
    assert_inert(sanitize_html(payload))


def test_raw_html_is_shown_as_text_not_dropped() -> None:
    html = render_markdown("before <script>alert(1)</script> after")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "before" in html and "after" in html


def test_markdown_still_works() -> None:
    source = "# 見出し\n\n- **重要** [資料](https://example.jp/a)\n\n"
    html = render_markdown(source + "| 鉱種 | 依存度 |\n|---|---|\n| ガリウム | 高 |")
    assert "<h1>見出し</h1>" in html
    assert "<strong>重要</strong>" in html
    assert '<a href="https://example.jp/a" rel="noopener noreferrer">資料</a>' in html
    assert "<table>" in html and "<td>ガリウム</td>" in html


def test_the_checker_would_catch_a_live_payload() -> None:
    with pytest.raises(AssertionError):
        assert_inert('<img src=x onerror="alert(1)">')
    with pytest.raises(AssertionError):
        assert_inert('<a href="javascript:alert(1)" rel="noopener noreferrer">x</a>')
    with pytest.raises(AssertionError):
        assert_inert("<script>alert(1)</script>")
