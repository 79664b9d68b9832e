"""The stylesheet's blocks close where they should. The portal's CSS nests style rules only inside at-rules
(@media, @supports, @container); a style rule left open swallows every rule after it, which modern browsers
then read as nested rules that no longer match (once, `.pager {` lost its brace and the meeting tabs, the
agenda, the minutes' portions and the charts all lost their styles)."""

from __future__ import annotations

import re

from portal.config import PROJECT_ROOT

STYLESHEET = PROJECT_ROOT / "static" / "css" / "portal.css"


def unnested_problems(css: str) -> list[str]:
    """Where a style rule opens inside another style rule, a block closes that never opened, or a block
    stays open at the end; each problem names its line."""

    # Blank out comments and strings, keeping the line breaks so line numbers stay right.
    def blank(match: re.Match[str]) -> str:
        return re.sub(r"[^\n]", " ", match.group(0))

    css = re.sub(r"/\*.*?\*/|\"(?:[^\"\\\n]|\\.)*\"|'(?:[^'\\\n]|\\.)*'", blank, css, flags=re.S)
    problems: list[str] = []
    stack: list[tuple[str, int]] = []  # (kind, line it opened on)
    prelude_start = 0
    for index, char in enumerate(css):
        if char not in "{};":
            continue
        line = css.count("\n", 0, index) + 1
        if char == "{":
            kind = "at" if css[prelude_start:index].strip().startswith("@") else "style"
            if kind == "style" and stack and stack[-1][0] == "style":
                problems.append(f"line {line}: a style rule inside the rule opened on line {stack[-1][1]}")
            stack.append((kind, line))
        elif char == "}":
            if not stack:
                problems.append(f"line {line}: a closing brace without an open block")
            else:
                stack.pop()
        prelude_start = index + 1
    problems.extend(f"line {line}: a block never closed" for _, line in stack)
    return problems


def test_the_portal_stylesheet_closes_every_rule() -> None:
    assert unnested_problems(STYLESHEET.read_text("utf-8")) == []


def test_an_unclosed_rule_is_found() -> None:
    css = ".pager {\n  display: flex;\n.tabs ul {\n  list-style: none;\n}\n"
    assert unnested_problems(css) == [
        "line 3: a style rule inside the rule opened on line 1",
        "line 1: a block never closed",
    ]


def test_rules_inside_media_queries_comments_and_strings_are_fine() -> None:
    css = (
        '/* { not a block */\n@media print {\n  .a { content: "}"; }\n  .b { color: red; }\n}\n'
        "@supports not selector(:focus-visible) { .c { outline: 0; } }\n"
    )
    assert unnested_problems(css) == []


def test_a_stray_closing_brace_is_found() -> None:
    assert unnested_problems(".a { color: red; }\n}\n") == ["line 2: a closing brace without an open block"]
