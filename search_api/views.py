"""JSON shapes of the contracts in DESIGN.md (`policykb show --json`, and the HTTP API)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from index.search import SearchHit
from ingest import Clause, Document, Responsibility

_DOCUMENT_KEYS = ("id", "title", "doc_number", "issuers", "date", "level", "source", "sha256", "script",
                  "format", "encoding", "addressees")


def department_json(item: Responsibility) -> dict[str, str]:
    return {"name": item.name, "canonical": item.canonical, "role": item.role}


def clause_json(clause: Clause) -> dict[str, Any]:
    return {
        "id": clause.id,
        "number": clause.number,
        "heading_path": list(clause.heading_path),
        "title": clause.title,
        "text": clause.text,
        "tasks": [{"text": task.text, "departments": [department_json(d) for d in task.departments]}
                  for task in clause.tasks],
        "departments": [department_json(d) for d in clause.departments],
        "tags": [*clause.topics, *clause.measures],
        "targets": [asdict(target) for target in clause.targets],
        "citations": [asdict(citation) for citation in clause.citations],
    }


def document_json(document: Document) -> dict[str, Any]:
    fields = {key: getattr(document, key) for key in _DOCUMENT_KEYS}
    fields["issuers"] = list(document.issuers)
    return {"document": fields, "clauses": [clause_json(clause) for clause in document.clauses]}


def hit_json(hit: SearchHit) -> dict[str, Any]:
    return {"clause_id": hit.clause_id, "doc_id": hit.doc_id, "doc_title": hit.doc_title, "number": hit.number,
            "heading_path": list(hit.heading_path), "text": hit.text, "highlight": hit.highlight,
            "departments": [department_json(item) for item in hit.departments], "score": round(hit.score, 6)}
