"""JSON shapes of the contracts in DESIGN.md (`policykb show --json`, and the HTTP API)."""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass
from typing import Any

from index import Searcher, SearchFilters, SearchHit, Store, resolve
from index.answer import Answer, Assignment, build_answer
from index.catalog import DocumentFilters, filter_documents, issuer_choices, list_documents, year_choices
from index.crosscheck import CrossCheckRow
from index.rows import ValidityMark
from index.versions import Version
from index.directory import (DepartmentSummary, counterparts, department_duties, department_names, duty_roles,
                             find_department)
from index.query import DepartmentNames, document_place
from index.resolve import citation_of, clause_component
from index.search import SearchMode
from ingest import Clause, Document, Level, Responsibility, Role
from ingest.errors import NotFound
from ingest.normalize import compact

from .derived import CrossCheck

_DOCUMENT_KEYS = ("id", "title", "doc_number", "issuers", "date", "level", "source", "sha256", "script",
                  "format", "encoding", "addressees", "validity")


def department_json(item: Responsibility) -> dict[str, str | None]:
    """A task's unit; a lead says where it came from (lead_basis: stated | rule | presumed)."""
    return {"name": item.name, "canonical": item.canonical, "role": item.role, "basis": item.basis,
            "lead_basis": item.lead_basis.value if item.lead_basis else None}


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
            "departments": [department_json(item) for item in hit.departments], "score": round(hit.score, 6),
            "twins": [asdict(twin) for twin in hit.twins]}


# -- views shared by the API and the pages (the pages render these same dicts) ---------------------

def search_view(searcher: Searcher, query: str, k: int, filters: SearchFilters, mode: SearchMode,
                facet_depth: int = 100) -> dict[str, Any]:
    """Results best first, with each clause's tags and targets, and facet counts over the top `facet_depth`."""
    if mode != SearchMode.BM25 and searcher.vectors is None:
        mode = SearchMode.BM25  # no vectors yet: keyword search only (the status says how far embedding is)
    outcome = searcher.find(query, max(k, facet_depth), filters, mode)  # the hits carry their clause's tags
    hits = list(outcome.hits)
    results = [{**hit_json(hit), "title": hit.title, "task": hit.task_ordinal, "tags": list(hit.tags),
                "targets": [asdict(target) for target in hit.targets], **_level_of(searcher, hit.doc_id)}
               for hit in hits[:k]]
    found = build_answer(searcher.store, searcher.places, query, outcome.hits)
    return {"query": query, "mode": mode, "answer": answer_json(found) if found else None,
            "asked_departments": list(dict.fromkeys([*outcome.departments, *(
                searcher.names.canonicals_for(filters.department) if filters.department else ())])),
            "results": results, "facets": _facets(hits),
            "cited_documents": [{"id": doc_id, "title": title} for doc_id, title in outcome.cited],
            "not_found": outcome.not_found,
            "closest_documents": [{"id": doc_id, "title": title} for doc_id, title in outcome.closest],
            "suggestions": [{"typed": typed, "name": name, "query": compact(query).replace(typed, name)}
                            for typed, name in outcome.suggestions]}


def _level_of(searcher: Searcher, doc_id: str) -> dict[str, Any]:
    header = searcher.places.document(doc_id)
    return {"level": header.level, "place": document_place(header)}


def existing_examples(searcher: Searcher, examples: tuple[str, ...]) -> list[str]:
    """The examples this store can answer: a citation whose document it holds, a department it knows,
    other questions with at least one word the store's passages contain (the home page offers no
    «民法典第三条» to a store without 民法典)."""
    kept = []
    for example in examples:
        if citation_of(example) is not None:
            found = resolve(searcher.store, example)
            if found.clauses or (found.documents and not clause_component(example)):
                kept.append(example)
        elif searcher.names.find(example)[0] or searcher.bm25(example, 1):
            kept.append(example)
    return kept


def answer_json(answer: Answer) -> dict[str, Any]:
    """The answer block: the first result's assignment, and the same measure's at the other levels."""
    return {**_assignment_json(answer.main), "topic": answer.topic,
            "levels": [_assignment_json(item) for item in answer.levels]}


def _assignment_json(item: Assignment) -> dict[str, Any]:
    return {"clause_id": item.clause_id, "doc_id": item.doc_id, "doc_title": item.doc_title, "level": item.level,
            "place": item.place, "number": item.number, "sentence": item.sentence,
            "departments": [{"name": unit.name, "canonical": unit.canonical, "role": unit.role,
                             "basis": unit.basis.value if unit.basis else None, "local": unit.local}
                            for unit in item.units]}


def _facets(hits: list[SearchHit]) -> dict[str, list[dict[str, Any]]]:
    departments: Counter[str] = Counter()
    documents: Counter[tuple[str, str]] = Counter()
    tags: Counter[str] = Counter()
    for hit in hits:
        departments.update({item.canonical for item in hit.departments if item.role != Role.INHERITED})
        documents[(hit.doc_id, hit.doc_title)] += 1
        tags.update(set(hit.tags))
    return {"departments": [{"name": name, "count": count} for name, count in departments.most_common(12)],
            "documents": [{"id": doc_id, "title": title, "count": count}
                          for (doc_id, title), count in documents.most_common(10)],
            "tags": [{"name": name, "count": count} for name, count in tags.most_common(15)]}


def clause_view(store: Store, clause_id: str, cited_by: dict[str, tuple[str, ...]]) -> dict[str, Any]:
    """A clause in context: its document, section, neighbours, resolved citations and who cites it (read
    clause by clause: the cost does not grow with the document)."""
    place = store.clause_place(clause_id)
    if place is None:
        raise NotFound(f"没有条款 {clause_id}；条款编号见文件页面或 policykb show")
    (doc_id, ordinal), document = place, store.document_header(place[0])
    around = store.document_clauses(doc_id, max(ordinal - 1, 0), 3 if ordinal else 2)
    position = next(index for index, item in enumerate(around) if item.id == clause_id)
    clause, previous = around[position], around[position - 1] if position else None
    following = around[position + 1] if position + 1 < len(around) else None
    section_ids = [".".join([document.id, *clause.path[:depth]]) for depth in range(1, len(clause.path))]
    by_id = store.clauses(section_ids)
    citations = []
    for citation in clause.citations:
        found = resolve(store, citation.text, within=document.id)
        citations.append({**asdict(citation), "documents": list(found.documents), "clauses": list(found.clauses)})
    citing = store.clauses(list(cited_by.get(clause_id, ()) + cited_by.get(document.id, ())))
    titles = store.clause_document_titles(list(citing))
    return {**clause_json(clause), "doc_id": document.id, "doc_title": document.title, "doc_level": document.level,
            "permalink": f"/clauses/{clause_id}",
            "previous": _brief(previous), "next": _brief(following),
            "sections": [_brief(by_id[i]) for i in section_ids if i in by_id],
            "citations": citations,
            "cited_by": [{**_brief(item), "doc_title": titles[item.id]} for item in citing.values()],
            "twins": _twins(store, clause_id)}


def _twins(store: Store, clause_id: str) -> list[dict[str, Any]]:
    """The same measure in other documents (national first), as a search result lists them."""
    links = store.twins([clause_id]).get(clause_id, ())
    clauses = store.clauses([link.clause_id for link in links])
    twins = []
    for link in links:
        document = store.document_header(link.doc_id)
        clause = clauses[link.clause_id]
        twins.append({"clause_id": link.clause_id, "doc_id": link.doc_id, "doc_title": document.title,
                      "level": document.level, "place": document_place(document), "number": clause.number,
                      "title": clause.title, "similarity": round(link.similarity, 3)})
    return sorted(twins, key=lambda twin: (twin["level"].rank, twin["doc_id"]))


def _brief(clause: Clause | None) -> dict[str, Any] | None:
    if clause is None:
        return None
    return {"id": clause.id, "number": clause.number, "title": clause.title or clause.text[:40]}


def department_view(store: Store, names: DepartmentNames, departments: list[DepartmentSummary], name: str,
                    offset: int, limit: int) -> dict[str, Any]:
    """What the departments a name stands for lead or support — a page of `limit` duties from `offset` for
    each, grouped by document, with the number of all — and their counterparts at other levels."""
    canonicals = find_department({item.canonical for item in departments}, names, name)
    if not canonicals:
        raise NotFound(f"没有部门「{name}」负责的条款；可以试试全称或常用简称，或查看部门列表 /departments")
    levels = {item.canonical: item.level for item in departments}
    entries = []
    for canonical in canonicals:
        documents: dict[str, dict[str, Any]] = {}
        for duty in department_duties(store, canonical, offset, limit):
            group = documents.setdefault(duty.doc_id, {"doc_id": duty.doc_id, "doc_title": duty.doc_title,
                                                       "level": duty.doc_level, "duties": []})
            group["duties"].append({"clause_id": duty.clause_id, "number": duty.number, "title": duty.title,
                                    "role": duty.role, "name": duty.name, "task": duty.task})
        roles = duty_roles(store, canonical)
        entries.append({"canonical": canonical, "level": levels.get(canonical, Level.UNKNOWN),
                        "names": list(department_names(store, canonical)), "roles": roles,
                        "counterparts": [{"canonical": other, "level": level}
                                         for other, level in counterparts(departments, canonical)],
                        "page": {"offset": offset, "limit": limit, "total": sum(roles.values())},
                        "documents": list(documents.values())})
    return {"query": name, "departments": entries}


def departments_json(departments: list[DepartmentSummary]) -> list[dict[str, Any]]:
    return [{"canonical": item.canonical, "level": item.level, "roles": dict(item.roles), "clauses": item.clauses,
             "documents": item.documents} for item in departments]


def documents_json(store: Store, filters: DocumentFilters = DocumentFilters()) -> list[dict[str, Any]]:
    """The documents that pass `filters`, in their order, each with its clause and task counts."""
    return _summaries(store, list_documents(store, filters))


def documents_view(store: Store, filters: DocumentFilters) -> dict[str, Any]:
    """The documents page: the filtered list, how many are stored, and the choices of its filters."""
    every = store.documents()
    return {"documents": _summaries(store, filter_documents(every, filters)), "total": len(every), "issuers": issuer_choices(every),
            "years": year_choices(every)}


def _summaries(store: Store, documents: list[Document]) -> list[dict[str, Any]]:
    counts = store.counts_by_document()
    return [{**document_json(document)["document"], "clauses": counts.get(document.id, (0, 0))[0],
             "tasks": counts.get(document.id, (0, 0))[1]} for document in documents]


def validity_json(document: Document, mark: ValidityMark | None) -> dict[str, Any]:
    """A document's validity that holds, and staff's mark (who set what, when) if there is one."""
    return {"id": document.id, "validity": document.validity,
            "mark": {"validity": mark.validity, "actor": mark.actor, "marked_at": mark.marked_at} if mark else None}


def history_json(document: Document, versions: list[Version]) -> dict[str, Any]:
    """A document's replaced versions, newest first, each with its clause-level changes."""
    return {"id": document.id, "title": document.title, "versions": [
        {**{key: value for key, value in asdict(version.replacement).items() if key != "doc_id"},
         "recorded": version.recorded, "changes": [asdict(change) for change in version.changes]}
        for version in versions]}


@dataclass(frozen=True)
class DocumentPage:
    """A page of a document: its clauses `offset` … `offset + len(document.clauses) - 1` of `total`."""

    document: Document  # the header, with this page's clauses only
    offset: int
    limit: int
    total: int
    related: tuple[tuple[str, str, str], ...]  # (id, title, level) of the same-topic documents at other levels
    crosscheck: CrossCheck  # the rows of this page's measures only


def document_page_json(page: DocumentPage) -> dict[str, Any]:
    """`policykb show --json` for the page's clauses, the page, its responsibility matrix and cross-check."""
    return {**document_json(page.document), "page": {"offset": page.offset, "limit": page.limit, "total": page.total},
            "matrix": matrix_view(page.document),
            "related": [{"id": doc, "title": title, "level": level} for doc, title, level in page.related],
            "crosscheck": crosscheck_json(list(page.crosscheck.rows)), "crosscheck_status": page.crosscheck.status,
            "missing_from_this_level": [asdict(item) for item in page.crosscheck.missing]}


def matrix_view(document: Document) -> dict[str, Any]:
    """The responsibility matrix: departments (rows, most measures first) × measures (columns), of the
    clauses `document` holds (a page of them)."""
    measures = [clause for clause in document.clauses if clause.tasks]
    cells: dict[str, dict[str, str]] = {}
    names: dict[str, str] = {}
    for clause in measures:
        for item in clause.departments:
            if item.role == Role.INHERITED:
                continue
            row = cells.setdefault(item.canonical, {})
            names.setdefault(item.canonical, item.name)
            if row.get(clause.id) != Role.LEAD:
                row[clause.id] = item.role
    order = sorted(cells, key=lambda name: (-sum(role == Role.LEAD for role in cells[name].values()), -len(cells[name]), name))
    return {"measures": [{"id": clause.id, "number": clause.number, "title": clause.title} for clause in measures],
            "rows": [{"canonical": name, "name": names[name], "cells": cells[name]} for name in order]}


def crosscheck_json(rows: list[CrossCheckRow]) -> list[dict[str, Any]]:
    return [{"clause_id": row.clause_id, "number": row.number, "title": row.title, "leads": list(row.leads),
             "counterparts": [None if match is None else asdict(match) for match in row.counterparts]} for row in rows]
