"""Clause search: BM25 and dense retrieval over units, fused by reciprocal rank, returned as clauses.

    query ─► analyse (departments, «谁负责», references)
          ─► ranked unit lists: BM25 · dense · department responsibilities · resolved reference
             («谁负责 X»: only units that name responsible units, when any of the retrieved do)
          ─► reciprocal-rank fusion (Σ weight / (k + rank)) ─► best unit per clause ─► SearchHit

Filters (document, department with role, tag, level, target year) restrict every list in SQL, so a
narrow filter still returns its best matches rather than the few that survived a global top-N.

The work a query costs grows with its length (jieba, e5's attention, one highlight pass per word):
`QueryLimits` cuts what is analysed and what is encoded; a service sets them, a library caller may not.
"""

from __future__ import annotations

import copy
import html
import re
from dataclasses import dataclass, field

from ingest import Responsibility
from ingest.normalize import matching_copy

from .dense import VectorIndex
from .encoders import Encoder
from .lexical import LexicalIndex, terms
from .query import DepartmentNames, Places, QueryPlan, analyse
from .store import Store

MODES = ("hybrid", "bm25", "dense")
_ROLE_ORDER = {"lead": 0, "co": 1, "support": 2, "inherited": 3}
PLACE_SHARE = 0.2  # a place holding more of the collection's units than this is not searched apart


@dataclass(frozen=True)
class SearchFilters:
    doc: str | None = None
    department: str | None = None
    role: str | None = None
    tag: str | None = None
    level: str | None = None
    year: int | None = None


@dataclass(frozen=True)
class FusionWeights:
    bm25: float = 1.0
    dense: float = 1.0
    department: float = 1.0
    place: float = 1.0
    target: float = 2.0  # an explicit «目标是多少» outweighs one retrieval list
    reference: float = 10.0
    k: int = 10  # the RRF constant (tuned: eval/README.md)
    depth: int = 100  # how many units each list contributes


@dataclass(frozen=True)
class QueryLimits:
    analysed_chars: int | None = None  # the query is analysed, tokenised and highlighted up to here
    encoded_chars: int | None = None  # the encoder sees this much of the retrieval text


@dataclass(frozen=True)
class SearchHit:
    clause_id: str
    doc_id: str
    doc_title: str
    number: str
    heading_path: tuple[str, ...]
    title: str
    text: str
    highlight: str  # the matching task (or clause) text, HTML-escaped, query words in <mark>
    departments: tuple[Responsibility, ...]
    score: float
    task_ordinal: int
    matched_by: tuple[str, ...] = field(default=())


class Searcher:
    """Search one store. Opening builds the vector index from the embedding cache (no embedding)."""

    def __init__(self, store: Store, encoder: Encoder | None = None, weights: FusionWeights = FusionWeights(),
                 limits: QueryLimits = QueryLimits(), previous: "Searcher | None" = None):
        """`previous`, a searcher of this store opened before, lends its indexes' unchanged parts."""
        self.store, self.encoder, self.weights, self.limits = store, encoder, weights, limits
        lender = previous.vectors if previous is not None else None
        self.vectors = VectorIndex(store, encoder.name, encoder.dim, previous=lender) if encoder else None
        self.lexical = LexicalIndex.open(store, previous.lexical if previous is not None else None)
        self.names = DepartmentNames(store)
        self.places = Places(store)

    def on(self, store: Store) -> "Searcher":
        """The same indexes reading the store's rows through another connection (to the same version of
        the same store: a service's reader thread)."""
        bound = copy.copy(self)
        bound.store = store
        return bound

    def search(self, query: str, k: int = 10, filters: SearchFilters = SearchFilters(),
               mode: str = "hybrid") -> list[SearchHit]:
        if mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}")
        query = query[:self.limits.analysed_chars]
        plan = analyse(self.store, self.names, self.places, query, within=filters.doc)
        allowed = self._allowed_units(filters)
        lists = self._ranked_lists(plan, mode, allowed)
        fused = _fuse(lists, self.weights)
        return self._hits(fused, plan, k)

    def _ranked_lists(self, plan: QueryPlan, mode: str, allowed: set[int] | None) -> dict[str, list[int]]:
        depth, lists, vector = self.weights.depth, {}, None
        if mode in ("hybrid", "bm25") and not plan.department_only:
            lists["bm25"] = [unit for unit, _ in self.bm25(plan.text, depth, allowed)]
        if mode in ("hybrid", "dense") and self.vectors is not None and not plan.department_only:
            vector = self.encoder.encode_queries([matching_copy(plan.text)[:self.limits.encoded_chars]])[0]
            lists["dense"] = [unit for unit, _ in self.vectors.search(vector, depth, allowed)]
        if mode == "hybrid" and not lists.get("bm25") and not plan.departments and not plan.reference:
            lists.pop("dense", None)  # no word of the query occurs anywhere: nearest vectors would be noise
        if plan.places and lists:
            lists.update(self._place_lists(plan, lists, vector, allowed))
        # Target and «谁负责» signals re-rank what retrieval found; they never add units of their own.
        retrieved = list(dict.fromkeys(unit for units in lists.values() for unit in units))
        if plan.asks_who and retrieved:  # «谁负责 X»: the clauses about X that name who carries them out
            responsible = self._responsible_units(retrieved)
            if responsible:
                lists = {name: [unit for unit in units if unit in responsible] for name, units in lists.items()}
                retrieved = [unit for unit in retrieved if unit in responsible]
        if plan.departments:
            lists["department"] = self._department_units(plan.departments, allowed)
        if plan.asks_target and retrieved:
            lists["target"] = self._target_units(plan.text, retrieved)
        if plan.reference and plan.reference.clauses:
            lists["reference"] = self._clause_units(plan.reference.clauses, allowed)
        return lists

    def bm25(self, text: str, limit: int, allowed: set[int] | None = None) -> list[tuple[int, float]]:
        """(unit id, BM25 score) best first, over the jieba tokens the store holds."""
        return self.lexical.search(terms(" ".join(self.store.segmenter.tokens(text))), limit, allowed)

    def bm25_fts5(self, text: str, limit: int) -> list[tuple[int, float]]:
        """The same ranking computed by SQLite FTS5 alone: the reference the fast path is checked against."""
        tokens = list(dict.fromkeys(self.store.segmenter.tokens(text)))
        if not tokens:
            return []
        match = " OR ".join('"' + token.replace('"', '""') + '"' for token in tokens)
        return self.store.connection.execute(
            "SELECT rowid, -bm25(units_fts) FROM units_fts WHERE units_fts MATCH ? ORDER BY bm25(units_fts) LIMIT ?",
            (match, limit)).fetchall()

    def _place_lists(self, plan: QueryPlan, lists: dict[str, list[int]], vector, allowed: set[int] | None
                     ) -> dict[str, list[int]]:
        """«武汉…», «湖北…», «国家层面…». A place whose documents are a small part of the collection gets
        the same retrieval again inside them (BM25 without the place name), so its best units take part
        even when other documents — laws of the same subject — fill the global lists. A place holding
        most of the collection (国家 in a store of national laws) gets one more vote for its documents
        among the units already retrieved: searching inside it would cost a near-global scan."""
        marks = ",".join("?" * len(plan.places))
        execute = self.store.connection.execute
        if execute(f"SELECT count(*) FROM units WHERE doc_id IN ({marks})", plan.places).fetchone()[0] \
                > PLACE_SHARE * len(self.lexical):
            retrieved = list(dict.fromkeys(unit for units in lists.values() for unit in units))
            rows = _unit_rows(self.store, retrieved)
            return {"place": [unit for unit in retrieved if rows[unit][2] in plan.places]}
        within = {unit for unit, in execute(f"SELECT id FROM units WHERE doc_id IN ({marks})", plan.places)
                  if allowed is None or unit in allowed}
        found = {}
        if within and "bm25" in lists:
            text = self.places.strip(matching_copy(plan.text))  # place names are Simplified
            found["place:bm25"] = [unit for unit, _ in self.bm25(text, self.weights.depth, within)]
        if within and "dense" in lists:
            found["place:dense"] = [unit for unit, _ in self.vectors.search(vector, self.weights.depth, within)]
        return found

    def _responsible_units(self, units: list[int]) -> set[int]:
        """Those of `units` whose task or clause names a responsible unit (any role, inherited included)."""
        found = set()
        for start in range(0, len(units), 900):
            chunk = units[start:start + 900]
            found.update(unit for unit, in self.store.connection.execute(
                f"SELECT u.id FROM units u WHERE u.id IN ({','.join('?' * len(chunk))}) AND EXISTS (SELECT 1 "
                "FROM responsibilities r WHERE r.clause_id = u.clause_id AND "
                "(r.task_ordinal = u.task_ordinal OR r.task_ordinal = -1 OR u.task_ordinal = -1))", chunk))
        return found

    def _department_units(self, canonicals: tuple[str, ...], allowed: set[int] | None) -> list[int]:
        marks = ",".join("?" * len(canonicals))
        rows = self.store.connection.execute(
            "SELECT u.id, r.role FROM units u JOIN responsibilities r ON r.clause_id = u.clause_id "
            f"AND (r.task_ordinal = u.task_ordinal OR r.task_ordinal = -1) WHERE r.canonical IN ({marks}) "
            "ORDER BY u.id", canonicals).fetchall()
        best: dict[int, int] = {}
        for unit, role in rows:
            best[unit] = min(best.get(unit, 9), _ROLE_ORDER[role])
        ranked = sorted(best, key=lambda unit: (best[unit], unit))
        return [unit for unit in ranked if allowed is None or unit in allowed]

    def _target_units(self, text: str, retrieved: list[int]) -> list[int]:
        """Retrieved units of clauses with a target whose indicator shares words with the query, most first."""
        words = {token for token in self.store.segmenter.tokens(text) if len(token) > 1} - {"目标", "多少", "指标"}
        overlap = {}
        for start in range(0, len(retrieved), 900):
            chunk = retrieved[start:start + 900]
            for unit, targets in self.store.connection.execute(
                    "SELECT u.id, c.targets FROM units u JOIN clauses c ON c.id = u.clause_id "
                    f"WHERE u.id IN ({','.join('?' * len(chunk))}) AND c.targets != '[]'", chunk):
                indicators = matching_copy(" ".join(re.findall(r'"indicator": "([^"]*)"', targets)))
                if shared := sum(word in indicators for word in words):
                    overlap[unit] = shared
        return sorted(overlap, key=lambda unit: (-overlap[unit], unit))

    def _clause_units(self, clause_ids: tuple[str, ...], allowed: set[int] | None) -> list[int]:
        marks = ",".join("?" * len(clause_ids))
        rows = self.store.connection.execute(f"SELECT id FROM units WHERE clause_id IN ({marks}) ORDER BY id",
                                             clause_ids).fetchall()
        return [unit for unit, in rows if allowed is None or unit in allowed]

    def _allowed_units(self, filters: SearchFilters) -> set[int] | None:
        conditions, parameters = [], []
        if filters.doc:
            conditions.append("u.doc_id = ?")
            parameters.append(filters.doc)
        if filters.level:
            conditions.append("d.level = ?")
            parameters.append(filters.level)
        if filters.department or filters.role:
            canonicals = self.names.canonicals_for(filters.department) if filters.department else ()
            clause = ("EXISTS (SELECT 1 FROM responsibilities r WHERE r.clause_id = u.clause_id AND "
                      "(r.task_ordinal = u.task_ordinal OR r.task_ordinal = -1 OR u.task_ordinal = -1)")
            if canonicals:
                clause += f" AND r.canonical IN ({','.join('?' * len(canonicals))})"
                parameters += canonicals
            if filters.role:
                clause += " AND r.role = ?"
                parameters.append(filters.role)
            conditions.append(clause + ")")
        if filters.tag:
            conditions.append("(EXISTS (SELECT 1 FROM json_each(c.topics) WHERE value = ?) OR "
                              "EXISTS (SELECT 1 FROM json_each(c.measures) WHERE value = ?))")
            parameters += [filters.tag, filters.tag]
        if filters.year:
            conditions.append("EXISTS (SELECT 1 FROM json_each(c.targets) WHERE json_extract(value, '$.year') = ?)")
            parameters.append(int(filters.year))
        if not conditions:
            return None
        rows = self.store.connection.execute(
            "SELECT u.id FROM units u JOIN clauses c ON c.id = u.clause_id JOIN documents d ON d.id = u.doc_id "
            f"WHERE {' AND '.join(conditions)}", parameters).fetchall()
        return {unit for unit, in rows}

    def _hits(self, fused: list[tuple[int, float, tuple[str, ...]]], plan: QueryPlan, k: int) -> list[SearchHit]:
        units = _unit_rows(self.store, [unit for unit, _, _ in fused])
        best: dict[str, tuple[int, float, tuple[str, ...]]] = {}
        for unit, score, sources in fused:
            clause_id = units[unit][0]
            if clause_id not in best:
                best[clause_id] = (unit, score, sources)
            if len(best) == k:
                break
        clauses = self.store.clauses(list(best))
        doc_ids = sorted({units[unit][2] for unit, _, _ in best.values()})
        titles = dict(self.store.connection.execute(
            f"SELECT id, title FROM documents WHERE id IN ({','.join('?' * len(doc_ids))})", doc_ids).fetchall())
        tokens = self.store.segmenter.tokens(plan.text)
        hits = []
        for clause_id, (unit, score, sources) in best.items():
            clause, ordinal = clauses[clause_id], units[unit][1]
            shown = clause.tasks[ordinal].text if ordinal >= 0 else clause.text
            doc_id = units[unit][2]
            hits.append(SearchHit(clause_id, doc_id, titles[doc_id], clause.number, clause.heading_path,
                                  clause.title, clause.text, highlight(shown, tokens), clause.departments,
                                  score, ordinal, sources))
        return hits


def _unit_rows(store: Store, unit_ids: list[int]) -> dict[int, tuple[str, int, str]]:
    rows = []
    for start in range(0, len(unit_ids), 900):
        chunk = unit_ids[start:start + 900]
        rows += store.connection.execute(
            f"SELECT id, clause_id, task_ordinal, doc_id FROM units WHERE id IN ({','.join('?' * len(chunk))})",
            chunk).fetchall()
    return {unit: (clause_id, ordinal, doc_id) for unit, clause_id, ordinal, doc_id in rows}


def _fuse(lists: dict[str, list[int]], weights: FusionWeights) -> list[tuple[int, float, tuple[str, ...]]]:
    """Reciprocal-rank fusion: score(u) = Σ_lists weight / (k + rank), rank from 1."""
    scores: dict[int, float] = {}
    sources: dict[int, list[str]] = {}
    for name, units in lists.items():
        weight = getattr(weights, name.split(":")[0])  # place:bm25 and place:dense weigh as place
        for rank, unit in enumerate(units[:weights.depth], start=1):
            scores[unit] = scores.get(unit, 0.0) + weight / (weights.k + rank)
            sources.setdefault(unit, []).append(name)
    ranked = sorted(scores, key=lambda unit: (-scores[unit], unit))
    return [(unit, scores[unit], tuple(sources[unit])) for unit in ranked]


def highlight(text: str, tokens: list[str]) -> str:
    """HTML-escaped `text` with the query's tokens wrapped in <mark>, found on the Simplified copy."""
    copy = matching_copy(text).lower()
    spans = sorted((match.start(), match.end()) for token in set(tokens) if len(token) > 1 or re.match(r"\w", token)
                   for match in re.finditer(re.escape(token), copy))
    merged: list[list[int]] = []
    for start, end in spans:
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    pieces, position = [], 0
    for start, end in merged:
        pieces += [html.escape(text[position:start]), "<mark>", html.escape(text[start:end]), "</mark>"]
        position = end
    return "".join(pieces) + html.escape(text[position:])
