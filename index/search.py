"""Clause search: BM25 and dense retrieval over units, fused by normalised score, returned as clauses.

    query ─► analyse (departments, «谁负责», references)
          ─► ranked unit lists: BM25 · dense · department responsibilities · resolved reference
             («谁负责 X»: only units that name responsible units, when any of the retrieved do)
          ─► fusion (`fusion.fuse`: normalised BM25 and cosine scores, ranks for the rest) ─► best unit per clause
          ─► twins grouped (twins.py: one result per measure, its other levels in `twins`) ─► SearchHit

A deployment's own place (`locality`, e.g. 武汉市) takes part as if the question named it, with its
own weight, when the question names no place; and a result's twin of that place (or of the place
named) is the one shown.

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

from ingest import Clause, Level, Responsibility, Role, Target
from ingest.normalize import matching_copy

from .dense import VectorIndex
from .encoders import Encoder
from .fusion import FusionWeights, fuse
from .lexical import LexicalIndex, terms
from .query import DepartmentNames, Places, QueryPlan, analyse, document_place
from .relevance import Relevance, RelevanceFloor, content_terms, coverage, missing_quantity, missing_years
from .rows import TwinLink
from .store import Store



class SearchMode(enum.StrEnum):
    """Which retrieval lists take part: both fused (the default), keywords only, vectors only."""

    HYBRID = "hybrid"
    BM25 = "bm25"
    DENSE = "dense"


_CLOSEST_DOCUMENTS = 5  # documents offered when a question is cut
DEFAULT_FLOOR = RelevanceFloor()  # calibrated: eval/README.md «Relevance floor»
_TWIN_SCAN = 200  # the first clauses of a fused list whose twins are read: enough for k results
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
class QueryLimits:
    analysed_chars: int | None = None  # the query is analysed, tokenised and highlighted up to here
    encoded_chars: int | None = None  # the encoder sees this much of the retrieval text


@dataclass(frozen=True)
class HitTwin:
    """The same measure in another document, shown with a result (its level and place side by side)."""

    clause_id: str
    doc_id: str
    doc_title: str
    level: Level
    place: str  # 武汉市, 湖北省, 全国; "" when the document names none
    number: str
    title: str


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
    twins: tuple[HitTwin, ...] = ()  # the same measure in documents of other levels, national first
    kind: str = ""  # the clause's heading kind: article (第X条 of a law), section, item, …


@dataclass(frozen=True)
class SearchOutcome:
    hits: tuple[SearchHit, ...]
    relevance: Relevance | None  # the evidence read (None: a department or reference question, or no hit)
    closest: tuple[tuple[str, str], ...] = ()  # (doc id, title) of the documents nearest a question cut
    suggestions: tuple[tuple[str, str], ...] = ()  # (as typed, known name): 「市水物局」 → 市水务局
    cited: tuple[tuple[str, str], ...] = ()  # (doc id, title) of the documents a citation query names
    not_found: str = ""  # what a citation query names that the store lacks: 《民法典》, or 第三条 of a cited document
    departments: tuple[str, ...] = ()  # canonical names of the departments the question names


class Searcher:
    """Search one store. Opening builds the vector index from the embedding cache (no embedding)."""

    def __init__(self, store: Store, encoder: Encoder | None = None, weights: FusionWeights = FusionWeights(),
                 limits: QueryLimits = QueryLimits(), previous: "Searcher | None" = None, locality: str = "",
                 floor: RelevanceFloor = DEFAULT_FLOOR):
        """`previous`, a searcher of this store opened before, lends its indexes' unchanged parts.
        `locality`: the deployment's place (武汉市), its documents first when a question names no place."""
        self.store, self.encoder, self.weights, self.limits, self.floor = store, encoder, weights, limits, floor
        lender = previous.vectors if previous is not None else None
        self.vectors = VectorIndex(store, encoder.name, encoder.dim, previous=lender) if encoder else None
        self.lexical = LexicalIndex.open(store, previous.lexical if previous is not None else None)
        self.names = DepartmentNames(store)
        self.places = Places(store)
        self.local_documents = self.places.find(locality) if locality else ()

    def on(self, store: Store) -> "Searcher":
        """The same indexes reading the store's rows through another connection (to the same version of
        the same store: a service's reader thread)."""
        bound = copy.copy(self)
        bound.store = store
        return bound

    def search(self, query: str, k: int = 10, filters: SearchFilters = SearchFilters(),
               mode: SearchMode = SearchMode.HYBRID) -> list[SearchHit]:
        return self.find(query, k, filters, mode).hits

    def find(self, query: str, k: int = 10, filters: SearchFilters = SearchFilters(),
             mode: SearchMode = SearchMode.HYBRID) -> SearchOutcome:
        """The results, or none when the best of them are under the relevance floor (then the documents
        they came from are offered apart), with the evidence read."""
        mode = SearchMode(mode)  # a ValueError names the modes
        query = query[:self.limits.analysed_chars]
        plan = analyse(self.store, self.names, self.places, query, within=filters.doc)
        allowed = self._allowed_units(filters)
        if plan.citation is not None and (cited := self._cited(plan, k, allowed)) is not None:
            return cited
        lists, scored, cosine = self._ranked_lists(plan, mode, allowed)
        fused = fuse(lists, scored, self.weights)
        tokens = self.store.segmenter.tokens(plan.text)  # for the highlights and the coverage alike
        hits = self._hits(fused, plan, tokens, k, filtered=allowed is not None)
        suggestions = self.names.suggest(query)
        if plan.departments or plan.reference or not hits:
            return SearchOutcome(tuple(hits), None, suggestions=suggestions, departments=plan.departments)
        first = hits[:self.floor.results_read]
        relevance = Relevance(self._coverage(tokens, fused), cosine, worded="bm25" in lists,
                              law=any(hit.kind == "article" for hit in first))
        shown = [" ".join((hit.doc_title, *hit.heading_path, hit.text)) for hit in first]
        if (self.floor.admits(relevance, self.encoder.name if self.encoder and "dense" in lists else None)
                and not missing_years(query, shown) and not missing_quantity(" ".join(self.store.segmenter.words(query)), shown)):
            return SearchOutcome(tuple(hits), relevance, suggestions=suggestions, departments=plan.departments)
        closest = tuple(dict.fromkeys((hit.doc_id, hit.doc_title) for hit in hits))[:_CLOSEST_DOCUMENTS]
        return SearchOutcome((), relevance, closest, suggestions, departments=plan.departments)

    def _cited(self, plan: QueryPlan, k: int, allowed: set[int] | None) -> SearchOutcome | None:
        """A query that is only a citation: the clause it names, else the first clauses of the document it
        names; a document the store does not hold is said so instead of matching «第三条» in other
        documents. None (search as usual) for a bare title-like phrase that names no stored document."""
        citation, reference = plan.citation, plan.reference
        documents = reference.documents if reference else ()
        if citation is None or not documents:
            return SearchOutcome((), None, not_found=f"《{citation.name}》") if citation and citation.explicit else None
        clauses = reference.clauses if reference else ()
        if not clauses:
            clauses = tuple(clause for clause, _ in self.store.clause_paths(documents[:1])[:k * 2])
        fused = fuse({"reference": self._clause_units(clauses, allowed)}, {}, self.weights)
        hits = self._hits(fused, plan, self.store.segmenter.tokens(plan.text), k, filtered=allowed is not None)
        titles = self.store.document_titles(list(documents))
        missing = citation.clause if citation.clause and not reference.clauses else ""
        return SearchOutcome(tuple(hits), None, cited=tuple((doc, titles[doc]) for doc in documents if doc in titles),
                             not_found=missing, departments=plan.departments)

    def _coverage(self, tokens: list[str], fused: list[tuple[int, float, tuple[str, ...]]]) -> float:
        first = [unit for unit, _, _ in fused[:self.floor.results_read]]
        held = [set(terms(tokens)) for tokens in self.store.tokens_of_units(first).values()]
        return coverage(content_terms(terms(" ".join(tokens))), held, self.lexical.idf)

    def _ranked_lists(self, plan: QueryPlan, mode: SearchMode, allowed: set[int] | None
                      ) -> tuple[dict[str, list[int]], dict[str, dict[int, float]], float | None]:
        """The ranked unit lists, the scores of those that have them (BM25, cosine), and the cosine
        similarity of the nearest passage (None without vectors)."""
        depth, lists, scored, vector, cosine = self.weights.depth, {}, {}, None, None
        if mode in (SearchMode.HYBRID, SearchMode.BM25) and not plan.department_only:
            scored["bm25"] = dict(self.bm25(plan.text, depth, allowed))
        if mode in (SearchMode.HYBRID, SearchMode.DENSE) and self.vectors is not None and not plan.department_only:
            vector = self.encoder.encode_queries([matching_copy(plan.text)[:self.limits.encoded_chars]])[0]
            scored["dense"] = dict(self.vectors.search(vector, depth, allowed))
            cosine = max(scored["dense"].values(), default=None)
        if mode == SearchMode.HYBRID and not scored.get("bm25") and not plan.departments and not plan.reference:
            scored.pop("dense", None)  # no word of the query occurs anywhere: nearest vectors would be noise
        lists = {name: list(units) for name, units in scored.items()}
        if (places := plan.places or self.local_documents) and lists:
            signal = "place" if plan.places else "locality"
            found, found_scores = self._place_lists(places, plan.text, lists, vector, allowed)
            lists.update({name.replace("place", signal, 1): units for name, units in found.items()})
            scored.update({name.replace("place", signal, 1): units for name, units in found_scores.items()})
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
        return lists, scored, cosine

    def bm25(self, text: str, limit: int, allowed: set[int] | None = None) -> list[tuple[int, float]]:
        """(unit id, BM25 score) best first, over the jieba tokens the store holds."""
        return self.lexical.search(terms(" ".join(self.store.segmenter.tokens(text))), limit, allowed)

    def bm25_fts5(self, text: str, limit: int) -> list[tuple[int, float]]:
        """The same ranking computed by SQLite FTS5 alone: the reference the fast path is checked against."""
        return self.store.fts5_bm25(list(dict.fromkeys(self.store.segmenter.tokens(text))), limit)

    def _place_lists(self, places: tuple[str, ...], text: str, lists: dict[str, list[int]], vector,
                     allowed: set[int] | None) -> tuple[dict[str, list[int]], dict[str, dict[int, float]]]:
        """«武汉…», «湖北…», «国家层面…». A place whose documents are a small part of the collection gets
        the same retrieval again inside them (BM25 without the place name), so its best units take part
        even when other documents — laws of the same subject — fill the global lists. A place holding
        most of the collection (国家 in a store of national laws) gets one more vote for its documents
        among the units already retrieved: searching inside it would cost a near-global scan."""
        if self.store.unit_count(doc_ids=places) > PLACE_SHARE * len(self.lexical):
            retrieved = list(dict.fromkeys(unit for units in lists.values() for unit in units))
            rows = self.store.unit_rows(retrieved)
            return {"place": [unit for unit in retrieved if rows[unit].doc_id in places]}, {}
        within = self.store.units_of_documents(places)
        if allowed is not None:
            within &= allowed
        found: dict[str, dict[int, float]] = {}
        if within and "bm25" in lists:
            stripped = self.places.strip(matching_copy(text))  # place names are Simplified
            found["place:bm25"] = dict(self.bm25(stripped, self.weights.depth, within))
        if within and "dense" in lists:
            found["place:dense"] = dict(self.vectors.search(vector, self.weights.depth, within))
        return {name: list(units) for name, units in found.items()}, found

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

    def _hits(self, fused: list[tuple[int, float, tuple[str, ...]]], plan: QueryPlan, tokens: list[str], k: int,
              filtered: bool) -> list[SearchHit]:
        """The best unit of each clause, fused order, twins grouped: a clause whose twin is already a
        result joins that result. The clause shown for a group is the one of the place asked about (named,
        else the deployment's), when the group has one; a filtered search shows only clauses it retrieved."""
        units = self.store.unit_rows([unit for unit, _, _ in fused])
        best: dict[str, tuple[int, float, tuple[str, ...]]] = {}
        for unit, score, sources in fused:
            best.setdefault(units[unit].clause_id, (unit, score, sources))
        rank = {clause_id: position for position, clause_id in enumerate(best)}  # the fused order of clauses
        links = self._twin_groups(list(best)[:_TWIN_SCAN])
        preferred = set(plan.places or self.local_documents)
        groups: list[tuple[str, str, list[TwinLink]]] = []  # (retrieved clause, clause shown, twins)
        grouped: set[str] = set()
        for clause_id in best:
            if clause_id in grouped:
                continue
            twins = links.get(clause_id, [])
            shown = clause_id
            if preferred and units[best[clause_id][0]].doc_id not in preferred:
                local = [link.clause_id for link in twins if link.doc_id in preferred
                         and (not filtered or link.clause_id in best)]
                shown = min(local, key=lambda twin: rank.get(twin, len(rank)),
                            default=clause_id)
            grouped |= {clause_id, *(link.clause_id for link in twins)}
            groups.append((clause_id, shown, twins))
            if len(groups) == k:
                break
        members = {clause for retrieved, shown, twins in groups
                   for clause in (retrieved, shown, *(twin.clause_id for twin in twins))}
        clauses = self.store.clauses(sorted(members))
        doc_of = {units[unit].clause_id: units[unit].doc_id for unit, _, _ in best.values()}
        doc_of.update({link.clause_id: link.doc_id for _, _, twins in groups for link in twins})
        titles = self.store.document_titles(sorted({doc_of[clause] for clause in members}))
        hits = []
        for retrieved, shown, twins in groups:
            unit, score, sources = best[retrieved]
            if shown != retrieved:
                unit, sources = (best[shown][0] if shown in best else -1), (*sources, "twin")
            clause, doc_id = clauses[shown], doc_of[shown]
            ordinal = units[unit].task_ordinal if unit >= 0 else -1
            text = clause.tasks[ordinal].text if ordinal >= 0 else clause.text
            others = [twin for twin in (retrieved, *(link.clause_id for link in twins)) if twin != shown]
            shown_twins = tuple(sorted((self._twin(clauses[twin], doc_of[twin], titles) for twin in others),
                                       key=lambda twin: (twin.level.rank, twin.doc_id)))
            hits.append(SearchHit(shown, doc_id, titles[doc_id], clause.number, clause.heading_path,
                                  clause.title, clause.text, highlight(text, tokens), clause.departments,
                                  score, ordinal, sources, (*clause.topics, *clause.measures), clause.targets,
                                  shown_twins, clause.kind))
        return hits

    def _twin_groups(self, clause_ids: list[str]) -> dict[str, list[TwinLink]]:
        """Each clause's twins and their twins (the national plan's measure reaches the city's through
        the province's), in two reads."""
        direct = self.store.twins(clause_ids)
        second = self.store.twins(sorted({link.clause_id for links in direct.values() for link in links} - set(direct)))
        groups = {}
        for clause_id, links in direct.items():
            found = {link.clause_id: link for link in links}
            for link in links:
                for further in (*direct.get(link.clause_id, ()), *second.get(link.clause_id, ())):
                    if further.clause_id != clause_id:
                        found.setdefault(further.clause_id, further)
            groups[clause_id] = list(found.values())
        return groups

    def _twin(self, clause: Clause, doc_id: str, titles: dict[str, str]) -> HitTwin:
        document = self.places.document(doc_id)
        return HitTwin(clause.id, doc_id, titles[doc_id], document.level, document_place(document),
                       clause.number, clause.title)


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
