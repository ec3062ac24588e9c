"""The department list (directory.list_departments) kept per document, so each data version costs a query
per changed document instead of one over every responsibility of the store (3 s at 111k units).

A document's rows are (canonical, level, role, clauses naming it); the totals are sums over documents,
and a key's documents are the documents that have it. A document is taken as unchanged while its
sha256 is the same (a new version of a document is a new sha256; its clauses are stored with it).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from ingest import Level, Role

from .directory import DepartmentSummary
from .store import Store

Key = tuple[str, Level, Role]  # canonical, level, role


@dataclass(frozen=True)
class DepartmentCounts:
    by_document: dict[str, tuple[str, tuple[tuple[Key, int], ...]]]  # doc id → (sha256, its rows)
    clauses: Counter[Key]
    documents: Counter[Key]

    @classmethod
    def of(cls, store: Store, previous: "DepartmentCounts | None" = None) -> "DepartmentCounts":
        """The counts of the store as its connection reads it, from `previous` for unchanged documents."""
        hashes = store.document_sha256s()
        before = previous.by_document if previous is not None else {}
        by_document = {doc_id: before[doc_id] for doc_id, sha256 in hashes.items()
                       if doc_id in before and before[doc_id][0] == sha256}
        clauses = Counter(previous.clauses) if previous is not None else Counter()
        documents = Counter(previous.documents) if previous is not None else Counter()
        for doc_id in set(before) - set(by_document):  # deleted or replaced since
            for key, count in before[doc_id][1]:
                clauses[key] -= count
                documents[key] -= 1
        for doc_id in set(hashes) - set(by_document):  # added or replaced since
            rows = tuple(((canonical, level, role), count)
                         for canonical, level, role, count in store.document_department_roles(doc_id))
            by_document[doc_id] = (hashes[doc_id], rows)
            for key, count in rows:
                clauses[key] += count
                documents[key] += 1
        return cls(by_document, +clauses, +documents)

    def summaries(self) -> list[DepartmentSummary]:
        """What list_departments returns: every department, most clauses first."""
        merged: dict[str, dict] = {}
        for key in sorted(self.clauses):  # the order of list_departments' GROUP BY
            canonical, level, role = key
            entry = merged.setdefault(canonical, {"level": level, "roles": {}, "documents": 0})
            entry["roles"][role] = self.clauses[key]
            entry["documents"] = max(entry["documents"], self.documents[key])
        summaries = [DepartmentSummary(canonical, entry["level"],
                                       tuple((role, entry["roles"][role]) for role in Role if role in entry["roles"]),
                                       entry["documents"]) for canonical, entry in merged.items()]
        return sorted(summaries, key=lambda summary: (-summary.clauses, summary.canonical))
