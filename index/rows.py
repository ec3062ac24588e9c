"""How the store's rows become records and back: the JSON columns, a document's and a clause's row.

Kept apart from store.py, which owns the statements; these only convert what they read or write.
"""

from __future__ import annotations

import enum
import json
from dataclasses import dataclass

from ingest import Citation, Clause, Document, Level, Responsibility, Role, Target, Task
from ingest.records import Validity

DOCUMENT_FIELDS = ("id", "title", "doc_number", "issuers", "date", "level", "source", "sha256", "script",
                   "format", "encoding", "addressees", "validity")


@dataclass(frozen=True)
class StoreVersion:
    """Where a store's history stands: derived files record it, and are current only on its lineage."""

    store_id: str
    data_version: int
    token: str


@dataclass(frozen=True)
class Replacement:
    """One stored version replaced by another (`Store.replacements`)."""

    doc_id: str
    replaced_at: str  # ISO 8601, UTC
    actor: str  # who asked: "cli:USER", "api:CLIENT-ADDRESS"
    old_sha256: str
    old_title: str
    new_sha256: str
    new_title: str


@dataclass(frozen=True)
class ValidityMark:
    """A validity staff set for a document (`Store.set_validity`)."""

    doc_id: str
    validity: Validity
    actor: str  # who set it: "api:CLIENT-ADDRESS"
    marked_at: str  # ISO 8601, UTC


@dataclass(frozen=True)
class ClauseText:
    """A clause of a version, as a history compares it: its id (its numbering path), number, title, text."""

    id: str
    number: str
    title: str
    text: str


class Outcome(enum.StrEnum):
    """What putting a document (or ingesting a file) did."""

    ADDED = "added"
    REPLACED = "replaced"  # another version was stored under its id, and is recorded in `replacements`
    UNCHANGED = "unchanged"  # the same bytes are stored already
    OLDER = "older"  # dated before the stored version: not stored
    EXISTS = "exists"  # another version is stored and the caller did not ask to replace it
    FAILED = "failed"  # the file could not be read or parsed (ingesting a folder)

    @property
    def label(self) -> str:
        return {"added": "新增", "replaced": "更新", "unchanged": "未变", "older": "旧版未替换", "exists": "已有其他版本",
                "failed": "失败"}[self.value]


@dataclass(frozen=True)
class UnitRow:
    """Where a retrieval unit is: its clause, its task there (-1: the clause's own text), its document."""

    clause_id: str
    task_ordinal: int
    doc_id: str


@dataclass(frozen=True)
class Duty:
    """One clause (and task) a department is named in, with its role there."""

    clause_id: str
    doc_id: str
    doc_title: str
    doc_level: Level
    number: str
    title: str
    role: Role
    name: str  # the department as printed there
    task: str  # the task text ("" for an inherited duty)
    task_ordinal: int = -1  # the task's place in the clause; -1 for a duty of the whole clause (inherited)


@dataclass(frozen=True)
class TwinLink:
    """A near-identical measure of another document (twins.py), with the Jaccard similarity of the two."""

    clause_id: str
    doc_id: str
    level: Level
    similarity: float


def dumps(value: object) -> str:
    return json.dumps(value, ensure_ascii=False)


def loads(text: str) -> tuple:
    """A JSON list column as a tuple; most are empty, and skipping the decoder for them halves a page's load."""
    return () if text == "[]" else tuple(json.loads(text))


def document_from_row(row: tuple, clauses: tuple[Clause, ...] = (), aliases: tuple = ()) -> Document:
    fields = dict(zip(DOCUMENT_FIELDS, row))
    fields["issuers"] = tuple(json.loads(fields["issuers"]))
    fields["level"] = Level(fields["level"])
    fields["validity"] = Validity(fields["validity"])
    return Document(**fields, aliases=aliases, clauses=clauses)


def clause_from_row(row: tuple, tasks: list[tuple[int, str, str, str, str]], responsibilities: dict[int, list[Responsibility]]) -> Clause:
    clause_id, kind, number, path, heading_path, title, text, topics, measures, targets, citations = row
    return Clause(
        id=clause_id, kind=kind, number=number, path=loads(path), heading_path=loads(heading_path), title=title,
        text=text,
        tasks=tuple(Task(task_text, marker, tuple(responsibilities.get(ordinal, ())), task_kind, deadline)
                    for ordinal, task_text, marker, task_kind, deadline in tasks),
        inherited=tuple(responsibilities.get(-1, ())), topics=loads(topics), measures=loads(measures),
        targets=tuple(target_from_json(item) for item in loads(targets)),
        citations=tuple(citation_from_json(item) for item in loads(citations)))


def target_from_json(item: dict) -> Target:
    return Target(**item)


def citation_from_json(item: dict) -> Citation:
    return Citation(**item)
