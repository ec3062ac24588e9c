"""The ranking question set: questions as Wuhan staff ask them, about measures that have twins.

`ranking/questions.tsv` (written by reading the documents; see ranking/README.md): `asked` questions
name no place, `named` ones name 武汉, `none` ones have no answer in the collection. Every answerable
question's gold is the Wuhan clause. Split by measure into `dev` (tuned on) and `test` (kept unseen
until the end). Reported per system, with and without the deployment's locality (武汉市):

- local@1: the Wuhan clause is the result shown first;
- in first: it is the first result or one of that result's twins (the levels shown with it);
- R@5 and MRR@10 over the results with their twins (each result's clauses in the order shown);
- for `none` questions, the share that got no result at all; for answerable ones, the share that got
  none (an answer lost to the relevance floor).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from pathlib import Path

from index import Searcher, SearchHit, Store
from index.encoders import Encoder
from index.relevance import RelevanceFloor
from index.search import DEFAULT_FLOOR, FusionWeights, SearchMode

from .metrics import mrr_at, recall_at
from .policy import clause_id

QUESTIONS = Path(__file__).parent / "ranking" / "questions.tsv"
TWINS = Path(__file__).parent / "ranking" / "twins.tsv"
WUHAN = "武汉市减污降碳协同增效实施方案."
LOCALITY = "武汉市"
SPLITS = ("dev", "test", "all")


@dataclass(frozen=True)
class RankingQuestion:
    qid: str
    split: str
    type: str
    query: str
    relevant: frozenset[str]


def load_ranking_questions(path: Path = QUESTIONS) -> list[RankingQuestion]:
    questions = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        qid, split, kind, query, relevant = (line.split("\t") + ["", ""])[:5]
        questions.append(RankingQuestion(qid, split, kind, query, frozenset(map(clause_id, relevant.split()))))
    return questions


def _scores(questions: list[RankingQuestion], hits: dict[str, list[SearchHit]]) -> dict[str, float]:
    answerable = [q for q in questions if q.relevant]
    unanswerable = [q for q in questions if not q.relevant]
    scores: dict[str, float] = {"questions": len(questions)}
    if answerable:
        runs = {q.qid: [(hit.clause_id, *(twin.clause_id for twin in hit.twins)) for hit in hits[q.qid]]
                for q in answerable}
        share = lambda passed: sum(map(passed, answerable)) / len(answerable)  # noqa: E731
        scores["local@1"] = share(lambda q: bool(hits[q.qid]) and hits[q.qid][0].clause_id in q.relevant)
        scores["in first"] = share(lambda q: mrr_at(runs[q.qid], q.relevant, 1) == 1.0)
        scores["R@5"] = share(lambda q: recall_at(runs[q.qid], q.relevant, 5))
        scores["MRR@10"] = share(lambda q: mrr_at(runs[q.qid], q.relevant, 10))
        scores["lost"] = share(lambda q: not hits[q.qid])
    if unanswerable:
        scores["no result"] = sum(not hits[q.qid] for q in unanswerable) / len(unanswerable)
    return scores


def evaluate_ranking(store: Store, encoder: Encoder | None, modes: tuple[str, ...],
                     weights: FusionWeights = FusionWeights(), floor: RelevanceFloor = DEFAULT_FLOOR,
                     path: Path = QUESTIONS) -> dict[str, dict]:
    """system → locality ("none" or 武汉市) → split → question type → scores."""
    questions = load_ranking_questions(path)
    results: dict[str, dict] = {}
    for locality in ("", LOCALITY):
        searcher = Searcher(store, encoder, weights, locality=locality, floor=floor)
        for mode in modes:
            if mode != SearchMode.BM25 and encoder is None:
                continue
            hits = {q.qid: searcher.search(q.query, 10, mode=mode) for q in questions}
            table = results.setdefault(mode, {}).setdefault(locality or "none", {})
            for split in SPLITS:
                chosen = [q for q in questions if split == "all" or q.split == split]
                table[split] = {kind: _scores([q for q in chosen if q.type == kind], hits)
                                for kind in sorted({q.type for q in chosen})}
    return results


def ranking_table(results: dict[str, dict], split: str) -> str:
    """A markdown table of one split: a row per system and locality, columns per question type."""
    header = ("| system | locality | asked local@1 | asked in first | asked MRR@10 | named local@1 | named MRR@10 "
              "| none: no result | answerable lost |")
    lines = [header, "|---" * 9 + "|"]
    for system, localities in results.items():
        for locality, splits in localities.items():
            table = splits[split]
            asked, named, none = table.get("asked", {}), table.get("named", {}), table.get("none", {})
            lost = max(asked.get("lost", 0.0), named.get("lost", 0.0))
            lines.append(f"| {system} | {locality} | {asked.get('local@1', 0):.3f} | {asked.get('in first', 0):.3f} "
                         f"| {asked.get('MRR@10', 0):.3f} | {named.get('local@1', 0):.3f} | {named.get('MRR@10', 0):.3f} "
                         f"| {none.get('no result', 0):.3f} | {lost:.3f} |")
    return "\n".join(lines)


def load_twin_pairs(path: Path = TWINS) -> dict[frozenset[str], str]:
    """The annotated twin pairs (unordered clause-id pairs) → their strength (verbatim, close, partial, loose)."""
    pairs = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        first, provincial, national, note = (line.split("\t") + ["", "", ""])[:4]
        strength = note.split()[0].rstrip(":：;；,，") if note.split() else ""
        ids = [clause_id(item) for item in (*provincial.split(), *national.split())]
        if first != "-":
            pairs.update({frozenset((clause_id(first), other)): strength for other in ids})
        else:
            pairs.update({frozenset(pair): strength for pair in itertools.combinations(ids, 2)})
    return pairs


def twin_scores(store: Store, measures: set[str] | None = None, path: Path = TWINS) -> dict[str, float]:
    """Precision and recall of the store's twin links against the annotation, over the pairs that involve
    an annotated clause (of `measures`, when given: the development split's Wuhan measures)."""
    gold = {pair: strength for pair, strength in load_twin_pairs(path).items()
            if measures is None or pair & measures}
    annotated = set().union(*gold) if gold else set()
    found = {frozenset((clause, link.clause_id)) for clause, links in store.twins(sorted(annotated)).items()
             for link in links if clause.startswith(WUHAN) or link.clause_id.startswith(WUHAN)}
    found = {pair for pair in found if measures is None or pair & measures}
    scores = {"pairs": len(gold), "found": len(found),
              "precision": len(found & set(gold)) / len(found) if found else 0.0,
              "recall": len(found & set(gold)) / len(gold) if gold else 0.0}
    for strength in sorted(set(gold.values())):
        chosen = {pair for pair, value in gold.items() if value == strength}
        scores[f"recall {strength}"] = len(found & chosen) / len(chosen)
    return scores
