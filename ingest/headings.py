"""Heading grammar: the numbered units a policy document or a law is made of.

Each pattern is named and runs on the matching copy (Simplified, half-width) of a paragraph's start.
The order of first appearance decides nesting: a kind already open closes everything below it and
starts a sibling; a new kind opens a child. Inside an article (第X条) the item numbers （一） 1. （1）
are part of the article, as laws are cited by article.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .normalize import chinese_number

_CN = "[一二三四五六七八九十百千零〇两]+"


@dataclass(frozen=True)
class HeadingPattern:
    kind: str
    code: str  # prefix of the clause-path component, e.g. "p" + 12 -> "p12"
    regex: re.Pattern[str]


HEADING_PATTERNS: tuple[HeadingPattern, ...] = (
    HeadingPattern("part", "b", re.compile(rf"^第(?P<num>{_CN})编(?:\s+|$)")),
    HeadingPattern("chapter", "c", re.compile(rf"^第(?P<num>{_CN})章(?:\s+|$)")),
    HeadingPattern("law_section", "j", re.compile(rf"^第(?P<num>{_CN})节(?:\s+|$)")),
    HeadingPattern("article", "a", re.compile(rf"^第(?P<num>{_CN})条(?:之(?P<sub>{_CN}))?(?:\s+|(?=\S)|$)")),
    HeadingPattern("section", "s", re.compile(rf"^(?P<num>{_CN})[、.]\s*")),
    HeadingPattern("item", "p", re.compile(rf"^\((?P<num>{_CN})\)\s*")),
    HeadingPattern("point", "n", re.compile(r"^(?P<num>\d{1,3})(?:[、]|\.(?!\d))\s*")),
    HeadingPattern("subpoint", "i", re.compile(r"^\((?P<num>\d{1,3})\)\s*")),
    HeadingPattern("circled", "o", re.compile(r"^(?P<num>[①②③④⑤⑥⑦⑧⑨⑩⑪⑫⑬⑭⑮⑯⑰⑱⑲⑳])\s*")),
    HeadingPattern("attachment", "fj", re.compile(r"^附件\s*(?P<num>\d*)\s*[:]?\s*(?=[^。]{0,40}$)")),
)
ARTICLE_CHILD_KINDS = frozenset({"item", "point", "subpoint", "circled"})
_CIRCLED = "①②③④⑤⑥⑦⑧⑨⑩⑪⑫⑬⑭⑮⑯⑰⑱⑲⑳"
TITLE_MAX_CHARS = 40


@dataclass(frozen=True)
class Heading:
    kind: str
    component: str  # path component, e.g. "p12" or "a3-1"
    number: str  # as printed in the original text
    rest_start: int  # where the heading's own text starts in the paragraph


def match_heading(copy: str, original: str) -> Heading | None:
    """The heading a paragraph starts with, if any; `copy` is the paragraph's matching copy."""
    for pattern in HEADING_PATTERNS:
        match = pattern.regex.match(copy)
        if match is None:
            continue
        numeral = match.group("num")
        if pattern.kind == "attachment":
            value = int(numeral) if numeral else 1
        elif pattern.kind == "circled":
            value = _CIRCLED.index(numeral) + 1
        else:
            value = chinese_number(numeral)
        component = f"{pattern.code}{value}"
        if pattern.kind == "article" and match.group("sub"):
            component += f"-{chinese_number(match.group('sub'))}"
        return Heading(pattern.kind, component, original[:match.end()].strip(), match.end())
    return None


def run_in_title(kind: str, text: str) -> str:
    """The run-in heading: a whole short heading line, or the words before the first 。."""
    if kind == "article":
        return ""
    first = re.split(r"[。]", text, maxsplit=1)[0].strip()
    if first == text.strip() and kind in ("part", "chapter", "law_section", "section", "attachment"):
        return first[:TITLE_MAX_CHARS * 2]
    return first if 0 < len(first) <= TITLE_MAX_CHARS else ""
