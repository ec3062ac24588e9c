"""Headings inside paragraphs: text that lost its line breaks (a crawler's one-line body, a PDF
conversion that joined paragraphs, a news item quoting the document after 「全文：」).

A numbering token (一、 （一） 1. （1）) inside a paragraph starts a clause when the numbering around
it shows it is a heading and not a cross-reference or an enumeration: it is the next number of its
kind (二、 after 一、), or the first of a kind below the heading just opened ((一) after 二、), it
follows a sentence end, a space or a heading title (never 、, a digit or 第), and what follows it is
text. Paragraphs are cut only in a document whose numbering lives mostly inside paragraphs (at least
`MIN_SPLITS` inline headings, and no fewer than the headings that open a paragraph), so documents with
their line breaks intact — inline 「（1）…（2）…」 enumerations included — are read exactly as before.
"""

from __future__ import annotations

import re

from .headings import match_heading
from .normalize import matching_copy

MIN_SPLITS = 3
_CN = "[一二三四五六七八九十]+"
_TOKEN = re.compile(rf"{_CN}、|\({_CN}\)|(?<![\d.])\d{{1,2}}[.、](?!\d)|\(\d{{1,2}}\)")
_BEFORE_OK = re.compile(r"[。;!?:\s)”」』]|[\u4e00-\u9fa5]")
_ORDER = ("section", "item", "point", "subpoint")


def split_inline_headings(blocks: list[str]) -> list[list[str]]:
    """For each block, the pieces it is cut into (itself alone when nothing is cut)."""
    last: dict[str, int] = {}
    cuts: list[list[int]] = []
    total = opening = 0
    for block in blocks:
        copy = matching_copy(block)
        positions: list[int] = []
        if heading := match_heading(copy, block):
            _advance(last, heading.kind, _number(heading.component))
            opening += 1
        for match in _TOKEN.finditer(copy):
            if match.start() == 0:
                continue
            heading = match_heading(copy[match.start():], block[match.start():])
            if heading is None or heading.kind not in _ORDER or not _plausible(copy, match.start(), match.end()):
                continue
            number = _number(heading.component)
            expected = last.get(heading.kind, 0) + 1
            opened_child = number == 1 and heading.kind not in last
            if number == expected or opened_child:
                positions.append(match.start())
                _advance(last, heading.kind, number)
        cuts.append(positions)
        total += len(positions)
    if total < MIN_SPLITS or total < opening:
        return [[block] for block in blocks]
    return [[piece for piece in _cut(block, positions) if piece.strip()] for block, positions in zip(blocks, cuts)]


def _advance(last: dict[str, int], kind: str, number: int) -> None:
    """A heading of `kind` closes the numbering of every kind below it."""
    last[kind] = number
    if kind in _ORDER:
        for lower in _ORDER[_ORDER.index(kind) + 1:]:
            last.pop(lower, None)


def _number(component: str) -> int:
    digits = re.search(r"\d+", component)
    return int(digits.group(0)) if digits else 0


def _plausible(copy: str, start: int, end: int) -> bool:
    before, after = copy[start - 1], copy[end:end + 1]
    if before in "、第" or before.isdigit() or not _BEFORE_OK.match(before):
        return False
    return bool(after) and not after.isdigit() and after not in "、)" and not re.match(r"[一二三四五六七八九十]、", after)


def _cut(block: str, positions: list[int]) -> list[str]:
    edges = [0, *positions, len(block)]
    return [block[start:end].strip() for start, end in zip(edges, edges[1:])]
