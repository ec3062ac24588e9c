"""The answer to a «谁负责…» question, read off the best result: the units of its task by role, each
lead with where it came from (stated / rule / presumed), the sentence that assigns them, and the same
measure's units in the documents of the other levels (its twins), national first.

    «武汉市谁负责污泥处置？» → topic 污泥处置; 牵头 市生态环境局 (文件明确); 责任 市发改委、市经信局、市水务局;
                              属地落实 各区人民政府; «…推进污泥无害化处置…（市生态环境局牵头，…按职责分工落实）»

Nothing here ranks: the search already put the clauses that name responsible units first for such a
question (`QueryPlan.asks_who`); this only says what the first of them assigns, and to whom.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ingest import Clause, Level, Responsibility, Role
from ingest.normalize import compact
from ingest.records import LeadBasis, Task

from .query import WHO_QUESTION, Places, document_place
from .search import SearchHit
from .store import Store

_SENTENCE_END = re.compile(r"(?<=[。；;！!])")
_SENTENCE_CHARS = 240
_TOPIC_NOISE = re.compile(r"[?？!！。,，、；;:：\s]|^(请问|关于)|(的|呢|吗|啊|工作|事项|任务|问题)+$")
# 各区人民政府, 各县（市、区）, 相关区人民政府, 有关区: every place of the level below carries it out there.
_LOCAL_UNIT = re.compile(r"^(各|相关|有关)")


def is_local_unit(name: str) -> bool:
    """A unit that stands for every place below (各区人民政府, 相关区): 属地落实 rather than one body."""
    return bool(_LOCAL_UNIT.match(compact(name)))


@dataclass(frozen=True)
class AnswerUnit:
    name: str  # as printed
    canonical: str
    role: Role
    basis: LeadBasis | None  # for a lead: stated, rule or presumed; None for the other roles
    local: bool  # 属地落实: 各区人民政府 and the units a heading names for the measures below it


@dataclass(frozen=True)
class Assignment:
    """What one clause assigns: its units by role, and the sentence that says so."""

    clause_id: str
    doc_id: str
    doc_title: str
    level: Level
    place: str  # 武汉市, 湖北省, 全国; "" when the document names none
    number: str
    sentence: str  # the sentence that carries the marker, the marker included (original script)
    units: tuple[AnswerUnit, ...]  # leads first, in the order printed

    @property
    def leads(self) -> tuple[AnswerUnit, ...]:
        return tuple(unit for unit in self.units if unit.role == Role.LEAD)


@dataclass(frozen=True)
class Answer:
    topic: str  # what the question asks about, question words and places removed (污泥处置)
    main: Assignment  # the first result's
    levels: tuple[Assignment, ...]  # the same measure at every level that assigns it, national first; () if one


def asks_who(question: str) -> bool:
    """«谁负责…», «由哪个部门牵头…», «…归哪个单位管»."""
    return bool(WHO_QUESTION.search(compact(question)))


def build_answer(store: Store, places: Places, question: str, hits: tuple[SearchHit, ...] | list[SearchHit]
                 ) -> Answer | None:
    """The answer of a «谁负责» question from its results; None when the question asks something else
    or no result assigns the work to anyone."""
    if not asks_who(question) or not hits:
        return None
    hit = hits[0]
    twin_ids = [twin.clause_id for twin in hit.twins]
    clauses = store.clauses([hit.clause_id, *twin_ids])
    clause = clauses.get(hit.clause_id)
    if clause is None:
        return None
    task = clause.tasks[hit.task_ordinal] if 0 <= hit.task_ordinal < len(clause.tasks) else None
    topic = _topic(question, places)
    main = _assignment(clause, task, hit.doc_id, hit.doc_title, places, topic)
    if main is None:
        return None
    levels = [main]
    for twin in hit.twins:
        other = clauses.get(twin.clause_id)
        if other is not None and (found := _assignment(other, _closest_task(other, task), twin.doc_id,
                                                       twin.doc_title, places, topic)):
            levels.append(found)
    levels.sort(key=lambda item: (item.level.rank, item.doc_id))
    return Answer(topic, main, tuple(levels) if len(levels) > 1 else ())


def _assignment(clause: Clause, task: Task | None, doc_id: str, doc_title: str, places: Places,
                topic: str) -> Assignment | None:
    departments = task.departments if task is not None else clause.departments
    inherited = [item for item in clause.inherited if item.canonical not in {d.canonical for d in departments}]
    units = [_unit(item) for item in (*departments, *inherited)]
    if not units:
        return None
    units.sort(key=lambda unit: unit.role != Role.LEAD)  # stable: leads first, then the order printed
    header = places.document(doc_id)
    return Assignment(clause.id, doc_id, doc_title, header.level, document_place(header), clause.number,
                      _sentence(task, topic) if task is not None else _clause_sentence(clause, units), tuple(units))


def _unit(item: Responsibility) -> AnswerUnit:
    return AnswerUnit(item.name, item.canonical, item.role, item.lead_basis,
                      item.role == Role.INHERITED or is_local_unit(item.name))


def _sentence(task: Task, topic: str) -> str:
    """The task's sentence about the topic (most character pairs in common, the last on a tie) and the
    marker: 「推進陽邏電廠污泥處置工程建設…。…（市生態環境局、…按職責分工落實）」."""
    parts = [part.strip() for part in _SENTENCE_END.split(task.text) if part.strip()] or [task.text.strip()]
    wanted = _pairs(topic)
    best = max(range(len(parts)), key=lambda i: (len(wanted & _pairs(parts[i])), i))
    sentence = parts[best][:_SENTENCE_CHARS]
    if task.marker and task.marker not in sentence:
        sentence += ("…" if best < len(parts) - 1 else "") + task.marker
    return sentence


def _clause_sentence(clause: Clause, units: list[AnswerUnit]) -> str:
    """A clause-level assignment: the sentence that names its first unit."""
    for part in _SENTENCE_END.split(clause.text):
        if units[0].name in part:
            return part.strip()[:_SENTENCE_CHARS]
    return clause.text[:_SENTENCE_CHARS]


def _closest_task(clause: Clause, task: Task | None) -> Task | None:
    """The twin's task that shares most character pairs with the result's task (its own, in its words)."""
    if not clause.tasks:
        return None
    if task is None or len(clause.tasks) == 1:
        return clause.tasks[0]
    wanted = _pairs(task.text)
    return max(clause.tasks, key=lambda other: len(wanted & _pairs(other.text)))


def _pairs(text: str) -> set[str]:
    text = compact(text)
    return {text[i:i + 2] for i in range(len(text) - 1)}


def _topic(question: str, places: Places) -> str:
    text = places.strip(WHO_QUESTION.sub(" ", compact(question)))
    previous = None
    while previous != text:
        previous, text = text, _TOPIC_NOISE.sub("", text)
    return text or compact(question)
