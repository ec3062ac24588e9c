"""Retrieval units: what BM25 and the vectors index. One unit per task; a clause without tasks is one unit;
signature blocks and bare headings are none (they are never an answer).

A unit's passage carries its heading context, as staff read it: document title › section › measure
title, then the task text and the departments named for it. The passage is stored in its matching
copy (Simplified, half-width): BM25 tokenises it and the encoder embeds it, so Traditional and
Simplified texts land on the same tokens and vectors (e5 scores a Traditional passage lower than its
Simplified twin for the same query), and queries are normalised the same way.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from ingest import Clause, Document
from ingest.normalize import compact, matching_copy


@dataclass(frozen=True)
class Unit:
    clause_id: str
    task_ordinal: int  # -1: the whole clause
    doc_id: str
    passage: str  # the matching copy (Simplified, half-width): what BM25 tokenises and the encoder embeds

    @property
    def passage_hash(self) -> str:
        return hashlib.sha256(self.passage.encode("utf-8")).hexdigest()


def clause_context(document_title: str, clause: Clause) -> str:
    heading = " › ".join((document_title, *clause.heading_path, f"{clause.number}{clause.title}".strip()))
    return heading.rstrip(" ›")


def document_units(document: Document) -> list[Unit]:
    return [Unit(unit.clause_id, unit.task_ordinal, unit.doc_id, matching_copy(unit.passage))
            for unit in _printed_units(document)]


def answers(clause: Clause) -> bool:
    """Whether a clause can answer a question: not the signature and date block, not a bare chapter
    heading (「第一章 总则」, whose words are all in its number and title). A numbered item that is only
    its title (「（五）培育新动能新优势。」 over its points) stays: a reference to it must find it."""
    if clause.kind == "signature":
        return False
    return clause.kind != "chapter" or len(compact(clause.text)) > len(compact(f"{clause.number}{clause.title}"))


def _printed_units(document: Document) -> list[Unit]:
    units = []
    for clause in filter(answers, document.clauses):
        context = clause_context(document.title, clause)
        if not clause.tasks:
            names = " ".join(item.name for item in clause.inherited)
            units.append(Unit(clause.id, -1, document.id, f"{context}\n{clause.text}\n{names}".strip()))
        for ordinal, task in enumerate(clause.tasks):
            names = " ".join(item.name for item in (*task.departments, *clause.inherited))
            units.append(Unit(clause.id, ordinal, document.id, f"{context}\n{task.text}\n{names}".strip()))
        if clause.tasks and (rest := clause.text.rsplit(clause.tasks[-1].marker, 1)[-1].strip()):
            units.append(Unit(clause.id, -1, document.id, f"{context}\n{rest}"))  # text after the last marker
    return units
