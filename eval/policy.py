"""The policy question set: load it, judge runs against it, and report per system and question type.

`questions.tsv` is the source (hand-written); `policykb eval` writes it out in TREC form beside the
runs: `results/policy-queries.tsv` (qid, query) and `results/policy-qrels.txt` (qid 0 clause 1), with
department questions expanded to every clause whose marker lists the department.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from index import Store
from ingest.normalize import compact

from .metrics import Result, document_qrels, document_runs, flatten, summarise

QUESTIONS = Path(__file__).parent / "policy" / "questions.tsv"
DOCUMENTS = {"W": "武汉市减污降碳协同增效实施方案", "N": "环综合-2022-42", "H": "鄂环发-2022-33", "Z": "国发-2019-3",
             "F": "国办发-2018-128", "J": "国发-2018-39", "E": "国发-2019-4", "M": "国发-2018-38",
             "X": "国办发-2018-129", "D": "国办发-2019-6"}


System = Callable[[str, int], list[Result]]  # query, depth → results best first (clause ids, or twins together)


@dataclass(frozen=True)
class Question:
    qid: str
    type: str
    query: str
    relevant: tuple[str, ...]  # clause ids or dept:NAME@DOC specs
    leads: tuple[tuple[str, str], ...]  # (clause id, lead as printed) for who questions


def clause_id(short: str) -> str:
    alias, path = short.split(".", 1)
    return f"{DOCUMENTS[alias]}.{path}"


def load_questions(path: Path = QUESTIONS) -> list[Question]:
    questions = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line or line.startswith("#"):
            continue
        qid, kind, query, relevant, leads = (line.split("\t") + [""])[:5]
        specs = tuple(item if item.startswith("dept:") else clause_id(item) for item in relevant.split())
        pairs = tuple((clause_id(pair.split("=")[0]), pair.split("=")[1]) for pair in leads.split(";") if pair)
        questions.append(Question(qid, kind, query, specs, pairs))
    return questions


def judged_clauses(store: Store, question: Question) -> set[str]:
    """The relevant clause ids, department specs expanded from the markers' raw text."""
    relevant = set()
    for spec in question.relevant:
        if not spec.startswith("dept:"):
            relevant.add(spec)
            continue
        name, _, alias = spec[5:].partition("@")
        rows = store.task_markers(DOCUMENTS.get(alias, "") if alias else None)  # an unknown alias: none
        relevant |= {clause for clause, _, marker in rows if compact(name) in compact(marker)}
    return relevant


def write_qrels(store: Store, path: Path) -> None:
    lines = [f"{q.qid} 0 {clause} 1" for q in load_questions() for clause in sorted(judged_clauses(store, q))]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def write_queries(path: Path) -> None:
    path.write_text("".join(f"{q.qid}\t{q.query}\n" for q in load_questions()), encoding="utf-8")


def who_correct(store: Store, question: Question, top: str | None) -> bool:
    """The top clause is one the question is about, and its lead is the expected unit."""
    expected = dict(question.leads).get(top) if top else None
    if not expected:
        return False
    clause = store.clauses([top])[top]
    return any(item.role == "lead" and compact(item.name) == compact(expected) for item in clause.departments)


def evaluate(store: Store, systems: dict[str, System], depth: int = 100) -> dict[str, dict]:
    """Per system: clause- and document-level metrics overall and by question type, and who accuracy."""
    questions = load_questions()
    qrels = {q.qid: judged_clauses(store, q) for q in questions}
    documents_judged = document_qrels(qrels)
    results: dict[str, dict] = {}
    for name, system in systems.items():
        runs = {question.qid: system(question.query, depth) for question in questions}
        who = [who_correct(store, q, (flatten(runs[q.qid][:1]) or [None])[0]) for q in questions if q.type == "who"]
        by_type = {kind: summarise(runs, {q.qid: qrels[q.qid] for q in questions if q.type == kind})
                   for kind in sorted({q.type for q in questions})}
        results[name] = {"clause": summarise(runs, qrels), "document": summarise(document_runs(runs), documents_judged),
                         "by_type": by_type, "who_lead_accuracy": sum(who) / len(who), "runs": runs}
    return results


def trec_run(runs: dict[str, list[Result]], system: str) -> str:
    """TREC run lines; a result of twins is written as its clauses in order (trec_eval ranks clauses)."""
    return "".join(f"{qid} Q0 {clause} {rank} {1 / rank:.6f} {system}\n"
                   for qid, ranked in runs.items() for rank, clause in enumerate(flatten(ranked), start=1))


def question_count_by_type() -> dict[str, int]:
    counts: dict[str, int] = {}
    for question in load_questions():
        counts[question.type] = counts.get(question.type, 0) + 1
    return counts


