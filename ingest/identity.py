"""Stable identifiers. Nothing here uses a counter or a random value.

A document id comes from its 文号 when it has one (国发〔2019〕3号 → 国发-2019-3), else from its
full title in Simplified script without punctuation (武汉市减污降碳协同增效实施方案), plus the part for
laws split over several files (中华人民共和国民法典-总则). An id must never be shared by two different
documents, so when the title cannot be written in the id whole — longer than 60 characters, or
holding punctuation or characters outside the id alphabet (CJK Extension B) — the id is its first 60
characters and `-` with 8 hex digits of the SHA-256 of the normalised title (`title_key`): titles
sharing 60 characters, or differing only in punctuation or in Extension-B characters, get different
ids, while the same title read from a .txt, a .docx or a .pdf gets the same one. The hash is of the
title, not of the content, so a new version of a document keeps its id.

A clause id is the document id and the clause's numbering path joined by dots: 「二、…（一）」 →
武汉市减污降碳协同增效实施方案.s2.p1; articles are numbered through a whole law, so their path is
the article alone (….a3). Ids contain only CJK characters, ASCII letters, digits and '-' and '.',
so they are readable and need no escaping beyond the browser's own UTF-8 encoding.

`with_document_id` moves a document (and its clause ids) to another id: the store's callers use it
when a different document already holds the id (see index.ingestion.place_document).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import replace

from .normalize import compact
from .records import Document

_DOC_NUMBER_PARTS = re.compile(r"^(?P<prefix>[\u4e00-\u9fa5]{1,10})[〔\[［(（](?P<year>\d{4})[〕\]］)）](?P<number>\d+)号$")
_DECREE = re.compile(r"^国令第(?P<number>\d+)号$")
_UNSAFE = re.compile(r"[^0-9A-Za-z\u4e00-\u9fff-]+")
MAX_ID_CHARS = 60
HASH_CHARS = 8
# Marks that print differently in copies of one title (curly or straight quotes, dashes, dots).
_EQUIVALENT_MARKS = str.maketrans({"“": '"', "”": '"', "„": '"', "「": '"', "」": '"', "『": '"', "』": '"',
                                   "‘": "'", "’": "'", "—": "-", "–": "-", "―": "-", "‐": "-", "‑": "-",
                                   "・": "·", "•": "·"})


def title_key(title: str) -> str:
    """The title as identity compares it: Simplified, half-width, no whitespace, one form of each mark."""
    return compact(title).translate(_EQUIVALENT_MARKS)


def short_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:HASH_CHARS]


def document_id(doc_number: str, title: str, part: str = "") -> str:
    number = compact(doc_number)
    if match := _DOC_NUMBER_PARTS.match(number):
        return f"{match['prefix']}-{match['year']}-{match['number']}"
    if match := _DECREE.match(number):
        return f"国令-{match['number']}"
    key = title_key(title)
    slug = _UNSAFE.sub("", key)
    if key and (slug != key or len(slug) > MAX_ID_CHARS):  # the id cannot hold the whole title
        slug = f"{slug[:MAX_ID_CHARS] or 'untitled'}-{short_hash(key)}"
    if part:
        slug = f"{slug}-{_UNSAFE.sub('', compact(part))}"
    return slug or "untitled"


def clause_id(doc_id: str, path: tuple[str, ...]) -> str:
    return ".".join((doc_id, *path))


def with_document_id(document: Document, doc_id: str) -> Document:
    """The same document under another id, its clause ids derived from the new one."""
    clauses = tuple(replace(clause, id=clause_id(doc_id, clause.path)) for clause in document.clauses)
    return replace(document, id=doc_id, clauses=clauses)
