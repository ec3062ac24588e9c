"""Retrieval metrics over ranked lists and relevance sets (binary relevance), as in pyserini's tables.

A ranked item is a clause or a result of several clauses (one measure with its twins at other levels,
shown as one result): a result's rank is its place among results, and it holds what its clauses hold."""

from __future__ import annotations

import math


Result = str | tuple[str, ...]  # a clause, or a result of several (a clause with its twins at other levels)


def _members(item: Result) -> tuple[str, ...]:
    return item if isinstance(item, tuple) else (item,)


def recall_at(ranked: list[Result], relevant: set[str], k: int) -> float:
    found = {member for item in ranked[:k] for member in _members(item)}
    return len(found & relevant) / len(relevant) if relevant else 0.0


def mrr_at(ranked: list[Result], relevant: set[str], k: int = 10) -> float:
    return next((1 / rank for rank, item in enumerate(ranked[:k], start=1) if set(_members(item)) & relevant), 0.0)


def ndcg_at(ranked: list[Result], relevant: set[str], k: int = 10) -> float:
    """Binary gain per result that holds a relevant clause (a result of twins counts once)."""
    gain = sum(1 / math.log2(rank + 1) for rank, item in enumerate(ranked[:k], start=1) if set(_members(item)) & relevant)
    ideal = sum(1 / math.log2(rank + 1) for rank in range(1, min(len(relevant), k) + 1))
    return gain / ideal if ideal else 0.0


def flatten(ranked: list[Result]) -> list[str]:
    """The clauses of the results in order (a result's twins after the clause it shows)."""
    return [member for item in ranked for member in _members(item)]


def dedupe(items: list[str]) -> list[str]:
    """Keep the first occurrence of each item: a clause ranking mapped to documents."""
    return list(dict.fromkeys(items))


def document_of(clause_id: str) -> str:
    """The document id a clause id starts with (document ids hold no dot)."""
    return clause_id.split(".")[0]


def document_runs(runs: dict[str, list[Result]]) -> dict[str, list[str]]:
    """Clause rankings mapped to document rankings, each document at its best clause's place."""
    return {qid: dedupe([document_of(clause) for clause in flatten(ranked)]) for qid, ranked in runs.items()}


def document_qrels(qrels: dict[str, set[str]]) -> dict[str, set[str]]:
    return {qid: {document_of(clause) for clause in clauses} for qid, clauses in qrels.items()}


def summarise(runs: dict[str, list[Result]], qrels: dict[str, set[str]], cutoffs=(1, 5, 10, 100)) -> dict[str, float]:
    """Mean Recall@k, MRR@10 and nDCG@10 over the queries that have relevance judgements."""
    queries = [qid for qid in qrels if qrels[qid]]
    scores = {f"R@{k}": sum(recall_at(runs.get(q, []), qrels[q], k) for q in queries) / len(queries) for k in cutoffs}
    scores["MRR@10"] = sum(mrr_at(runs.get(q, []), qrels[q]) for q in queries) / len(queries)
    scores["nDCG@10"] = sum(ndcg_at(runs.get(q, []), qrels[q]) for q in queries) / len(queries)
    return scores
