"""Cross-check a plan against the plans on the same topic at other levels.

The 武汉市 plan's measures, each beside the closest measure of the 湖北省 and national plans with
their lead units, and a mark where the lead bodies differ. The closest measure is its twin there
(twins.py: the same measure, found when the documents were stored), else the best search match. Related documents are those of another
level whose title core (the title without place, 关于印发 and the document type) shares a run of at
least four characters with this one's: 减污降碳协同增效 in all three 减污降碳 plans.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from difflib import SequenceMatcher
from typing import Callable

from ingest import Clause, Role
from ingest.normalize import compact

from .directory import body_key
from .rows import TwinLink
from .search import Searcher, SearchFilters

_PREFIX = re.compile(r"^(国务院办公厅|国务院|[\u4e00-\u9fa5]{2,6}?(?:省|自治区|市)(?:人民政府)?(?:办公厅)?)?(关于)?(印发)?")
_SUFFIX = re.compile(r"(的通知|的意见|的决定)?$")
_TYPE = re.compile(r"(实施方案|行动方案|工作方案|方案|实施意见|指导意见|意见|规划|行动计划|计划|通知)$")
MIN_SHARED = 4


@dataclass(frozen=True)
class Counterpart:
    doc_id: str
    clause_id: str
    number: str
    title: str
    leads: tuple[str, ...]  # lead units as printed
    differs: bool  # both name lead units and no lead body is shared


@dataclass(frozen=True)
class CrossCheckRow:
    clause_id: str
    number: str
    title: str
    leads: tuple[str, ...]
    counterparts: tuple[Counterpart | None, ...]  # one per related document, in `related_documents` order


def title_core(title: str) -> str:
    """减污降碳协同增效 from 「湖北省人民政府关于印发湖北省减污降碳协同增效实施方案的通知」."""
    core = _SUFFIX.sub("", compact(title).strip("《》"))
    core = _PREFIX.sub("", core)
    core = re.sub(r"^[\u4e00-\u9fa5]{2,6}?(?:省|自治区|市)", "", core)  # 印发湖北省… leaves the place once more
    return _TYPE.sub("", core)


def related_documents(searcher: Searcher, doc_id: str) -> list[tuple[str, str, str]]:
    """(id, title, level) of documents of other levels on the same topic, national first."""
    rows = [(document.id, document.title, document.level) for document in searcher.store.documents()]
    levels = {doc: level for doc, _, level in rows}
    if doc_id not in levels:
        return []
    core = title_core(next(title for doc, title, _ in rows if doc == doc_id))
    related = [(doc, title, level) for doc, title, level in rows
               if doc != doc_id and level != levels[doc_id] and _shared_run(core, title_core(title)) >= MIN_SHARED]
    return sorted(related, key=lambda row: (row[2].rank, row[0]))


def cross_check(searcher: Searcher, doc_id: str, related: list[str],
                should_stop: Callable[[], bool] = lambda: False) -> list[CrossCheckRow]:
    """Each measure of `doc_id` (a clause with tasks) beside its best match in each related document.
    A search per measure and related document: the rows computed before `should_stop` says yes."""
    document = searcher.store.document(doc_id)
    measures = [clause for clause in document.clauses if clause.tasks]
    twins = searcher.store.twins([clause.id for clause in measures])
    rows = []
    for clause in measures:
        if should_stop():
            break
        leads = _leads(clause)
        matches = tuple(_counterpart(searcher, clause, other, leads, twins.get(clause.id, ())) for other in related)
        rows.append(CrossCheckRow(clause.id, clause.number, clause.title, tuple(leads.values()), matches))
    return rows


def _counterpart(searcher: Searcher, clause: Clause, other: str, leads: dict[str, str],
                 twins: tuple[TwinLink, ...]) -> Counterpart | None:
    """The clause's twin in `other` (the same measure, found at ingest), else the best search match."""
    twin = next((link.clause_id for link in twins if link.doc_id == other), None)
    if twin is None:
        query = clause.title or clause.text[:80]  # titles match titles better than whole texts do
        hits = searcher.search(query, 1, SearchFilters(doc=other), "hybrid" if searcher.vectors else "bm25")
        if not hits:
            return None
        twin = hits[0].clause_id
    match = searcher.store.clauses([twin])[twin]
    other_leads = _leads(match)
    differs = bool(leads and other_leads and not set(leads) & set(other_leads))
    return Counterpart(other, match.id, match.number, match.title, tuple(other_leads.values()), differs)


def _leads(clause: Clause) -> dict[str, str]:
    """Body key → printed name of the clause's lead units."""
    return {body_key(item.canonical): item.name for item in clause.departments if item.role == Role.LEAD}


def _shared_run(first: str, second: str) -> int:
    match = SequenceMatcher(None, first, second, autojunk=False).find_longest_match(0, len(first), 0, len(second))
    return match.size
