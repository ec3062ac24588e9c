"""The store's read statements: every query the index modules, the service and the evaluation make.

`Store` (store.py) inherits these; together they are the one door to the data: nothing else holds
the connection or writes SQL (tests/test_public_api.py checks it). Each method returns records, ids
or plain counts; JSON columns are decoded here (rows.py), never matched by pattern by their readers.
A second backend implements the same methods.

One rule says which responsibilities belong to a retrieval unit (`_UNIT_NAMES`): those of its task,
those the clause inherits, and — for a unit that is a whole clause or the text after its last marker
(task ordinal -1) — every one of the clause's.
"""

from __future__ import annotations

import sqlite3
from dataclasses import replace

from ingest import Citation, Clause, Document, Level, Responsibility, Role, Target
from ingest.errors import NotFound
from ingest.normalize import citation_key
from ingest.records import Change, Validity

from .rows import (DOCUMENT_FIELDS, ClauseText, Duty, Replacement, TwinLink, UnitRow, ValidityMark, citation_from_json,
                   clause_from_row, document_from_row, loads, target_from_json)
from .vector_reads import VectorReads, chunks, marks

_UNIT_NAMES = "r.clause_id = u.clause_id AND (r.task_ordinal = u.task_ordinal OR r.task_ordinal = -1 OR u.task_ordinal = -1)"
_LEVEL_ORDER = "CASE d.level WHEN 'national' THEN 0 WHEN 'provincial' THEN 1 WHEN 'municipal' THEN 2 ELSE 3 END"


class StoreReads(VectorReads):
    """Read queries over `self._connection` (the store's connection; store.py sets it)."""

    _connection: sqlite3.Connection

    # -- documents and clauses -------------------------------------------------------------------

    def documents(self) -> list[Document]:
        """Every document, without clauses, aliases or changes, ordered by id; each with the validity that
        holds (`_in_force`)."""
        rows = self._connection.execute(f"SELECT {', '.join(DOCUMENT_FIELDS)} FROM documents ORDER BY id")
        return self._in_force([document_from_row(row) for row in rows])

    def _in_force(self, documents: list[Document]) -> list[Document]:
        """The documents with the validity that holds: staff's mark; else 已废止 or 已修订 when another
        stored document, not older than it, names its title in a change (repealed before amended); else
        what its own text or manifest said. Titles compare as citations do (`citation_key`)."""
        marks = dict(self._connection.execute("SELECT doc_id, validity FROM validity_marks").fetchall())
        changed: dict[str, list[tuple[str, str, str]]] = {}  # title key → (validity, changing document, its date)
        for title, validity, doc_id, date in self._connection.execute(
                "SELECT c.title, c.validity, c.doc_id, d.date FROM document_changes c JOIN documents d ON d.id = c.doc_id"):
            changed.setdefault(citation_key(title), []).append((validity, doc_id, date))
        held = []
        for document in documents:
            effects = {validity for validity, doc_id, date in changed.get(citation_key(document.title), ())
                       if doc_id != document.id and not (date and document.date and date < document.date)}
            validity = marks.get(document.id) or next((value for value in (Validity.REPEALED, Validity.AMENDED)
                                                       if value in effects), document.validity)
            held.append(replace(document, validity=Validity(validity)))
        return held

    def twins(self, clause_ids: list[str]) -> dict[str, tuple[TwinLink, ...]]:
        """Clause id → its twins in other documents, most similar first (clauses without twins absent)."""
        found: dict[str, list[TwinLink]] = {}
        for chunk in chunks(list(dict.fromkeys(clause_ids))):
            rows = self._connection.execute(
                f"SELECT t.clause_id, t.twin_id, c.doc_id, d.level, t.similarity FROM twins t "
                f"JOIN clauses c ON c.id = t.twin_id JOIN documents d ON d.id = c.doc_id "
                f"WHERE t.clause_id IN ({marks(chunk)}) ORDER BY t.clause_id, t.similarity DESC, t.twin_id", chunk)
            for clause_id, twin_id, doc_id, level, similarity in rows:
                found.setdefault(clause_id, []).append(TwinLink(twin_id, doc_id, Level(level), similarity))
        return {clause_id: tuple(links) for clause_id, links in found.items()}

    def document(self, doc_id: str) -> Document:
        """A document with all its clauses, tasks and responsibilities."""
        header = self.document_header(doc_id)
        return replace(header, clauses=tuple(self._load_clauses("c.doc_id = ?", (doc_id,)).values()))

    def document_header(self, doc_id: str) -> Document:
        """A document's fields, aliases and changes, without its clauses (cheap however long the document is)."""
        row = self._connection.execute(f"SELECT {', '.join(DOCUMENT_FIELDS)} FROM documents WHERE id = ?",
                                       (doc_id,)).fetchone()
        if row is None:
            raise NotFound(f"没有文件 {doc_id}；用 policykb docs 查看已有文件的 ID")
        aliases = self._connection.execute("SELECT alias, canonical FROM aliases WHERE doc_id = ? ORDER BY alias",
                                           (doc_id,)).fetchall()
        changes = tuple(Change(title, Validity(validity)) for title, validity in self._connection.execute(
            "SELECT title, validity FROM document_changes WHERE doc_id = ? ORDER BY ordinal", (doc_id,)))
        return self._in_force([replace(document_from_row(row, aliases=tuple(map(tuple, aliases))), changes=changes)])[0]

    def validity_mark(self, doc_id: str) -> ValidityMark | None:
        """Staff's validity of a document, who set it and when; None when staff set none."""
        row = self._connection.execute("SELECT * FROM validity_marks WHERE doc_id = ?", (doc_id,)).fetchone()
        return ValidityMark(row[0], Validity(row[1]), row[2], row[3]) if row else None

    def document_titles(self, doc_ids: list[str] | None = None) -> dict[str, str]:
        """Document id → title: of the given documents (those that exist), or of all."""
        if doc_ids is None:
            return dict(self._connection.execute("SELECT id, title FROM documents ORDER BY id").fetchall())
        found: dict[str, str] = {}
        for chunk in chunks(sorted(set(doc_ids))):
            found.update(self._connection.execute(f"SELECT id, title FROM documents WHERE id IN ({marks(chunk)})",
                                                  chunk).fetchall())
        return found

    def clause_document_titles(self, clause_ids: list[str]) -> dict[str, str]:
        """Clause id → the title of its document."""
        found: dict[str, str] = {}
        for chunk in chunks(list(clause_ids)):
            found.update(self._connection.execute(
                f"SELECT c.id, d.title FROM clauses c JOIN documents d ON d.id = c.doc_id WHERE c.id IN ({marks(chunk)})",
                chunk).fetchall())
        return found

    def clause_count(self, doc_id: str | None = None) -> int:
        """The clauses of a document (or of the store)."""
        if doc_id is None:
            return self._connection.execute("SELECT count(*) FROM clauses").fetchone()[0]
        return self._connection.execute("SELECT count(*) FROM clauses WHERE doc_id = ?", (doc_id,)).fetchone()[0]

    def task_count(self, doc_id: str, *, measures: bool = False) -> int:
        """The tasks of a document, or (`measures`) its clauses that have tasks."""
        counted = "DISTINCT t.clause_id" if measures else "*"
        return self._connection.execute(f"SELECT count({counted}) FROM tasks t JOIN clauses c ON c.id = t.clause_id "
                                        "WHERE c.doc_id = ?", (doc_id,)).fetchone()[0]

    def counts_by_document(self) -> dict[str, tuple[int, int]]:
        """Document id → (clauses, tasks)."""
        clauses = dict(self._connection.execute("SELECT doc_id, count(*) FROM clauses GROUP BY doc_id").fetchall())
        tasks = dict(self._connection.execute(
            "SELECT c.doc_id, count(*) FROM tasks t JOIN clauses c ON c.id = t.clause_id GROUP BY c.doc_id").fetchall())
        return {doc_id: (count, tasks.get(doc_id, 0)) for doc_id, count in clauses.items()}

    def document_clauses(self, doc_id: str, offset: int, limit: int) -> tuple[Clause, ...]:
        """Clauses `offset` … `offset + limit - 1` of a document in reading order (a page of it)."""
        return tuple(self._load_clauses("c.doc_id = ? AND c.ordinal >= ? AND c.ordinal < ?",
                                        (doc_id, offset, offset + limit)).values())

    def clause_place(self, clause_id: str) -> tuple[str, int] | None:
        """(document id, position in reading order) of a clause, or None when there is no such clause."""
        row = self._connection.execute("SELECT doc_id, ordinal FROM clauses WHERE id = ?", (clause_id,)).fetchone()
        return (row[0], row[1]) if row else None

    def clauses(self, clause_ids: list[str]) -> dict[str, Clause]:
        """The given clauses with their tasks and responsibilities, by id (missing ids are left out)."""
        return self._load_clauses(f"c.id IN ({marks(clause_ids)})", tuple(clause_ids)) if clause_ids else {}

    def clause_texts(self, doc_id: str) -> tuple[ClauseText, ...]:
        """A document's clauses in reading order, their text only (what a version's history compares)."""
        return tuple(ClauseText(*row) for row in self._connection.execute(
            "SELECT id, number, title, text FROM clauses WHERE doc_id = ? ORDER BY ordinal", (doc_id,)))

    def replaced_versions(self, doc_id: str) -> list[tuple[Replacement, tuple[ClauseText, ...]]]:
        """Each replacement of a document, oldest first, with the clauses of the version it replaced
        (none for a replacement recorded before format 5 kept them)."""
        rows = self._connection.execute("SELECT rowid, * FROM replacements WHERE doc_id = ? ORDER BY rowid", (doc_id,))
        return [(Replacement(*row[1:]), tuple(ClauseText(*clause) for clause in self._connection.execute(
            "SELECT clause_id, number, title, text FROM replaced_clauses WHERE replacement = ? ORDER BY ordinal", (row[0],))))
            for row in rows.fetchall()]

    def clause_paths(self, doc_ids: tuple[str, ...]) -> list[tuple[str, tuple[str, ...]]]:
        """(clause id, numbering path) of the documents' clauses in reading order."""
        rows = self._connection.execute(f"SELECT id, path FROM clauses WHERE doc_id IN ({marks(doc_ids)}) "
                                        "ORDER BY doc_id, ordinal", doc_ids).fetchall()
        return [(clause_id, loads(path)) for clause_id, path in rows]

    def clause_citations(self) -> list[tuple[str, str, tuple[Citation, ...]]]:
        """(clause id, document id, citations) of every clause that cites something."""
        rows = self._connection.execute("SELECT id, doc_id, citations FROM clauses WHERE citations != '[]' "
                                        "ORDER BY doc_id, ordinal").fetchall()
        return [(clause_id, doc_id, tuple(citation_from_json(item) for item in loads(citations)))
                for clause_id, doc_id, citations in rows]

    def task_markers(self, doc_id: str | None = None) -> list[tuple[str, str, str]]:
        """(clause id, task text, marker as printed) of every task, of one document or all."""
        return self._connection.execute(
            "SELECT t.clause_id, t.text, t.marker FROM tasks t JOIN clauses c ON c.id = t.clause_id "
            "WHERE c.doc_id = ? OR ? IS NULL ORDER BY c.doc_id, c.ordinal, t.ordinal", (doc_id, doc_id)).fetchall()

    def _load_clauses(self, where: str, parameters: tuple) -> dict[str, Clause]:
        clause_rows = self._connection.execute(
            "SELECT c.id, c.kind, c.number, c.path, c.heading_path, c.title, c.text, c.topics, c.measures, "
            f"c.targets, c.citations FROM clauses c WHERE {where} ORDER BY c.doc_id, c.ordinal", parameters).fetchall()
        tasks: dict[str, list[tuple[int, str, str, str, str]]] = {}
        for clause_id, ordinal, text, marker, kind, deadline in self._connection.execute(
                f"SELECT t.clause_id, t.ordinal, t.text, t.marker, t.kind, t.deadline FROM tasks t "
                f"JOIN clauses c ON c.id = t.clause_id WHERE {where} ORDER BY t.clause_id, t.ordinal", parameters):
            tasks.setdefault(clause_id, []).append((ordinal, text, marker, kind, deadline))
        responsibilities: dict[str, dict[int, list[Responsibility]]] = {}
        for clause_id, task_ordinal, name, canonical, role, basis, level, includes in self._connection.execute(
                "SELECT r.clause_id, r.task_ordinal, r.name, r.canonical, r.role, r.basis, r.level, r.includes "
                f"FROM responsibilities r JOIN clauses c ON c.id = r.clause_id WHERE {where} "
                "ORDER BY r.clause_id, r.task_ordinal, r.ordinal", parameters):
            item = Responsibility(name, canonical, Role(role), basis, Level(level), loads(includes))
            responsibilities.setdefault(clause_id, {}).setdefault(task_ordinal, []).append(item)
        return {row[0]: clause_from_row(row, tasks.get(row[0], []), responsibilities.get(row[0], {})) for row in clause_rows}

    def counts(self) -> dict[str, int]:
        return {table: self._connection.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
                for table in ("documents", "clauses", "tasks", "responsibilities", "units", "units_fts")}

    # -- departments -----------------------------------------------------------------------------

    def department_name_pairs(self) -> list[tuple[str, str]]:
        """(name as printed or learned alias, canonical) of every department the store names."""
        rows = self._connection.execute("SELECT DISTINCT name, canonical FROM responsibilities").fetchall()
        return rows + self._connection.execute("SELECT alias, canonical FROM aliases").fetchall()

    def department_names(self, canonical: str) -> list[str]:
        """The names one department is printed with, and the aliases learned for it."""
        return [name for name, in self._connection.execute(
            "SELECT name FROM responsibilities WHERE canonical = ? UNION SELECT alias FROM aliases WHERE canonical = ?",
            (canonical, canonical))]

    def document_department_roles(self, doc_id: str) -> list[tuple[str, Level, Role, int]]:
        """(canonical, level, role, clauses naming it) for the departments one document names."""
        rows = self._connection.execute(
            "SELECT r.canonical, r.level, r.role, count(DISTINCT r.clause_id) FROM clauses c JOIN responsibilities r "
            "ON r.clause_id = c.id WHERE c.doc_id = ? GROUP BY r.canonical, r.level, r.role", (doc_id,))
        return [(canonical, Level(level), Role(role), count) for canonical, level, role, count in rows]

    def document_sha256s(self) -> dict[str, str]:
        """Document id → sha256 of its stored version, for every document."""
        return dict(self._connection.execute("SELECT id, sha256 FROM documents").fetchall())

    def department_roles(self) -> list[tuple[str, Level, Role, int, int]]:
        """(canonical, level, role, clauses, documents) for every department and role it holds."""
        rows = self._connection.execute(
            "SELECT r.canonical, r.level, r.role, count(DISTINCT r.clause_id), count(DISTINCT c.doc_id) "
            "FROM responsibilities r JOIN clauses c ON c.id = r.clause_id GROUP BY r.canonical, r.level, r.role")
        return [(canonical, Level(level), Role(role), clauses, documents) for canonical, level, role, clauses, documents in rows]

    def department_duties(self, canonical: str, offset: int = 0, limit: int | None = None) -> list[Duty]:
        """The clauses and tasks that name the department, national documents first, then in reading order:
        all of them, or `limit` from `offset` (a page)."""
        rows = self._connection.execute(
            "SELECT r.clause_id, c.doc_id, d.title, d.level, c.number, c.title, r.role, r.name, coalesce(t.text, ''), "
            "r.task_ordinal "
            "FROM responsibilities r JOIN clauses c ON c.id = r.clause_id JOIN documents d ON d.id = c.doc_id "
            "LEFT JOIN tasks t ON t.clause_id = r.clause_id AND t.ordinal = r.task_ordinal "
            f"WHERE r.canonical = ? ORDER BY {_LEVEL_ORDER}, c.doc_id, c.ordinal, r.task_ordinal LIMIT ? OFFSET ?",
            (canonical, -1 if limit is None else limit, offset)).fetchall()
        return [Duty(clause_id, doc_id, title, Level(level), number, clause_title, Role(role), name, task, ordinal)
                for clause_id, doc_id, title, level, number, clause_title, role, name, task, ordinal in rows]

    def duty_counts(self, canonical: str) -> dict[Role, int]:
        """How many duties the department has in each role it holds."""
        return {Role(role): count for role, count in self._connection.execute(
            "SELECT role, count(*) FROM responsibilities WHERE canonical = ? GROUP BY role", (canonical,))}

    # -- retrieval units -------------------------------------------------------------------------

    def unit_rows(self, unit_ids: list[int]) -> dict[int, UnitRow]:
        """Unit id → where the unit is (clause, task, document)."""
        found = {}
        for chunk in chunks(list(unit_ids)):
            for unit, clause_id, ordinal, doc_id in self._connection.execute(
                    f"SELECT id, clause_id, task_ordinal, doc_id FROM units WHERE id IN ({marks(chunk)})", chunk):
                found[unit] = UnitRow(clause_id, ordinal, doc_id)
        return found

    def unit_passages(self, limit: int | None = None) -> list[tuple[int, str, str]]:
        """(unit id, clause id, passage) in id order, the first `limit` or all."""
        return self._connection.execute("SELECT id, clause_id, passage FROM units ORDER BY id LIMIT ?",
                                        (-1 if limit is None else limit,)).fetchall()

    def unit_tokens(self, after: int = 0) -> list[tuple[int, str]]:
        """(unit id, space-joined jieba tokens) of the units with ids above `after`, in id order."""
        return self._connection.execute("SELECT rowid, tokens FROM units_fts WHERE rowid > ? ORDER BY rowid",
                                        (after,)).fetchall()

    def tokens_of_units(self, unit_ids: list[int]) -> dict[int, str]:
        """Unit id → its space-joined jieba tokens (the BM25 rows)."""
        found: dict[int, str] = {}
        for chunk in chunks(list(unit_ids)):
            found.update(self._connection.execute(
                f"SELECT rowid, tokens FROM units_fts WHERE rowid IN ({marks(chunk)})", chunk).fetchall())
        return found

    def unit_ids(self, *, up_to: int | None = None) -> list[int]:
        """Every unit id (up to `up_to` included), in order."""
        rows = self._connection.execute("SELECT id FROM units WHERE id <= ? OR ? IS NULL ORDER BY id", (up_to, up_to))
        return [unit for unit, in rows]

    def unit_count(self, *, up_to: int | None = None, after: int | None = None,
                   doc_ids: tuple[str, ...] = ()) -> int:
        """How many units: all, with ids up to / above a bound, or of the given documents."""
        conditions, parameters = [], []
        for condition, value in (("id <= ?", up_to), ("id > ?", after)):
            if value is not None:
                conditions.append(condition)
                parameters.append(value)
        if doc_ids:
            conditions.append(f"doc_id IN ({marks(doc_ids)})")
            parameters += doc_ids
        where = f" WHERE {' AND '.join(conditions)}" if conditions else ""
        return self._connection.execute(f"SELECT count(*) FROM units{where}", parameters).fetchone()[0]

    def units_of_documents(self, doc_ids: tuple[str, ...]) -> set[int]:
        return {unit for unit, in self._connection.execute(f"SELECT id FROM units WHERE doc_id IN ({marks(doc_ids)})",
                                                           doc_ids)}

    def units_of_clauses(self, clause_ids: tuple[str, ...]) -> list[int]:
        return [unit for unit, in self._connection.execute(
            f"SELECT id FROM units WHERE clause_id IN ({marks(clause_ids)}) ORDER BY id", clause_ids)]

    def units_naming_departments(self, unit_ids: list[int]) -> set[int]:
        """Those of the units whose task or clause names a responsible unit (any role, inherited included)."""
        found: set[int] = set()
        for chunk in chunks(list(unit_ids)):
            found.update(unit for unit, in self._connection.execute(
                f"SELECT u.id FROM units u WHERE u.id IN ({marks(chunk)}) AND EXISTS (SELECT 1 "
                f"FROM responsibilities r WHERE {_UNIT_NAMES})", chunk))
        return found

    def units_of_departments(self, canonicals: tuple[str, ...]) -> list[tuple[int, Role]]:
        """(unit id, role) for each unit that names one of the departments, in unit order."""
        rows = self._connection.execute(
            f"SELECT u.id, r.role FROM units u JOIN responsibilities r ON {_UNIT_NAMES} "
            f"WHERE r.canonical IN ({marks(canonicals)}) ORDER BY u.id", canonicals)
        return [(unit, Role(role)) for unit, role in rows]

    def unit_targets(self, unit_ids: list[int]) -> dict[int, tuple[Target, ...]]:
        """Unit id → the targets of its clause, for the units whose clause has any."""
        found = {}
        for chunk in chunks(list(unit_ids)):
            for unit, targets in self._connection.execute(
                    "SELECT u.id, c.targets FROM units u JOIN clauses c ON c.id = u.clause_id "
                    f"WHERE u.id IN ({marks(chunk)}) AND c.targets != '[]'", chunk):
                found[unit] = tuple(target_from_json(item) for item in loads(targets))
        return found

    def units_matching(self, *, doc: str | None = None, level: str | None = None,
                       departments: tuple[str, ...] | None = None, role: str | None = None,
                       tag: str | None = None, year: int | None = None) -> set[int] | None:
        """The units that pass every given filter (None: no filter given). `departments`: canonical
        names, one of which the unit must name (an empty tuple: any department), in `role` if given."""
        conditions: list[str] = []
        parameters: list[object] = []
        if doc:
            conditions.append("u.doc_id = ?")
            parameters.append(doc)
        if level:
            conditions.append("d.level = ?")
            parameters.append(level)
        if departments is not None or role:
            clause = f"EXISTS (SELECT 1 FROM responsibilities r WHERE {_UNIT_NAMES}"
            if departments:
                clause += f" AND r.canonical IN ({marks(departments)})"
                parameters += departments
            if role:
                clause += " AND r.role = ?"
                parameters.append(role)
            conditions.append(clause + ")")
        if tag:
            conditions.append("(EXISTS (SELECT 1 FROM json_each(c.topics) WHERE value = ?) OR "
                              "EXISTS (SELECT 1 FROM json_each(c.measures) WHERE value = ?))")
            parameters += [tag, tag]
        if year:
            conditions.append("EXISTS (SELECT 1 FROM json_each(c.targets) WHERE json_extract(value, '$.year') = ?)")
            parameters.append(int(year))
        if not conditions:
            return None
        rows = self._connection.execute(
            "SELECT u.id FROM units u JOIN clauses c ON c.id = u.clause_id JOIN documents d ON d.id = u.doc_id "
            f"WHERE {' AND '.join(conditions)}", parameters)
        return {unit for unit, in rows}

    def fts5_bm25(self, tokens: list[str], limit: int) -> list[tuple[int, float]]:
        """(unit id, BM25 score) best first as SQLite FTS5 ranks the tokens (any of them)."""
        if not tokens:
            return []
        match = " OR ".join('"' + token.replace('"', '""') + '"' for token in tokens)
        return self._connection.execute(
            "SELECT rowid, -bm25(units_fts) FROM units_fts WHERE units_fts MATCH ? ORDER BY bm25(units_fts) LIMIT ?",
            (match, limit)).fetchall()
