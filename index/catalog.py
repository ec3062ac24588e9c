"""The documents list: filter and sort the stored documents' headers (never their clauses).

A query `q` matches a title or a 文号 on the matching copy (Simplified, half-width, no spaces), so
「武漢市」 finds 武汉市… and 「国办发[2018]117号」, 「国办发（2018）117号」 or 「国办发2018117号」 find 国办发〔2018〕117号;
every word of `q` must match. The other filters are exact: a level, an issuer as printed (compared on
the matching copy), a year of the document's date, a validity (the one that holds: index.reads). Sorting: newest first (undated last), by title, or
by level (national first, newest first within a level).

The filters run over `Store.documents()`, one header row per document: the cost grows with the
number of documents, not with their length.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass

from ingest import Document, Level
from ingest.normalize import compact
from ingest.records import Validity

from .store import Store

_BRACKETS = re.compile(r"[〔〕\[\]［］()（）【】{}<>〈〉《》\"“”'‘’]")


class DocumentOrder(enum.StrEnum):
    """How the documents list is sorted."""

    DATE = "date"  # newest first; undated documents last
    TITLE = "title"
    LEVEL = "level"  # national first, newest first within a level

    @property
    def label(self) -> str:
        return {"date": "日期（新的在前）", "title": "标题", "level": "层级"}[self.value]


@dataclass(frozen=True)
class DocumentFilters:
    q: str = ""  # words of a title or a 文号
    level: Level | None = None
    issuer: str | None = None
    year: int | None = None
    validity: Validity | None = None
    order: DocumentOrder = DocumentOrder.DATE


def list_documents(store: Store, filters: DocumentFilters = DocumentFilters()) -> list[Document]:
    """The stored documents (headers only) that pass `filters`, in their order."""
    return filter_documents(store.documents(), filters)


def filter_documents(documents: list[Document], filters: DocumentFilters) -> list[Document]:
    """Those of `documents` that pass `filters`, in their order."""
    return sort_documents([document for document in documents if matches(document, filters)], filters.order)


def matches(document: Document, filters: DocumentFilters) -> bool:
    if filters.level is not None and document.level != filters.level:
        return False
    if filters.issuer and compact(filters.issuer) not in {compact(name) for name in document.issuers}:
        return False
    if filters.year is not None and document.date[:4] != f"{filters.year:04d}":
        return False
    if filters.validity is not None and document.validity != filters.validity:
        return False
    words = [match_key(word) for word in filters.q.split()]
    return all(word in match_key(document.title) or word in match_key(document.doc_number) for word in words if word)


def match_key(text: str) -> str:
    """A title or 文号 for matching: the matching copy without spaces, brackets or quotes."""
    return _BRACKETS.sub("", compact(text))


def sort_documents(documents: list[Document], order: DocumentOrder) -> list[Document]:
    by_title = sorted(documents, key=lambda document: (compact(document.title), document.id))
    if order == DocumentOrder.TITLE:
        return by_title
    newest = sorted(by_title, key=lambda document: document.date, reverse=True)
    newest = [document for document in newest if document.date] + [document for document in newest if not document.date]
    if order == DocumentOrder.LEVEL:
        return sorted(newest, key=lambda document: document.level.rank)  # stable: newest first within a level
    return newest


def issuer_choices(documents: list[Document]) -> list[str]:
    """Every issuer named by `documents`, most frequent first: the choices of the list's issuer filter."""
    counts: dict[str, int] = {}
    for document in documents:
        for name in dict.fromkeys(document.issuers):
            counts[name] = counts.get(name, 0) + 1
    return sorted(counts, key=lambda name: (-counts[name], name))


def year_choices(documents: list[Document]) -> list[int]:
    """The years `documents` are dated in, newest first."""
    return sorted({int(document.date[:4]) for document in documents if document.date[:4].isdigit()}, reverse=True)
