"""Cross-check a plan against the plans on the same topic at other levels.

The 武汉市 plan's measures, each beside its counterpart in the 湖北省 and national plans with their
lead units, and a mark where the lead bodies really differ (the same body at another level, such as
国家发展改革委 ↔ 市发改委, or a renaming in data/department_bodies.tsv, such as 林草局 ↔ 林业局, is the
same lead). A measure's counterpart is the clause of the related document whose character 3-grams
are closest to its own (exact Jaccard, the similarity twins.py links twins on); under `THRESHOLD` it
has none («无对应措施»). The measures of a higher-level document that have no counterpart here are
listed apart («上级有、本级无», `missing_measures`). Related documents are those of another level whose
title core (the title without place, 关于印发 and the document type) shares a run of at least four
characters with this one's: 减污降碳协同增效 in all three 减污降碳 plans.

`THRESHOLD` is calibrated on the annotated twins of the three 减污降碳 plans (eval/crosscheck.py,
eval/README.md «Cross-level check»): the same measure at two levels shares 2–89 % of its 3-grams (under
5 % only where it is reworded throughout), and where the closest clause is not the same measure it
shares 3.4–4.2 %.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from difflib import SequenceMatcher
from typing import Callable

from ingest import Clause, Role
from ingest.normalize import compact

from .directory import body_key
from .search import Searcher
from .store import Store
from .twins import TWIN_KINDS, shingles

_PREFIX = re.compile(r"^(国务院办公厅|国务院|[\u4e00-\u9fa5]{2,6}?(?:省|自治区|市)(?:人民政府)?(?:办公厅)?)?(关于)?(印发)?")
_SUFFIX = re.compile(r"(的通知|的意见|的决定)?$")
_TYPE = re.compile(r"(实施方案|行动方案|工作方案|方案|实施意见|指导意见|意见|规划|行动计划|计划|通知)$")
MIN_SHARED = 4
THRESHOLD = 0.041  # eval/crosscheck.py chooses it on the dev split; precision and recall in eval/README.md


@dataclass(frozen=True)
class Counterpart:
    doc_id: str
    clause_id: str
    number: str
    title: str
    leads: tuple[str, ...]  # lead units as printed
    differs: bool  # both name lead units and no lead body is shared (across levels and renamings)
    similarity: float  # Jaccard similarity of the two clauses' 3-gram sets


@dataclass(frozen=True)
class CrossCheckRow:
    clause_id: str
    number: str
    title: str
    leads: tuple[str, ...]
    counterparts: tuple[Counterpart | None, ...]  # one per related document, in `related_documents` order


@dataclass(frozen=True)
class MissingMeasure:
    """A measure of a higher-level document that no clause of this plan carries («上级有、本级无»)."""

    doc_id: str
    clause_id: str
    number: str
    title: str
    leads: tuple[str, ...]
    similarity: float  # of the closest clause of this plan, under the threshold


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


def cross_check(store: Store, doc_id: str, related: list[str], should_stop: Callable[[], bool] = lambda: False,
                threshold: float = THRESHOLD) -> list[CrossCheckRow]:
    """Each measure of `doc_id` (a clause with tasks) beside its counterpart in each related document
    (None under `threshold`): the rows computed before `should_stop` says yes."""
    measures = [clause for clause in store.document(doc_id).clauses if clause.tasks]
    candidates = {other: _Candidates(store.document(other).clauses) for other in related}
    rows = []
    for clause in measures:
        if should_stop():
            break
        leads, grams = _leads(clause), shingles(clause.text)
        matches = []
        for other in related:
            match, similarity = candidates[other].closest(grams)
            below = match is None or similarity < threshold
            matches.append(None if below else _counterpart(other, match, leads, similarity))
        rows.append(CrossCheckRow(clause.id, clause.number, clause.title, tuple(leads.values()), tuple(matches)))
    return rows


def missing_measures(store: Store, doc_id: str, higher: list[str],
                     threshold: float = THRESHOLD) -> list[MissingMeasure]:
    """The measures of the `higher` documents (national first) that no clause of `doc_id` carries."""
    here = _Candidates(store.document(doc_id).clauses)
    missing = []
    for other in higher:
        for clause in store.document(other).clauses:
            if clause.tasks and (found := here.closest(shingles(clause.text)))[1] < threshold:
                missing.append(MissingMeasure(other, clause.id, clause.number, clause.title,
                                              tuple(_leads(clause).values()), round(found[1], 3)))
    return missing


class _Candidates:
    """A document's measure-kind clauses, with an inverted index of their 3-grams (a clause is compared
    only with the clauses it shares a 3-gram with)."""

    def __init__(self, clauses: tuple[Clause, ...]) -> None:
        self.clauses = [clause for clause in clauses if clause.kind in TWIN_KINDS]
        self.sizes, self.postings = [], {}
        for index, clause in enumerate(self.clauses):
            grams = shingles(clause.text)
            self.sizes.append(len(grams))
            for gram in grams:
                self.postings.setdefault(gram, []).append(index)

    def closest(self, grams: frozenset[str]) -> tuple[Clause | None, float]:
        """The clause of highest Jaccard similarity to `grams` (the first in reading order on a tie), and it."""
        shared = Counter(index for gram in grams for index in self.postings.get(gram, ()))
        if not shared:
            return None, 0.0
        similarity = {index: count / (len(grams) + self.sizes[index] - count) for index, count in shared.items()}
        best = min(similarity, key=lambda index: (-similarity[index], index))
        return self.clauses[best], similarity[best]


def _counterpart(other: str, match: Clause, leads: dict[str, str], similarity: float) -> Counterpart:
    other_leads = _leads(match)
    differs = bool(leads and other_leads and not set(leads) & set(other_leads))
    return Counterpart(other, match.id, match.number, match.title, tuple(other_leads.values()), differs,
                       round(similarity, 3))


def _leads(clause: Clause) -> dict[str, str]:
    """Body key → printed name of the clause's lead units."""
    return {body_key(item.canonical): item.name for item in clause.departments if item.role == Role.LEAD}


def _shared_run(first: str, second: str) -> int:
    match = SequenceMatcher(None, first, second, autojunk=False).find_longest_match(0, len(first), 0, len(second))
    return match.size
