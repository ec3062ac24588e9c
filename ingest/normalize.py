"""Text normalisation for matching. Display always keeps the original text.

The matching copy is Simplified (OpenCC t2s), with full-width ASCII forms folded to half-width
（（一）→ (一)，：→ :) and the ideographic space folded to a space. Brackets that carry numbering
or nesting and have no half-width twin (〔〕〈〉《》、。) are left alone. The copy has the same length
as the original, so offsets found in it cut the original.
"""

from __future__ import annotations

import functools
import re

import opencc

_FULLWIDTH = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)}
_FULLWIDTH[0x3000] = 0x20
_CJK = re.compile(r"[\u4e00-\u9fff]")

CHINESE_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6,
                  "七": 7, "八": 8, "九": 9}
CHINESE_UNITS = {"十": 10, "百": 100, "千": 1000}


@functools.cache
def _converter(config: str) -> opencc.OpenCC:
    return opencc.OpenCC(config)


def to_simplified(text: str) -> str:
    """Traditional → Simplified, same length as the input (falls back to per-character conversion)."""
    converted = _converter("t2s").convert(text)
    if len(converted) == len(text):
        return converted
    convert = _converter("t2s").convert
    return "".join(char if len(out := convert(char)) != 1 else out for char in text)


def to_traditional(text: str) -> str:
    return _converter("s2t").convert(text)


def to_halfwidth(text: str) -> str:
    return text.translate(_FULLWIDTH)


@functools.lru_cache(maxsize=8192)
def matching_copy(text: str) -> str:
    """The copy patterns run on: Simplified, half-width ASCII forms; same length as `text`.

    Cached: parsing asks for the copy of the same paragraph and department name several times."""
    return to_halfwidth(to_simplified(text))


def compact(text: str) -> str:
    """Matching copy without any whitespace: for comparing names and titles."""
    return re.sub(r"\s+", "", matching_copy(text))


def citation_key(title: str) -> str:
    """A title for comparison with a citation: Simplified, no spaces, no 《》“”, and no 「中华人民共和国」
    anywhere, since citations write both 《民法典》 and 《中华人民共和国民法典》."""
    return re.sub(r"[《》〈〉“”\"]", "", compact(title)).replace("中华人民共和国", "")


def detect_script(text: str) -> str:
    """`traditional` when converting to Simplified changes at least 2 % of the CJK characters."""
    sample = "".join(_CJK.findall(text))[:20000]
    if not sample:
        return "simplified"
    changed = sum(a != b for a, b in zip(sample, to_simplified(sample)))
    return "traditional" if changed / len(sample) >= 0.02 else "simplified"


def chinese_number(numeral: str) -> int:
    """一 → 1, 十二 → 12, 二十六 → 26, 一百零三 → 103, 〇 → 0; digits pass through."""
    if numeral.isdigit():
        return int(numeral)
    total, current = 0, 0
    for char in numeral:
        if char in CHINESE_DIGITS:
            current = CHINESE_DIGITS[char]
        elif char in CHINESE_UNITS:
            total += (current or 1) * CHINESE_UNITS[char]
            current = 0
        else:
            raise ValueError(f"not a Chinese numeral: {numeral!r}")
    return total + current
