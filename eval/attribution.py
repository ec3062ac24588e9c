"""Department attribution: precision, recall and F1 of (task, department, role) against hand gold.

`attribution/gold.tsv` annotates four documents by hand (the seed, 国发〔2019〕3号, 国发〔2018〕39号,
国办发〔2018〕128号): for each task its lead, co-responsible and supporting units as printed, and each
clause's inherited units. A triple matches when the clause path, the task, the name (compared in the
Simplified matching copy) and the role agree. Scores are given overall, per role and per document.
"""

from __future__ import annotations

from pathlib import Path

from index import Store
from ingest.normalize import compact

from .metrics import document_of
from .policy import DOCUMENTS

GOLD = Path(__file__).parent / "attribution" / "gold.tsv"
ROLE_COLUMNS = ("lead", "co", "support", "inherited")


def gold_triples(path: Path = GOLD) -> set[tuple[str, str, str, str]]:
    """(clause id, task, name, role) with task "inherited" for inherited units."""
    triples = set()
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line or line.startswith("#"):
            continue
        alias, clause_path, task, *columns = line.split("\t")
        for role, names in zip(ROLE_COLUMNS, columns):
            triples |= {(f"{DOCUMENTS[alias]}.{clause_path}", task, compact(name), role)
                        for name in names.split("、") if name}
    return triples


# This gold annotates the parenthesised markers that close a measure (its task numbers count those);
# in-sentence assignments, lines and tables are scored against the realworld gold (eval/realworld.py).
GOLD_KINDS = ("paren", "labelled")


def predicted_triples(store: Store, doc_ids: set[str]) -> set[tuple[str, str, str, str]]:
    triples = set()
    for doc_id in doc_ids:
        for clause in store.document(doc_id).clauses:
            for ordinal, task in enumerate(task for task in clause.tasks if task.kind in GOLD_KINDS):
                triples |= {(clause.id, str(ordinal), compact(item.name), item.role) for item in task.departments}
            triples |= {(clause.id, "inherited", compact(item.name), "inherited") for item in clause.inherited}
    return triples


def evaluate_attribution(store: Store, path: Path = GOLD) -> dict:
    gold = gold_triples(path)
    documents = {document_of(clause_id) for clause_id, _, _, _ in gold}
    predicted = predicted_triples(store, documents)
    result = {"documents": sorted(documents), "gold": len(gold), "predicted": len(predicted)}
    for label, wanted in (("all", None), *((role, role) for role in ROLE_COLUMNS)):
        result[label] = _scores({t for t in gold if wanted in (None, t[3])},
                                {t for t in predicted if wanted in (None, t[3])})
    result["by_document"] = {doc_id: _scores({t for t in gold if document_of(t[0]) == doc_id},
                                             {t for t in predicted if document_of(t[0]) == doc_id})
                             for doc_id in sorted(documents)}
    result["missed"] = sorted(map(list, gold - predicted))[:20]
    result["extra"] = sorted(map(list, predicted - gold))[:20]
    return result


def _scores(gold: set, predicted: set) -> dict[str, float] | None:
    """Precision, recall and F1; None when neither side has a triple (no such role there)."""
    if not gold and not predicted:
        return None
    precision = len(gold & predicted) / len(predicted) if predicted else 0.0
    recall = len(gold & predicted) / len(gold) if gold else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": round(precision, 4), "recall": round(recall, 4), "f1": round(f1, 4)}
