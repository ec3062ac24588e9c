"""Fusion of the ranked unit lists of a search into one order (`fuse`), with the weights of each list."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class FusionWeights:
    """What each list adds to a unit's fused score (`fuse`). Chosen on the ranking set's development
    split and the policy set (eval/README.md «Fusion»): lists with scores add weight × scale × the
    normalised score, lists of ranks weight / (k + rank)."""

    bm25: float = 1.0
    dense: float = 1.0
    department: float = 2.0  # a department the question names: its clauses, the lead's first
    place: float = 1.0
    target: float = 2.0  # an explicit «目标是多少» outweighs one retrieval list
    reference: float = 10.0
    locality: float = 1.0  # the deployment's own place, when the question names none
    bm25_scale: float = 0.2  # what a list's best BM25 score adds
    dense_scale: float = 0.1  # what a list's nearest passage adds
    k: int = 10  # the constant of the rank lists
    depth: int = 100  # how many units each list contributes



def fuse(lists: dict[str, list[int]], scored: dict[str, dict[int, float]], weights: FusionWeights
          ) -> list[tuple[int, float, tuple[str, ...]]]:
    """score(u) = Σ over the lists that hold u. A list with scores (BM25 and cosine, also inside a place)
    adds weight × scale × its score normalised on the list (BM25 over the list's best, cosine min–max):
    a near tie stays a near tie, where ranks would make it a full step. The deployment's locality
    (asked of no place) is normalised on the whole collection's list, so its documents' best passage
    adds in proportion to how well it matches, not in full because it is their best. A list of ranks only
    (departments, targets, references, a place's vote) adds weight / (k + rank), as reciprocal-rank
    fusion does."""
    scores: dict[int, float] = {}
    sources: dict[int, list[str]] = {}
    for name, units in lists.items():
        signal, kind = name.split(":")[0], name.split(":")[-1]
        weight = getattr(weights, signal)  # place:bm25 and place:dense weigh as place, scaled as their kind
        values = [scored[name][unit] for unit in units[:weights.depth]] if name in scored else None
        if values:
            high, low = max(values), min(values)
            if signal == "locality" and scored.get(kind):  # measured against the whole collection's list
                high, low = max(high, *scored[kind].values()), min(low, *scored[kind].values())
            scale = weights.bm25_scale if kind == "bm25" else weights.dense_scale
            for unit, value in zip(units, values):
                normalised = value / high if kind == "bm25" else (value - low) / (high - low) if high > low else 1.0
                scores[unit] = scores.get(unit, 0.0) + weight * scale * normalised
                sources.setdefault(unit, []).append(name)
            continue
        for rank, unit in enumerate(units[:weights.depth], start=1):
            scores[unit] = scores.get(unit, 0.0) + weight / (weights.k + rank)
            sources.setdefault(unit, []).append(name)
    ranked = sorted(scores, key=lambda unit: (-scores[unit], unit))
    return [(unit, scores[unit], tuple(sources[unit])) for unit in ranked]
