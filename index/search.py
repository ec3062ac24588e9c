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
import enum
import html
import re
from dataclasses import dataclass, field

from ingest import Level, Responsibility, Role, Target
from ingest.normalize import matching_copy

from .dense import VectorIndex
from .encoders import Encoder
from .lexical import LexicalIndex, terms
from .query import DepartmentNames, Places, QueryPlan, analyse
from .store import Store



class SearchMode(enum.StrEnum):
    """Which retrieval lists take part: both fused (the default), keywords only, vectors only."""

    HYBRID = "hybrid"
    BM25 = "bm25"
    DENSE = "dense"


PLACE_SHARE = 0.2  # a place holding more of the collection's units than this is not searched apart


@dataclass(frozen=True)
class SearchFilters:
    doc: str | None = None
    department: str | None = None
    role: Role | None = None
    tag: str | None = None
    level: Level | None = None
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
    tags: tuple[str, ...] = ()  # the clause's topics and measures
    targets: tuple[Target, ...] = ()


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
               mode: SearchMode = SearchMode.HYBRID) -> list[SearchHit]:
        mode = SearchMode(mode)  # a ValueError names the modes
        query = query[:self.limits.analysed_chars]
        plan = analyse(self.store, self.names, self.places, query, within=filters.doc)
        allowed = self._allowed_units(filters)
        lists = self._ranked_lists(plan, mode, allowed)
        fused = _fuse(lists, self.weights)
        return self._hits(fused, plan, k)

    def _ranked_lists(self, plan: QueryPlan, mode: SearchMode, allowed: set[int] | None) -> dict[str, list[int]]:
        depth, lists, vector = self.weights.depth, {}, None
        if mode in (SearchMode.HYBRID, SearchMode.BM25) and not plan.department_only:
            lists["bm25"] = [unit for unit, _ in self.bm25(plan.text, depth, allowed)]
        if mode in (SearchMode.HYBRID, SearchMode.DENSE) and self.vectors is not None and not plan.department_only:
            vector = self.encoder.encode_queries([matching_copy(plan.text)[:self.limits.encoded_chars]])[0]
            lists["dense"] = [unit for unit, _ in self.vectors.search(vector, depth, allowed)]
        if mode == SearchMode.HYBRID and not lists.get("bm25") and not plan.departments and not plan.reference:
            lists.pop("dense", None)  # no word of the query occurs anywhere: nearest vectors would be noise
        if plan.places and lists:
            lists.update(self._place_lists(plan, lists, vector, allowed))
        # Target and «谁负责» signals re-rank what retrieval found; they never add units of their own.
        retrieved = list(dict.fromkeys(unit for units in lists.values() for unit in units))
        if plan.asks_who and retrieved:  # «谁负责 X»: the clauses about X that name who carries them out
            responsible = self.store.units_naming_departments(retrieved)
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
        return self.store.fts5_bm25(list(dict.fromkeys(self.store.segmenter.tokens(text))), limit)

    def _place_lists(self, plan: QueryPlan, lists: dict[str, list[int]], vector, allowed: set[int] | None
                     ) -> dict[str, list[int]]:
        """«武汉…», «湖北…», «国家层面…». A place whose documents are a small part of the collection gets
        the same retrieval again inside them (BM25 without the place name), so its best units take part
        even when other documents — laws of the same subject — fill the global lists. A place holding
        most of the collection (国家 in a store of national laws) gets one more vote for its documents
        among the units already retrieved: searching inside it would cost a near-global scan."""
        if self.store.unit_count(doc_ids=plan.places) > PLACE_SHARE * len(self.lexical):
            retrieved = list(dict.fromkeys(unit for units in lists.values() for unit in units))
            rows = self.store.unit_rows(retrieved)
            return {"place": [unit for unit in retrieved if rows[unit].doc_id in plan.places]}
        within = self.store.units_of_documents(plan.places)
        if allowed is not None:
            within &= allowed
        found = {}
        if within and "bm25" in lists:
            text = self.places.strip(matching_copy(plan.text))  # place names are Simplified
            found["place:bm25"] = [unit for unit, _ in self.bm25(text, self.weights.depth, within)]
        if within and "dense" in lists:
            found["place:dense"] = [unit for unit, _ in self.vectors.search(vector, self.weights.depth, within)]
        return found

    def _department_units(self, canonicals: tuple[str, ...], allowed: set[int] | None) -> list[int]:
        """Units naming the departments, the strongest role first (a lead before a supporter)."""
        best: dict[int, int] = {}
        for unit, role in self.store.units_of_departments(canonicals):
            best[unit] = min(best.get(unit, len(Role)), role.rank)
        ranked = sorted(best, key=lambda unit: (best[unit], unit))
        return [unit for unit in ranked if allowed is None or unit in allowed]

    def _target_units(self, text: str, retrieved: list[int]) -> list[int]:
        """Retrieved units of clauses with a target whose indicator shares words with the query, most first."""
        words = {token for token in self.store.segmenter.tokens(text) if len(token) > 1} - {"目标", "多少", "指标"}
        overlap = {}
        for unit, targets in self.store.unit_targets(retrieved).items():
            indicators = matching_copy(" ".join(target.indicator for target in targets))
            if shared := sum(word in indicators for word in words):
                overlap[unit] = shared
        return sorted(overlap, key=lambda unit: (-overlap[unit], unit))

    def _clause_units(self, clause_ids: tuple[str, ...], allowed: set[int] | None) -> list[int]:
        return [unit for unit in self.store.units_of_clauses(clause_ids) if allowed is None or unit in allowed]

    def _allowed_units(self, filters: SearchFilters) -> set[int] | None:
        departments = None
        if filters.department or filters.role:
            departments = self.names.canonicals_for(filters.department) if filters.department else ()
        return self.store.units_matching(doc=filters.doc, level=filters.level, departments=departments,
                                         role=filters.role, tag=filters.tag, year=filters.year)

    def _hits(self, fused: list[tuple[int, float, tuple[str, ...]]], plan: QueryPlan, k: int) -> list[SearchHit]:
        units = self.store.unit_rows([unit for unit, _, _ in fused])
        best: dict[str, tuple[int, float, tuple[str, ...]]] = {}
        for unit, score, sources in fused:
            clause_id = units[unit].clause_id
            if clause_id not in best:
                best[clause_id] = (unit, score, sources)
            if len(best) == k:
                break
        clauses = self.store.clauses(list(best))
        titles = self.store.document_titles([units[unit].doc_id for unit, _, _ in best.values()])
        tokens = self.store.segmenter.tokens(plan.text)
        hits = []
        for clause_id, (unit, score, sources) in best.items():
            clause, ordinal, doc_id = clauses[clause_id], units[unit].task_ordinal, units[unit].doc_id
            shown = clause.tasks[ordinal].text if ordinal >= 0 else clause.text
            hits.append(SearchHit(clause_id, doc_id, titles[doc_id], clause.number, clause.heading_path,
                                  clause.title, clause.text, highlight(shown, tokens), clause.departments,
                                  score, ordinal, sources, (*clause.topics, *clause.measures), clause.targets))
        return hits


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
