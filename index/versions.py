"""A document's history: each version a new one replaced, and what changed clause by clause.

Clause ids come from the numbering path (DESIGN.md), so a clause keeps its id across versions when
its numbering did not change: a clause is «added» when its id is new, «removed» when its id is gone,
«changed» when its number, title or text differ (compared on the matching copy without spaces, so a
re-typed space or a full-width comma is no change). The diff lists the new version's order first,
then the removed clauses in the old version's order.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from ingest.normalize import compact

from .rows import ClauseText, Replacement
from .store import Store


class ClauseChangeKind(enum.StrEnum):
    ADDED = "added"
    REMOVED = "removed"
    CHANGED = "changed"

    @property
    def label(self) -> str:
        return {"added": "新增", "removed": "删除", "changed": "修改"}[self.value]


@dataclass(frozen=True)
class ClauseChange:
    kind: ClauseChangeKind
    clause_id: str
    number: str  # as printed in the new version (in the old one for a removed clause)
    title: str
    old_text: str  # "" for an added clause
    new_text: str  # "" for a removed clause


@dataclass(frozen=True)
class Version:
    """A version that a newer one replaced: the replacement record and the changes it brought."""

    replacement: Replacement
    changes: tuple[ClauseChange, ...]
    recorded: bool  # whether the old version's clauses were kept (replacements before format 5 kept none)


def clause_diff(old: tuple[ClauseText, ...], new: tuple[ClauseText, ...]) -> tuple[ClauseChange, ...]:
    """The clauses added, changed and removed from `old` to `new`."""
    before = {clause.id: clause for clause in old}
    after = {clause.id for clause in new}
    changes = []
    for clause in new:
        if (previous := before.get(clause.id)) is None:
            changes.append(ClauseChange(ClauseChangeKind.ADDED, clause.id, clause.number, clause.title, "", clause.text))
        elif _key(previous) != _key(clause):
            changes.append(ClauseChange(ClauseChangeKind.CHANGED, clause.id, clause.number, clause.title, previous.text,
                                        clause.text))
    changes += [ClauseChange(ClauseChangeKind.REMOVED, clause.id, clause.number, clause.title, clause.text, "")
                for clause in old if clause.id not in after]
    return tuple(changes)


def document_history(store: Store, doc_id: str) -> list[Version]:
    """The versions of a stored document that newer ones replaced, newest first, each diffed against
    the version that replaced it (the last against the stored one)."""
    versions = store.replaced_versions(doc_id)
    if not versions:
        return []  # never replaced: the stored clauses are not read
    following = [clauses for _, clauses in versions[1:]] + [store.clause_texts(doc_id)]
    history = [Version(replacement, clause_diff(clauses, newer) if clauses else (), bool(clauses))
               for (replacement, clauses), newer in zip(versions, following)]
    return history[::-1]


def _key(clause: ClauseText) -> tuple[str, str, str]:
    return compact(clause.number), compact(clause.title), compact(clause.text)
