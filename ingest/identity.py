"""Stable identifiers. Nothing here uses a counter or a random value.

A document id comes from its 文号 when it has one (国发〔2019〕3号 → 国发-2019-3), else from its
title in Simplified script without punctuation (武汉市减污降碳协同增效实施方案), plus the part for
laws split over several files (中华人民共和国民法典-总则). A clause id is the document id and the
clause's numbering path joined by dots: 「二、…（一）」 → 武汉市减污降碳协同增效实施方案.s2.p1;
articles are numbered through a whole law, so their path is the article alone (….a3). The ids
contain only CJK characters, ASCII letters, digits and '-' and '.', so they are readable and need
no escaping beyond the browser's own UTF-8 encoding.
"""

from __future__ import annotations

import re

from .normalize import compact

_DOC_NUMBER_PARTS = re.compile(r"^(?P<prefix>[\u4e00-\u9fa5]{1,10})[〔\[［(（](?P<year>\d{4})[〕\]］)）](?P<number>\d+)号$")
_DECREE = re.compile(r"^国令第(?P<number>\d+)号$")
_UNSAFE = re.compile(r"[^0-9A-Za-z\u4e00-\u9fff-]+")
MAX_ID_CHARS = 60


def document_id(doc_number: str, title: str, part: str = "") -> str:
    number = compact(doc_number)
    if match := _DOC_NUMBER_PARTS.match(number):
        return f"{match['prefix']}-{match['year']}-{match['number']}"
    if match := _DECREE.match(number):
        return f"国令-{match['number']}"
    slug = _UNSAFE.sub("", compact(title))[:MAX_ID_CHARS]
    if part:
        slug = f"{slug}-{_UNSAFE.sub('', compact(part))}"
    return slug or "untitled"


def clause_id(doc_id: str, path: tuple[str, ...]) -> str:
    return ".".join((doc_id, *path))
