"""The department directory: who the store's departments are, what each leads or supports, and the
same body at other levels of government (国家发展和改革委员会 ↔ 湖北省发展和改革委员会 ↔ 武汉市发展和改革委员会).

Departments are the canonical names ingest gave them. A *body key* drops the place and the rank
suffix, and `data/department_bodies.tsv` joins keys that differ by level (工业和信息化部 ↔ 经济和信息化厅).
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from pathlib import Path

from ingest.normalize import compact

from .query import DepartmentNames
from .store import Store

_PLACE = re.compile(r"^(国家|国务院|中华人民共和国|中国|[\u4e00-\u9fa5]{2,6}?(?:省|自治区|市|区|县))")
_RANK = re.compile(r"(总局|委员会|总署|部|厅|局|委|办公室|办)$")
ROLE_ORDER = ("lead", "co", "support", "inherited")


@dataclass(frozen=True)
class DepartmentSummary:
    canonical: str
    level: str
    roles: tuple[tuple[str, int], ...]  # (role, number of clauses) in ROLE_ORDER, roles it has only
    documents: int

    @property
    def clauses(self) -> int:
        return sum(count for _, count in self.roles)


@dataclass(frozen=True)
class Duty:
    """One clause (and task) a department is named in, with its role there."""

    clause_id: str
    doc_id: str
    doc_title: str
    doc_level: str
    number: str
    title: str
    role: str
    name: str  # the department as printed there
    task: str  # the task text ("" for an inherited duty)


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
    rows = store.connection.execute(
        "SELECT r.canonical, r.level, r.role, count(DISTINCT r.clause_id), count(DISTINCT c.doc_id) "
        "FROM responsibilities r JOIN clauses c ON c.id = r.clause_id GROUP BY r.canonical, r.level, r.role").fetchall()
    merged: dict[str, dict] = {}
    for canonical, level, role, clauses, documents in rows:
        entry = merged.setdefault(canonical, {"level": level, "roles": {}, "documents": 0})
        entry["roles"][role] = clauses
        entry["documents"] = max(entry["documents"], documents)
    summaries = [DepartmentSummary(canonical, entry["level"],
                                   tuple((role, entry["roles"][role]) for role in ROLE_ORDER if role in entry["roles"]),
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
    rows = store.connection.execute("SELECT name FROM responsibilities WHERE canonical = ? UNION "
                                    "SELECT alias FROM aliases WHERE canonical = ?", (canonical, canonical)).fetchall()
    names = sorted({compact(name) for name, in rows} - {canonical}, key=lambda name: (len(name), name))
    return (canonical, *names)


def department_duties(store: Store, canonical: str, offset: int = 0, limit: int | None = None) -> list[Duty]:
    """The clauses and tasks that name the department, in document and reading order: all of them, or
    `limit` from `offset` (a page)."""
    rows = store.connection.execute(
        "SELECT r.clause_id, c.doc_id, d.title, d.level, c.number, c.title, r.role, r.name, coalesce(t.text, '') "
        "FROM responsibilities r JOIN clauses c ON c.id = r.clause_id JOIN documents d ON d.id = c.doc_id "
        "LEFT JOIN tasks t ON t.clause_id = r.clause_id AND t.ordinal = r.task_ordinal "
        "WHERE r.canonical = ? ORDER BY CASE d.level WHEN 'national' THEN 0 WHEN 'provincial' THEN 1 WHEN 'municipal' THEN 2 "
        "ELSE 3 END, c.doc_id, c.ordinal, r.task_ordinal LIMIT ? OFFSET ?",
        (canonical, -1 if limit is None else limit, offset)).fetchall()
    return [Duty(*row) for row in rows]


def duty_roles(store: Store, canonical: str) -> dict[str, int]:
    """How many duties the department has in each role (ROLE_ORDER, roles it has only)."""
    counts = dict(store.connection.execute("SELECT role, count(*) FROM responsibilities WHERE canonical = ? "
                                           "GROUP BY role", (canonical,)).fetchall())
    return {role: counts[role] for role in ROLE_ORDER if counts.get(role)}


def counterparts(departments: list[DepartmentSummary], canonical: str) -> list[tuple[str, str]]:
    """(canonical, level) of the other departments (of `list_departments`) with the same body key, national first."""
    order = {"national": 0, "provincial": 1, "municipal": 2, "district": 3, "unknown": 4}
    key = body_key(canonical)
    found = {(item.canonical, item.level) for item in departments
             if item.canonical != canonical and body_key(item.canonical) == key}
    return sorted(found, key=lambda item: (order.get(item[1], 5), item[0]))
