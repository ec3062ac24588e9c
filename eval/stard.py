"""STARD (MIT, THUIR): layperson legal questions with the articles that answer them.

The pool is every article of the laws in the store (`policykb ingest ../shared/corpus/laws`). Article
names such as 「中华人民共和国民法典第五十四条」 or 「个体工商户条例第二条」 are resolved with the same
resolver staff use; where a title matches several stored laws (versions, split parts), the clause
whose text matches STARD's article text is taken. Names that resolve to nothing are counted and
reported, not silently dropped. Scores are given per article (`systems`) and per law (`law_level`:
the article ranking mapped to its laws, as the policy set's document level).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from index import Store, resolve
from ingest.normalize import compact

from .metrics import document_qrels, document_runs, summarise
from .policy import System

DEFAULT_PATH = Path(__file__).resolve().parents[2] / "shared" / "eval" / "stard" / "train.jsonl"


@dataclass(frozen=True)
class StardQuestion:
    qid: str
    question: str
    articles: dict[str, str]  # name → text


def load_stard(path: Path = DEFAULT_PATH) -> list[StardQuestion]:
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [StardQuestion(str(row["query_id"]), row["question"], row["articles"]) for row in rows]


def article_clause(store: Store, name: str, text: str) -> str | None:
    """The clause id an article name stands for, disambiguated by its text."""
    candidates = resolve(store, name).clauses
    if len(candidates) <= 1:
        return candidates[0] if candidates else None
    wanted = compact(text)[:40]
    clauses = store.clauses(list(candidates))
    return next((clause_id for clause_id in candidates if compact(clauses[clause_id].text)[:40] == wanted),
                candidates[0])


def stard_qrels(store: Store, questions: list[StardQuestion]) -> tuple[dict[str, set[str]], int]:
    """(qrels, number of article names that resolved to no clause)."""
    qrels, missing = {}, 0
    for question in questions:
        clauses = {article_clause(store, name, text) for name, text in question.articles.items()}
        missing += sum(clause is None for clause in clauses)
        qrels[question.qid] = {clause for clause in clauses if clause}
    return qrels, missing


def evaluate_stard(store: Store, systems: dict[str, System], path: Path = DEFAULT_PATH) -> dict:
    questions = load_stard(path)
    qrels, missing = stard_qrels(store, questions)
    law_qrels = document_qrels(qrels)
    results = {"questions": len(questions), "unresolved_articles": missing, "systems": {}, "law_level": {}}
    for name, system in systems.items():
        runs = {question.qid: system(question.question, 100) for question in questions}
        results["systems"][name] = summarise(runs, qrels, cutoffs=(1, 5, 10, 100))
        results["law_level"][name] = summarise(document_runs(runs), law_qrels, cutoffs=(1, 5, 10, 100))
    return results
