"""The department directory: who the store's departments are, what each leads or supports, and the
same body at other levels of government (国家发展和改革委员会 ↔ 湖北省发展和改革委员会 ↔ 武汉市发展和改革委员会).

Departments are the canonical names ingest gave them. A *body key* drops the place and the rank
suffix, and `data/department_bodies.tsv` joins keys that differ by level (工业和信息化部 ↔ 经济和信息化厅).
"""

from __future__ import annotations

import functools
import itertools
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from ingest import Clause, Document, Level, Role
from ingest.normalize import compact

from .query import DepartmentNames
from .rows import Duty
from .store import Store

_PLACE = re.compile(r"^(国家|国务院|中华人民共和国|中国|[\u4e00-\u9fa5]{2,6}?(?:省|自治区|市|区|县))")
_RANK = re.compile(r"(总局|委员会|总署|部|厅|局|委|办公室|办)$")


@dataclass(frozen=True)
class DepartmentSummary:
    canonical: str
    level: Level
    roles: tuple[tuple[Role, int], ...]  # (role, number of clauses) strongest first, roles it has only
    documents: int

    @property
    def clauses(self) -> int:
        return sum(count for _, count in self.roles)


@functools.cache
def _equivalent_keys() -> dict[str, str]:
    """Every body key → the first key of its line in department_bodies.tsv."""
    table = {}
    for line in (Path(__file__).parent / "data" / "department_bodies.tsv").read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            first, others = line.split("\t")
            for key in (first, *others.split("|")):
                table[key] = first
    return table


def body_key(canonical: str) -> str:
    """The department's line of government, the same at every level: 湖北省生态环境厅 → 生态环境."""
    key = _RANK.sub("", _PLACE.sub("", compact(canonical))) or compact(canonical)
    return _equivalent_keys().get(key, key)


def list_departments(store: Store) -> list[DepartmentSummary]:
    """Every department named in the store, most clauses first."""
    merged: dict[str, dict] = {}
    for canonical, level, role, clauses, documents in store.department_roles():
        entry = merged.setdefault(canonical, {"level": level, "roles": {}, "documents": 0})
        entry["roles"][role] = clauses
        entry["documents"] = max(entry["documents"], documents)
    summaries = [DepartmentSummary(canonical, entry["level"],
                                   tuple((role, entry["roles"][role]) for role in Role if role in entry["roles"]),
                                   entry["documents"]) for canonical, entry in merged.items()]
    return sorted(summaries, key=lambda summary: (-summary.clauses, summary.canonical))


def find_department(known: set[str], names: DepartmentNames, name: str) -> tuple[str, ...]:
    """Canonical names a user's name stands for (any alias; a level-free name matches every level), among
    the `known` canonical names. `names` is the searcher's alias table, so a look-up does not rebuild it."""
    if compact(name) in known:
        return (compact(name),)
    return tuple(canonical for canonical in names.canonicals_for(name) if canonical in known)


def department_names(store: Store, canonical: str) -> tuple[str, ...]:
    """The names the department is printed with, and aliases learned from documents, canonical first."""
    names = sorted({compact(name) for name in store.department_names(canonical)} - {canonical},
                   key=lambda name: (len(name), name))
    return (canonical, *names)


def department_duties(store: Store, canonical: str, offset: int = 0, limit: int | None = None) -> list[Duty]:
    """The clauses and tasks that name the department, in document and reading order: all of them, or
    `limit` from `offset` (a page)."""
    return store.department_duties(canonical, offset, limit)


def duty_clauses(store: Store, canonicals: tuple[str, ...], page: int) -> Iterator[tuple[Document, Clause, int]]:
    """(document header, clause, task ordinal or -1 for the whole clause) of the departments' duties in the
    order of `department_duties`, read `page` duties at a time; a task named twice (by two names of one
    body, or for two of the canonicals) comes once."""
    headers: dict[str, Document] = {}
    seen: set[tuple[str, int]] = set()
    for canonical in canonicals:
        for start in itertools.count(0, page):
            duties = store.department_duties(canonical, start, page)
            clauses = store.clauses(sorted({duty.clause_id for duty in duties}))
            for duty in duties:
                if (duty.clause_id, duty.task_ordinal) in seen or duty.clause_id not in clauses:
                    continue
                seen.add((duty.clause_id, duty.task_ordinal))
                if duty.doc_id not in headers:
                    headers[duty.doc_id] = store.document_header(duty.doc_id)
                yield headers[duty.doc_id], clauses[duty.clause_id], duty.task_ordinal
            if len(duties) < page:
                break


def duty_roles(store: Store, canonical: str) -> dict[Role, int]:
    """How many duties the department has in each role (strongest first, roles it has only)."""
    counts = store.duty_counts(canonical)
    return {role: counts[role] for role in Role if counts.get(role)}


def counterparts(departments: list[DepartmentSummary], canonical: str) -> list[tuple[str, Level]]:
    """(canonical, level) of the other departments (of `list_departments`) with the same body key, national first."""
    key = body_key(canonical)
    found = {(item.canonical, item.level) for item in departments
             if item.canonical != canonical and body_key(item.canonical) == key}
    return sorted(found, key=lambda item: (Level(item[1]).rank, item[0]))
